"""What each parameter holds when the driver hands it to the next task, and what the task accepts.

- The API server takes a run's arguments only when each is of its declared type, a STRING a string
  (apiserver/template/v2_template.go `validatePipelineJobInputs`, 2.2.0:350, 2.17.0:442-510).
- A task's output parameter is parsed from its file as its declared type
  (component/launcher_v2.go `metadata.TextToPbValue`, 2.2.0:362, 2.17.0:508).
- Every driver (a container's, a condition's or loop's DAG, each loop iteration) checks each input
  against its component's declared type (driver/resolve.go `handleParamTypeValidationAndConversion`,
  2.17.0:202-253; driver.go 2.2.0:988-1030 before the split): a STRING takes any value, turned into
  JSON text; every other type takes only its own kind ("input parameter %q type mismatch: expect
  STRUCT, got string", 2.17.0:220). So what a DAG passes on is of the kind it declares.
- A loop iteration's item is the items list's element as is (resolve.go 2.17.0:290-298), then
  checked and converted against the loop DAG's declared item type as above: an item declared
  STRING reaches the tasks as text, whatever the list held.
- A condition (`triggerPolicy.condition`) is a CEL expression over the typed inputs
  (expression/expression.go `Condition`, 2.17.0:134; called by driver/container.go:90 and
  dag.go:86): `'true' == true` is false, so an operand of another kind than its literal silently
  decides the branch.
"""

import re

from .spec import component_of, dags

_KIND_OF_TYPE = {
    "STRING": "string",
    "NUMBER_INTEGER": "number",
    "NUMBER_DOUBLE": "number",
    "BOOLEAN": "bool",
    "LIST": "list",
    "STRUCT": "struct",
    "TASK_FINAL_STATUS": "struct",
}
_OPERAND = re.compile(
    r"inputs\.parameter_values\['([^']+)'\]\s*(?:==|!=)\s*('(?:[^']*)'|true|false|-?[0-9.]+)"
)


def kind(value: object) -> str:
    """The protobuf Value kind a JSON value is."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "struct"
    return "null"


def accepts(parameter_type: str, value_kind: str) -> bool:
    """Whether an input declared `parameter_type` takes a value of `value_kind`."""
    return parameter_type == "STRING" or _KIND_OF_TYPE[parameter_type] == value_kind


def _declared(spec: dict, component: str, name: str, outputs: bool = False) -> str:
    definitions = component_of(spec, component)[
        "outputDefinitions" if outputs else "inputDefinitions"
    ]
    return definitions["parameters"][name]["parameterType"]


def delivered(spec: dict, dag: str, binding: dict) -> str:
    """The kind of value a task input bound by `binding` in DAG `dag` holds."""
    if "runtimeValue" in binding:
        return kind(binding["runtimeValue"]["constant"])
    if "componentInputParameter" in binding:
        # the DAG's own driver made it its declared kind (a STRING: text)
        return _KIND_OF_TYPE[_declared(spec, dag, binding["componentInputParameter"])]
    if "taskOutputParameter" in binding:
        producer = binding["taskOutputParameter"]
        task = component_of(spec, dag)["dag"]["tasks"][producer["producerTask"]]
        declared = _declared(
            spec, task["componentRef"]["name"], producer["outputParameterKey"], outputs=True
        )
        return _KIND_OF_TYPE[declared]
    if "taskFinalStatus" in binding:
        return "struct"
    raise ValueError(f"an input binding the model does not know: {sorted(binding)}")


def type_mismatches(documents: list[dict], item_kinds: dict[str, str] | None = None) -> list[str]:
    """Every task input the driver refuses, in its words; `item_kinds` names the kind of the
    elements each loop's items list holds at run time (by the loop's item input)."""
    spec, problems = documents[0], []
    for dag, component in dags(spec).items():
        for name, task in component["dag"]["tasks"].items():
            callee = task["componentRef"]["name"]
            declared = component_of(spec, callee).get("inputDefinitions", {}).get("parameters", {})
            for parameter, binding in task.get("inputs", {}).get("parameters", {}).items():
                if parameter not in declared:
                    continue  # the task's own (a resource placeholder's): checked by no driver
                expected = declared[parameter]["parameterType"]
                got = delivered(spec, dag, binding)
                if not accepts(expected, got):
                    problems.append(
                        f"{dag}/{name}: input parameter {parameter!r} type mismatch: expect "
                        f"{expected}, got {got}"
                    )
            iterator = task.get("parameterIterator")
            if iterator:
                items = iterator["items"].get("inputParameter")
                if items and _declared(spec, callee, items) != "LIST":
                    problems.append(f"{dag}/{name}: the loop's items {items!r} are not a LIST")
                item = iterator["itemInput"]
                expected = _declared(spec, callee, item)
                got = (item_kinds or {}).get(item)
                if got and not accepts(expected, got):
                    problems.append(
                        f"{callee}: input parameter {item!r} type mismatch: expect {expected}, "
                        f"got {got}"
                    )
            condition = task.get("triggerPolicy", {}).get("condition", "")
            for operand, literal in _OPERAND.findall(condition):
                want = "string" if literal.startswith("'") else kind(_literal(literal))
                got = _KIND_OF_TYPE[_declared(spec, callee, operand)]
                if want != got:
                    problems.append(
                        f"{dag}/{name}: condition compares {operand!r} ({got}) with {literal} "
                        f"({want}): never equal"
                    )
    return problems


def _literal(text: str) -> object:
    if text in ("true", "false"):
        return text == "true"
    return text if text.startswith("'") else float(text)


def run_argument_problems(documents: list[dict], arguments: dict) -> list[str]:
    """The arguments of a run the API server refuses (each must be of its parameter's type)."""
    declared = documents[0]["root"]["inputDefinitions"]["parameters"]
    problems = [f"{n}: no such pipeline parameter" for n in arguments if n not in declared]
    for name, value in arguments.items():
        if name in declared and _KIND_OF_TYPE[declared[name]["parameterType"]] != kind(value):
            problems.append(
                f"input parameter {name} requires type {declared[name]['parameterType']}"
            )
    for name, parameter in declared.items():
        if "defaultValue" in parameter:
            if _KIND_OF_TYPE[parameter["parameterType"]] != kind(parameter["defaultValue"]):
                problems.append(f"{name}: its default is not a {parameter['parameterType']}")
        elif name not in arguments and not parameter.get("isOptional"):
            problems.append(f"parameter {name} is not optional, yet has neither default value")
    return problems
