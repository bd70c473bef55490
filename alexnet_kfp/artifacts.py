"""Reading what earlier steps left in their artifact directories (shared by train, evaluate,
export)."""

from pathlib import Path

from alexnet_kfp.errors import InputError
from alexnet_kfp.records import DatasetRecord, TrainRecord


def class_names_of(record: DatasetRecord | TrainRecord | None) -> list[str]:
    """The class names a step's record carries, or the ten label numbers when there is none."""
    return (record.class_names if record else None) or [str(i) for i in range(10)]


def keras_model_path(model_dir: Path) -> Path:
    """model.keras of a Model directory made by `alexnet-kfp train`, with a clear error when
    missing."""
    path = model_dir / "model.keras"
    if not path.is_file():
        raise InputError(f"{path} not found: expected a Model directory (made by the train step)")
    return path


def check_same_classes(
    model: str | Path, dataset_classes: list[str], count: int, names: list[str] | None = None
) -> None:
    """A model judged or calibrated on data of other classes would pass, fail or quantise for
    nothing: one line instead. The model's class count always, its class names when both sides
    name them."""
    if count != len(dataset_classes):
        raise InputError(
            f"{model} predicts {count} classes, the Dataset has {len(dataset_classes)} "
            f"({', '.join(dataset_classes[:3])}, ...): use the data set the model was trained for"
        )
    if names is not None and names != dataset_classes:
        raise InputError(
            f"{model} was trained on {', '.join(names[:3])}, ...; the Dataset's classes are "
            f"{', '.join(dataset_classes[:3])}, ...: use the data set the model was trained for"
        )


def dataset_classes_for(model_dir: Path, dataset_dir: Path) -> list[str]:
    """The Dataset's class names, refused in one line when the model in `model_dir` (its
    train.json) was trained on other classes."""
    dataset = DatasetRecord.read_if_present(dataset_dir)
    classes = class_names_of(dataset)
    trained = TrainRecord.read_if_present(model_dir)
    if trained and trained.class_names:
        # names compared when the Dataset names its classes (else: label numbers)
        named = trained.class_names if dataset and dataset.class_names else None
        check_same_classes(model_dir, classes, len(trained.class_names), named)
    return classes
