"""Run a compiled pipeline (default: the committed pipeline.yaml) under kfp.local's DockerRunner:
every component in its own container of the image the pipeline names (no network, uid 1000,
read-only root), on the small real archive, or on a folder of class folders (your own images:
then the model must answer with the folders' names).
Usage: python .ci/docker_runner_pipeline.py SMALL_ARCHIVE|FOLDER WORK_DIR [PIPELINE_YAML]"""

import json
import shutil
import sys
from pathlib import Path

from kfp import components, local

from alexnet_kfp.pipeline.profiles import QUICK

SMALL_SHA256 = "80e9812122ca3e4a945c756e4827ab8d37530f7509c08e1daec39cf6d1090680"


def main() -> None:
    archive, work = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o777)  # the containers run as uid 1000 and write their outputs here
    source = work / archive.name  # DockerRunner mounts only the pipeline root into the containers
    if archive.is_dir():
        shutil.copytree(archive, source)
    else:
        shutil.copyfile(archive, source)
    workspace = work / "workspace"  # the train task's checkpoint, mounted at /kfp-workspace
    workspace.mkdir()
    workspace.chmod(0o777)
    local.init(
        runner=local.DockerRunner(
            network_mode="none", user="1000", read_only=True, tmpfs={"/tmp": ""}
        ),
        pipeline_root=str(work),
        workspace_root=str(workspace),
        raise_on_error=True,
    )
    pipeline_yaml = sys.argv[3] if len(sys.argv) > 3 else "pipeline.yaml"
    pipeline = components.load_component_from_file(pipeline_yaml)
    # `alexnet-kfp run --quick`'s run: the containers run on this CPU machine.
    own_images = archive.is_dir()
    task = pipeline(source=str(source), sha256="" if own_images else SMALL_SHA256, **QUICK.values)
    onnx = sorted(work.rglob("model.onnx"))
    parity = sorted(work.rglob("parity.json"))
    assert onnx and parity, "the export branch did not run"
    # the run's report, written by verify in its container: the evaluation with the ONNX results
    report = (parity[-1].parent / "report.html").read_text()
    assert "The exported ONNX models" in report and "ONNX models verified" in report
    trained = json.loads(next(work.rglob("train.json")).read_text())
    if own_images:  # the classes are the folders, to the model's metadata
        folders = sorted(p.name for p in archive.iterdir() if p.is_dir())
        exported = json.loads((onnx[-1].parent / "export.json").read_text())
        assert json.loads(exported["metadata"]["class_names"]) == folders, exported["metadata"]
    assert trained["checkpoint"]["path"] == "/kfp-workspace/train-checkpoint", trained["checkpoint"]
    print(
        f"DockerRunner pipeline finished: test accuracy {task.output:.4f}, {onnx[-1]}, {parity[-1]}"
    )


if __name__ == "__main__":
    main()
