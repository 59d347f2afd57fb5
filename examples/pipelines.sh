#!/usr/bin/env bash
# siamcli in shell pipelines: paths on stdin, JSON lines out, jq to filter, exit codes to branch on.
#
#   examples/pipelines.sh [DATA_DIR] [GALLERY] [MODEL]
#
# DATA_DIR has one folder per person (default ../shared/data/orl_faces); the first ten people are
# enrolled from their first photo, into GALLERY (default: a new file in a temporary folder), with
# MODEL (default: the face model shipped with siamcli).
set -euo pipefail

data=$(cd "${1:-$(dirname "$0")/../../shared/data/orl_faces}" && pwd)
export SIAMCLI_GALLERY=${2:-$(mktemp -d)/gallery.db}
model=${3:-}  # empty: the shipped face model; ${model:+--model "$model"} below passes it when given
# verify exits 1 when some probe is rejected or unknown: in a pipeline that is an answer, not a failure.
verify() { siamcli verify ${model:+--model "$model"} "$@" || [ $? -eq 1 ]; }

# Enroll from stdin: the first photo of each of the first ten people.
mapfile -t people < <(find "$data" -mindepth 1 -maxdepth 1 -type d | sort -V | head -10)
for folder in "${people[@]}"; do
    find "$folder" -type f | sort -V | head -1 | siamcli enroll ${model:+--model "$model"} "$(basename "$folder")" -
done

# Verify a whole folder against one claim, and count how many photos were accepted.
person=$(basename "${people[0]}")
accepted=$(find "${people[0]}" -type f | sort -V | tail -n +2 | verify - --claim "$person" | jq -s 'map(select(.match)) | length')
echo "$person: $accepted of $(($(find "${people[0]}" -type f | wc -l) - 1)) other photos accepted"

# Identify everyone's second photo from stdin; print file, identity and distance as TSV for the recognised ones.
for folder in "${people[@]}"; do find "$folder" -type f | sort -V | sed -n 2p; done |
    verify - | jq -r 'select(.decision == "identified") | [.path, .identity, .distance] | @tsv'

# Rank-1 identification rate over those probes: the folder name is the truth.
for folder in "${people[@]}"; do find "$folder" -type f | sort -V | sed -n 2p; done |
    verify - | jq -rs '"rank-1: \(map(select(.nearest == (.path | split("/") | .[-2]))) | length) of \(length)"'

# Export the gallery and count samples per identity.
siamcli gallery export | jq -r .identity | sort | uniq -c
