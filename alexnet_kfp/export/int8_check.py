"""Is model.int8.onnx good enough to ship beside model.onnx? Judged on the whole test split: its
accuracy may fall short of the float32 model's by at most `max_loss` (a fraction: 0.01 is one
point). Its top-1 agreement with float32 and its largest |delta p| are recorded, not gated: int8
rounding legitimately flips images whose two best classes are nearly tied."""

import numpy as np


def top2_margins(probabilities: np.ndarray) -> np.ndarray:
    """Per image, best probability minus second best: how near a tie its top-1 class is."""
    top2 = np.sort(probabilities, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def compare_int8(
    float_p: np.ndarray, int8_p: np.ndarray, labels: np.ndarray, max_loss: float
) -> dict:
    float_top, int8_top = float_p.argmax(1), int8_p.argmax(1)
    float_accuracy, int8_accuracy = (
        float((float_top == labels).mean()),
        float((int8_top == labels).mean()),
    )
    flipped = float_top != int8_top
    margins = top2_margins(float_p)
    loss = float_accuracy - int8_accuracy
    passed = loss <= max_loss + 1e-12  # a loss of exactly max_loss passes despite float rounding
    return {
        "images": int(len(labels)),
        "float32_accuracy": float_accuracy,
        "int8_accuracy": int8_accuracy,
        "accuracy_loss": loss,
        "max_loss": max_loss,
        "top1_agreement": float(1 - flipped.mean()),
        "max_abs_diff": float(np.abs(float_p - int8_p).max()),
        # how close to a tie the flipped images were in float32: small margins mean rounding, not
        # damage
        "flipped_float32_margin_max": float(margins[flipped].max()) if flipped.any() else None,
        "flipped_float32_margin_median": float(np.median(margins[flipped]))
        if flipped.any()
        else None,
        "passed": bool(passed),
        "reason": (
            f"int8 accuracy {int8_accuracy:.2%} vs float32 {float_accuracy:.2%}: loss "
            f"{100 * loss:.2f} point(s) {'<=' if passed else '>'} allowed {100 * max_loss:.2f}"
        ),
    }
