"""The pictures people look at: confusion matrices, training curves, the most confident mistakes.
Each function writes one PNG (matplotlib, Agg backend: no display needed)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

DPI = 110


# Up to this many classes a confusion matrix prints each cell's value; beyond, colour alone (a
# cell is then too small for a number). Tick labels shrink with the classes, and past
# LABELLED_CLASSES only every k-th class is named.
ANNOTATED_CLASSES, LABELLED_CLASSES = 20, 120
LABEL_CHARACTERS = 24  # a longer class name is cut, with an ellipsis, on an axis


def confusion_matrix_png(
    matrix: np.ndarray, class_names: list[str], path: Path, normalized: bool
) -> None:
    """The matrix as a heat map sized by its classes: 10 classes in 8.5 x 7.5 inches, 100 in
    about 24 inches a side (each name still legible at 5 points), at most 30 inches."""
    n = len(class_names)
    side = min(30.0, max(7.5, 0.22 * n + 2))
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1 if normalized else None)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    every = max(1, int(np.ceil(n / LABELLED_CLASSES)))
    ticks = np.arange(0, n, every)
    names = [_short(class_names[i]) for i in ticks]
    size = 10 if n <= ANNOTATED_CLASSES else 6 if n <= 60 else 5
    ax.set_xticks(ticks, names, rotation=45 if n <= ANNOTATED_CLASSES else 90, ha="right")
    ax.set_yticks(ticks, names)
    ax.tick_params(labelsize=size)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(
        "Confusion matrix, rows normalised (recall on the diagonal)"
        if normalized
        else "Confusion matrix (test images)"
    )
    if n <= ANNOTATED_CLASSES:
        _annotate(ax, matrix, normalized)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARACTERS else name[: LABEL_CHARACTERS - 1] + "\u2026"


def _annotate(ax, matrix: np.ndarray, normalized: bool) -> None:
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), value in np.ndenumerate(matrix):
        text = f"{value:.2f}" if normalized else f"{int(value)}"
        ax.text(
            col,
            row,
            text,
            ha="center",
            va="center",
            fontsize=8,
            color="white" if value > threshold else "black",
        )


def training_curves_png(history: list[dict], path: Path) -> None:
    epochs = [e["epoch"] for e in history]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, key, title in ((axes[0], "loss", "Loss"), (axes[1], "accuracy", "Accuracy")):
        ax.plot(epochs, [e[key] for e in history], marker=".", label="train (augmented)")
        ax.plot(epochs, [e[f"val_{key}"] for e in history], marker=".", label="validation")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    rates = [e["lr"] for e in history]
    if len(set(rates)) > 1:
        axes[2].step(epochs, rates, where="post", color="tab:green")
        axes[2].set_yscale("log")
    else:  # a flat line on a log axis says nothing: say it
        axes[2].set_yticks([])
        axes[2].set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
        axes[2].text(
            0.5,
            0.5,
            f"no decay:\n{rates[0]:.0e} in every epoch",
            ha="center",
            va="center",
            fontsize=13,
            transform=axes[2].transAxes,
        )
    axes[2].set_title("Learning rate (plateau decay)")
    axes[2].set_xlabel("epoch")
    axes[2].grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def confident_mistakes_png(
    images: np.ndarray,
    true: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    class_names: list[str],
    path: Path,
    columns: int = 8,
) -> None:
    """A grid of the given (already chosen) misclassified images with true and predicted labels."""
    rows = max(1, int(np.ceil(len(images) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.7, rows * 2.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    # the grid may have spare cells: they stay blank
    for ax, image, t, p, c in zip(axes.flat, images, true, predicted, confidence, strict=False):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(f"true {class_names[t]}\npred {class_names[p]} {c:.0%}", fontsize=8)
    fig.suptitle("Most confident mistakes on the test split")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
