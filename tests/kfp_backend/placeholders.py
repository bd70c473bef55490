"""The `{{$.…}}` placeholders in a task's constant inputs, which the driver replaces before the
pod starts (and which reach the container as written where it does not).

- `{{$.pipeline_job_uuid}}` and `{{$.pipeline_job_name}}` from 2.5.0 (driver/driver.go
  2.5.0:1644-1648; driver/resolve.go 2.17.0:436-440); 2.2.0-2.4.1 know neither.
- `{{$.workspace_path}}` from 2.15.0 (driver/resolve.go 2.17.0:430-431, /kfp-workspace).
"""

import re

from .spec import at_least, dags

RESOLVED_FROM = {
    "{{$.pipeline_job_uuid}}": "2.5.0",
    "{{$.pipeline_job_name}}": "2.5.0",
    "{{$.workspace_path}}": "2.15.0",
}
_ANY = re.compile(r"\{\{\$\.[a-z_]+\}\}")


def unresolved(documents: list[dict], backend: str) -> dict[str, str]:
    """{"dag/task/input": placeholder} for each constant input holding a placeholder that
    `backend` passes on as written (one the model does not know counts as such)."""
    found = {}
    for dag, component in dags(documents[0]).items():
        for name, task in component["dag"]["tasks"].items():
            for parameter, binding in task.get("inputs", {}).get("parameters", {}).items():
                constant = binding.get("runtimeValue", {}).get("constant")
                for placeholder in _ANY.findall(constant if isinstance(constant, str) else ""):
                    since = RESOLVED_FROM.get(placeholder)
                    if since is None or not at_least(backend, since):
                        found[f"{dag}/{name}/{parameter}"] = placeholder
    return found
