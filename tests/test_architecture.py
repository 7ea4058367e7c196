"""The flow goes one way (pipelines -> metrics -> dashboard); the dashboard reads only the mart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# layer -> top-level packages it must never import
FORBIDDEN = {
    "pipelines": {"metrics", "dashboard", "generator"},
    "metrics": {"dashboard", "generator"},
    "dashboard": {"pipelines", "generator", "metrics"},
    "generator": {"metrics", "dashboard"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_flow_one_way(layer: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[layer])
        for path in (ROOT / layer).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_dashboard_never_opens_the_warehouse() -> None:
    for path in (ROOT / "dashboard").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "warehouse.duckdb" not in text and ".warehouse" not in text, path


def test_no_grab_bag_modules() -> None:
    assert not [
        p
        for p in ROOT.rglob("*.py")
        if p.name in {"utils.py", "helpers.py"} and ".venv" not in p.parts
    ]


def test_the_detector_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import metrics.stats\nfrom dashboard import charts\n")
    assert imported_packages(module) >= {"metrics", "dashboard"}
