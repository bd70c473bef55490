"""Shared fixtures: the small CIFAR-10 archive every data, training and export test starts from
(the real one when given, else one the tests generate), and what the steps make of it."""

import json
import shutil
from pathlib import Path

import pytest

from alexnet_kfp.files import file_digest

from .made_once import made_once
from .real_data import HOW_TO_GIVE, REAL_FULL, REAL_SMALL
from .synthetic import write_synthetic_archive

ARCHIVE_NAME = "cifar-10-small-python.tar.gz"


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory) -> Path:
    """A private copy of the small real archive (5 x 1,000 train, 1,000 test images) when it is
    given (real_data.py), else a generated archive of the same layout and size."""

    def make(copy: Path) -> None:
        if REAL_SMALL:
            shutil.copyfile(REAL_SMALL, copy)
        else:
            write_synthetic_archive(copy)

    return made_once(tmp_path_factory, "small", ARCHIVE_NAME, make)


@pytest.fixture(scope="session")
def small_sha256(small_archive) -> str:
    return file_digest(small_archive)


@pytest.fixture(scope="session")
def tiny_dataset(small_archive, small_sha256, tmp_path_factory) -> Path:
    """A Dataset of 20 images per class from the small archive, for training runs of a few seconds
    (read only by the tests)."""
    from alexnet_kfp.data.prepare import prepare_dataset

    def make(out: Path) -> None:
        prepare_dataset(out, source=str(small_archive), sha256=small_sha256, limit_per_class=20)

    return made_once(tmp_path_factory, "tiny", "dataset", make)


@pytest.fixture(scope="session")
def full_archive() -> Path:
    """The full real archive, read in place (read-only use); skips the test without it."""
    if not REAL_FULL:
        pytest.skip(f"needs the real CIFAR-10: {HOW_TO_GIVE}")
    return REAL_FULL


@pytest.fixture(scope="session")
def small_dataset(small_archive, small_sha256, tmp_path_factory) -> Path:
    """The data step's output for the small archive (3,500 / 1,500 / 1,000 images)."""
    from alexnet_kfp.data.prepare import prepare_dataset

    def make(out: Path) -> None:
        prepare_dataset(out, source=str(small_archive), sha256=small_sha256)

    return made_once(tmp_path_factory, "small-dataset", "dataset", make)


@pytest.fixture(scope="session")
def trained(small_dataset, tmp_path_factory) -> tuple[Path, dict]:
    """(Model directory, train.json) of the article net trained 6 epochs on the small archive:
    shared by the training, evaluation and export tests, and by the workers, so that CI trains it
    once."""
    from alexnet_kfp.train.config import TrainConfig
    from alexnet_kfp.train.fit import train

    def make(out: Path) -> None:
        train(small_dataset, out, TrainConfig(variant="article", epochs=6))

    model = made_once(tmp_path_factory, "trained", "model", make)
    return model, json.loads((model / "train.json").read_text())


@pytest.fixture(scope="session")
def exported(trained, small_dataset, tmp_path_factory) -> Path:
    """The ONNX directory (model.onnx, model.int8.onnx) exported from the shared trained model."""
    from alexnet_kfp.export.onnx_export import export

    def make(out: Path) -> None:
        export(trained[0], out, dataset_dir=small_dataset)

    return made_once(tmp_path_factory, "exported", "onnx", make)


@pytest.fixture(scope="session")
def evaluation(trained, small_dataset, tmp_path_factory) -> tuple[Path, dict]:
    """(Evaluation directory, metrics.json) of the shared trained model, its gate at 0."""
    from alexnet_kfp.evaluate.evaluate import evaluate

    def make(out: Path) -> None:
        evaluate(small_dataset, trained[0], out, min_accuracy=0.0)

    folder = made_once(tmp_path_factory, "evaluation", "evaluation", make)
    return folder, json.loads((folder / "metrics.json").read_text())


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built offline from a copy of the sources (no build/ in the clone)."""
    from .wheel import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """One real MLflow tracking server (SQLite store) for the session's tracking runs, its
    artifacts in a real S3-compatible store (moto's server), as a registry KServe can deploy
    from is set up; the store's endpoint and credentials in this process's environment (and so
    in the commands the tests start). On port 5000, the one docs/tracking.md names, when it is
    free (test_tracking.py has one of its own elsewhere: `make test`'s two workers may run both
    files at once). Both are stopped by their PIDs at the end."""
    from .mlflow_server import DOCS_PORT, MlflowServer, port_free
    from .s3_server import S3Server

    store = S3Server(tmp_path_factory.mktemp("s3"), "mlflow").start()
    port = DOCS_PORT if port_free(DOCS_PORT) else None
    server = MlflowServer(
        tmp_path_factory.mktemp("mlflow"),
        port,
        artifact_root="s3://mlflow/artifacts",
        environment=store.environment,
    )
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in store.environment.items():
                patch.setenv(key, value)
            yield server.start()
    finally:
        server.stop()
        store.stop()


# Every test names its tier with a marker of its own (pyproject.toml lists them): `make test-fast`
# runs the unit tier. Collection fails on a test that names none, or more than one.
TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items):
    for item in items:
        named = [tier for tier in TIERS if item.get_closest_marker(tier)]
        if len(named) != 1:
            raise pytest.UsageError(
                f"{item.nodeid}: mark it with exactly one of pytest.mark.unit, .integration or "
                f".e2e (it has {named or 'none'})"
            )
