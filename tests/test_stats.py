"""Statistics for proportions against published reference values and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.stats import mstats

from metrics.stats import (
    TREND_CRITICAL,
    Z95,
    Z998,
    compare,
    funnel_limits,
    newcombe_difference,
    overdispersion,
    random_effects_limits,
    trend,
    trends,
    wilson,
)


def test_z_values_are_the_normal_quantiles() -> None:
    assert abs(Z95 - sps.norm.ppf(0.975)) < 1e-14
    assert abs(Z998 - sps.norm.ppf(0.999)) < 1e-14
    assert abs(TREND_CRITICAL - Z998**2) < 1e-4


# --- Wilson ---------------------------------------------------------------------------------


def test_wilson_reference_value_from_phe_indicator_methods() -> None:
    low, high = wilson(65, 100)
    assert low == pytest.approx(0.55254443296887967, abs=1e-12)
    assert high == pytest.approx(0.73635751756902468, abs=1e-12)


def test_wilson_edges_by_hand() -> None:
    # O = 0: low 0, high z^2/(n+z^2); O = n: low n/(n+z^2), high 1 (closed forms).
    low, high = wilson([0, 10], [10, 10])
    z2 = Z95 * Z95
    assert low[0] == 0.0 and high[0] == pytest.approx(z2 / (10 + z2), abs=1e-14)
    assert low[1] == pytest.approx(10 / (10 + z2), abs=1e-14) and high[1] == 1.0


def test_wilson_is_nan_for_an_empty_denominator() -> None:
    low, high = wilson(np.array([0, 3]), np.array([0, 7]))
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert not np.isnan(low[1])


@pytest.mark.parametrize(("z", "level"), [(Z95, 0.95), (Z998, 0.998)])
def test_wilson_matches_scipy_on_a_grid(z: float, level: float) -> None:
    counts = [(o, n) for n in (1, 7, 10, 33, 250) for o in sorted({0, 1, n // 3, n - 1, n})]
    low, high = wilson([o for o, _ in counts], [n for _, n in counts], z)
    for i, (o, n) in enumerate(counts):
        ci = sps.binomtest(o, n).proportion_ci(confidence_level=level, method="wilson")
        assert low[i] == pytest.approx(ci.low, abs=1e-9)
        assert high[i] == pytest.approx(ci.high, abs=1e-9)


# --- comparison -------------------------------------------------------------------------------


def test_compare_lower_is_better() -> None:
    result = compare(
        benchmark=[0.5, 0.5, 0.5, 0.5, np.nan, 0.5],
        ci_low=[0.6, 0.3, 0.2, 0.4, 0.1, np.nan],
        ci_high=[0.7, 0.4, 0.6, 0.5, 0.2, np.nan],
        polarity="lower_is_better",
    )
    # benchmark below / above / inside / on the edge (inside counts) / no benchmark / no CI
    assert result.tolist() == ["worse", "better", "similar", "similar"] + ["not_compared"] * 2


def test_compare_higher_is_better_flips_the_words() -> None:
    result = compare(0.5, [0.6, 0.3, 0.5], [0.7, 0.4, 0.6], "higher_is_better")
    assert result.tolist() == ["better", "worse", "similar"]


def test_compare_rejects_an_unknown_polarity() -> None:
    with pytest.raises(ValueError, match="polarity"):
        compare(0.5, 0.4, 0.6, "bigger")


# --- funnel ---------------------------------------------------------------------------------


def test_funnel_reference_values_from_phe_indicator_methods() -> None:
    baseline = 0.80642448
    low95, high95 = funnel_limits(baseline, [10, 110000])
    low998, high998 = funnel_limits(baseline, [10, 110000], Z998)
    # published in percent to 6 decimals
    assert low95[0] == pytest.approx(0.56154344, abs=1e-8)
    assert low998[0] == pytest.approx(0.4203259, abs=1e-8)
    assert (low95[1], high95[1]) == pytest.approx((0.80408963, 0.80875933), abs=1e-8)
    assert (low998[1], high998[1]) == pytest.approx((0.80274317, 0.81010578), abs=1e-8)
    assert high95[0] == 1.0  # 0.806 + 0.245 clipped


@pytest.mark.parametrize("n", [10, 57, 1000])
def test_funnel_limit_is_where_the_wilson_interval_touches_the_benchmark(n: int) -> None:
    benchmark = 0.3
    low, high = funnel_limits(benchmark, n)
    # an area observed exactly at the lower limit has its Wilson upper bound on the benchmark
    _, upper_at_low = wilson(low * n, n)
    lower_at_high, _ = wilson(high * n, n)
    assert upper_at_low == pytest.approx(benchmark, abs=1e-12)
    assert lower_at_high == pytest.approx(benchmark, abs=1e-12)


# --- over-dispersion and random-effects limits -----------------------------------------------

# Ten areas of n = 100 around theta0 = 0.2: s = sqrt(0.2 * 0.8 / 100) = 0.04.
OD_NUMERATORS = [10, 14, 16, 18, 20, 22, 24, 26, 30, 40]


def test_overdispersion_by_hand() -> None:
    # z = (p - 0.2) / 0.04 = -2.5 -1.5 -1 -0.5 0 0.5 1 1.5 2.5 5
    # winsorised (1 of 10 each end): -1.5 -1.5 -1 -0.5 0 0.5 1 1.5 2.5 2.5
    # squares: 2.25 2.25 1 0.25 0 0.25 1 2.25 6.25 6.25 = 21.75 -> phi = 2.175
    # w = 1/0.0016 = 625 each: sum w = 6250, sum w^2 / sum w = 625 -> 5625
    # tau2 = (10 * 2.175 - 9) / 5625 = 12.75 / 5625
    phi, tau2 = overdispersion(OD_NUMERATORS, [100] * 10, 0.2)
    assert phi == pytest.approx(2.175, abs=1e-12)
    assert tau2 == pytest.approx(12.75 / 5625, abs=1e-15)


def test_overdispersion_winsorising_agrees_with_scipy() -> None:
    rng = np.random.default_rng(4)
    n = rng.integers(20, 400, size=23)
    o = rng.binomial(n, rng.uniform(0.1, 0.5, size=23))
    theta = o.sum() / n.sum()
    z = (o / n - theta) / np.sqrt(theta * (1 - theta) / n)
    expected_phi = float(np.mean(np.asarray(mstats.winsorize(z, limits=(0.1, 0.1))) ** 2))
    assert overdispersion(o, n, theta)[0] == pytest.approx(expected_phi, rel=1e-12)


def test_no_overdispersion_gives_zero_tau2() -> None:
    # every area exactly on the benchmark: phi = 0
    assert overdispersion([20, 40, 60], [100, 200, 300], 0.2) == (0.0, 0.0)
    assert math.isnan(overdispersion([0], [0], 0.2)[0])


def test_random_effects_limits_by_hand() -> None:
    tau2 = 12.75 / 5625
    low, high = random_effects_limits(0.2, 100, tau2)
    half = Z95 * math.sqrt(0.0016 + 0.0022666666666666666)  # = 1.96 * 0.06218...
    assert (low, high) == pytest.approx((0.2 - half, 0.2 + half), abs=1e-12)
    # tau2 = 0 gives the plain funnel limits
    np.testing.assert_allclose(
        random_effects_limits(0.2, [50, 500], 0.0), funnel_limits(0.2, [50, 500]), rtol=1e-14
    )
    # clipped to [0, 1]
    assert random_effects_limits(0.02, 10, 0.5)[0] == 0.0


# --- trend ------------------------------------------------------------------------------------

# Agresti, Categorical Data Analysis (2nd ed. 2002, table 3.7; 3rd ed. 2013, section 3.4.6):
# infant malformation by mother's alcohol consumption, scores 0, 0.5, 1.5, 4, 7;
# the linear-trend statistic printed there is M^2 = (n - 1) r^2 = 6.57.
ALCOHOL_SCORES = [0.0, 0.5, 1.5, 4.0, 7.0]
MALFORMED = [48, 38, 5, 1, 1]
ABSENT = [17066, 14464, 788, 126, 37]


def test_trend_agrees_with_agrestis_worked_example() -> None:
    totals = [a + m for a, m in zip(ABSENT, MALFORMED, strict=True)]
    chi2, direction = trend(ALCOHOL_SCORES, MALFORMED, totals)
    n = sum(totals)
    # Cochran-Armitage = n r^2 = M^2 * n / (n - 1)
    assert chi2 == pytest.approx(6.57 * n / (n - 1), abs=0.01)
    assert direction == "no_change"  # below 9.5495


def test_trend_equals_n_times_squared_correlation_of_the_expanded_data() -> None:
    totals = [a + m for a, m in zip(ABSENT, MALFORMED, strict=True)]
    score = np.repeat(ALCOHOL_SCORES, totals)
    outcome = np.concatenate(
        [np.r_[np.ones(m), np.zeros(a)] for m, a in zip(MALFORMED, ABSENT, strict=True)]
    )
    r = sps.pearsonr(score, outcome).statistic
    assert trend(ALCOHOL_SCORES, MALFORMED, totals)[0] == pytest.approx(len(score) * r**2, rel=1e-9)


def test_trend_by_weighted_regression_and_direction() -> None:
    years = np.array([2020, 2021, 2022, 2023, 2024])
    n = np.array([200, 220, 210, 230, 240])
    o = np.array([40, 55, 63, 80, 96])
    # weighted least squares slope of p on year, weights n; chi2 = b^2 * Sxx / (pbar(1-pbar))
    p, pbar = o / n, o.sum() / n.sum()
    xbar = (n * years).sum() / n.sum()
    sxx = (n * (years - xbar) ** 2).sum()
    slope = (n * (years - xbar) * (p - pbar)).sum() / sxx
    expected = slope**2 * sxx / (pbar * (1 - pbar))
    chi2, direction = trend(years, o, n)
    assert chi2 == pytest.approx(expected, rel=1e-12)
    assert expected > TREND_CRITICAL and direction == "increasing"
    assert trend(years, o[::-1], n[::-1])[1] == "decreasing"


def test_trend_needs_five_points_and_handles_no_events() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        trend([2021, 2022, 2023, 2024], [1, 2, 3, 4], [10, 10, 10, 10])
    assert trend(range(2020, 2025), [0] * 5, [50] * 5) == (0.0, "no_change")


def test_trends_of_many_series_are_each_series_alone() -> None:
    # The published table tests tens of thousands of series at once: one row each, no row
    # leaking into another (the reference is the weighted regression of the test above).
    rng = np.random.default_rng(5)
    years = np.tile(np.arange(2020, 2025), (200, 1))
    n = rng.integers(10, 400, (200, 5))
    o = (n * rng.uniform(0.1, 0.6, (200, 1)) * rng.uniform(0.6, 1.4, (200, 5))).astype(int)
    o[0], o[1] = 0, n[1]  # no events, all events: no trend to test
    chi2, direction = trends(years, o, n)
    for row in range(2, 200):
        p, pbar = o[row] / n[row], o[row].sum() / n[row].sum()
        xbar = (n[row] * years[row]).sum() / n[row].sum()
        sxx = (n[row] * (years[row] - xbar) ** 2).sum()
        slope = (n[row] * (years[row] - xbar) * (p - pbar)).sum() / sxx
        assert chi2[row] == pytest.approx(slope**2 * sxx / (pbar * (1 - pbar)), rel=1e-9)
        expected = "no_change" if chi2[row] <= TREND_CRITICAL else "increasing"
        assert direction[row] == (
            expected if slope > 0 or expected == "no_change" else "decreasing"
        )
    assert chi2[:2].tolist() == [0.0, 0.0] and direction[:2].tolist() == ["no_change"] * 2
    assert set(direction) == {"no_change", "increasing", "decreasing"}


# --- Newcombe ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("o1", "n1", "o2", "n2", "diff", "low", "high"),
    [
        # Newcombe (1998), Stat Med 17:873, table II, method 10
        (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),
        (5, 56, 0, 29, 0.0893, -0.0381, 0.1926),
        (0, 10, 0, 20, 0.0, -0.1611, 0.2775),
    ],
)
def test_newcombe_table_ii(o1, n1, o2, n2, diff, low, high) -> None:
    result = newcombe_difference(o1, n1, o2, n2)
    assert result == pytest.approx((diff, low, high), abs=6e-5)  # published to 4 decimals


def test_newcombe_extreme_rows_by_hand() -> None:
    z2 = Z95 * Z95

    def upper_of_zero(n: int) -> float:  # Wilson upper bound of 0/n
        return z2 / (n + z2)

    # 0/10 vs 0/10: diff 0 -/+ sqrt(0 + u10^2) = -/+ u10  (table II: -0.2775 .. 0.2775)
    _, low, high = newcombe_difference(0, 10, 0, 10)
    assert (low, high) == pytest.approx((-upper_of_zero(10), upper_of_zero(10)), abs=1e-12)
    # 10/10 vs 0/20: low = 1 - sqrt(u10^2 + u20^2), high = 1 (table II: 0.6791 .. 1.0000)
    _, low, high = newcombe_difference(10, 10, 0, 20)
    assert low == pytest.approx(1 - math.hypot(upper_of_zero(10), upper_of_zero(20)), abs=1e-12)
    assert low == pytest.approx(0.6791, abs=6e-5) and high == pytest.approx(1.0, abs=1e-12)
    # 10/10 vs 0/10: 1 - sqrt(2) u10 (table II: 0.6075)
    _, low, _ = newcombe_difference(10, 10, 0, 10)
    assert low == pytest.approx(1 - math.sqrt(2) * upper_of_zero(10), abs=1e-12)
    assert low == pytest.approx(0.6075, abs=6e-5)


def test_newcombe_assembled_from_scipys_wilson() -> None:
    # 6/7 vs 2/7 and a few more, with scipy's Wilson intervals as the independent ingredient
    for o1, n1, o2, n2 in [(6, 7, 2, 7), (3, 40, 11, 35), (120, 300, 80, 310)]:
        a = sps.binomtest(o1, n1).proportion_ci(method="wilson")
        b = sps.binomtest(o2, n2).proportion_ci(method="wilson")
        p1, p2 = o1 / n1, o2 / n2
        expected = (
            p1 - p2,
            p1 - p2 - math.hypot(p1 - a.low, b.high - p2),
            p1 - p2 + math.hypot(a.high - p1, p2 - b.low),
        )
        assert newcombe_difference(o1, n1, o2, n2) == pytest.approx(expected, abs=1e-9)


def test_newcombe_is_nan_for_an_empty_group() -> None:
    assert all(np.isnan(v) for v in newcombe_difference(3, 0, 2, 10))
