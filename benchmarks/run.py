"""`make bench`: generate the country at several volumes, measure every step, write the results.

    python -m benchmarks.run [--quick] [--scales 0.125,0.25,0.5,1] [--repeats N]

Per scale: generate (cached under benchmarks/work/), ingest from scratch and compute, each
`--repeats` times in fresh processes. At the largest scale also: the bare DuckDB floor (two
variants), pandas + pandera, one municipality's new delivery into the full warehouse, and the
dashboard's queries cold and warm. Results go to benchmarks/results.{md,json} (or `--out`).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks import measure, report

HERE = Path(__file__).resolve().parent
TABLES = ("cases", "reports", "children", "help", "followups")
YEARS = "2019-2025"  # seven cohort years
EXTRACT = "2026-01-15"
LATER_EXTRACT = "2026-04-15"  # the one municipality's next delivery
SEED = 1
ALTERNATING = "ingest / floor, run alternately (median of the pairs)"
HUB_ALTERNATING = "hub compute from packages / compute from deliveries, run alternately"
NATIONAL_MUNICIPALITY = "GM0363"  # Amsterdam, the largest: the worst everyday case
# Three municipalities of IJsselland for the end-to-end test; Zwolle gets the new delivery.
QUICK_MUNICIPALITIES = "GM0148,GM0150,GM0193"
QUICK_MUNICIPALITY = "GM0193"


@dataclass(frozen=True)
class Plan:
    scales: tuple[float, ...]
    repeats: int
    interactions: int
    selection: tuple[str, ...]  # the generator's municipality selection options
    one_municipality: str
    quick: bool
    work: Path
    out: Path
    cap_seconds: float
    max_rss_mb: float


def parse_args(argv: list[str] | None) -> tuple[Plan, str]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a tiny run ({QUICK_MUNICIPALITIES}, scales 0.05,0.1, one repeat) to prove the "
        "harness works end to end; its figures mean nothing",
    )
    parser.add_argument("--scales", help="volume multipliers of the country (default 0.125,..,1)")
    parser.add_argument("--repeats", type=int, help="runs per step (default 3; quick 1)")
    parser.add_argument(
        "--interactions",
        type=int,
        help="dashboard interactions, each of cold and warm (default 70; quick 14)",
    )
    parser.add_argument(
        "--cap",
        type=float,
        default=120,
        help="stop repeating a step once its runs took this many seconds (after two; default 120)",
    )
    parser.add_argument(
        "--max-rss-gb",
        type=float,
        default=8,
        help="kill a step whose memory passes this (a shared machine; default 8)",
    )
    parser.add_argument("--work", type=Path, default=HERE / "work", help="scratch folder")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.md/json go")
    args = parser.parse_args(argv)
    default_scales = "0.05,0.1" if args.quick else "0.125,0.25,0.5,1"
    scales = tuple(sorted(float(s) for s in (args.scales or default_scales).split(",")))
    if not scales or min(scales) <= 0:
        parser.error("--scales: positive numbers, e.g. 0.125,0.25,0.5,1")
    repeats = args.repeats or (1 if args.quick else 3)
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    plan = Plan(
        scales=scales,
        repeats=repeats,
        interactions=args.interactions or (14 if args.quick else 70),
        selection=("--municipalities", QUICK_MUNICIPALITIES) if args.quick else ("--all",),
        one_municipality=QUICK_MUNICIPALITY if args.quick else NATIONAL_MUNICIPALITY,
        quick=args.quick,
        work=args.work.resolve(),
        out=args.out.resolve(),
        cap_seconds=args.cap,
        max_rss_mb=args.max_rss_gb * 1024,
    )
    return plan, " ".join(argv if argv is not None else sys.argv[1:])


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def generate(plan: Plan, name: str, scale: float, options: tuple[str, ...]) -> dict[str, Any]:
    """Generate a sample with `hgkm sample` once; later runs reuse it (its options name it)."""
    folder = plan.work / name
    marker = folder / "generated.json"
    if marker.is_file():
        return json.loads(marker.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    command = [
        str(Path(sys.executable).parent / "hgkm"),
        "sample",
        "--out",
        str(folder),
        "--scale",
        str(scale),
        "--seed",
        str(SEED),
        "--shape",
        "folder",
        *options,
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    deliveries = folder / "deliveries"
    rows = {
        t: pl.scan_csv(str(deliveries / "*" / f"{t}.csv"), infer_schema=False)
        .select(pl.len())
        .collect()
        .item()
        for t in TABLES
    }
    size = sum(p.stat().st_size for p in deliveries.rglob("*") if p.is_file())
    facts = {
        "folder": str(deliveries),
        "municipalities": sum(1 for p in deliveries.iterdir() if p.is_dir()),
        "years": YEARS,
        "scale": scale,
        "rows": rows,
        "rows_total": sum(rows.values()),
        "megabytes": size / 1024**2,
        "generate_seconds": seconds,
    }
    marker.write_text(json.dumps(facts, indent=2))
    return facts


def _fresh(folder: Path) -> Any:
    def prepare() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    return prepare


def _copy_warehouse(source: Path, target: Path) -> Any:
    def prepare() -> None:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copy2(source / "warehouse.duckdb", target / "warehouse.duckdb")

    return prepare


class Session:
    """Measures steps, keeping going when one fails (the failure becomes a note)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.notes: list[str] = []

    def step(
        self, label: str, step: str, args: dict[str, Any], prepare: Any = None, repeats: int = 0
    ) -> dict[str, Any] | None:
        say(f"{label} …")
        try:
            summary = measure.measure(
                step,
                args,
                repeats or self.plan.repeats,
                prepare,
                cap_seconds=self.plan.cap_seconds,
                max_rss_mb=self.plan.max_rss_mb,
            )
        except (measure.StepFailed, subprocess.TimeoutExpired) as exc:
            lines = str(exc).strip().splitlines()
            errors = [line for line in lines if re.match(r"^\w+(Error|Exception|Failed)\b", line)]
            why = (errors or lines or [repr(exc)])[-1].strip()
            self.notes.append(f"{label}: not measured — {why}")
            say(f"{label} FAILED: {exc}")
            return None
        say(
            f"{label}: median {summary.seconds_median:.2f} s "
            f"({summary.seconds_min:.2f}–{summary.seconds_max:.2f}), "
            f"peak RSS {summary.peak_rss_mb_median:.0f} MB"
        )
        return summary.as_dict()


