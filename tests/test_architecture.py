"""The imports go one way: a floor every layer stands on, the layers (pipelines -> metrics, and
the dashboard beside them reading only the mart), and a roof that nothing imports."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FLOOR = "hgkm"  # settings, config, reference data, errors, limits, logs, lock, releases, intake
ROOF = "commands"  # the `hgkm` router, the scheduled run, status
# package -> the packages of ours it may import (itself always). Metrics imports pipelines
# because it reads the warehouse pipelines owns (`pipelines.warehouse`) and the contract's
# declarations (`pipelines.contract`: the approach's elements, the tables' columns).
# The generator writes deliveries in the contract's shape (`pipelines.contract`).
MAY_IMPORT: dict[str, set[str]] = {
    FLOOR: set(),
    "pipelines": {FLOOR},
    "metrics": {FLOOR, "pipelines"},
    "dashboard": {FLOOR},
    "generator": {FLOOR, "pipelines"},
    ROOF: {FLOOR, "pipelines", "metrics", "dashboard", "generator"},
}
# Tools of the repository, not installed: they may import anything, the roof included.
TOOLS = {"tests", "benchmarks"}
OURS = set(MAY_IMPORT) | TOOLS


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_package_is_held_to_the_rule() -> None:
    """Each installed package has its line in MAY_IMPORT, and each top-level package is one."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    installed = {
        name.rstrip("*") for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - TOOLS
    assert installed == set(MAY_IMPORT) == on_disk


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_imports_go_one_way(package: str) -> None:
    allowed = MAY_IMPORT[package] | {package}
    offenders = {
        str(path.relative_to(ROOT)): sorted((imported_packages(path) & OURS) - allowed)
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_nothing_imports_the_roof() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for package in set(MAY_IMPORT) - {ROOF}
        for path in (ROOT / package).rglob("*.py")
        if ROOF in imported_packages(path)
    ]
    assert importers == []


def test_only_the_router_imports_by_name() -> None:
    """A module named in a string (importlib) would pass the import rule unseen: only the roof's
    router does it, for the commands it registers, each of the roof or a layer's `cli`."""
    from commands.cli import COMMAND_MODULES

    users = [
        str(path.relative_to(ROOT))
        for package in MAY_IMPORT
        for path in (ROOT / package).rglob("*.py")
        if "import_module" in path.read_text(encoding="utf-8")
        or "__import__" in path.read_text(encoding="utf-8")
    ]
    assert users == ["commands/cli.py"]
    for name in COMMAND_MODULES:
        package = name.split(".")[0]
        assert package == ROOF or package in MAY_IMPORT[ROOF], name


def test_dashboard_never_opens_the_warehouse() -> None:
    for path in (ROOT / "dashboard").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "warehouse.duckdb" not in text and ".warehouse" not in text, path


# SQL that reads or writes the `deliveries` table (of the warehouse, or attached as `wh`).
DELIVERIES_SQL = re.compile(r"\b(from|join|into|update|table)\s+(\w+\.)?deliveries\b", re.I)


def test_the_bookkeeping_is_queried_in_one_module() -> None:
    """Every query over the warehouse's `deliveries` sits in `pipelines/bookkeeping.py`."""
    elsewhere = [
        str(path.relative_to(ROOT))
        for package in MAY_IMPORT
        for path in (ROOT / package).rglob("*.py")
        if DELIVERIES_SQL.search(path.read_text(encoding="utf-8"))
    ]
    assert elsewhere == ["pipelines/bookkeeping.py"]
    assert DELIVERIES_SQL.search("select * from wh.deliveries where status = 'accepted'")


def test_no_grab_bag_modules() -> None:
    assert not [
        p
        for p in ROOT.rglob("*.py")
        if p.name in {"utils.py", "helpers.py"} and ".venv" not in p.parts
    ]


def test_the_detector_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import metrics.stats\nfrom dashboard import charts\n"
        "def late():\n    from commands.run import Job\n"  # inside a function counts too
    )
    assert imported_packages(module) >= {"metrics", "dashboard", "commands"}
