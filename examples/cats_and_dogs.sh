#!/usr/bin/env bash
# The textbook chapter's task, done properly: is this sound a dog barking or a cat meowing?
# Whole clips are held out for testing, the model never hears them in training.
#
#   examples/cats_and_dogs.sh [DATA_DIR] [WORK_DIR]
#
# DATA_DIR defaults to ../shared/data/cats_dogs_audio (Cats/, Dogs/, Sub_dogs/: Dogs and Sub_dogs are
# both dogs). WORK_DIR (a temporary folder by default) gets the split as symbolic links, the model
# and a gallery: no clip is copied, and your own gallery is left alone.
set -euo pipefail

data=$(cd "${1:-$(dirname "$0")/../../shared/data/cats_dogs_audio}" && pwd)
work=${2:-$(mktemp -d)}
export SIAMCLI_GALLERY=$work/gallery.db
mkdir -p "$work"/{train,calibration,test}/{cat,dog}

# Every third clip of each animal (in name order) is held out for testing, and every fourth of the
# others for calibrating the threshold; the rest train.
split() {  # split ANIMAL FOLDER...
    local animal=$1 i=0
    shift
    while read -r clip; do
        local part=train
        if (( i % 3 == 2 )); then part=test; elif (( i % 4 == 3 )); then part=calibration; fi
        ln -sfn "$clip" "$work/$part/$animal/$(basename "$(dirname "$clip")")_$(basename "$clip")"
        i=$((i + 1))
    done < <(find "$@" -type f -name '*.wav' | sort)
}
split cat "$data/Cats"
split dog "$data/Dogs" "$data/Sub_dogs"

siamcli train sounds "$work/train" -o "$work/barks.model" --seed 0
# A threshold from the training clips is far too strict for clips never heard: set it on others.
siamcli calibrate "$work/barks.model" "$work/calibration" --eer
siamcli eval "$work/barks.model" "$work/test" --json     # pair ROC AUC on held-out clips

# Enroll one held-out bark as "rex", then ask of every other held-out clip: is this rex's kind of sound?
first_bark=$(find "$work/test/dog" -name '*.wav' | sort | head -1)
siamcli enroll rex "$first_bark" --model "$work/barks.model"
find "$work/test" -name '*.wav' | sort | grep -vF "$first_bark" |
    { siamcli verify - --claim rex --json || [ $? -eq 1 ]; } |
    jq -r '[(.path | split("/") | .[-2]), .decision, .distance] | @tsv'
