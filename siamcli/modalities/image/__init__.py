"""Images: grey, centre-cropped to the recipe's aspect, resized, standardised per image.

Torch-free: decoding and the modality object. `augment` and `encoders` import torch, for training.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from siamcli.modalities.image.decode import IMAGE_SUFFIXES, load_image, standardize
from siamcli.modalities.image.settings import ImageAugmentation, ImagePreprocessing


class DecodedImages:
    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images = images  # (N, H, W) in [0, 1]
        self.labels = labels

    def __len__(self) -> int:
        return len(self.images)

    def training_batch(self, indices: np.ndarray, generator: Any, augmentation: ImageAugmentation) -> Any:
        import torch

        from siamcli.modalities.image.augment import augment_images

        return augment_images(torch.from_numpy(self.images[indices]).unsqueeze(1), generator, augmentation)

    def inference_batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, len(self.images), batch_size):
            batch = self.images[start : start + batch_size]
            yield standardize(batch)[:, None], np.arange(start, start + len(batch))


class ImageModality:
    name = "image"
    suffixes = IMAGE_SUFFIXES
    preprocessing_type = ImagePreprocessing
    augmentation_type = ImageAugmentation
    input_axes: ClassVar[dict[int, str]] = {0: "batch"}
    encoders_module = "siamcli.modalities.image.encoders"
    shipped_model = "faces.model"

    def example_input(self, preprocessing: ImagePreprocessing) -> np.ndarray:
        return np.zeros((1, 1, *preprocessing.size), np.float32)

    def decode(self, paths: Sequence[Path], labels: Sequence[int], preprocessing: ImagePreprocessing) -> DecodedImages:
        size = preprocessing.size
        images = np.stack([load_image(p, size) for p in paths]) if paths else np.zeros((0, *size), np.float32)
        return DecodedImages(images, np.asarray(labels, dtype=np.int64))


IMAGE = ImageModality()
