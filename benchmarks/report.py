"""Turn measured figures into results.json and results.md: machine, versions, figures, budgets."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("duckdb", "polars", "pyarrow", "pandera", "pandas", "numpy", "streamlit")


@dataclass(frozen=True)
class Budget:
    """A performance budget of PRODUCT.md, with the threshold we read its words as."""

    key: str
    text: str  # PRODUCT.md's words
    threshold: float
    unit: str
    reading: str  # how we turned the words into a number


BUDGETS = (
    Budget(
        "ingest_one_seconds",
        "ingest and check of one municipality's delivery: a few seconds at most",
        5.0,
        "s",
        "≤ 5 s for the largest municipality (Amsterdam) into a full warehouse",
    ),
    Budget(
        "ingest_all_seconds",
        "the whole country's deliveries from scratch: well under a minute",
        30.0,
        "s",
        "≤ 30 s (half a minute)",
    ),
    Budget(
        "ingest_floor_ratio",
        "checking costs at most twice a bare DuckDB load of the same files",
        2.0,
        "×",
        "the worse of ingest median / floor median and the median of pairs run alternately"
        " ≤ 2 (floor: one read_csv per table over all files)",
    ),
    Budget(
        "compute_seconds",
        "`hgkm compute` for the whole country: a few seconds",
        5.0,
        "s",
        "≤ 5 s",
    ),
    Budget(
        "dashboard_warm_p95_seconds",
        "a dashboard interaction on the national mart: under 300 ms once warm",
        0.3,
        "s",
        "p95 over warm interactions (all of a page's queries, uncached) < 0.3 s",
    ),
    Budget(
        "ingest_peak_rss_mb",
        "peak memory while ingesting the whole country: well under 2 GB",
        1024.0,
        "MB",
        "≤ 1 GB (half of 2 GB)",
    ),
    Budget(
        "intake_checks_percent",
        "the checks against hostile files cost at most 5% of the national ingest (issue 15)",
        5.0,
        "%",
        "the worse of wall and CPU time, median of pairs run alternately in one process, "
        "with the checks against without them",
    ),
)


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024**2, 1)
    return {
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "cpu": model or platform.processor(),
        "os": platform.platform(),
        "load_average": list(os.getloadavg()),
    }


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    try:
        found["hgkm-monitor"] = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        found["hgkm-monitor"] = metadata.version("hgkm-monitor")
    return found


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), q in 0..100."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(latencies: dict[str, list[float]]) -> dict[str, Any]:
    """p50 and p95 per page and over all interactions, in seconds."""
    every = [x for values in latencies.values() for x in values]
    pages = {
        page: {
            "n": len(v),
            "p50": percentile(v, 50),
            "p95": percentile(v, 95),
            "max": max(v),
        }
        for page, v in latencies.items()
        if v
    }
    return {
        "n": len(every),
        "p50": percentile(every, 50),
        "p95": percentile(every, 95),
        "max": max(every),
        "pages": pages,
    }


def scaling_fit(scales: list[float], values: list[float]) -> dict[str, float] | None:
    """Least-squares exponent of value ~ scale^k (k = 1 is linear) and a + b·scale."""
    if len(scales) < 2 or min(values) <= 0:
        return None
    xs = [math.log(s) for s in scales]
    ys = [math.log(v) for v in values]
    exponent = statistics.linear_regression(xs, ys).slope
    line = statistics.linear_regression(scales, values)
    return {"exponent": exponent, "fixed": line.intercept, "per_scale_unit": line.slope}


def budget_rows(figures: dict[str, float | None]) -> list[dict[str, Any]]:
    rows = []
    for budget in BUDGETS:
        value = figures.get(budget.key)
        rows.append(
            {
                "key": budget.key,
                "budget": budget.text,
                "reading": budget.reading,
                "threshold": budget.threshold,
                "unit": budget.unit,
                "measured": value,
                "status": "not measured"
                if value is None
                else ("met" if value <= budget.threshold else "missed"),
            }
        )
    return rows


def _s(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def _mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} MB"


def _n(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _step_row(name: str, step: dict[str, Any] | None, rows: int | None) -> str:
    if step is None:
        return f"| {name} | not measured | | | | |"
    per_second = rows / step["seconds_median"] if rows and step["seconds_median"] else None
    return (
        f"| {name} | {_s(step['seconds_median'])} | {_s(step['seconds_min'])} – "
        f"{_s(step['seconds_max'])} (±{step['spread_percent'] / 2:.0f}%) | {step['repeats']} | "
        f"{_n(per_second)} | {_mb(step['peak_rss_mb_median'])} |"
    )


def _federation(found: dict[str, Any] | None, warehouse: dict[str, Any] | None) -> list[str]:
    """Aggregate packages per region, the hub's import, and its compute against the
    warehouse's (docs/federation.md)."""
    if not found:
        return []
    out = [
        "## Aggregate packages and a hub (docs/federation.md)",
        "",
        "The same deliveries split by Veilig Thuis region, one warehouse each; each region's "
        "`hgkm share export`, then a hub's `hgkm share import` of every package and its "
        "`hgkm compute`.",
        "",
        "| region | municipalities | package rows | package size | export median | runs |",
        "|---|---|---|---|---|---|",
    ]
    sizes = []
    for row in found["regions"]:
        step = row["export"]
        if step is None:
            out.append(f"| {row['region']} | {row['municipalities']} | not measured | | | |")
            continue
        extra = step["runs"][-1]["extra"]
        sizes.append(extra["bytes"])
        out.append(
            f"| {row['region']} | {row['municipalities']} | {_n(extra['rows'])} | "
            f"{extra['bytes'] / 1024:,.0f} KB | {_s(step['seconds_median'])} | "
            f"{step['repeats']} |"
        )
    out += ["", f"All packages together: {sum(sizes) / 1024:,.0f} KB.", ""]
    out += [
        "| step | median | min – max (spread) | runs | rows/s | peak RSS |",
        "|---|---|---|---|---|---|",
        _step_row("hub: `hgkm share import` of every package", found.get("import"), None),
        _step_row("hub: `hgkm compute` from the packages", found.get("compute"), None),
        _step_row("`hgkm compute` from all deliveries (above)", warehouse, None),
        "",
    ]
    pairs = (found.get("alternating") or {}).get("pairs")
    if pairs:
        shown = "; ".join(
            f"{p['bottom_seconds']:.2f} s then {p['top_seconds']:.2f} s" for p in pairs
        )
        ratio = found["alternating"]["ratio_median"]
        out += [
            f"Compute from all deliveries, then the hub's from packages, run alternately: "
            f"{shown}; hub / deliveries {ratio:.2f}× (median of the pairs; goal: not slower).",
            "",
        ]
    return out


