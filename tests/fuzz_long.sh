#!/usr/bin/env bash
# The fuzz suite at length: thousands of mutated images, clips, model files, galleries and pairs files
# per reader (CI runs 100). Pass another count as the first argument.
set -euo pipefail
cd "$(dirname "$0")/.."
SIAMCLI_FUZZ_EXAMPLES=${1:-2000} python -m pytest -q tests/test_fuzz.py
