"""No import cycles: between the step packages (data, train, inference, evaluate, export, deploy,
serve, cli, components, pipeline) nor between modules. Every import counts, function-local ones
included: a cycle that only closes at run time still ties two packages together."""

import ast
from pathlib import Path

from .real_data import REPO

# Where each top-level folder is installed (pyproject.toml's package-dir).
ROOTS = {
    "alexnet_kfp": "alexnet_kfp",
    "components": "alexnet_kfp.components",
    "pipeline": "alexnet_kfp.pipeline",
}


def _modules() -> dict[str, Path]:
    modules = {}
    for folder, package in ROOTS.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project's modules that `path` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, set(modules)) - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph`, as the list of its nodes, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _package(module: str) -> str:
    """alexnet_kfp.<step> for a step package's modules; the module itself for a top-level one."""
    return ".".join(module.split(".")[:2])


def test_the_walk_sees_the_known_imports():
    graph = _graph()
    assert "alexnet_kfp.inference.onnx_classifier" in graph["alexnet_kfp.export.model_repository"]
    assert "alexnet_kfp.components.train" in graph["alexnet_kfp.pipeline.pipeline"]
    assert (
        "alexnet_kfp.data.fetch" in graph["alexnet_kfp.data.prepare"]
    )  # from package import module


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]


def test_no_module_imports_itself_through_others():
    assert _cycle(_graph()) is None


def test_no_step_package_imports_itself_through_others():
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        packages.setdefault(_package(module), set()).update(
            _package(target) for target in targets if _package(target) != _package(module)
        )
    assert _cycle(packages) is None


def test_serve_holds_the_server_only():
    # export-time packaging (model repository, manifests) lives in export/ and deploy/
    served = {path.stem for path in (REPO / "alexnet_kfp" / "serve").glob("*.py")}
    assert served == {"__init__", "server", "kserve_model", "limits"}