def markdown(results: dict[str, Any]) -> str:
    """The human-readable results: one page, tables first, notes after."""
    m, v = results["machine"], results["versions"]
    national = results.get("national", {})
    rows = national.get("rows_total")
    steps = national.get("steps", {})
    out = [
        "# Benchmarks — national scale",
        "",
        f"Generated by `make bench` (`python -m benchmarks.run {results['arguments']}`) on "
        f"{results['date']}. Do not edit: run it again. Where the time goes and what to change: "
        "[findings.md](findings.md).",
        "",
        "## Machine and versions",
        "",
        f"- {m['cores']} cores, {m['memory_gb']} GB memory, {m['cpu']}; {m['os']}",
        f"- load average at start {', '.join(f'{x:.1f}' for x in m['load_average'])}; "
        f"at end {', '.join(f'{x:.1f}' for x in results['load_average_end'])} "
        "(other work on the machine makes timings noisy)",
        "- "
        + ", ".join(f"{k} {val}" for k, val in v.items())
        + f" (at the end of the run: {results.get('code_at_end', '–')})",
        "",
    ]
    if results.get("quick"):
        out += [
            "**Quick run** (`--quick`): a tiny sample to prove the harness works; these figures",
            "say nothing about national scale.",
            "",
        ]
    data = national.get("data", {})
    out += [
        f"## The whole country (scale {national.get('scale')})",
        "",
        f"{data.get('municipalities', '–')} municipalities, cohort years "
        f"{data.get('years', '–')}, one delivery each (folder of CSV files, "
        f"{_n(data.get('megabytes'))} MB): {_n(rows)} rows — "
        + ", ".join(f"{_n(n)} {t}" for t, n in (data.get("rows") or {}).items())
        + ".",
        "",
        "Each step ran in a fresh process, several times; time is the step's own wall time "
        "(interpreter start and imports excluded), memory the process's peak RSS.",
        "",
        "| step | median | min – max (spread) | runs | rows/s | peak RSS |",
        "|---|---|---|---|---|---|",
        _step_row("ingest, whole country from scratch", steps.get("ingest"), rows),
        _step_row("floor: bare DuckDB load, one read_csv per table", steps.get("floor"), rows),
        _step_row(
            "floor per delivery: one transaction per delivery",
            steps.get("floor_per_delivery"),
            rows,
        ),
        _step_row("pandas + pandera (pandas backend), then DuckDB", steps.get("pandas"), rows),
        _step_row(
            f"one new delivery ({national.get('one_municipality', '–')}) into the full warehouse",
            steps.get("ingest_one"),
            national.get("one_rows"),
        ),
        _step_row("`hgkm compute`, whole country", steps.get("compute"), None),
        "",
    ]
    compute = steps.get("compute")
    if compute:
        runs = [run["extra"] for run in compute["runs"] if "disclosure_seconds" in run["extra"]]
        if runs:
            last = runs[-1]
            spent = statistics.median(run["disclosure_seconds"] for run in runs)
            out += [
                f"Of `hgkm compute`, disclosure control (secondary suppression and the audit, "
                f"`metrics.disclosure.protect_population`) took {_s(spent)} "
                f"(median of {len(runs)} runs); "
                f"it published {_n(last['figures'])} figures, {_n(last['suppressed'])} "
                f"suppressed ({last['suppressed'] / max(last['figures'], 1):.0%}).",
                "",
            ]
    ratios = national.get("ratios", {})
    if ratios:
        out += ["| ratio | value |", "|---|---|"]
        out += [f"| {name} | {value:.2f}× |" for name, value in ratios.items() if value]
        out.append("")
    pairs = (steps.get("alternating") or {}).get("pairs")
    if pairs:
        shown = "; ".join(
            f"{p['bottom_seconds']:.2f} s then {p['top_seconds']:.2f} s" for p in pairs
        )
        out += [f"Floor, then ingest, run alternately: {shown}.", ""]
    checks = national.get("same_work")
    if checks:
        out += [f"Same work: {checks}", ""]
    intake = steps.get("intake_checks")
    if intake:
        extra = intake["runs"][0]["extra"]
        shown = "; ".join(
            f"{p['without_seconds']:.2f} s then {p['with_seconds']:.2f} s "
            f"(CPU {p['without_cpu']:.2f} s then {p['with_cpu']:.2f} s)"
            for p in extra["pairs"]
        )
        out += [
            "The intake's checks against hostile files (file kinds, limits, names, bounded "
            "read-ahead), ingest without then with them in one process: "
            f"{shown}; median cost {extra['cost_percent']:+.1f}% wall, "
            f"{extra['cpu_cost_percent']:+.1f}% CPU.",
            "",
        ]
    out += _federation(national.get("federation"), steps.get("compute"))
    dash = national.get("dashboard")
    if dash:
        out += [
            "## Dashboard queries on the national mart",
            "",
            "One interaction = the sidebar's queries plus the page's own, parameters drawn at "
            "random, Streamlit's cache bypassed (every query runs on DuckDB).",
            "",
            "| page | cold p50 | cold p95 | warm p50 | warm p95 | warm max |",
            "|---|---|---|---|---|---|",
        ]
        cold, warm = dash["cold"], dash["warm"]
        for page in warm["pages"]:
            c, w = cold["pages"].get(page, {}), warm["pages"][page]
            out.append(
                f"| {page} | {_s(c.get('p50'))} | {_s(c.get('p95'))} | {_s(w['p50'])} | "
                f"{_s(w['p95'])} | {_s(w['max'])} |"
            )
        out.append(
            f"| **all** ({cold['n']} cold, {warm['n']} warm) | {_s(cold['p50'])} | "
            f"{_s(cold['p95'])} | {_s(warm['p50'])} | {_s(warm['p95'])} | {_s(warm['max'])} |"
        )
        out.append("")
    scaling = results.get("scaling", [])
    if scaling:
        out += [
            "## Scaling",
            "",
            "| scale | rows | ingest | ingest rows/s | ingest peak RSS | compute | "
            "compute peak RSS |",
            "|---|---|---|---|---|---|---|",
        ]
        for point in (p for p in scaling if p["ingest"]):
            ingest, compute = point["ingest"], point.get("compute")
            out.append(
                f"| {point['scale']} | {_n(point['rows_total'])} | "
                f"{_s(ingest['seconds_median'])} | "
                f"{_n(point['rows_total'] / ingest['seconds_median'])} | "
                f"{_mb(ingest['peak_rss_mb_median'])} | "
                f"{_s(compute['seconds_median']) if compute else '–'} | "
                f"{_mb(compute['peak_rss_mb_median']) if compute else '–'} |"
            )
        out.append("")
        fits = results.get("scaling_fits", {})
        for name, fit in fits.items():
            if fit:
                unit = "MB" if "RSS" in name else "s"
                out.append(
                    f"- {name}: grows as scale^{fit['exponent']:.2f}; least-squares line "
                    f"{fit['fixed']:.1f} {unit} fixed + {fit['per_scale_unit']:.1f} {unit} × scale"
                )
        out += ["", results.get("scaling_note", ""), ""]
    out += [
        "## Budgets (PRODUCT.md)",
        "",
        "| budget | read as | measured | |",
        "|---|---|---|---|",
    ]
    for row in results["budgets"]:
        value = row["measured"]
        shown = (
            "–"
            if value is None
            else (
                f"{value:.2f}×"
                if row["unit"] == "×"
                else _mb(value)
                if row["unit"] == "MB"
                else f"{value:.1f}%"
                if row["unit"] == "%"
                else _s(value)
            )
        )
        out.append(f"| {row['budget']} | {row['reading']} | {shown} | **{row['status']}** |")
    out.append("")
    notes = results.get("notes", [])
    if notes:
        out += ["## Notes", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(out)


def write(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


if __name__ == "__main__":
    # Re-render results.md from results.json (after a change to this layout, not to figures).
    import sys

    source = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results.json")
    write(json.loads(source.read_text(encoding="utf-8")), source.parent)
