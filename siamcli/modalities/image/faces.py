"""A photo to its face chip: decoded in colour, the face found, aligned and cut out."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from siamcli.errors import NothingToEmbed, SiamcliWarning
from siamcli.modalities.image.align import face_chip
from siamcli.modalities.image.decode import open_image
from siamcli.modalities.image.detect import MIN_FACE, Face, face_detector

# Photos are searched for faces at no more than this many pixels a side (a 12-megapixel phone photo
# is searched at 1024x768): a face that fills a tenth of it still spans 70 pixels there. The chip is
# cut from the full-size photo.
DETECTION_SIDE = 1024


def find_face(path: Path, image: Image.Image) -> Face:
    """The photo's largest face; several: a note on stderr; none: NothingToEmbed naming the file."""
    width, height = image.size
    if min(width, height) < MIN_FACE:
        raise NothingToEmbed(f"{path}: {width}x{height} pixels, too small to hold a face (at least {MIN_FACE} a side)")
    shrink = max(width, height) / DETECTION_SIDE
    searched = image
    if shrink > 1:
        searched = image.resize((round(width / shrink), round(height / shrink)), Image.Resampling.BOX)
    faces = face_detector().detect(searched)
    if not faces:
        raise NothingToEmbed(f"{path}: no face found")
    largest = max(faces, key=lambda face: face.area)
    if len(faces) > 1:
        warnings.warn(f"{path}: {len(faces)} faces found; using the largest", SiamcliWarning, stacklevel=2)
    if shrink <= 1:
        return largest
    box = tuple(value * shrink for value in largest.box)
    return Face(box, largest.landmarks * shrink, largest.score)  # type: ignore[arg-type]


def load_face(path: Path, size: int) -> tuple[np.ndarray, Face]:
    """The aligned size x size RGB chip of the photo's largest face, as uint8 (H, W, 3), and the face."""
    image = open_image(path, "rgb")
    face = find_face(path, image)
    return np.asarray(face_chip(image, face.landmarks, size)), face
