"""Photos decoded at the size they are needed: load_image with JPEG draft scaling against decoding
the whole photo, side by side in one run.

    python bench/jpeg_draft.py [EXPORT_DIR DATASET_DIR]

1. Decoding a 12 MP and a 50 MP JPEG (a synthetic photo: smooth shapes, texture, and sensor noise
   at three levels, which set how many bits a pixel the JPEG holds) to the model's 32x32 input:
   median time of 5, and the peak RSS of a fresh process decoding it once. Drafting skips the
   inverse DCT of all but one coefficient in 64, not the entropy decoding of every coefficient:
   the denser the file, the less it gains.
2. With an export directory and a Dataset: each test image upscaled to 512x512 and saved as a
   JPEG (quality 90), classified after both decodings: top-1 agreement and the largest |delta p|.
The whole-photo decoding is load_image with draft scaling off and the pixel limit lifted (the old
path; serve refused the 50 MP photo).
"""

import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import print_machine  # noqa: E402

from alexnet_kfp import image_file  # noqa: E402

SIZES = {"12 MP (4000x3000)": (4000, 3000), "50 MP (8660x5773)": (8660, 5773)}
NOISE = (4, 6, 12)  # the noise's standard deviation in levels: about 1.2, 1.7 and 2.9 bits a pixel

_PEAK_CHILD = """
import sys
from alexnet_kfp import image_file
image_file.MAX_PIXELS = 10**9
image_file.load_image(sys.argv[1], draft=sys.argv[2] == "draft")
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024)
"""


def synthetic_photo(width: int, height: int, noise: float = 12) -> bytes:
    """A JPEG of a camera's size whose content is neither flat nor pure noise (`noise`: the
    standard deviation of its grain, in levels)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            128 + 100 * np.sin(x / 300) * np.cos(y / 200),
            128 + 100 * np.cos((x + y) / 500),
            128 + 60 * np.sin(x / 40) * np.sin(y / 60),
        ],
        axis=-1,
    )
    base += rng.normal(0, noise, base.shape).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def decode_figures(path: Path, draft: bool) -> tuple[float, float]:
    """(median seconds of 5 decodes, peak RSS MiB of a process that decodes it once)."""
    image_file.MAX_PIXELS = 10**9  # the old path had no limit in predict
    times = []
    for _ in range(5):
        started = time.perf_counter()
        image_file.load_image(path, draft=draft)
        times.append(time.perf_counter() - started)
    mode = "draft" if draft else "full"
    peak = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, str(path), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return statistics.median(times), float(peak.stdout.split()[-1])


def agreement(export_dir: Path, dataset_dir: Path) -> None:
    from alexnet_kfp.data.npz import load_split
    from alexnet_kfp.inference.onnx_classifier import OnnxClassifier

    classifier = OnnxClassifier(export_dir)
    x, y = load_split(dataset_dir, "test")
    full, drafted = [], []
    for image in x:
        buffer = io.BytesIO()
        Image.fromarray(image).resize((512, 512), Image.Resampling.BICUBIC).save(
            buffer, "JPEG", quality=90
        )
        for draft, out in ((False, full), (True, drafted)):
            buffer.seek(0)
            out.append(image_file.load_image(buffer, draft=draft))
    p_full, p_draft = classifier.predict(np.stack(full)), classifier.predict(np.stack(drafted))
    changed = p_full.argmax(1) != p_draft.argmax(1)
    delta = np.abs(p_full - p_draft)
    accuracy = [f"{(p.argmax(1) == y).mean():.2%}" for p in (p_full, p_draft)]
    print(
        f"{len(x)} test images as 512x512 JPEGs: top-1 accuracy {accuracy[0]} decoded whole, "
        f"{accuracy[1]} drafted; top-1 class differs for {int(changed.sum())}; max |delta p| "
        f"{delta.max():.3g}, mean {delta.mean():.2g}; where the class differs, the two top "
        f"classes were within {_top_two_gap(p_full, p_draft):.3g} of each other"
    )


def _top_two_gap(full: np.ndarray, drafted: np.ndarray) -> float:
    """The largest gap between the two most probable classes (decoded whole) among the images whose
    top-1 class drafting changed: how close to a tie they were."""
    changed = full.argmax(1) != drafted.argmax(1)
    if not changed.any():
        return 0.0
    top_two = np.sort(full[changed], axis=1)[:, -2:]
    return float((top_two[:, 1] - top_two[:, 0]).max())


def main() -> None:
    print_machine()
    with tempfile.TemporaryDirectory() as scratch:
        for name, (width, height) in SIZES.items():
            for noise in NOISE:
                path = Path(scratch) / f"{width}x{height}-{noise}.jpg"
                path.write_bytes(synthetic_photo(width, height, noise))
                full_s, full_mib = decode_figures(path, draft=False)
                draft_s, draft_mib = decode_figures(path, draft=True)
                bits = path.stat().st_size * 8 / (width * height)
                print(
                    f"{name}, {path.stat().st_size / 1e6:.1f} MB ({bits:.1f} bits a pixel): full "
                    f"{full_s * 1e3:.0f} ms, {full_mib:.0f} MiB peak; draft {draft_s * 1e3:.0f} "
                    f"ms, {draft_mib:.0f} MiB peak: {full_s / draft_s:.1f}x faster"
                )
    if len(sys.argv) == 3:
        agreement(Path(sys.argv[1]), Path(sys.argv[2]))


if __name__ == "__main__":
    main()
