"""Regenerate the committed sample_data/: `python -m generator.committed sample_data`.

The Veilig Thuis region IJsselland (VT11), cohorts 2019-2025, extract 2026-10-01, with an
older delivery (2025-10-01) for two municipalities, approach profiles, the planted truth and
the flawed deliveries. A test regenerates it and compares every byte.

Then the sample's national benchmark (`NATIONAL_BENCHMARK`): the other 331 municipalities
generated at national scale, every Veilig Thuis region's deliveries loaded into a warehouse of
its own, its aggregate package exported, a hub importing all 25 and publishing, and the hub's
benchmark export: the way a real one is made (docs/federation.md), through the `hgkm` commands.
IJsselland's package holds the sample's own deliveries but the two newest, as if it reached
the hub before them. Regenerating it takes minutes: a test checks its recipe instead
(`NATIONAL_RECIPE`, beside it).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

from generator.build import SampleOptions, build_sample
from generator.cli import region_members
from generator.flawed import write_flawed
from hgkm import reference

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


NATIONAL_BENCHMARK = "benchmark_nl.parquet"
NATIONAL_RECIPE = "benchmark_nl.json"
NATIONAL_SEED = 2027
NATIONAL_SOURCE = "voorbeeldhub (synthetische landelijke cijfers)"
# IJsselland's newest deliveries of these two municipalities had not reached the hub.
LATE = ("GM0148_2026-10-01", "GM0193_2026-10-01")
ROOT = Path(__file__).resolve().parent.parent
# What the published figures are computed by: when any of it changes, so may the benchmark.
FIGURE_SOURCES = (
    "metrics/indicators.py",
    "metrics/disclosure.py",
    "metrics/audit.py",
    "metrics/stats.py",
    "metrics/survival.py",
    "metrics/counts.py",
    "metrics/catalogue.py",
    "metrics/benchmark.py",
    "metrics/sql/*.sql",
    "metrics/sql/*.toml",
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


def national_recipe(sample: Path) -> dict:
    """What the national benchmark is made of: the generator's settings, the fingerprint of the
    code that computes the figures, and the sample deliveries IJsselland's package holds."""
    extract = OPTIONS.extract.isoformat()
    years = f"{OPTIONS.years[0]}-{OPTIONS.years[-1]}"
    return {
        "seed": NATIONAL_SEED,
        "scale": OPTIONS.scale,
        "years": years,
        "extract_date": extract,
        "source": NATIONAL_SOURCE,
        "figure_sources_sha256": _digest(
            sorted(p for pattern in FIGURE_SOURCES for p in ROOT.glob(pattern))
        ),
        "region_deliveries": {
            d.name: _digest([d] if d.is_file() else sorted(d.rglob("*")))
            for d in _region_deliveries(sample)
        },
    }


def _digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        if path.is_file():
            sha.update(path.name.encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()


def _region_deliveries(sample: Path) -> list[Path]:
    return sorted(d for d in (sample / "deliveries").iterdir() if not d.name.startswith(LATE))


def national_benchmark(sample: Path) -> None:
    """Make the national benchmark through the hub path, as the module docstring says."""
    hgkm = Path(sys.executable).parent / "hgkm"
    own = set(region_members(REGION))
    others = [c for c in reference.municipality_codes() if c not in own]
    by_region = dict(
        reference.municipalities()
        .select("municipality_code", "veilig_thuis_region_code")
        .iter_rows()
    )

    def run(*args: object) -> None:
        subprocess.run([str(hgkm), *map(str, args)], check=True, capture_output=True)

    with tempfile.TemporaryDirectory(prefix="hgkm-national-") as scratch:
        work = Path(scratch)
        run(
            "sample", "--out", work / "national", "--municipalities", ",".join(sorted(others)),
            "--years", national_recipe(sample)["years"], "--extract-date",
            OPTIONS.extract.isoformat(), "--seed", NATIONAL_SEED, "--shape", "folder",
            "--scale", OPTIONS.scale, "--no-profiles",
        )  # fmt: skip
        inboxes: dict[str, list[Path]] = {}
        for delivery in sorted((work / "national" / "deliveries").iterdir()):
            inboxes.setdefault(by_region[delivery.name[:6]], []).append(delivery)
        inboxes[REGION] = _region_deliveries(sample)
        for region, deliveries in sorted(inboxes.items()):
            data = work / f"region-{region}"
            run("--data-dir", data, "ingest", *deliveries)
            run("--data-dir", data, "share", "export", "--out", work / f"{region}.parquet")
        hub = work / "hub"
        run("--data-dir", hub, "share", "import", *sorted(work.glob("VT*.parquet")))
        run("--data-dir", hub, "compute")
        out = sample / NATIONAL_BENCHMARK
        run("--data-dir", hub, "benchmarks", "export", "--out", out, "--source", NATIONAL_SOURCE)
    recipe = json.dumps(national_recipe(sample), indent=2, sort_keys=True) + "\n"
    (sample / NATIONAL_RECIPE).write_text(recipe, encoding="utf-8")


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "sample_data")
    regenerate(target)
    print(f"regenerated {target}; making its national benchmark (a few minutes) …")
    national_benchmark(target)
    print(f"wrote {target / NATIONAL_BENCHMARK} and {target / NATIONAL_RECIPE}")
