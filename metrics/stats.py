"""Pure, vectorised statistics for proportions: intervals, comparison, funnels, trend, difference.

Every function takes numpy arrays (or scalars, which broadcast) and returns numpy values; none
reads data or knows about indicators. Formulas and sources are in each docstring and explained
for analysts in docs/methods.md.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Z95 = 1.959963984540054
Z998 = 3.090232306167813
# Fingertips marks a trend as significant at 99.8%: chi-squared (1 df) above Z998**2.
TREND_CRITICAL = 9.5495
MIN_TREND_POINTS = 5

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
POLARITIES: tuple[str, ...] = ("lower_is_better", "higher_is_better")


def wilson(
    numerator: ArrayLike, denominator: ArrayLike, z: float = Z95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for O events out of n: (low, high), NaN where n == 0.

    (2O + z^2 -/+ z*sqrt(z^2 + 4*O*(1 - O/n))) / (2*(n + z^2))
    Wilson (1927), JASA 22:209; as PHEindicatormethods' phe_proportion (Fingertips).
    """
    o = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Clamp at zero: O == n can leave a tiny negative under the root in floating point.
        root = z * np.sqrt(np.maximum(z * z + 4.0 * o * (1.0 - o / n), 0.0))
        centre = 2.0 * o + z * z
        scale = 2.0 * (n + z * z)
        low = np.where(n > 0, (centre - root) / scale, np.nan)
        high = np.where(n > 0, (centre + root) / scale, np.nan)
    # Algebraically low = 0 at O = 0 and high = 1 at O = n; rounding can miss by 1 ulp and
    # put the estimate itself outside its interval, so set those edges exactly.
    low = np.where(o <= 0, np.where(n > 0, 0.0, np.nan), low)
    high = np.where((o >= n) & (n > 0), 1.0, high)
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def compare(
    benchmark: ArrayLike, ci_low: ArrayLike, ci_high: ArrayLike, polarity: str
) -> npt.NDArray[np.str_]:
    """Fingertips' comparison: 'better' | 'similar' | 'worse' | 'not_compared'.

    The area differs from the benchmark when the benchmark lies strictly outside the area's
    interval; which side is better follows the indicator's polarity. Any NaN (a suppressed
    area, a missing benchmark) gives 'not_compared'. Source: PHE, "Technical guide:
    confidence intervals" / Fingertips' benchmarking against a goal or comparator.
    """
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be one of {POLARITIES}, got {polarity!r}")
    bench, low, high = np.broadcast_arrays(
        np.asarray(benchmark, dtype=float),
        np.asarray(ci_low, dtype=float),
        np.asarray(ci_high, dtype=float),
    )
    area_lower = bench > high  # the whole interval lies below the benchmark
    area_higher = bench < low
    lower_word, higher_word = (
        ("better", "worse") if polarity == "lower_is_better" else ("worse", "better")
    )
    result = np.select([area_lower, area_higher], [lower_word, higher_word], default="similar")
    missing = np.isnan(bench) | np.isnan(low) | np.isnan(high)
    return np.where(missing, "not_compared", result).astype(np.str_)


def funnel_limits(
    benchmark: float, denominator: ArrayLike, z: float = Z95
) -> tuple[FloatArray, FloatArray]:
    """Funnel-plot control limits for a proportion at denominator n: (lower, upper).

    The limits are the observed proportions p at which the area's Wilson interval just
    touches the benchmark theta0. The Wilson interval is the set of theta with
    |p - theta| <= z*sqrt(theta(1-theta)/n), so it touches theta0 exactly at
    p = theta0 -/+ z*sqrt(theta0(1-theta0)/n): PHEindicatormethods' closed form (Fingertips
    funnel plots; Spiegelhalter 2005, Stat Med 24:1185). Clipped to [0, 1]; NaN for n <= 0.
    """
    n = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(benchmark * (1.0 - benchmark) / n)
    half = np.where(n > 0, half, np.nan)
    return np.clip(benchmark - half, 0.0, 1.0), np.clip(benchmark + half, 0.0, 1.0)


def _winsorise(values: FloatArray, share: float = 0.1) -> FloatArray:
    """Set the floor(share*k) lowest and highest of k values to the next value inward.

    The same convention as scipy.stats.mstats.winsorize(limits=(share, share)).
    """
    k = values.size
    cut = int(share * k)
    if cut == 0:
        return values
    ordered = np.sort(values)
    return np.clip(values, ordered[cut], ordered[k - cut - 1])


def overdispersion(
    numerator: ArrayLike, denominator: ArrayLike, benchmark: float
) -> tuple[float, float]:
    """Spiegelhalter's over-dispersion of areas around a benchmark: (phi, tau2).

    z_i = (p_i - theta0) / s_i with s_i^2 = theta0(1-theta0)/n_i; the z-scores are winsorised
    10% at each end (floor(0.1*k) values each side set to the next value inward) and
    phi = mean(z_w^2). When phi > 1 the additive random-effects variance is
    tau2 = (k*phi - (k - 1)) / (sum(w) - sum(w^2)/sum(w)), w_i = 1/s_i^2
    (DerSimonian-Laird form); tau2 = 0 when phi <= 1 (no over-dispersion to allow for).
    Spiegelhalter (2005), "Handling over-dispersion of performance indicators", Qual Saf
    Health Care 14:347-351. Areas with n == 0 are left out; (NaN, 0.0) when no area remains
    or the benchmark is 0 or 1 (no variance to scale by).
    """
    o = np.asarray(numerator, dtype=float).ravel()
    n = np.asarray(denominator, dtype=float).ravel()
    keep = n > 0
    o, n = o[keep], n[keep]
    if o.size == 0 or not 0.0 < benchmark < 1.0:
        return float("nan"), 0.0
    variance = benchmark * (1.0 - benchmark) / n
    z = (o / n - benchmark) / np.sqrt(variance)
    phi = float(np.mean(_winsorise(z) ** 2))
    if phi <= 1.0:
        return phi, 0.0
    w = 1.0 / variance
    k = o.size
    tau2 = (k * phi - (k - 1)) / (w.sum() - (w * w).sum() / w.sum())
    return phi, float(tau2)


