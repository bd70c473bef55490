"""Validate an InferenceService the way the Kubernetes API server would, offline: against the
openAPIV3Schema of KServe's own CRD (tests/data/kserve, from kserve/kserve), plus the check the API
server does silently: a field the schema does not know is pruned, so here it is an error (a typo
in a manifest would otherwise vanish without a word)."""

import jsonschema
import yaml

from .real_data import REPO

CRD = REPO / "tests" / "data" / "kserve" / "serving.kserve.io_inferenceservices.yaml"
RUNTIME = CRD.parent / "kserve-tritonserver.yaml"


def schema(version: str = "v1beta1") -> dict:
    crd = yaml.safe_load(CRD.read_text())
    return next(v for v in crd["spec"]["versions"] if v["name"] == version)["schema"][
        "openAPIV3Schema"
    ]


def unknown_fields(value, node: dict, path: str = "") -> list[str]:
    """Paths in `value` that `node` (a structural schema) would prune."""
    if node.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found = []
    if isinstance(value, dict) and node.get("type") == "object":
        properties = node.get("properties")
        extra = node.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                found += unknown_fields(item, properties[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                found += unknown_fields(item, extra, f"{path}.{key}")
            elif properties is not None or extra is False:
                found.append(f"{path}.{key}")
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(value):
            found += unknown_fields(item, node["items"], f"{path}[{i}]")
    return found


def validate(manifest: dict) -> None:
    """Raise jsonschema.ValidationError or AssertionError naming the first problem."""
    version = manifest["apiVersion"].split("/")[1]
    node = schema(version)
    jsonschema.Draft7Validator(node).validate(manifest)
    unknown = unknown_fields(manifest, node)
    assert not unknown, f"fields the API server would prune: {unknown}"


def runtime() -> dict:
    return yaml.safe_load(RUNTIME.read_text())
