"""A task's executor input travels on its pod's command line, and a command line has a limit.

- driver/driver.go (`initPodSpecPatch`, 2.17.0:307-326) starts the launcher with
  `--executor_input` and the whole executor input, as JSON, in one argument; a Python component's
  own command receives it again (its `{{$}}` argument, resolved by `resolveContainerArgs`).
- Linux refuses to start a program one of whose arguments is longer than MAX_ARG_STRLEN, 32 pages
  or 131,072 bytes (include/uapi/linux/binfmts.h), and the pod fails.
- Each artifact of a `dsl.Collected` input is one RuntimeArtifact there (driver/resolve.go
  `CollectInputs`, 2.17.0:869-996; metadata/converter.go `toRuntimeArtifact`, :181-220): its MLMD
  id as its name, its URI under the pipeline root, its metadata. So the step that collects a loop's
  outputs grows with every iteration.
"""

import json
import uuid

from .spec import find_task

MAX_ARG_STRLEN = 131072


def executor_input_bytes(
    documents: list[dict], task: str, collected: int, pipeline_root: str, metadata: dict
) -> int:
    """The size of `task`'s executor input when each of its collected inputs holds `collected`
    artifacts (with `metadata`) under `pipeline_root`: its constants as compiled, one artifact for
    each other input, its outputs' URIs."""
    spec = documents[0]
    _, body = find_task(spec, task)
    run = f"{pipeline_root}/{spec['pipelineInfo']['name']}/{uuid.uuid4()}"

    def artifact(producer: str, key: str, index: int) -> dict:
        uri = f"{run}/{producer}/{uuid.uuid4()}/{key}"
        kind = {"schemaTitle": "system.Model", "schemaVersion": "0.0.1"}
        return {"name": str(10**6 + index), "uri": uri, "type": kind, "metadata": metadata}

    inputs: dict = {"parameterValues": {}, "artifacts": {}}
    for name, binding in body.get("inputs", {}).get("parameters", {}).items():
        inputs["parameterValues"][name] = binding.get("runtimeValue", {}).get("constant", "")
    for name, binding in body.get("inputs", {}).get("artifacts", {}).items():
        output = binding["taskOutputArtifact"]
        producer, key = output["producerTask"], output["outputArtifactKey"]
        count = collected if producer.startswith("for-loop") else 1
        inputs["artifacts"][name] = {
            "artifacts": [artifact(producer, key, i) for i in range(count)]
        }
    component = spec["components"][body["componentRef"]["name"]]
    declared = component.get("outputDefinitions", {})
    outputs = {
        "artifacts": {
            name: {"artifacts": [artifact(task, name, 0)]} for name in declared.get("artifacts", {})
        },
        "parameters": {
            name: {"outputFile": f"/tmp/kfp/outputs/{name}"}
            for name in declared.get("parameters", {})
        },
        "outputFile": f"/tmp/kfp_outputs/{uuid.uuid4()}/output_metadata.json",
    }
    return len(json.dumps({"inputs": inputs, "outputs": outputs}, separators=(",", ":")))
