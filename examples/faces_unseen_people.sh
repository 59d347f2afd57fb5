#!/usr/bin/env bash
# Fine-tune on some people, measure on people the model has never seen (beside the shipped model,
# which never saw any of them), then embed a few faces.
#
#   examples/faces_unseen_people.sh [ORL_DIR] [WORK_DIR]
#
# ORL_DIR defaults to ../shared/data/orl_faces. s1-s30 train, s31-s40 test: the split is made with
# symbolic links in WORK_DIR (a temporary folder by default), so no image is copied.
set -euo pipefail

orl=$(cd "${1:-$(dirname "$0")/../../shared/data/orl_faces}" && pwd)
work=${2:-$(mktemp -d)}
mkdir -p "$work/train" "$work/test"
for i in $(seq 1 30); do ln -sfn "$orl/s$i" "$work/train/s$i"; done
for i in $(seq 31 40); do ln -sfn "$orl/s$i" "$work/test/s$i"; done

siamcli train faces "$work/train" -o "$work/faces.model" --seed 0
siamcli eval "$work/faces.model" "$work/test"                 # the table (JSON when piped)
siamcli eval default:image "$work/test"                       # the shipped model, zero-shot

# The chapter's protocol, done on unseen people: a fixed, balanced list of pairs.
siamcli pairs "$work/test" --genuine 300 --impostor 300 --seed 1 -o "$work/test_pairs.csv"
siamcli eval "$work/faces.model" "$work/test_pairs.csv" --json

# Embeddings for anything else you want to do with them, one JSON line per face.
find "$work/test/s31/" -name '*.pgm' | sort | head -3 | siamcli embed - --model "$work/faces.model"
