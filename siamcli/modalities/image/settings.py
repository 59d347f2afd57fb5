"""What an image recipe says about its inputs: how a file becomes the encoder's input, and how
training varies it. Both are written into the model file and checked when read."""

from __future__ import annotations

from dataclasses import dataclass

from siamcli.core.settings import require

COLOURS = ("grey", "rgb")
FITS = ("centre-crop", "letterbox", "content", "face-chip")
NORMALISATIONS = ("per-image", "dlib-mean")


@dataclass(frozen=True)
class ImagePreprocessing:
    size: tuple[int, int] = (32, 28)  # height, width
    # "grey": colour converted to grey, transparency to white, 16-bit stretched to 8; "rgb": grey
    # images as three equal channels, photos turned upright as their EXIF says
    colour: str = "grey"
    # "centre-crop": cropped to the aspect of `size`, then resized; "letterbox": resized whole into
    # `size`, the margins filled with the colour of the image's border (nothing of a drawing is cut
    # off, nothing is stretched); "content": cut to what differs from the border's colour, with a
    # margin, then letterboxed (a glyph or signature fills the frame wherever it sits on the page);
    # "face-chip": the largest face found (MTCNN), aligned by its five landmarks to
    # siamcli.modalities.image.align.FACE_TEMPLATE
    fit: str = "centre-crop"
    # "per-image": zero mean, unit variance, so exposure and contrast do not decide identity;
    # "dlib-mean": minus the mean colour of dlib's training faces, divided by 256, as dlib's encoder reads
    normalise: str = "per-image"
    # Embed each image and its mirror image, and average the two: faces are nearly symmetric, and the
    # average cancels asymmetries of pose and light (shipped face model: EER 4.31% -> 4.03% on
    # celeba_subset, 0.44% -> 0.39% on ORL, for 10% of the time a photo takes)
    mirror_average: bool = False

    def __post_init__(self) -> None:
        require(all(1 <= side <= 4096 for side in self.size), f"image size {self.size} out of range (1-4096)")
        require(self.colour in COLOURS, f"colour '{self.colour}' not supported (known: {', '.join(COLOURS)})")
        require(self.fit in FITS, f"fit '{self.fit}' not supported (known: {', '.join(FITS)})")
        require(
            self.normalise in NORMALISATIONS,
            f"normalise '{self.normalise}' not supported (known: {', '.join(NORMALISATIONS)})",
        )
        if self.fit == "face-chip":
            require(self.size[0] == self.size[1], f"a face chip is square, not {self.size}")
            require(self.colour == "rgb", "face chips are cut in colour (colour 'rgb')")

    @property
    def channels(self) -> int:
        return 3 if self.colour == "rgb" else 1


@dataclass(frozen=True)
class ImageAugmentation:
    """Random rotation, scale, shift, mirror, stroke width and gamma of each training image; turned
    copies as more identities.

    Gamma rather than brightness or contrast: per-image standardisation removes any linear change."""

    max_rotation_deg: float = 10.0
    scale_range: tuple[float, float] = (0.9, 1.1)
    max_shift: float = 0.08  # of the image's size
    mirror: bool = True
    max_gamma: float = 1.4
    # A third of the images thickened by a 3x3 minimum filter (dark strokes on a light ground grow by a
    # pixel), a third thinned by a maximum filter: pens, scans and downsampling vary a stroke's width.
    stroke: bool = False
    # Every identity turned a quarter, a half and three quarters makes three more (a character on its
    # side is another character): four times the identities to tell apart. Only half turns for images
    # that are not square. Not for faces or photos, which are never seen on their side.
    turns_as_identities: bool = False

    def __post_init__(self) -> None:
        low, high = self.scale_range
        require(0 < low <= high, f"scale range {self.scale_range} must be positive and ascending")
        require(self.max_gamma >= 1, "max_gamma must be at least 1")
        require(self.max_rotation_deg >= 0 and self.max_shift >= 0, "rotation and shift must not be negative")
