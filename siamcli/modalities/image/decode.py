"""Image decoding: any common format, grey or colour, any size, brought to the encoder's input (numpy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from siamcli.errors import SiamcliError

IMAGE_SUFFIXES = frozenset({".pgm", ".ppm", ".pnm", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff"})


def _to_grey(image: Image.Image) -> Image.Image:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # High-bit-depth scans: stretch to 8 bits instead of letting PIL clip at 255.
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / max(high - low, 1e-6) * 255.0
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels go to white, not to whatever colour hides behind them.
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("L")


def load_image(path: Path, size: tuple[int, int]) -> np.ndarray:
    """Grey image as float32 in [0, 1], centre-cropped to the aspect of `size` (height, width) and resized."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.seek(0)  # first frame of an animated GIF or multi-page TIFF
            image.load()
            grey = _to_grey(image)
    except FileNotFoundError:
        raise SiamcliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SiamcliError(f"{path}: is a folder, not an image") from None
    except PermissionError:
        raise SiamcliError(f"{path}: cannot read (permission denied)") from None
    except UnidentifiedImageError:
        raise SiamcliError(f"{path}: not a readable image (PGM, PNG, JPEG, GIF, BMP or TIFF)") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise SiamcliError(f"{path}: corrupt or truncated image ({error})") from None
    height, width = size
    fitted = ImageOps.fit(grey, (width, height), method=Image.Resampling.BILINEAR)
    return np.asarray(fitted, dtype=np.float32) / 255.0


def standardize(images: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per image, so exposure and contrast do not decide identity."""
    flat = images.reshape(images.shape[0], -1)
    mean = flat.mean(axis=1)
    std = flat.std(axis=1)
    shape = (-1,) + (1,) * (images.ndim - 1)
    return ((images - mean.reshape(shape)) / np.maximum(std, 1e-3).reshape(shape)).astype(np.float32)
