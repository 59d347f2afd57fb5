"""Training steps a second: the images recipe's encoder (small-vgg) on batches of 128 random grey
images, its forward pass in float32 and in bfloat16 (as `train images` runs it where the device
computes bfloat16 natively), at the recipe's size and at others.

    python benchmarks/training_speed.py [--sizes 28 32 36] [--steps 20] [--quick]

Each figure is the median of `--steps` of the training loop's steps (siamcli.training.training_step),
after three to warm up, in one process; compare the ratios within one run.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

import torch
from common import arguments  # a sibling script

from siamcli.core.encoders import build_encoder
from siamcli.modalities import import_encoders
from siamcli.recipes import recipe_for
from siamcli.trainconfig import TrainConfig
from siamcli.training import bfloat16_is_native, forward_precision, loss_and_miner, training_step

BATCH = 128  # the images recipe's: 32 identities x 4 images


def images_per_second(config: TrainConfig, size: int, steps: int) -> float:
    torch.manual_seed(0)
    encoder = build_encoder(config.encoder).to(memory_format=torch.channels_last).train()
    loss_fn, miner = loss_and_miner(config)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    precision = forward_precision(config, torch.device("cpu"))
    images = torch.randn(BATCH, 1, size, size)
    labels = torch.arange(BATCH) // config.samples_per_identity
    seconds = []
    for _ in range(steps + 3):
        started = time.perf_counter()
        training_step(encoder, images, labels, loss_fn, miner, optimizer, precision)
        seconds.append(time.perf_counter() - started)
    return BATCH / statistics.median(seconds[3:])


def main() -> None:
    parser = arguments(__doc__, data=None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 32, 36])
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.steps = args.sizes[:1], 1
    import_encoders()
    config = recipe_for("images").training
    native = bfloat16_is_native(torch.device("cpu"))
    print(f"{torch.get_num_threads()} threads; bfloat16 native on this CPU: {native}")
    for size in args.sizes:
        float32 = images_per_second(replace(config, mixed_precision=False), size, args.steps)
        bfloat16 = images_per_second(config, size, args.steps)
        print(f"{size}x{size}: float32 {float32:.0f} images/s, the recipe's {bfloat16:.0f} ({bfloat16 / float32:.2f}x)")


if __name__ == "__main__":
    main()
