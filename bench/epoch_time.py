"""Training time per epoch of each network variant, side by side in one run on this machine: the
35,000-image training split of the default split, batch 100, `alexnet-kfp train`'s input pipeline
(augmentation on; with and without the random crop), float32 and the precision `auto` picks here.

    # default: makes one from ../shared/data
    python bench/epoch_time.py [DATASET_DIR] [--timed-steps N]

Prints images/s and the seconds one epoch takes at that speed, under the machine line.
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from measure import print_machine, training_split
from train_timing import BATCH, WARMUP_STEPS, training_images_per_second

from alexnet_kfp.train import devices
from alexnet_kfp.train.alexnet import build_alexnet, count_macs
from alexnet_kfp.train.config import VARIANTS
from alexnet_kfp.train.input import training_dataset

EPOCH_IMAGES = 35_000  # the training split of the default 70/30 split of the 50,000 training images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset_dir", nargs="?", type=Path)
    parser.add_argument(
        "--timed-steps", type=int, default=40, help="steps timed per row (default: %(default)s)"
    )
    args = parser.parse_args()
    x, y = training_split(args.dataset_dir)
    print_machine()
    print(
        f"device: {devices.describe()}; batch {BATCH}, {args.timed_steps} timed steps after "
        f"{WARMUP_STEPS}"
    )
    precisions = sorted({"float32", devices.choose_precision("auto")})
    print(
        "| variant | MACs per image | precision | random crop | images/s | seconds per epoch "
        "(35,000 images) |"
    )
    print("|---|---|---|---|---|---|")
    for variant in VARIANTS:
        macs = count_macs(build_alexnet(variant))
        for precision in precisions:
            for crop in (0, 4):
                data = training_dataset(x, y, BATCH, seed=0, crop_padding=crop)
                speed = training_images_per_second(data, precision, variant, timed=args.timed_steps)
                print(
                    f"| {variant} | {macs / 1e6:,.0f} M | {precision} | {crop or 'off'} | "
                    f"{speed:,.0f} | {EPOCH_IMAGES / speed:,.0f} s |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
