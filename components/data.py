"""The data component: fetch, verify, parse and split CIFAR-10 into a Dataset artifact."""

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
    dataset: Output[Dataset],
):
    """Fetch, verify, parse and split CIFAR-10 (limit_per_class 0 = all images)."""
    from alexnet_kfp.data.prepare import prepare_dataset
    from alexnet_kfp.process import one_line_errors, setup

    setup()
    with one_line_errors("data"):
        info = prepare_dataset(
            dataset.path,
            source=source,
            sha256=sha256 or None,
            md5=md5 or None,
            val_fraction=val_fraction,
            seed=seed,
            limit_per_class=limit_per_class or None,
        )
    dataset.metadata.update({name: split["count"] for name, split in info["splits"].items()})