def _sample_options(plan: Plan, extract: str) -> tuple[str, ...]:
    return (*plan.selection, "--years", YEARS, "--extract-date", extract)


def _same_work(rows: dict[str, int], steps: dict[str, dict[str, Any] | None]) -> str:
    """Whether every loader ended with the generated row counts."""
    verdicts = []
    for name, step in steps.items():
        if step is None:
            continue
        loaded = step["runs"][-1]["extra"].get("rows")
        verdicts.append(f"{name} {'=' if loaded == rows else '≠'} generated")
    return ", ".join(verdicts)


def national_steps(
    session: Session, sample: dict[str, Any], data_dir: Path, ingest: dict | None
) -> dict[str, Any]:
    """The floors and one new delivery on the largest scale's data."""
    plan, work = session.plan, session.plan.work
    folder = sample["folder"]
    steps: dict[str, Any] = {"ingest": ingest}
    steps["floor"] = session.step(
        "floor (one read_csv per table)",
        "floor",
        {"database": str(work / "floor.duckdb"), "folder": folder},
    )
    steps["floor_per_delivery"] = session.step(
        "floor (per delivery)",
        "floor_per_delivery",
        {"database": str(work / "floor.duckdb"), "folder": folder},
    )
    alternate_dir = work / "data-alternating"
    steps["alternating"] = alternating(
        session,
        # Its own data folder: the scale's one still holds the mart the dashboard is measured on.
        (
            "ingest_folder",
            {"data_dir": str(alternate_dir), "folder": folder},
            _fresh(alternate_dir),
        ),
        ("floor", {"database": str(work / "floor.duckdb"), "folder": folder}, None),
    )
    shutil.rmtree(alternate_dir, ignore_errors=True)
    steps["intake_checks"] = session.step(
        "intake checks: ingest without and with them, alternately in one process",
        "intake_checks",
        {"work": str(work / "data-checks"), "folder": folder, "pairs": plan.repeats},
        repeats=1,
    )
    one = generate(
        plan,
        f"one-{plan.one_municipality}-s{sample['scale']}",
        sample["scale"],
        ("--municipalities", plan.one_municipality, "--years", YEARS)
        + ("--extract-date", LATER_EXTRACT),
    )
    one_dir = work / "data-one"
    if ingest is not None and (data_dir / "warehouse.duckdb").is_file():
        steps["ingest_one"] = session.step(
            f"one new delivery ({plan.one_municipality}) into the full warehouse",
            "ingest_folder",
            {"data_dir": str(one_dir), "folder": one["folder"]},
            prepare=_copy_warehouse(data_dir, one_dir),
        )
    else:
        steps["ingest_one"] = None
    return {
        "steps": steps,
        "one_municipality": plan.one_municipality,
        "one_rows": one["rows_total"],
    }


