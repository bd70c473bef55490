"""The data component: fetch, verify, parse and split CIFAR-10, or your own folder of class
folders, into a Dataset artifact."""

from kfp.dsl import Dataset, Output

from alexnet_kfp.components import component


@component
def data_op(
    source: str,
    sha256: str,
    md5: str,
    val_fraction: float,
    seed: int,
    limit_per_class: int,
    skip_unreadable: bool,
    dataset: Output[Dataset],
):
    """Fetch, verify, parse and split CIFAR-10, or a folder of class folders (limit_per_class 0 =
    all images). Every argument but the artifact is a DataConfig field of the same name."""
    from alexnet_kfp.data.config import DataConfig
    from alexnet_kfp.data.prepare import prepare_dataset, unverified
    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished, tell

    setup("data")
    with one_line_errors("data"):
        config = DataConfig(
            source=source,
            sha256=sha256,
            md5=md5,
            val_fraction=val_fraction,
            seed=seed,
            limit_per_class=limit_per_class,
            skip_unreadable=skip_unreadable,
        )
        record = prepare_dataset(dataset.path, config)
    notice = unverified(record)
    if notice:
        tell("data", notice)  # in the step's log, and on a local run's terminal
    dataset.metadata.update({name: split.count for name, split in record.splits.items()})
    dataset.metadata["classes"] = len(record.class_names)
    finished("data", dataset=dataset.path)
