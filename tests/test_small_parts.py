"""The package stays in small parts: no function longer than a screen (docs/design.md)."""

import ast

import pytest

from .real_data import REPO

pytestmark = pytest.mark.unit

MAX_FUNCTION_LINES = 80
PACKAGE = ("alexnet_kfp", "pipeline", "components")


def test_no_function_in_the_package_is_over_80_lines():
    long = []
    for folder in PACKAGE:
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {lines}")
    assert not long, long