def alternating(
    session: Session,
    top: tuple[str, dict[str, Any], Any],
    bottom: tuple[str, dict[str, Any], Any],
    label: str = ALTERNATING,
) -> dict[str, Any] | None:
    """`bottom` and `top` run one after the other, `repeats` times: each pair's time ratio.

    The machine's speed drifts (it is a shared host: the same floor took 2.97 s and 3.73 s in
    two runs of the day), and the steps' own runs come in blocks minutes apart. A pair runs
    within seconds, so its ratio sees one speed; the median of the pairs is the sturdier
    reading of a ratio budget.
    """
    say(f"{label} …")
    pairs = []
    try:
        for _ in range(session.plan.repeats):
            times = []
            for step, args, prepare in (bottom, top):
                if prepare is not None:
                    prepare()
                times.append(
                    measure.run_once(step, args, max_rss_mb=session.plan.max_rss_mb).seconds
                )
            pairs.append({"bottom_seconds": times[0], "top_seconds": times[1]})
    except (measure.StepFailed, subprocess.TimeoutExpired) as exc:
        session.notes.append(f"{label}: not measured — {exc}")
        return None
    ratio = statistics.median(p["top_seconds"] / p["bottom_seconds"] for p in pairs)
    say(f"{label}: {ratio:.2f} over {len(pairs)} pairs")
    return {"pairs": pairs, "ratio_median": ratio}


