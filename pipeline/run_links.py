"""A finished local run's front door: RUN_DIR/onnx_model, model, dataset, model_repository,
report.html (and a sweep's sweep.md) link to the steps' outputs where kfp.local put them, a few test
images wait in RUN_DIR/samples, and RUNS/latest names the run, so that the next commands need no
timestamps."""

from pathlib import Path

from alexnet_kfp.files import file_name_from
from alexnet_kfp.pipeline.run_events import StepEvents
from alexnet_kfp.pipeline.run_summary import (
    MODEL_REPOSITORY,
    REPORT,
    SWEEP_TABLE,
    run_report,
    trained_model,
)

SAMPLES = "samples"  # a few test images as PNG files, for the printed `predict` command


def link_outputs(run_dir: Path, runs_root: Path, steps: StepEvents) -> None:
    """The run's links, its samples, and RUNS/latest (replaced atomically: it always names a
    finished run)."""
    links = {
        "onnx_model": steps.output("export", "onnx_model"),
        "model": trained_model(steps),
        "dataset": steps.output("data", "dataset"),
        MODEL_REPOSITORY: steps.output("export", "model_repository"),
        REPORT: run_report(steps),
        SWEEP_TABLE: steps.output("select", "comparison"),
    }
    for name, target in links.items():
        if target is not None and target.exists():
            (run_dir / name).symlink_to(
                target.relative_to(run_dir), target_is_directory=target.is_dir()
            )
    if (run_dir / "dataset").is_dir():
        _write_samples(run_dir / "dataset", run_dir / SAMPLES)
    latest = runs_root / "latest"
    staging = runs_root / f".latest-{run_dir.name}"
    staging.symlink_to(run_dir.name, target_is_directory=True)
    staging.replace(latest)


def _write_samples(dataset_dir: Path, folder: Path, count: int = 4) -> None:
    """The first test image of each of `count` classes, named by its class: something to predict."""
    import numpy as np
    from PIL import Image

    from alexnet_kfp.artifacts import class_names_of
    from alexnet_kfp.data.npz import load_split
    from alexnet_kfp.records import DatasetRecord

    x, y = load_split(dataset_dir, "test")
    names = class_names_of(DatasetRecord.read_if_present(dataset_dir))
    folder.mkdir()
    for label in sorted(set(y.tolist()))[:count]:
        image = x[int(np.flatnonzero(y == label)[0])]
        # the class names come from the archive: never a path of their own
        name = file_name_from(names[label], f"class-{label}")
        Image.fromarray(image).save(folder / f"{name}.png")
