"""Kaplan-Meier curve, median and Brookmeyer-Crowley interval: by hand and against lifelines."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times
from polars.testing import assert_frame_equal

from metrics.stats import Z95
from metrics.survival import (
    MIN_AT_RISK,
    kaplan_meier,
    km_cut,
    km_medians,
    km_steps_by_group,
)

# Freireich et al. (1963), 6-MP arm, as in Kalbfleisch & Prentice and lifelines' docs.
FREIREICH_TIME = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
FREIREICH_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def km_median_by_group(frame: pl.DataFrame, groups: list[str], **counts: str) -> pl.DataFrame:
    """Medians per group as the product takes them: the whole curves, then their medians."""
    return km_medians(km_steps_by_group(frame, groups, **counts), groups)


def km_median(curve: pl.DataFrame) -> tuple[float | None, float | None, float | None]:
    """(median, ci_low, ci_high) of one kaplan_meier curve as the product reads them (its
    `km_medians`, over the curve's counts per time); None where not reached."""
    counts = curve.select(pl.lit(0).alias("g"), "time", "events", "censored")
    row = km_median_by_group(counts, ["g"], events="events", censored="censored").row(0, named=True)
    return row["median"], row["ci_low"], row["ci_high"]


def km_curves_by_group(
    frame: pl.DataFrame, groups: list[str], min_at_risk: int = MIN_AT_RISK, **counts: str
) -> pl.DataFrame:
    """Published steps per group as the product takes them: the whole curves, then cut."""
    return km_cut(km_steps_by_group(frame, groups, **counts), groups, min_at_risk)


def _lifelines(times, events) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(np.asarray(times), np.asarray(events))


def test_freireich_counts_and_first_steps_by_hand() -> None:
    curve = kaplan_meier(FREIREICH_TIME, FREIREICH_EVENT)
    first = curve.row(0, named=True)
    assert (first["time"], first["at_risk"], first["events"], first["censored"]) == (6, 21, 3, 1)
    # S(6) = 18/21; S(7) = 18/21 * 16/17; Greenwood at 6: 3 / (21 * 18)
    assert first["survival"] == pytest.approx(18 / 21, abs=1e-15)
    assert curve.row(1, named=True)["survival"] == pytest.approx(18 / 21 * 16 / 17, abs=1e-15)
    log_s = math.log(18 / 21)
    spread = Z95 * math.sqrt(3 / (21 * 18)) / abs(log_s)
    assert first["ci_low"] == pytest.approx((18 / 21) ** math.exp(spread), abs=1e-12)
    assert first["ci_high"] == pytest.approx((18 / 21) ** math.exp(-spread), abs=1e-12)
    assert curve["time"].to_list() == sorted(set(FREIREICH_TIME))
    assert curve["events"].sum() == 9 and curve["censored"].sum() == 12


def test_freireich_curve_and_band_match_lifelines() -> None:
    curve = kaplan_meier(FREIREICH_TIME, FREIREICH_EVENT)
    kmf = _lifelines(FREIREICH_TIME, FREIREICH_EVENT)
    times = curve["time"].to_numpy()
    expected_s = kmf.survival_function_.loc[times].iloc[:, 0].to_numpy()
    band = kmf.confidence_interval_.loc[times]
    np.testing.assert_allclose(curve["survival"].to_numpy(), expected_s, rtol=1e-12)
    np.testing.assert_allclose(curve["ci_low"].to_numpy(), band.iloc[:, 0].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(curve["ci_high"].to_numpy(), band.iloc[:, 1].to_numpy(), rtol=1e-10)


def test_freireich_median_and_its_interval() -> None:
    median, low, high = km_median(kaplan_meier(FREIREICH_TIME, FREIREICH_EVENT))
    assert median == 23  # published reference value
    kmf = _lifelines(FREIREICH_TIME, FREIREICH_EVENT)
    assert kmf.median_survival_time_ == 23
    ci = median_survival_times(kmf.confidence_interval_)
    # lifelines: lower band crosses 0.5 at 13, upper band never does (inf)
    assert low == ci.iloc[0, 0] == 13
    assert high is None and math.isinf(ci.iloc[0, 1])


def test_median_tolerates_floating_point_at_one_half() -> None:
    # ten events at 1..10: S(5) = 9/10 * 8/9 * 7/8 * 6/7 * 5/6 = 1/2 exactly by hand
    curve = kaplan_meier(list(range(1, 11)), [1] * 10)
    assert curve["survival"][4] == pytest.approx(0.5, abs=1e-12)
    assert km_median(curve)[0] == 5


def test_median_not_reached_and_all_censored() -> None:
    # S = 3/4 after the one event: no median, but the wide band's lower edge dips below 0.5
    median, low, high = km_median(kaplan_meier([1, 2, 3, 4], [1, 0, 0, 0]))
    assert median is None and high is None and low == 1
    curve = kaplan_meier([3, 5], [0, 0])
    assert curve["survival"].to_list() == [1.0, 1.0]
    assert curve["ci_low"].to_list() == [1.0, 1.0]  # as lifelines at S = 1


def test_band_collapses_to_zero_where_survival_reaches_zero() -> None:
    curve = kaplan_meier([1, 2, 3], [1, 1, 1])
    assert curve["survival"].to_list() == pytest.approx([2 / 3, 1 / 3, 0.0], abs=1e-15)
    assert (curve["ci_low"][-1], curve["ci_high"][-1]) == (0.0, 0.0)  # lifelines: 0, 0
    # median 2 (S = 1/3); the upper band (0.774 at 2, by lifelines) first reaches 0.5 at 3
    assert km_median(curve) == (2, 1, 3)


def _random_groups(n_groups: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 60, size=n_groups)
    group = np.repeat(np.arange(n_groups), sizes)
    return pl.DataFrame(
        {
            "area": (group % 7).astype(str),
            "period": group // 7,
            "time": rng.integers(0, 120, size=group.size),
            "event": rng.random(group.size) < rng.uniform(0.2, 0.9, size=n_groups)[group],
        }
    )


def _first_at_or_below_half(timeline: np.ndarray, curve: np.ndarray) -> float | None:
    """The spec's rule applied to lifelines' curves: lifelines itself compares without the
    1e-9 tolerance, so 0.5000000000000001 would move its median to a later time."""
    hits = timeline[curve <= 0.5 + 1e-9]
    return float(hits[0]) if hits.size else None


def test_median_by_group_matches_lifelines_per_group() -> None:
    frame = _random_groups(40, seed=11)
    result = km_median_by_group(frame, ["area", "period"]).sort("area", "period")
    assert result.height == frame.select("area", "period").unique().height
    for row in result.iter_rows(named=True):
        part = frame.filter((pl.col("area") == row["area"]) & (pl.col("period") == row["period"]))
        assert (row["n"], row["events"]) == (part.height, part["event"].sum())
        kmf = _lifelines(part["time"].to_numpy(), part["event"].to_numpy())
        curves = [kmf.survival_function_.iloc[:, 0], *kmf.confidence_interval_.T.values]
        expected = [_first_at_or_below_half(kmf.timeline, np.asarray(c)) for c in curves]
        assert [row["median"], row["ci_low"], row["ci_high"]] == expected


def test_median_by_group_over_thousands_of_groups_keeps_every_case() -> None:
    frame = _random_groups(3000, seed=3)
    result = km_median_by_group(frame, ["area", "period"])
    expected = frame.group_by("area", "period").agg(
        n=pl.len().cast(pl.Int64), events=pl.col("event").cast(pl.Int64).sum()
    )
    assert result.height == expected.height
    joined = result.join(expected, on=["area", "period"], suffix="_expected")
    assert joined.height == expected.height
    assert (joined["n"] == joined["n_expected"]).all()
    assert (joined["events"] == joined["events_expected"]).all()


def test_no_cases_give_no_groups() -> None:
    empty = pl.DataFrame(schema={"area": pl.String, "time": pl.Int64, "event": pl.Boolean})
    assert km_median_by_group(empty, ["area"]).height == 0
    assert km_curves_by_group(empty, ["area"]).height == 0


def test_curves_by_group_are_cut_where_fewer_than_ten_are_at_risk() -> None:
    frame = pl.DataFrame(
        {
            "area": ["A"] * 21 + ["B"] * 5,
            "time": FREIREICH_TIME + [1, 2, 3, 4, 5],
            "event": FREIREICH_EVENT + [1] * 5,
        }
    )
    curves = km_curves_by_group(frame, ["area"])
    assert curves["area"].unique().to_list() == ["A"]  # B never has 10 at risk
    # by hand: 10 observed before 16 (four at 6, 7, 9, two at 10, 11, 13), one at 16, so at
    # risk at 17 is 21 - 11 = 10 and at 19 it is 9: the curve stops after 17
    assert curves["time"].to_list() == [6, 7, 9, 10, 11, 13, 16, 17]
    assert curves["at_risk"].min() == 10
    full = kaplan_meier(FREIREICH_TIME, FREIREICH_EVENT).head(8)
    assert curves["survival"].to_list() == full["survival"].to_list()


# Freireich's 6-MP arm as counts per time, by hand from the list above: (time, events, censored).
FREIREICH_COUNTS = [
    (6, 3, 1), (7, 1, 0), (9, 0, 1), (10, 1, 1), (11, 0, 1), (13, 1, 0), (16, 1, 0), (17, 0, 1),
    (19, 0, 1), (20, 0, 1), (22, 1, 0), (23, 1, 0), (25, 0, 1), (32, 0, 2), (34, 0, 1),
    (35, 0, 1),
]  # fmt: skip


def test_freireich_from_counts_gives_the_same_curve_and_median_23() -> None:
    times, events, censored = (list(c) for c in zip(*FREIREICH_COUNTS, strict=True))
    curve = kaplan_meier(times, events=events, censored=censored)
    assert_frame_equal(curve, kaplan_meier(FREIREICH_TIME, FREIREICH_EVENT))
    assert km_median(curve) == (23, 13, None)


def test_kaplan_meier_wants_cases_or_counts_not_both() -> None:
    with pytest.raises(ValueError):
        kaplan_meier([1, 2], [1, 0], events=[1, 0], censored=[0, 1])
    with pytest.raises(ValueError):
        kaplan_meier([1, 2])
    with pytest.raises(ValueError):
        km_median_by_group(_random_groups(3, seed=1), ["area"], events="event")


def _as_split_counts(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The cases of `frame` as counts per area, period and time, counted with numpy (not the
    code under test), each count split over two rows and zero rows added, as a roll-up of
    finer counts would leave them."""
    rng = np.random.default_rng(seed)
    keys = np.stack(
        [frame["area"].cast(pl.Int64).to_numpy(), frame["period"].to_numpy(), frame["time"]]
    )
    unique, inverse = np.unique(keys, axis=1, return_inverse=True)
    event = frame["event"].to_numpy()
    events = np.bincount(inverse, weights=event, minlength=unique.shape[1]).astype(np.int64)
    cases = np.bincount(inverse, minlength=unique.shape[1]).astype(np.int64)
    first = rng.integers(0, events + 1)
    first_censored = rng.integers(0, cases - events + 1)
    halves = [
        (first, first_censored),
        (events - first, cases - events - first_censored),
        (np.zeros_like(events), np.zeros_like(events)),
    ]
    return pl.concat(
        pl.DataFrame(
            {
                "area": unique[0].astype(str),
                "period": unique[1],
                "time": unique[2],
                "n_events": e,
                "n_censored": c,
            }
        )
        for e, c in halves
    ).sample(fraction=1.0, shuffle=True, seed=seed)


@pytest.mark.parametrize(
    ("seed", "in_order", "summed"),
    [(5, False, False), (17, False, False), (29, True, False), (31, True, False), (37, True, True)],
)
def test_counts_give_the_same_medians_and_curves_as_cases(
    seed: int, in_order: bool, summed: bool
) -> None:
    """Shuffled counts, or counts already in group and time order (as SQL delivers them,
    which skips the sort), or in order with one row per group and time (nothing left to sum):
    either way the result of one row per case."""
    frame = _random_groups(120, seed=seed)
    counts = _as_split_counts(frame, seed)
    if summed:
        counts = counts.group_by("area", "period", "time").agg(
            pl.col("n_events", "n_censored").sum()
        )
    if in_order:
        counts = counts.sort("area", "period", "time")
    assert counts["n_events"].sum() + counts["n_censored"].sum() == frame.height
    keys = ["area", "period"]
    per_case = km_median_by_group(frame, keys).sort(keys)
    from_counts = km_median_by_group(counts, keys, events="n_events", censored="n_censored").sort(
        keys
    )
    assert_frame_equal(from_counts, per_case)
    assert_frame_equal(
        km_curves_by_group(counts, keys, events="n_events", censored="n_censored").sort(
            [*keys, "time"]
        ),
        km_curves_by_group(frame, keys).sort([*keys, "time"]),
    )
