"""Regenerate the committed sample_data/: `python -m generator.committed sample_data`.

The Veilig Thuis region IJsselland (VT11), cohorts 2019-2025, extract 2026-10-01, with an
older delivery (2025-10-01) for two municipalities, approach profiles, the planted truth and
the flawed deliveries. A test regenerates it and compares every byte.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from generator.build import SampleOptions, build_sample
from generator.cli import region_members
from generator.flawed import write_flawed

SEED = 2026
OPTIONS = SampleOptions(
    municipalities=(),  # filled from the region below
    years=tuple(range(2019, 2026)),
    extract=date(2026, 10, 1),
    seed=SEED,
    shape="mixed",
    scale=1.0,
    profiles=True,
    older=("GM0148", "GM0193"),
    older_extract=date(2025, 10, 1),
    workers=1,
)
REGION = "VT11"
# What this module writes; only these are removed before writing again.
GENERATED = (
    "deliveries",
    "flawed",
    "planted_rates.csv",
    "planted_effects.csv",
    "approach_profiles.csv",
)


def options() -> SampleOptions:
    return replace(OPTIONS, municipalities=region_members(REGION))


def regenerate(out: Path) -> None:
    for name in GENERATED:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    build_sample(out, options(), progress=False)
    write_flawed(out / "flawed", SEED)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "sample_data")
    regenerate(target)
    print(f"regenerated {target}")
