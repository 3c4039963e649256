"""The package is layered by its data flow: model < execute, compare < present; pure layers never load wasmtime."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from harness.model.paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "harness"
#: Which layers each layer may import from (besides itself).
ALLOWED = {
    "model": set(),
    "execute": {"model"},
    "compare": {"model"},
    "fuzz": {"model", "execute", "compare"},
    "present": {"model", "execute", "compare", "fuzz"},
}


def _harness_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("harness."))
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_downward(layer: str) -> None:
    upward = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for module in _harness_imports(path):
            target = module.split(".")[1]
            if target != layer and target not in ALLOWED[layer]:
                upward.append(f"{path.relative_to(PROJECT_ROOT)} imports {module}")
    assert upward == []


@pytest.mark.parametrize(
    "module",
    ["harness", "harness.compare.diff", "harness.compare.gate", "harness.compare.expect", "harness.model.scenario"],
)
def test_pure_module_does_not_load_wasmtime(module: str) -> None:
    probe = f"import sys, {module}; print('wasmtime' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert result.stdout.strip() == "False"


def test_public_names_resolve_lazily() -> None:
    import harness

    assert {name: getattr(harness, name).__name__ for name in ("Scenario", "run_scenario")} == {
        "Scenario": "Scenario",
        "run_scenario": "run_scenario",
    }