def federation_steps(session: Session, sample: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """Aggregate packages and a hub on the largest scale's data (docs/federation.md): each
    Veilig Thuis region's deliveries in a warehouse of its own (not measured), its package
    exported (time and size), a hub importing all of them, and the hub's compute against the
    compute from all deliveries in one warehouse (`data_dir`), also run alternately."""
    from hgkm import reference

    root = session.plan.work / "federation"
    shutil.rmtree(root, ignore_errors=True)
    by_region = dict(
        reference.municipalities()
        .select("municipality_code", "veilig_thuis_region_code")
        .iter_rows()
    )
    groups: dict[str, list[Path]] = {}
    for delivery in sorted(Path(sample["folder"]).iterdir()):
        groups.setdefault(by_region[delivery.name[:6]], []).append(delivery)
    hgkm = str(Path(sys.executable).parent / "hgkm")
    packages = root / "packages"
    packages.mkdir(parents=True)
    regions = []
    for region, deliveries in sorted(groups.items()):
        warehouse = root / f"region-{region}"
        subprocess.run(
            [hgkm, "--data-dir", str(warehouse), "ingest", *map(str, deliveries)],
            check=True,
            capture_output=True,
        )
        export = session.step(
            f"{region}: share export ({len(deliveries)} municipalities)",
            "share_export",
            {"data_dir": str(warehouse), "out": str(packages / f"{region}.parquet")},
        )
        regions.append({"region": region, "municipalities": len(deliveries), "export": export})
    hub = root / "hub"
    files = [str(p) for p in sorted(packages.glob("*.parquet"))]
    found: dict[str, Any] = {"regions": regions}
    found["import"] = session.step(
        f"hub: share import of {len(files)} packages",
        "share_import",
        {"data_dir": str(hub), "files": files},
        prepare=_fresh(hub),
        repeats=1,
    )
    if found["import"] is not None:
        found["import"]["runs"][0]["extra"]["files"] = len(files)
        found["compute"] = session.step(
            f"hub: compute from {len(files)} packages", "compute", {"data_dir": str(hub)}
        )
        found["alternating"] = alternating(
            session,
            ("compute", {"data_dir": str(hub)}, None),
            ("compute", {"data_dir": str(data_dir)}, None),
            HUB_ALTERNATING,
        )
    shutil.rmtree(root, ignore_errors=True)
    return found


def ratios(steps: dict[str, Any]) -> dict[str, float]:
    median = {
        k: (s["seconds_median"] if s else None) for k, s in steps.items() if k != "alternating"
    }
    found = {}
    pairs = (
        ("ingest / floor (one read_csv per table)", "ingest", "floor"),
        ("ingest / floor per delivery", "ingest", "floor_per_delivery"),
        ("pandas+pandera / ingest", "pandas", "ingest"),
        ("pandas+pandera / floor", "pandas", "floor"),
    )
    for name, top, bottom in pairs:
        if median.get(top) and median.get(bottom):
            found[name] = median[top] / median[bottom]
    if steps.get("alternating"):
        found[ALTERNATING] = steps["alternating"]["ratio_median"]
    return found


def _checks_cost(step: dict[str, Any] | None) -> float | None:
    """The intake checks' cost in percent of the national ingest: the worse of wall and CPU
    time (pairs' medians), never below zero."""
    if step is None:
        return None
    extra = step["runs"][0]["extra"]
    return max(0.0, extra["cost_percent"], extra["cpu_cost_percent"])


def dashboard_steps(session: Session, mart: Path) -> dict[str, Any] | None:
    if not mart.is_file():
        return None
    found = {}
    for mode in ("cold", "warm"):
        step = session.step(
            f"dashboard queries, {mode}",
            "dashboard",
            {"mart": str(mart), "interactions": session.plan.interactions, "cold": mode == "cold"},
            repeats=1,
        )
        if step is None:
            return None
        found[mode] = report.latency_summary(step["runs"][0]["extra"]["latencies"])
    return found


def scaling_note(points: list[dict[str, Any]], fits: dict[str, Any]) -> str:
    if len(points) < 2:
        return "One scale only: no scaling to describe."
    first, last = points[0], points[-1]
    volume = last["rows_total"] / first["rows_total"]
    parts = [f"From scale {first['scale']} to {last['scale']} the rows grow {volume:.1f}×"]
    for name, key in (("ingest", "ingest"), ("compute", "compute")):
        a, b = first.get(key), last.get(key)
        if a and b:
            parts.append(
                f"{name} time {b['seconds_median'] / a['seconds_median']:.1f}× and its peak RSS "
                f"{b['peak_rss_mb_median'] / a['peak_rss_mb_median']:.1f}×"
            )
    exponents = [f"{name} {fit['exponent']:.2f}" for name, fit in fits.items() if fit is not None]
    verdict = (
        " An exponent near 1 is linear; below 1, a fixed cost (interpreter, per-delivery "
        "overhead) still weighs; above 1, something grows faster than the data."
    )
    return "; ".join(parts) + ". Exponents: " + ", ".join(exponents) + "." + verdict


def main(argv: list[str] | None = None) -> int:
    plan, arguments = parse_args(argv)
    plan.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": report.now(),
        "arguments": arguments,
        "quick": plan.quick,
        "repeats": plan.repeats,
        "machine": report.machine(),
        "versions": report.versions(),
    }
    started = time.perf_counter()
    session = Session(plan)
    points: list[dict[str, Any]] = []
    national: dict[str, Any] = {}
    marts: dict[float, Path] = {}
    # The country first: if the run is cut short, the headline figures are already written.
    for scale in sorted(plan.scales, reverse=True):
        say(f"scale {scale}: generating (or reusing) the sample")
        sample = generate(plan, f"sample-s{scale}", scale, _sample_options(plan, EXTRACT))
        say(f"scale {scale}: {sample['rows_total']:,} rows, {sample['municipalities']} deliveries")
        data_dir = plan.work / f"data-s{scale}"
        ingest = session.step(
            f"scale {scale}: ingest from scratch",
            "ingest_folder",
            {"data_dir": str(data_dir), "folder": sample["folder"]},
            prepare=_fresh(data_dir),
        )
        compute = None
        if ingest is not None:
            compute = session.step(
                f"scale {scale}: compute", "compute", {"data_dir": str(data_dir)}
            )
        points.append(
            {
                "scale": scale,
                "rows_total": sample["rows_total"],
                "ingest": ingest,
                "compute": compute,
            }
        )
        if scale == plan.scales[-1]:
            national = {"scale": scale, "rows_total": sample["rows_total"], "data": sample}
            national |= national_steps(session, sample, data_dir, ingest)
            national["steps"]["compute"] = compute
            if compute is not None:
                national["federation"] = federation_steps(session, sample, data_dir)
        if (data_dir / "mart.duckdb").is_file():
            marts[scale] = plan.work / f"mart-s{scale}.duckdb"
            shutil.copy2(data_dir / "mart.duckdb", marts[scale])
        shutil.rmtree(data_dir, ignore_errors=True)
        if plan.scales[-1] in marts and "dashboard" not in national:
            national["dashboard"] = dashboard_steps(session, marts[plan.scales[-1]])
        finish(results, points, national, session, started, plan)
    if marts and not national.get("dashboard"):
        largest = max(marts)
        session.notes.append(
            f"compute failed at scale {plan.scales[-1]}: the dashboard was measured on the "
            f"mart of scale {largest} (the same areas, periods and indicators; figures "
            "from fewer cases)"
        )
        national["dashboard"] = dashboard_steps(session, marts[largest])
        finish(results, points, national, session, started, plan)
    if national:
        # Last: the slowest step, and the one a cut-short run can best do without.
        national["steps"]["pandas"] = session.step(
            "pandas + pandera",
            "pandas_baseline",
            {"database": str(plan.work / "pandas.duckdb"), "folder": national["data"]["folder"]},
        )
    finish(results, points, national, session, started, plan)
    say(f"done in {results['total_seconds'] / 60:.1f} min: {plan.out}/results.md, results.json")
    return 0


