"""Shared fixtures: a fresh data folder and the real `hgkm` entry point as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# The suite is deterministic (same examples every run, so CI never flakes on a new random
# draw); `HYPOTHESIS_PROFILE=explore pytest` searches new examples when developing.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"
HGKM = Path(sys.executable).parent / "hgkm"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def run_hgkm(
    *args: str | os.PathLike, data_dir: Path | None = None, timeout: float = 300, **kwargs
) -> subprocess.CompletedProcess[str]:
    """Run the installed `hgkm` console script as a user would, capturing its output."""
    env = {**os.environ, **kwargs.pop("env", {})}
    if data_dir is not None:
        env["HGKM_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(HGKM), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )


@pytest.fixture
def hgkm(data_dir: Path):
    """`hgkm("ingest", path)` runs the CLI against the test's own data folder."""

    def call(*args: str | os.PathLike, **kwargs) -> subprocess.CompletedProcess[str]:
        return run_hgkm(*args, data_dir=data_dir, **kwargs)

    return call


@pytest.fixture(scope="session")
def sample_pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The README's main job on the shipped sample (`make demo-data`), once per test session,
    through the real CLI.

    Returns the data folder and each step's completed process. Tests must not change this
    data folder (copy it first); several test files read its mart.
    """
    data = tmp_path_factory.mktemp("sample_pipeline") / "data"
    steps = {
        "ingest": run_hgkm("ingest", SAMPLE_DATA / "deliveries", data_dir=data),
        "approach": run_hgkm(
            "approach", "import", SAMPLE_DATA / "approach_profiles.csv", data_dir=data
        ),
        "benchmark": run_hgkm(
            "benchmarks", "import", SAMPLE_DATA / "benchmark_nl.parquet", data_dir=data
        ),
        "compute": run_hgkm("compute", data_dir=data),
    }
    for name, result in steps.items():
        assert result.returncode == 0, f"hgkm {name}: {result.stdout}\n{result.stderr}"
    return {"data": data, "mart": data / "mart.duckdb", "steps": steps}
