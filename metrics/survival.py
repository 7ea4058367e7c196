"""Kaplan-Meier curves and medians (with Brookmeyer-Crowley intervals), vectorised over groups.

The product-limit estimate S(t) = prod_{t_i <= t} (1 - d_i/n_i) (Kaplan & Meier 1958, JASA
53:457) with Greenwood's variance sum_{t_i <= t} d_i / (n_i (n_i - d_i)) and a pointwise 95%
band on the log-log scale (Kalbfleisch & Prentice 1980; lifelines' default):
S(t) ** exp(-/+ z * sqrt(greenwood) / log S(t)). The band is 1..1 where S = 1 and 0..0 where
S = 0 (its limits as S tends to 1 and 0; lifelines does the same). The median's interval is
Brookmeyer & Crowley (1982, Biometrics 38:29): the times at which the band crosses 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from metrics.stats import Z95

# Sums of floating-point factors land on 0.5000000000000001 where the exact value is 0.5.
MEDIAN_TOLERANCE = 1e-9
MIN_AT_RISK = 10
_GROUP = "__group"
_GROUP_ID = "__group_id"
_RUN = "__run"
# Times, event flags or counts: a list, a numpy array or a polars Series.
Values = Sequence[float] | Sequence[bool] | np.ndarray | pl.Series


def _by_time(
    lazy: pl.LazyFrame,
    group_cols: list[str],
    time: str,
    event: str,
    counts: tuple[str, str] | None,
    presorted: bool,
    distinct: bool = False,
) -> pl.LazyFrame:
    """Events and observed cases per group and distinct time, sorted, with an integer
    `__group_id` numbering the groups in order. `presorted`: the rows already come in
    group and time order, so the sort is skipped; `distinct`: besides, no (group, time)
    repeats, so there are no runs to sum.

    Per case (`event` flags) or from counts (`counts` = the events and censorings columns of
    rows that each stand for many cases): the Kaplan-Meier estimate needs nothing else, so
    both give the same curve.
    """
    if counts is None:
        events = pl.col(event).cast(pl.Int64)
        observed = pl.lit(1, dtype=pl.Int64)
    else:
        events = pl.col(counts[0]).cast(pl.Int64)
        observed = events + pl.col(counts[1]).cast(pl.Int64)
    keys = [*group_cols, "time"]
    selected = lazy.select(
        *group_cols,
        pl.col(time).alias("time"),
        events.alias("events"),
        observed.alias("observed"),
    )
    summed = (
        selected
        if distinct
        else (selected if presorted else selected.sort(keys))
        # In sorted rows a (group, time) is a run of equal keys: summing runs is a linear
        # pass, where a hash group-by over millions of (group, time) keys is not.
        .with_columns(pl.struct(keys).rle_id().alias(_RUN))
        .group_by(_RUN, maintain_order=True)
        .agg(*(pl.col(k).first() for k in keys), pl.col("events").sum(), pl.col("observed").sum())
        .drop(_RUN)
    )
    return (
        # a time where nobody was observed is no step (counts may carry zero rows)
        summed.filter(pl.col("observed") > 0)
        .with_columns(pl.struct(group_cols).rle_id().alias(_GROUP_ID))
        .set_sorted(_GROUP_ID)
    )


def _is_sorted(frame: pl.DataFrame, keys: list[str], *, strict: bool = False) -> bool:
    """Are the rows in ascending order of `keys` (lexicographic)? With `strict`, is each row's
    key also different from the one before? False with any null key."""
    if frame.height < 2:
        return True
    last = keys[-1]
    in_order = pl.col(last) > pl.col(last).shift()
    if not strict:
        in_order |= pl.col(last) == pl.col(last).shift()
    for key in reversed(keys[:-1]):
        previous = pl.col(key).shift()
        in_order = (pl.col(key) > previous) | ((pl.col(key) == previous) & in_order)
    return bool(frame.select(in_order.slice(1).fill_null(False).all()).item())


def _curves(
    frame: pl.DataFrame | pl.LazyFrame,
    group_cols: list[str],
    time: str,
    event: str,
    counts: tuple[str, str] | None = None,
) -> tuple[pl.LazyFrame, list[str]]:
    """One row per group and distinct time: the Kaplan-Meier columns, sorted by group and time.

    Everything is a window expression over one sorted integer group id, so thousands of
    groups and millions of rows cost one sort.
    """
    lazy = frame.lazy()
    if not group_cols:
        lazy = lazy.with_columns(pl.lit(0).alias(_GROUP))
        group_cols = [_GROUP]
    # Counts rolled up in SQL arrive sorted; re-sorting millions of rows on several keys
    # would cost more than the whole estimate.
    order = [c for c in group_cols if c != _GROUP] + [time]
    distinct = isinstance(frame, pl.DataFrame) and _is_sorted(frame, order, strict=True)
    presorted = distinct or (isinstance(frame, pl.DataFrame) and _is_sorted(frame, order))
    by_time = _by_time(lazy, group_cols, time, event, counts, presorted, distinct)
    # at risk at t = everyone in the group whose time is t or later: the running total at the
    # group's last row minus the running total so far, plus this time's own. Integer running
    # totals over the whole column are exact and need no per-group window.
    running = pl.col("observed").cum_sum()
    group_last = pl.col(_GROUP_ID) != pl.col(_GROUP_ID).shift(-1, fill_value=-1)
    at_risk = pl.when(group_last).then(running).backward_fill() - running + pl.col("observed")
    n, d = pl.col("at_risk"), pl.col("events")
    log_s = pl.col("survival").log()
    spread = Z95 * pl.col("greenwood").sqrt() / log_s
    curves = (
        by_time.with_columns(at_risk.alias("at_risk"))
        .with_columns(
            (pl.col("observed") - d).alias("censored"),
            (1.0 - d / n).cum_prod().over(_GROUP_ID).alias("survival"),
            # d == n only at a last time where S drops to 0; its term is then infinite.
            (d / (n * (n - d))).cum_sum().over(_GROUP_ID).alias("greenwood"),
        )
        .with_columns(
            pl.when(pl.col("survival") >= 1.0)
            .then(1.0)
            .when(pl.col("survival") <= 0.0)
            .then(0.0)
            .otherwise(pl.col("survival") ** (-spread).exp())
            .alias("ci_low"),
            pl.when(pl.col("survival") >= 1.0)
            .then(1.0)
            .when(pl.col("survival") <= 0.0)
            .then(0.0)
            .otherwise(pl.col("survival") ** spread.exp())
            .alias("ci_high"),
        )
    )
    return curves, group_cols


def _count_columns(events: str | None, censored: str | None) -> tuple[str, str] | None:
    if (events is None) != (censored is None):
        raise ValueError("give both count columns, `events` and `censored`, or neither")
    return None if events is None or censored is None else (events, censored)


def kaplan_meier(
    time: Values,
    event: Values | None = None,
    *,
    events: Values | None = None,
    censored: Values | None = None,
) -> pl.DataFrame:
    """One row per distinct time: time, at_risk, events, censored, survival, ci_low, ci_high.

    Per case: `time` holds follow-up times, `event` 1/True for an event and 0/False for
    censoring. From counts: `events` and `censored` hold how many cases had an event and how
    many were censored at each `time` (times may repeat; zero rows are ignored).
    """
    counted = events is not None or censored is not None
    if (event is not None) == counted:
        raise ValueError("give either `event` per case or the counts `events` and `censored`")
    if event is not None:
        frame = pl.DataFrame({"time": time, "event": event})
        curves, _ = _curves(frame, [], "time", "event")
    else:
        if events is None or censored is None:
            raise ValueError("give both counts, `events` and `censored`")
        frame = pl.DataFrame({"time": time, "n_events": events, "n_censored": censored})
        curves, _ = _curves(frame, [], "time", "event", _count_columns("n_events", "n_censored"))
    return curves.select(
        "time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"
    ).collect()


def km_steps_by_group(
    frame: pl.DataFrame | pl.LazyFrame,
    group_cols: list[str],
    time: str = "time",
    event: str = "event",
    *,
    events: str | None = None,
    censored: str | None = None,
) -> pl.DataFrame:
    """Whole Kaplan-Meier curves, one row per group and distinct time, sorted: the group
    columns, `__group_id` (the groups numbered in order), time, at_risk, events, censored,
    survival, ci_low, ci_high. `km_medians` and `km_cut` take medians and published steps
    from it, so thousands of groups are estimated once for both.

    Rows are cases with an `event` flag, or, given the `events` and `censored` count columns,
    counts of cases per time (the same result, from far fewer rows).
    """
    curves, groups = _curves(frame, group_cols, time, event, _count_columns(events, censored))
    return curves.select(
        *(g for g in groups if g != _GROUP),
        _GROUP_ID,
        "time",
        "at_risk",
        "events",
        "censored",
        "survival",
        "ci_low",
        "ci_high",
    ).collect()


def km_medians(steps: pl.DataFrame, group_cols: list[str]) -> pl.DataFrame:
    """Per group of `km_steps_by_group`'s curves: the group columns, n, events, median,
    ci_low, ci_high (null = not reached).

    The steps are sorted by group and time, so each figure is read off the first row of a
    run, in one pass, rather than by grouping millions of rows.
    """
    group = steps[_GROUP_ID].to_numpy()
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if group.size else group
    firsts = steps[starts]
    first_groups = group[starts]
    limit = 0.5 + MEDIAN_TOLERANCE
    times = steps["time"].cast(pl.Float64).to_numpy()

    def first_time_at_or_below_half(column: str) -> pl.Series:
        # S and its band only change at event times, so the first time any row is at or
        # below 0.5 is an event time; the lower band crosses first: the lower limit.
        below = np.flatnonzero(steps[column].to_numpy() <= limit)
        in_group = group[below]
        first = np.r_[True, in_group[1:] != in_group[:-1]] if below.size else below.astype(bool)
        found = np.full(starts.size, np.nan)
        found[np.searchsorted(first_groups, in_group[first])] = times[below[first]]
        return pl.Series(column, found).fill_nan(None)

    return firsts.select(
        *group_cols,
        # everyone is at risk at a group's first time
        pl.col("at_risk").alias("n"),
        pl.Series("events", np.add.reduceat(steps["events"].to_numpy(), starts))
        if starts.size
        else pl.Series("events", [], dtype=pl.Int64),
        first_time_at_or_below_half("survival").alias("median"),
        first_time_at_or_below_half("ci_low"),
        first_time_at_or_below_half("ci_high"),
    )


def km_cut(
    steps: pl.DataFrame, group_cols: list[str], min_at_risk: int = MIN_AT_RISK
) -> pl.DataFrame:
    """`km_steps_by_group`'s curves cut from the first time fewer than min_at_risk are at risk:
    the group columns, time, survival, ci_low, ci_high, at_risk. No published step then rests
    on fewer cases (INDICATORS.md, small numbers)."""
    # at_risk only decreases with time, so "before the first small one" is "not small".
    return steps.filter(pl.col("at_risk") >= min_at_risk).select(
        *group_cols, "time", "survival", "ci_low", "ci_high", "at_risk"
    )
