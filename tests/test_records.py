"""The typed records (alexnet_kfp/records.py): what the steps write reads back as the same record,
and a foreign, damaged or unknown record is refused in one line naming the file and the field."""

import json

import pytest

from alexnet_kfp.data.prepare import prepare_dataset
from alexnet_kfp.errors import InputError
from alexnet_kfp.records import (
    DatasetRecord,
    ExportRecord,
    MetricsRecord,
    ParityRecord,
    TrainRecord,
    provenance,
)

from .cli import run_cli


@pytest.fixture(scope="module")
def dataset(small_archive, small_sha256, tmp_path_factory):
    out = tmp_path_factory.mktemp("records") / "dataset"
    prepare_dataset(out, source=str(small_archive), sha256=small_sha256, limit_per_class=4)
    return out


@pytest.mark.unit
def test_the_data_steps_record_reads_back_as_written(dataset):
    written = json.loads((dataset / "dataset.json").read_text())
    record = DatasetRecord.read(dataset)
    assert record.to_dict() == written
    assert list(written)[:4] == ["kind", "layout", "class_names", "image_shape"]  # as before
    assert record.splits["train"].count == sum(record.splits["train"].per_class.values())


@pytest.mark.unit
@pytest.mark.parametrize(
    "content, says",
    [
        ("{not json", "not a JSON file"),
        ("[1, 2]", "expected a JSON object, found list"),
        (
            '{"kind": "alexnet-kfp/model"}',
            "kind 'alexnet-kfp/model', expected 'alexnet-kfp/dataset'",
        ),
        ('{"class_names": ["a"]}', "kind None"),  # no kind: not ours
        ('{"kind": "alexnet-kfp/dataset", "layout": "python"}', "no field class_names"),
    ],
    ids=["cut-short", "a-list", "another-kind", "no-kind", "missing-field"],
)
def test_a_foreign_or_damaged_record_is_one_line(dataset, tmp_path, content, says):
    (tmp_path / "dataset.json").write_text(content)
    with pytest.raises(InputError, match="dataset.json") as refused:
        DatasetRecord.read(tmp_path)
    assert says in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.unit
@pytest.mark.parametrize(
    "field, value, says",
    [
        ("splits", [], "splits should be an object, found list"),
        ("class_names", "airplane", "class_names should be a list, found str"),
        (
            "parameters",
            {"val_fraction": "0.3", "seed": 1, "limit_per_class": None},
            "parameters.val_fraction should be a number",
        ),
        ("splits", {"train": {"count": True}}, "splits.train.count should be int, found bool"),
    ],
)
def test_a_field_of_the_wrong_shape_is_named(dataset, tmp_path, field, value, says):
    content = json.loads((dataset / "dataset.json").read_text())
    content[field] = value
    (tmp_path / "dataset.json").write_text(json.dumps(content))
    with pytest.raises(InputError, match=says.replace("(", r"\(")):
        DatasetRecord.read(tmp_path)


@pytest.mark.integration  # a train or evaluate process: TensorFlow's start-up
def test_train_refuses_a_dataset_whose_record_is_foreign(dataset, tmp_path):
    foreign = tmp_path / "dataset"
    foreign.mkdir()
    for name in ("train.npz", "val.npz", "test.npz"):
        (foreign / name).write_bytes((dataset / name).read_bytes())
    (foreign / "dataset.json").write_text(json.dumps({"kind": "alexnet-kfp/dataset", "splits": 3}))
    done = run_cli(
        "train",
        "--variant",
        "article",
        "--data",
        foreign,
        "--out",
        tmp_path / "model",
        "--epochs",
        "1",
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "dataset.json" in done.stderr and not (tmp_path / "model").exists()


@pytest.mark.unit
def test_provenance_names_the_makers_in_order():
    import onnx

    versions = provenance(onnx)
    assert list(versions) == ["alexnet-kfp", "onnx", "numpy", "python"]
    assert versions["onnx"] == onnx.__version__


@pytest.mark.integration
def test_every_steps_record_reads_back_as_written(trained, exported, small_dataset, tmp_path):
    from alexnet_kfp.evaluate.evaluate import evaluate
    from alexnet_kfp.export.parity import verify

    evaluate(small_dataset, trained[0], tmp_path / "evaluation", min_accuracy=0.0)
    verify(small_dataset, trained[0], exported, out_dir=tmp_path / "parity")
    for record, where in (
        (TrainRecord, trained[0]),
        (MetricsRecord, tmp_path / "evaluation"),
        (ExportRecord, exported),
        (ParityRecord, tmp_path / "parity"),
    ):
        written = json.loads((where / record.FILE).read_text())
        assert record.read(where).to_dict() == written, record.FILE
    assert TrainRecord.read(trained[0]).variant == "article"