def finish(
    results: dict[str, Any],
    points: list[dict[str, Any]],
    national: dict[str, Any],
    session: Session,
    started: float,
    plan: Plan,
) -> None:
    """Summarise what has been measured so far and write both result files."""
    measured = sorted((p for p in points if p["ingest"]), key=lambda p: p["scale"])
    fits = {}
    for name, key, field in (
        ("ingest time", "ingest", "seconds_median"),
        ("ingest peak RSS", "ingest", "peak_rss_mb_median"),
        ("compute time", "compute", "seconds_median"),
        ("compute peak RSS", "compute", "peak_rss_mb_median"),
    ):
        usable = [p for p in measured if p.get(key)]
        fits[name] = report.scaling_fit(
            [p["scale"] for p in usable], [p[key][field] for p in usable]
        )
    steps = national.get("steps", {})
    dash = national.get("dashboard")
    if steps:
        national["ratios"] = ratios(steps)
        national["same_work"] = _same_work(
            national["data"]["rows"],
            {k: steps.get(k) for k in ("ingest", "floor", "floor_per_delivery", "pandas")},
        )

    def median(key: str, field: str = "seconds_median") -> float | None:
        step = steps.get(key)
        return step[field] if step else None

    results |= {
        "national": national,
        "scaling": sorted(points, key=lambda p: p["scale"]),
        "scaling_fits": fits,
        "scaling_note": scaling_note(measured, fits),
        "budgets": report.budget_rows(
            {
                "ingest_one_seconds": median("ingest_one"),
                "ingest_all_seconds": median("ingest"),
                # The worse of the two readings: medians of blocks of runs, pairs run alternately.
                "ingest_floor_ratio": max(
                    (
                        national.get("ratios", {}).get(name)
                        for name in ("ingest / floor (one read_csv per table)", ALTERNATING)
                    ),
                    key=lambda value: value or 0.0,
                ),
                "compute_seconds": median("compute"),
                "dashboard_warm_p95_seconds": dash["warm"]["p95"] if dash else None,
                "ingest_peak_rss_mb": median("ingest", "peak_rss_mb_max"),
                "intake_checks_percent": _checks_cost(steps.get("intake_checks")),
            }
        ),
        "notes": session.notes,
        "total_seconds": time.perf_counter() - started,
        "load_average_end": report.machine()["load_average"],
        # Others commit while a long run goes on: the code it ended on, beside the one it began on.
        "code_at_end": report.versions()["hgkm-monitor"],
    }
    report.write(results, plan.out)


if __name__ == "__main__":
    sys.exit(main())
