"""Image decoding: any common format, grey or colour, any size, brought to the encoder's input (numpy)."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError

from siamcli.errors import SiamcliError, printable
from siamcli.files import check_regular_file, limit

IMAGE_SUFFIXES = frozenset({".pgm", ".ppm", ".pnm", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff"})


def _to_grey(image: Image.Image) -> Image.Image:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # High-bit-depth scans: stretch to 8 bits instead of letting PIL clip at 255.
        values = np.asarray(image, dtype=np.float32)
        if not np.isfinite(values).all():
            raise ValueError("pixels that are not numbers (NaN or infinite)")
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / max(high - low, 1e-6) * 255.0
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels go to white, not to whatever colour hides behind them.
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("L")


# Decoding holds every pixel in memory: 40 million (a 7,700 x 5,200 photo) is about 160 MB in RGBA.
MAX_PIXELS = 40_000_000
BLANK_SPREAD = 1.0  # a standard deviation below one grey level: nothing to recognise


def _decode(path: Path, most: int) -> Image.Image:
    with warnings.catch_warnings():
        # siamcli's own limit, below, is lower than Pillow's: Pillow's warning would only repeat it
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            width, height = image.size
            if width * height > most:
                raise SiamcliError(
                    f"{path}: {width}x{height} pixels, more than the limit of {most:,} (SIAMCLI_MAX_PIXELS)"
                )
            image.seek(0)  # first frame of an animated GIF or multi-page TIFF
            image.load()
            return _to_grey(image)


def load_image(path: Path, size: tuple[int, int]) -> np.ndarray:
    """Grey image as float32 in [0, 1], centre-cropped to the aspect of `size` (height, width) and resized.

    Images larger than SIAMCLI_MAX_PIXELS (default 40 million pixels) are refused before they are
    decoded, and so are blank ones (every pixel alike): they would all embed alike."""
    path = Path(path)
    check_regular_file(path, "an image")
    most = int(limit("MAX_PIXELS", MAX_PIXELS))
    try:
        grey = _decode(path, most)
    except Image.DecompressionBombError:
        raise SiamcliError(f"{path}: more pixels than the limit of {most:,} (SIAMCLI_MAX_PIXELS)") from None
    except PermissionError:
        raise SiamcliError(f"{path}: cannot read (permission denied)") from None
    except UnidentifiedImageError:
        raise SiamcliError(f"{path}: not a readable image (PGM, PNG, JPEG, GIF, BMP or TIFF)") from None
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, MemoryError) as error:
        raise SiamcliError(f"{path}: corrupt or truncated image ({printable(error)})") from None
    if ImageStat.Stat(grey).stddev[0] < BLANK_SPREAD:  # from the histogram: no copy of the pixels
        raise SiamcliError(f"{path}: blank image (every pixel the same grey): nothing to recognise")
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
