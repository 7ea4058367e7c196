"""Where the data lives: paths resolved from option > environment > hgkm.toml > defaults.

This module sits at the bottom of the import graph with hgkm.config, its only project import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hgkm.config import CONFIG_FILE, ENV_CONFIG, ENV_VARS, Config, load_config

ENV_DATA_DIR = ENV_VARS["data_dir"]
DEFAULT_DATA_DIR = Config.data_dir
__all__ = [
    "CONFIG_FILE",
    "ENV_CONFIG",
    "ENV_DATA_DIR",
    "DEFAULT_DATA_DIR",
    "Paths",
    "resolve_paths",
]


@dataclass(frozen=True)
class Paths:
    """Every file the project reads or writes below the data folder."""

    data_dir: Path

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def mart(self) -> Path:
        return self.data_dir / "mart.duckdb"

    @property
    def packages(self) -> Path:
        """A hub's imported aggregate packages (`hgkm share import`): sensitive."""
        return self.data_dir / "packages"

    @property
    def benchmark(self) -> Path:
        """The imported national benchmark (`hgkm benchmarks import`): published figures."""
        return self.data_dir / "benchmark.parquet"

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def lock(self) -> Path:
        return self.data_dir / "hgkm.lock"

    @property
    def audit_log(self) -> Path:
        return self.logs / "audit.jsonl"

    @property
    def releases(self) -> Path:
        """Every published mart, the staged one and the rejected ones (hgkm.release)."""
        return self.data_dir / "releases"


def resolve_paths(data_dir: str | Path | None = None) -> Paths:
    """The data folder: the option if given, else $HGKM_DATA_DIR, else hgkm.toml's, else ./data."""
    if data_dir is None:
        return Paths(load_config(only=frozenset({"data_dir"})).data_dir)
    return Paths(Path(data_dir))
