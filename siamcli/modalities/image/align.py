"""Aligning a face: the similarity (rotation, scale, shift) that best puts its five landmarks on a
template, and the square chip cut from the photo with it."""

from __future__ import annotations

import numpy as np
from PIL import Image

# Where MTCNN's five landmarks fall in the 150x150 chips that dlib's own alignment cuts for its face
# encoder (padding 0.25), as fractions of the side: the median over 572 celeba_subset photos, fitted by
# scripts/convert_face_models.py. Left eye, right eye, nose tip, left and right mouth corner.
FACE_TEMPLATE = np.array(
    [[0.3178, 0.3022], [0.6761, 0.3013], [0.4961, 0.5271], [0.3380, 0.6775], [0.6560, 0.6781]], np.float64
)


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 matrix of the rotation, uniform scale and shift taking `source` points nearest to
    `target` in least squares (Umeyama 1991), without reflection."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    centred_source, centred_target = source - source_mean, target - target_mean
    covariance = centred_target.T @ centred_source / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(singular) @ sign) / centred_source.var(axis=0).sum()
    shift = target_mean - scale * rotation @ source_mean
    return np.concatenate([scale * rotation, shift[:, None]], axis=1)


def face_chip(image: Image.Image, landmarks: np.ndarray, size: int) -> Image.Image:
    """The size x size chip whose landmarks lie on FACE_TEMPLATE; outside the photo, black (as dlib's
    chips). A face much larger than the chip is first box-averaged down, so that the bilinear
    sampling does not skip pixels."""
    matrix = similarity(landmarks, FACE_TEMPLATE * size)
    scale = float(np.hypot(*matrix[:, 0]))  # chip pixels per photo pixel
    factor = max(1, int(0.5 / scale))
    if factor > 1:
        image = image.reduce(factor)
        matrix = similarity(landmarks / factor, FACE_TEMPLATE * size)
    inverse = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2]  # PIL maps each chip pixel to the photo
    # PIL samples at pixel centres: shift by half a pixel on both sides of the mapping.
    centre = np.array([0.5, 0.5])
    inverse[:, 2] += centre - inverse[:, :2] @ centre
    return image.transform((size, size), Image.Transform.AFFINE, inverse.flatten(), Image.Resampling.BILINEAR)
