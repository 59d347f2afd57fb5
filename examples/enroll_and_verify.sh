#!/usr/bin/env bash
# Enroll one reference photo per person, then verify (1:1) and identify (1:N) other photos.
#
#   examples/enroll_and_verify.sh [DATA_DIR] [GALLERY] [MODEL]
#
# DATA_DIR has one folder per person (default ../shared/data/orl_faces); the first five people are
# enrolled from their first photo. GALLERY defaults to a new file in a temporary folder, so your own
# gallery is left alone. Without MODEL, images go through the face model shipped with siamcli, which
# never saw the ORL people (benchmarks/faces.py measures it on all 40).
set -euo pipefail

data=$(cd "${1:-$(dirname "$0")/../../shared/data/orl_faces}" && pwd)
export SIAMCLI_GALLERY=${2:-$(mktemp -d)/gallery.db}
model=${3:-}  # empty: the shipped face model; ${model:+--model "$model"} below passes it when given
mapfile -t people < <(find "$data" -mindepth 1 -maxdepth 1 -type d | sort -V | head -5)
first_photo() { find "$1" -type f | sort -V | head -1; }
second_photo() { find "$1" -type f | sort -V | sed -n 2p; }

for folder in "${people[@]}"; do
    siamcli enroll ${model:+--model "$model"} "$(basename "$folder")" "$(first_photo "$folder")"
done
siamcli gallery list --json

# 1:1. The exit status is the answer: 0 accepted, 1 rejected (2 would be an error).
alice=$(basename "${people[0]}")
bob=$(basename "${people[1]}")
for probe in "$(second_photo "${people[0]}")" "$(second_photo "${people[1]}")"; do
    if siamcli verify ${model:+--model "$model"} "$probe" --claim "$alice" > /dev/null; then
        echo "$probe: accepted as $alice"
    else
        echo "$probe: rejected as $alice"
    fi
done

# 1:N: who is it? The nearest identity within the threshold, else "unknown"; --top-k lists runners-up.
siamcli verify ${model:+--model "$model"} "$(second_photo "${people[1]}")" --top-k 3 --json || true
# Averaging a person's samples instead of taking the nearest one:
siamcli verify ${model:+--model "$model"} "$(second_photo "${people[1]}")" --claim "$bob" --score centroid --json || true