def random_effects_limits(
    benchmark: float, denominator: ArrayLike, tau2: float, z: float = Z95
) -> tuple[FloatArray, FloatArray]:
    """Additive random-effects funnel limits: theta0 -/+ z*sqrt(s^2 + tau2), clipped to [0, 1].

    s^2 = theta0(1-theta0)/n. Spiegelhalter (2005), section 3.2; with tau2 = 0 these are the
    plain normal-approximation limits, equal to funnel_limits.
    """
    n = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(benchmark * (1.0 - benchmark) / n + tau2)
    half = np.where(n > 0, half, np.nan)
    return np.clip(benchmark - half, 0.0, 1.0), np.clip(benchmark + half, 0.0, 1.0)


def trend(years: ArrayLike, numerator: ArrayLike, denominator: ArrayLike) -> tuple[float, str]:
    """Cochran-Armitage chi-squared test for a linear trend in proportions: (chi2, direction).

    With scores x_i (the years), O_i events of n_i, N = sum n, pbar = sum O / N and
    xbar = sum(n_i x_i) / N:  T = sum O_i (x_i - xbar),
    chi2 = T^2 / (pbar (1 - pbar) sum n_i (x_i - xbar)^2)   (1 df).
    Direction 'increasing' / 'decreasing' by the sign of T when chi2 > TREND_CRITICAL
    (9.5495, 99.8%, as Fingertips), else 'no_change'; chi2 = 0 when pbar is 0 or 1.
    Armitage (1955), Biometrics 11:375; Agresti, Categorical Data Analysis (2013), 3.4.6.
    Raises ValueError for fewer than MIN_TREND_POINTS points (the caller reports it).
    """
    x = np.asarray(years, dtype=float).ravel()
    o = np.asarray(numerator, dtype=float).ravel()
    n = np.asarray(denominator, dtype=float).ravel()
    if not x.size == o.size == n.size:
        raise ValueError("years, numerator and denominator must have the same length")
    chi2, direction = trends(x[np.newaxis], o[np.newaxis], n[np.newaxis])
    return float(chi2[0]), str(direction[0])


def trends(
    years: ArrayLike, numerator: ArrayLike, denominator: ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.str_]]:
    """`trend` for many series at once: one series per row of the 2-D arrays (tens of
    thousands of areas × breakdowns, each a handful of years). Returns chi2 and direction
    per row."""
    x = np.asarray(years, dtype=float)
    o = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    if x.ndim != 2 or not x.shape == o.shape == n.shape:
        raise ValueError("years, numerator and denominator must be 2-D arrays of one shape")
    if x.shape[1] < MIN_TREND_POINTS:
        raise ValueError(f"a trend needs at least {MIN_TREND_POINTS} points, got {x.shape[1]}")
    total = n.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pbar = o.sum(axis=1) / total
        xbar = (n * x).sum(axis=1) / total
        centred = x - xbar[:, np.newaxis]
        t_stat = (o * centred).sum(axis=1)
        spread = (n * centred**2).sum(axis=1)
        degenerate = (pbar <= 0.0) | (pbar >= 1.0) | (spread == 0.0) | np.isnan(pbar)
        chi2 = np.where(degenerate, 0.0, t_stat**2 / (pbar * (1.0 - pbar) * spread))
    direction = np.where(
        chi2 <= TREND_CRITICAL, "no_change", np.where(t_stat > 0, "increasing", "decreasing")
    )
    return chi2, direction


def newcombe_difference(
    o1: ArrayLike, n1: ArrayLike, o2: ArrayLike, n2: ArrayLike, z: float = Z95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Difference of two independent proportions p1 - p2 with Newcombe's hybrid score interval.

    With Wilson intervals (l1, u1) for p1 and (l2, u2) for p2:
    low  = (p1 - p2) - sqrt((p1 - l1)^2 + (u2 - p2)^2)
    high = (p1 - p2) + sqrt((u1 - p1)^2 + (p2 - l2)^2)
    Newcombe (1998), Stat Med 17:873-890, method 10. NaN where a denominator is 0.
    """
    o1a, n1a = np.asarray(o1, dtype=float), np.asarray(n1, dtype=float)
    o2a, n2a = np.asarray(o2, dtype=float), np.asarray(n2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(n1a > 0, o1a / n1a, np.nan)
        p2 = np.where(n2a > 0, o2a / n2a, np.nan)
    l1, u1 = wilson(o1a, n1a, z)
    l2, u2 = wilson(o2a, n2a, z)
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return diff, low, high
