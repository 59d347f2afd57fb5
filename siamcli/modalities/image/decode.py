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
    return _on_white(image).convert("L")


def _on_white(image: Image.Image) -> Image.Image:
    """Transparent pixels go to white, not to whatever colour hides behind them."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image.convert("RGBA"))
    return image


# Decoding holds every pixel in memory: 40 million (a 7,700 x 5,200 photo) is about 160 MB in RGBA.
MAX_PIXELS = 40_000_000
BLANK_SPREAD = 1.0  # a standard deviation below one grey level: nothing to recognise


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
        return _on_white(image).convert("RGB")
    return _to_grey(image).convert("RGB")  # grey scans (and 16-bit ones, stretched) as three equal channels


def _decode(path: Path, most: int, colour: str = "grey") -> Image.Image:
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
            if colour == "grey":  # as siamcli 0.1 read them: the grey recipes' models were trained so
                return _to_grey(image)
            return _to_rgb(ImageOps.exif_transpose(image))  # phone photos upright, as their viewers show them


def open_image(path: Path, colour: str = "grey") -> Image.Image:
    """The image, grey ("L") or colour ("RGB", upright as its EXIF says).

    Images larger than SIAMCLI_MAX_PIXELS (default 40 million pixels) are refused before they are
    decoded, and so are blank ones (every pixel alike): they would all embed alike."""
    path = Path(path)
    check_regular_file(path, "an image")
    most = int(limit("MAX_PIXELS", MAX_PIXELS))
    try:
        image = _decode(path, most, colour)
    except Image.DecompressionBombError:
        raise SiamcliError(f"{path}: more pixels than the limit of {most:,} (SIAMCLI_MAX_PIXELS)") from None
    except PermissionError:
        raise SiamcliError(f"{path}: cannot read (permission denied)") from None
    except UnidentifiedImageError:
        raise SiamcliError(f"{path}: not a readable image (PGM, PNG, JPEG, GIF, BMP or TIFF)") from None
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, MemoryError) as error:
        raise SiamcliError(f"{path}: corrupt or truncated image ({printable(error)})") from None
    if max(ImageStat.Stat(image).stddev) < BLANK_SPREAD:  # from the histogram: no copy of the pixels
        raise SiamcliError(f"{path}: blank image (every pixel the same colour): nothing to recognise")
    return image


def load_image(path: Path, size: tuple[int, int], fit: str = "centre-crop", colour: str = "grey") -> np.ndarray:
    """The image as float32 in [0, 1], (height, width) grey or (height, width, 3) colour, brought to
    `size` (height, width): centre-cropped to its aspect and resized, letterboxed (resized whole
    into it, the margins the colour of the image's border), or trimmed to its content and letterboxed."""
    height, width = size
    image = open_image(path, colour)
    if fit in ("letterbox", "content"):
        paper = _border_colour(image)
        if fit == "content":
            image = _trimmed(image, paper)
        fitted = ImageOps.pad(image, (width, height), method=Image.Resampling.BILINEAR, color=paper)
    else:
        fitted = ImageOps.fit(image, (width, height), method=Image.Resampling.BILINEAR)
    return np.asarray(fitted, dtype=np.float32) / 255.0


# What differs from the paper by more than this share of the largest difference is content: faint
# scanner noise and paper texture are not, a pencil stroke is.
CONTENT_CONTRAST = 0.25
CONTENT_MARGIN = 0.08  # of the content's longer side, kept around it


def _trimmed(image: Image.Image, paper: int | tuple[int, ...]) -> Image.Image:
    """The image cut to the box around what differs from the paper, with a margin of paper around it:
    a glyph fills the frame whatever its size on the page, and a signature does not shrink to a
    scribble in the corner of a scanned sheet."""
    pixels = np.asarray(image, dtype=np.float32)
    difference = np.abs(pixels - np.asarray(paper, dtype=np.float32))
    if difference.ndim == 3:
        difference = difference.max(axis=2)
    rows, columns = np.nonzero(difference > CONTENT_CONTRAST * difference.max())
    top, bottom, left, right = rows.min(), rows.max() + 1, columns.min(), columns.max() + 1
    margin = round(CONTENT_MARGIN * max(bottom - top, right - left))
    return ImageOps.expand(image.crop((left, top, right, bottom)), border=margin, fill=paper)


def _border_colour(image: Image.Image) -> int | tuple[int, ...]:
    """The median colour of the outermost pixels: the paper a glyph is drawn on, the wall behind a logo."""
    pixels = np.asarray(image)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    median = np.median(border, axis=0).astype(int)
    return int(median) if median.ndim == 0 else tuple(int(v) for v in median)


# dlib's face encoder subtracts the mean colour of its training faces (RGB, 0-255), then divides by 256.
DLIB_MEAN = np.array([122.782, 117.001, 104.298], np.float32)


def normalise(images: np.ndarray, rule: str) -> np.ndarray:
    """uint8 images (batch, channels, H, W) as the encoder reads them (ImagePreprocessing.normalise)."""
    if rule == "dlib-mean":
        return (images.astype(np.float32) - DLIB_MEAN.reshape(1, 3, 1, 1)) / 256
    return standardize(images.astype(np.float32) / 255)


def standardize(images: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per image, so exposure and contrast do not decide identity."""
    flat = images.reshape(images.shape[0], -1)
    mean = flat.mean(axis=1)
    std = flat.std(axis=1)
    shape = (-1,) + (1,) * (images.ndim - 1)
    return ((images - mean.reshape(shape)) / np.maximum(std, 1e-3).reshape(shape)).astype(np.float32)
