"""Generate a whole sample into a folder: deliveries, approach profiles and the planted truth."""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from generator import planted, write
from generator.cases import STREAM_PROFILE, day_of, generate_municipality, snapshot
from generator.profiles import municipality_profile
from hgkm import reference
from pipelines.contract import APPROACH_SCHEMA

PROGRESS_FROM = 20  # municipalities: show a progress bar on stderr from this many on
PARALLEL_FROM = 40  # municipalities: spread the work over the machine's cores from this many on
EMPTY_PROFILE = pl.DataFrame(schema=APPROACH_SCHEMA)


@dataclass(frozen=True)
class SampleOptions:
    """What to generate; `older` municipalities also get a delivery on `older_extract`."""

    municipalities: tuple[str, ...]
    years: tuple[int, ...]
    extract: date
    seed: int = 1
    shape: str = "folder"  # folder | zip | xlsx | mixed
    scale: float = 1.0
    profiles: bool = True
    older: tuple[str, ...] = ()
    older_extract: date | None = None
    workers: int | None = None  # None: all cores for large runs, one otherwise


@dataclass
class SampleSummary:
    deliveries: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


def profile_of(seed: int, municipality_code: str) -> pl.DataFrame:
    rng = np.random.default_rng([seed, int(municipality_code[2:]), STREAM_PROFILE])
    return municipality_profile(rng, municipality_code)


def shape_and_quirks(position: int, shape: str) -> tuple[str, write.Quirks]:
    """`mixed`: the variants in turn, by the municipality's place in the sorted selection."""
    if shape != "mixed":
        return shape, write.PLAIN
    return write.MIXED[position % len(write.MIXED)]


def _one(
    options: SampleOptions,
    municipality_code: str,
    position: int,
    population: int,
    deliveries: Path,
) -> tuple[list[Path], pl.DataFrame, pl.DataFrame, pl.DataFrame | None, dict[str, int]]:
    profile = profile_of(options.seed, municipality_code) if options.profiles else EMPTY_PROFILE
    truth = generate_municipality(
        options.seed,
        municipality_code,
        population,
        list(options.years),
        options.scale,
        profile,
        day_of(options.extract),
    )
    shape, quirks = shape_and_quirks(position, options.shape)
    extracts = [options.extract]
    if municipality_code in options.older and options.older_extract is not None:
        extracts.insert(0, options.older_extract)
    paths = []
    rows: dict[str, int] = {}
    for extract in extracts:
        tables = snapshot(truth, extract, options.seed)
        paths.append(
            write.write_delivery(deliveries, tables, municipality_code, extract, shape, quirks)
        )
        if extract == options.extract:
            rows = {name: frame.height for name, frame in tables.items()}
    rates = planted.planted_rates(truth, options.extract)
    effects = planted.effect_sums(truth, options.extract) if options.profiles else None
    return paths, profile, rates, effects, rows


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\rgenerating [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def build_sample(out: Path, options: SampleOptions, progress: bool | None = None) -> SampleSummary:
    """Write deliveries/, planted_rates.csv and (with profiles) approach_profiles.csv and
    planted_effects.csv into `out`."""
    population = dict(
        reference.municipalities().select("municipality_code", "population").iter_rows()
    )
    codes = sorted(options.municipalities)
    deliveries = out / "deliveries"
    deliveries.mkdir(parents=True, exist_ok=True)
    show = progress if progress is not None else len(codes) >= PROGRESS_FROM
    workers = options.workers or (os.cpu_count() or 1 if len(codes) >= PARALLEL_FROM else 1)

    results = []
    if workers > 1:
        # spawn, not fork: a forked child inherits polars' thread pool locked and hangs.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
            futures = [
                pool.submit(_one, options, c, i, population[c], deliveries)
                for i, c in enumerate(codes)
            ]
            for i, future in enumerate(futures, 1):
                results.append(future.result())
                if show:
                    _progress(i, len(codes))
    else:
        for i, code in enumerate(codes, 1):
            results.append(_one(options, code, i - 1, population[code], deliveries))
            if show:
                _progress(i, len(codes))

    summary = SampleSummary()
    for paths, _, _, _, rows in results:
        summary.deliveries.extend(paths)
        for name, n in rows.items():
            summary.rows[name] = summary.rows.get(name, 0) + n
    pl.concat([r[2] for r in results]).write_csv(out / "planted_rates.csv", float_precision=6)
    if options.profiles:
        profiles = pl.concat([r[1] for r in results]).select(list(APPROACH_SCHEMA))
        profiles.write_csv(out / "approach_profiles.csv")
        planted.planted_effects(pl.concat([r[3] for r in results])).write_csv(
            out / "planted_effects.csv", float_precision=6
        )
    return summary
