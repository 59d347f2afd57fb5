"""Images: grey crops of the recipe's aspect, or faces found, aligned and cut out in colour.

Torch-free: decoding, detection, alignment and the modality object. `augment` and `encoders` import
torch, for training.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from siamcli.modalities.base import load_each
from siamcli.modalities.image.decode import IMAGE_SUFFIXES, load_image, normalise
from siamcli.modalities.image.settings import ImageAugmentation, ImagePreprocessing


class DecodedImages:
    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        rule: str,
        found: list[dict[str, Any] | None] | None = None,
        left_out: list[str] | None = None,
        mirrored: bool = False,
        kept: np.ndarray | None = None,
    ) -> None:
        self.images = images  # (N, channels, H, W) uint8
        self.labels = labels
        self.rule = rule  # ImagePreprocessing.normalise
        self.mirrored = mirrored  # ImagePreprocessing.mirror_average
        self.found = found if found is not None else [None] * len(images)
        self.left_out = left_out or []
        self.kept = np.arange(len(images)) if kept is None else kept

    def __len__(self) -> int:
        return len(self.images)

    def training_identities(self, augmentation: ImageAugmentation) -> DecodedImages:
        """These images, and with `turns_as_identities` each identity's turned copies as new identities."""
        if not augmentation.turns_as_identities or not len(self.labels):
            return self
        square = self.images.shape[2] == self.images.shape[3]
        turns = range(4) if square else (0, 2)
        count = int(self.labels.max()) + 1
        images = np.concatenate([np.rot90(self.images, turn, axes=(2, 3)) for turn in turns])
        labels = np.concatenate([self.labels + count * copy for copy in range(len(turns))])
        return DecodedImages(images, labels, self.rule, mirrored=self.mirrored)

    def training_batch(self, indices: np.ndarray, generator: Any, augmentation: ImageAugmentation) -> Any:
        import torch

        from siamcli.modalities.image.augment import augment_images
        from siamcli.modalities.image.augment import normalise as normalise_batch

        images = torch.from_numpy(self.images[indices]).float() / 255
        return normalise_batch(augment_images(images, generator, augmentation), self.rule)

    def inference_batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Each image, or with `mirrored` each image and its mirror image, which embed_all averages."""
        step = batch_size // 2 if self.mirrored else batch_size
        for start in range(0, len(self.images), step):
            batch = normalise(self.images[start : start + step], self.rule)
            owners = np.arange(start, start + len(batch))
            if self.mirrored:
                batch, owners = np.concatenate([batch, batch[..., ::-1]]), np.concatenate([owners, owners])
            yield batch, owners


def _fitted(path: Path, preprocessing: ImagePreprocessing) -> tuple[np.ndarray, None]:
    image = np.round(load_image(path, preprocessing.size, preprocessing.fit, preprocessing.colour) * 255)
    return (image[None] if image.ndim == 2 else image.transpose(2, 0, 1)).astype(np.uint8), None


def _face(path: Path, preprocessing: ImagePreprocessing) -> tuple[np.ndarray, dict[str, Any]]:
    from siamcli.modalities.image.faces import load_face

    chip, face = load_face(path, preprocessing.size[0])
    return chip.transpose(2, 0, 1), {"face": face.to_json()}


class ImageModality:
    name = "image"
    suffixes = IMAGE_SUFFIXES
    preprocessing_type = ImagePreprocessing
    augmentation_type = ImageAugmentation
    input_axes: ClassVar[dict[int, str]] = {0: "batch"}
    encoders_module = "siamcli.modalities.image.encoders"
    shipped_model = "faces.model"

    def example_input(self, preprocessing: ImagePreprocessing) -> np.ndarray:
        return np.zeros((1, preprocessing.channels, *preprocessing.size), np.float32)

    def decode(
        self, paths: Sequence[Path], labels: Sequence[int], preprocessing: ImagePreprocessing, skip_empty: bool = False
    ) -> DecodedImages:
        load = _face if preprocessing.fit == "face-chip" else _fitted
        # Decoding, detection (onnxruntime) and resizing run outside Python's lock: images side by side.
        workers = min(4, os.cpu_count() or 1)
        loaded, kept, left_out = load_each(paths, lambda path: load(path, preprocessing), skip_empty, workers)
        shape = (0, preprocessing.channels, *preprocessing.size)
        images = np.stack([image for image, _ in loaded]) if loaded else np.zeros(shape, np.uint8)
        return DecodedImages(
            images,
            np.asarray(labels, dtype=np.int64)[kept],
            preprocessing.normalise,
            found=[found for _, found in loaded],
            left_out=left_out,
            mirrored=preprocessing.mirror_average,
            kept=kept,
        )


IMAGE = ImageModality()
