"""What an image recipe says about its inputs: how a file becomes the encoder's input, and how
training varies it. Both are written into the model file and checked when read."""

from __future__ import annotations

from dataclasses import dataclass

from siamcli.core.settings import require

COLOURS = ("grey",)
FITS = ("centre-crop",)
NORMALISATIONS = ("per-image",)


@dataclass(frozen=True)
class ImagePreprocessing:
    size: tuple[int, int] = (32, 28)  # height, width
    colour: str = "grey"  # colour is converted to grey, transparency to white, 16-bit stretched to 8
    fit: str = "centre-crop"  # cropped to the aspect of `size`, then resized
    normalise: str = "per-image"  # zero mean, unit variance: exposure and contrast do not decide identity

    def __post_init__(self) -> None:
        require(all(1 <= side <= 4096 for side in self.size), f"image size {self.size} out of range (1-4096)")
        require(self.colour in COLOURS, f"colour '{self.colour}' not supported (known: {', '.join(COLOURS)})")
        require(self.fit in FITS, f"fit '{self.fit}' not supported (known: {', '.join(FITS)})")
        require(
            self.normalise in NORMALISATIONS,
            f"normalise '{self.normalise}' not supported (known: {', '.join(NORMALISATIONS)})",
        )


@dataclass(frozen=True)
class ImageAugmentation:
    """Random rotation, scale, shift, mirror and gamma of each training image.

    Gamma rather than brightness or contrast: per-image standardisation removes any linear change."""

    max_rotation_deg: float = 10.0
    scale_range: tuple[float, float] = (0.9, 1.1)
    max_shift: float = 0.08  # of the image's size
    mirror: bool = True
    max_gamma: float = 1.4

    def __post_init__(self) -> None:
        low, high = self.scale_range
        require(0 < low <= high, f"scale range {self.scale_range} must be positive and ascending")
        require(self.max_gamma >= 1, "max_gamma must be at least 1")
        require(self.max_rotation_deg >= 0 and self.max_shift >= 0, "rotation and shift must not be negative")
