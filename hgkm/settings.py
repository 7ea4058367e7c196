"""Where the data lives: paths resolved from option > environment > hgkm.toml > defaults.

This module sits at the bottom of the import graph and imports nothing of the project.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

ENV_DATA_DIR = "HGKM_DATA_DIR"
ENV_CONFIG = "HGKM_CONFIG"
DEFAULT_DATA_DIR = Path("data")
CONFIG_FILE = Path("hgkm.toml")


def _config_file() -> dict:
    path = Path(os.environ.get(ENV_CONFIG, CONFIG_FILE))
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


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
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def lock(self) -> Path:
        return self.data_dir / "hgkm.lock"


def resolve_paths(data_dir: str | Path | None = None) -> Paths:
    """The data folder: the option if given, else $HGKM_DATA_DIR, else hgkm.toml's, else ./data."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_DATA_DIR) or _config_file().get("data_dir")
    return Paths(Path(data_dir) if data_dir else DEFAULT_DATA_DIR)
