"""What disclosure control hides, stage by stage, by indicator and area type.

    python -m benchmarks.disclosure DATA_DIR [--before OLD_MART] [--out FILE]

Counts every row of the table `hgkm compute` would publish from DATA_DIR's warehouse as
suppressed by the primary rule, then by secondary suppression, then by the audit's repairs
(`metrics.disclosure.Suppression`), per indicator and per area type, with the audit's time.
`--before` adds the same counts read from a mart published by an earlier version (its
`suppression_reason` column: primary or secondary), to compare the share hidden.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

STAGES = ("primary", "secondary", "audit")


def stages(data_dir: Path) -> tuple[pl.DataFrame, float]:
    """Per published row: indicator_id, area_type and the stage that hid it (or null), and the
    seconds the audit's stage took (its secondary suppression before it excluded)."""
    from hgkm.settings import Paths
    from metrics import disclosure, indicators
    from metrics.counts import WarehouseCounts
    from metrics.publish import open_warehouse

    frames: list[pl.DataFrame] = []
    audit_seconds = [0.0]
    protect = indicators.disclosure.protect_population

    def recorded(given: list[pl.DataFrame], **kwargs: Any) -> list[pl.DataFrame]:
        suppressions = [disclosure.Suppression(frame, **kwargs) for frame in given]
        secondary = [s.secondary(s.primary) for s in suppressions]
        started = time.perf_counter()
        audited = disclosure.audited(suppressions)
        audit_seconds[0] += time.perf_counter() - started
        for frame, s, second, final in zip(given, suppressions, secondary, audited, strict=True):
            stage = pl.when(pl.Series(s.primary)).then(pl.lit("primary"))
            stage = stage.when(pl.Series(second)).then(pl.lit("secondary"))
            stage = stage.when(pl.Series(final)).then(pl.lit("audit"))
            frames.append(frame.select("indicator_id", "area_type", stage=stage))
        return protect(given, **kwargs)

    indicators.disclosure.protect_population = recorded  # type: ignore[assignment]
    try:
        with open_warehouse(Paths(data_dir).warehouse) as con:
            source = WarehouseCounts(con)
            with source.counting() as municipal:
                indicators.indicator_figures(municipal, source.delivered())
    finally:
        indicators.disclosure.protect_population = protect  # type: ignore[assignment]
    return pl.concat(frames), audit_seconds[0]


def before(mart: Path) -> pl.DataFrame:
    """The same shape from an earlier mart: primary or secondary by its suppression_reason."""
    con = duckdb.connect(str(mart), read_only=True)
    try:
        return con.sql(
            "select indicator_id, area_type, "
            "case when suppressed then suppression_reason end as stage from indicator_values"
        ).pl()
    finally:
        con.close()


def tally(rows: pl.DataFrame, by: str) -> pl.DataFrame:
    return (
        rows.group_by(by)
        .agg(
            rows=pl.len(),
            **{stage: (pl.col("stage") == stage).sum() for stage in STAGES},
            hidden=pl.col("stage").is_not_null().sum(),
        )
        .with_columns(share=pl.col("hidden") / pl.col("rows"))
        .sort(by)
    )


def markdown(rows: pl.DataFrame, earlier: pl.DataFrame | None) -> str:
    out = []
    for by in ("indicator_id", "area_type"):
        now = tally(rows, by)
        columns = ["rows", *STAGES, "hidden", "share"]
        header = f"| {by} | " + " | ".join(columns)
        if earlier is not None:
            then = tally(earlier, by).select(
                by, rows_before="rows", hidden_before="hidden", share_before="share"
            )
            now = now.join(then, on=by, how="full", coalesce=True)
            columns += ["rows_before", "hidden_before", "share_before"]
            header += " | rows before | hidden before | share before"
        out += [header + " |", "|" + "---|" * (len(columns) + 1)]
        total = {c: now[c].sum() for c in columns if "share" not in c}
        for record in [*now.iter_rows(named=True), {by: "**all**", **total}]:
            if "hidden" in record:
                record["share"] = record["hidden"] / max(record["rows"] or 1, 1)
            if earlier is not None and "hidden_before" in record:
                record["share_before"] = record["hidden_before"] / max(
                    record["rows_before"] or 1, 1
                )
            cells = [
                f"{record.get(c):.0%}"
                if "share" in c and record.get(c) is not None
                else f"{record.get(c) or 0:,}"
                for c in columns
            ]
            out.append(f"| {record[by]} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.disclosure", description=__doc__)
    parser.add_argument("data_dir", type=Path, help="a data folder with a warehouse")
    parser.add_argument("--before", type=Path, help="a mart published by an earlier version")
    parser.add_argument("--out", type=Path, help="write the tables here (default: print)")
    args = parser.parse_args(argv)
    rows, seconds = stages(args.data_dir)
    text = markdown(rows, before(args.before) if args.before else None)
    text += f"\nThe audit and its repairs took {seconds:.2f} s.\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
