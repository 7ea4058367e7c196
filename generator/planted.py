"""The true rates and element effects the generator planted, for the side files.

For each proportion indicator, a unit's probability of being in the numerator follows from
the component probabilities of generator.model (how cases cause their events is in
generator.cases); the planted rate is the mean of those probabilities over exactly the units
in the indicator's population on the extract date, i.e. the expectation of the estimator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from generator import model
from generator.cases import FAST_WINDOW, HELP_WINDOW, NO_DATE, Truth, day_of
from pipelines.contract import APPROACH_ELEMENTS, SAFETY_ASSESSMENTS, VIOLENCE_TYPES

RATE_COLUMNS = ("municipality_code", "year", "indicator_id", "planted_rate", "population")
EFFECT_COLUMNS = (
    "element",
    "indicator_id",
    "effect",
    "direction",
    "odds_ratios",
    "population",
)


@dataclass(frozen=True)
class Chances:
    """Per case, each component's probability (`p`); per child, its case (`case`) and its
    chance of help of its own given some help (`child`)."""

    p: dict[str, np.ndarray]
    child: np.ndarray
    case: np.ndarray

    @property
    def some_help(self) -> np.ndarray:
        return 1 - self.p["no_help"]


@dataclass(frozen=True)
class Seen:
    """A municipality's cases as seen on an extract day `e`: report days `r`, and who is
    severe (acute or structural) or past the 6-month help window."""

    truth: Truth
    e: int

    @property
    def r(self) -> np.ndarray:
        return self.truth.report_day

    @property
    def severe(self) -> np.ndarray:
        safety = [SAFETY_ASSESSMENTS.index(s) for s in model.SEVERE]
        return np.isin(self.truth.covariates.safety, safety)

    @property
    def window_6m(self) -> np.ndarray:
        return self.r + HELP_WINDOW <= self.e


@dataclass(frozen=True)
class Planted:
    """How the generator plants one proportion indicator (INDICATORS.md): the components its
    numerator's probability is built from, that probability per unit, and which units are in
    its population. Units are cases, or children when `per_child`."""

    components: tuple[str, ...]
    probability: Callable[[Chances], np.ndarray]
    population: Callable[[Seen], np.ndarray]
    per_child: bool = False


# The indicators the generator plants a rate for; an indicator it has no model of gets none.
PLANTED: dict[str, Planted] = {
    "recurrence_12m": Planted(
        ("recurrence",), lambda c: c.p["recurrence"], lambda s: s.r + 365 <= s.e
    ),
    "violence_continued_18m": Planted(
        ("violence_continued",),
        lambda c: c.p["violence_continued"],
        lambda s: (
            (s.truth.followup18_day != NO_DATE)
            & (s.truth.followup18_day <= s.e)
            & s.truth.followup18_known
        ),
    ),
    "children_without_help": Planted(
        ("no_help", "family_help", "child_help"),
        lambda c: (
            c.p["no_help"][c.case]
            + c.some_help[c.case] * (1 - c.p["family_help"][c.case]) * (1 - c.child)
        ),
        lambda s: s.window_6m[s.truth.child_case],
        per_child=True,
    ),
    "families_without_help_offer": Planted(
        ("no_help",), lambda c: c.p["no_help"], lambda s: s.window_6m
    ),
    "specialist_within_30d": Planted(
        ("no_help", "specialist", "specialist_declined", "specialist_fast"),
        lambda c: (
            c.some_help
            * c.p["specialist"]
            * (1 - c.p["specialist_declined"])
            * c.p["specialist_fast"]
        ),
        lambda s: s.severe & (s.r + FAST_WINDOW <= s.e),
    ),
    "coordinator_within_30d": Planted(
        ("coordinator",), lambda c: c.p["coordinator"], lambda s: s.r + FAST_WINDOW <= s.e
    ),
    "system_help_partner_violence": Planted(
        ("no_help", "family_help", "perpetrator_help"),
        lambda c: c.some_help * (1 - (1 - c.p["family_help"]) * (1 - c.p["perpetrator_help"])),
        lambda s: (s.truth.covariates.violence == VIOLENCE_TYPES.index("partner")) & s.window_6m,
    ),
    "light_help_for_severe": Planted(
        ("specialist",),
        lambda c: 1 - c.p["specialist"],
        lambda s: s.severe & s.window_6m & s.truth.any_help,
    ),
    "recurrence_after_restraining_order": Planted(
        ("recurrence",),
        lambda c: c.p["recurrence"],
        lambda s: (s.truth.restraining_day != NO_DATE) & (s.truth.restraining_day + 365 <= s.e),
    ),
}


def unit_probabilities(
    p: dict[str, np.ndarray], child_p: np.ndarray, child_case: np.ndarray
) -> dict[str, np.ndarray]:
    """Per planted indicator, per unit (case, or child): P(numerator event)."""
    chances = Chances(p, child_p, child_case)
    return {indicator: planted.probability(chances) for indicator, planted in PLANTED.items()}


def populations(truth: Truth, extract: date) -> dict[str, np.ndarray]:
    """Per planted indicator, per unit: is it in the population on this extract date?"""
    seen = Seen(truth, day_of(extract))
    return {indicator: planted.population(seen) for indicator, planted in PLANTED.items()}


def _probabilities(truth: Truth, forced: str | None = None, without: str | None = None):
    logits = model.component_logits(
        truth.covariates, truth.municipality, forced=forced, without=without
    )
    p = {name: model.expit(x) for name, x in logits.items()}
    child_p = model.child_help_probability(logits["child_help"][truth.child_case], truth.child_age)
    return unit_probabilities(p, child_p, truth.child_case)


def planted_rates(truth: Truth, extract: date) -> pl.DataFrame:
    """Long table: municipality, cohort year, indicator, planted rate, population size."""
    probs = unit_probabilities(truth.probability, truth.child_probability, truth.child_case)
    pops = populations(truth, extract)
    year = truth.covariates.year
    frames = []
    for indicator, prob in probs.items():
        unit_year = year[truth.child_case] if PLANTED[indicator].per_child else year
        mask = pops[indicator]
        frames.append(
            pl.DataFrame({"year": unit_year[mask], "p": prob[mask]})
            .group_by("year")
            .agg(planted_rate=pl.col("p").mean(), population=pl.len())
            .with_columns(indicator_id=pl.lit(indicator))
        )
    return (
        pl.concat(frames)
        .with_columns(municipality_code=pl.lit(truth.municipality_code))
        .select(RATE_COLUMNS)
        .with_columns(pl.col("year").cast(pl.Int64), pl.col("population").cast(pl.Int64))
        .sort("indicator_id", "year")
    )


def effect_sums(truth: Truth, extract: date) -> pl.DataFrame:
    """Per element x touched indicator: the summed change in probability over the population
    when the element is switched on for every unit against off for every unit, and the count."""
    pops = populations(truth, extract)
    rows = []
    for element in APPROACH_ELEMENTS:
        on = _probabilities(truth, forced=element)
        off = _probabilities(truth, without=element)
        for indicator in touched_indicators(element):
            mask = pops[indicator]
            rows.append(
                (
                    element,
                    indicator,
                    float((on[indicator] - off[indicator])[mask].sum()),
                    int(mask.sum()),
                )
            )
    return pl.DataFrame(
        rows, schema=["element", "indicator_id", "sum_change", "population"], orient="row"
    )


def touched_indicators(element: str) -> list[str]:
    components = set(model.ELEMENT_EFFECTS[element])
    return [i for i, planted in PLANTED.items() if components & set(planted.components)]


def planted_effects(sums: pl.DataFrame) -> pl.DataFrame:
    """The average effect of each element on each indicator it touches, over all units."""
    odds = pl.DataFrame(
        [
            (
                element,
                indicator,
                ";".join(
                    f"{c}={np.exp(v):.3g}"
                    for c, v in model.ELEMENT_EFFECTS[element].items()
                    if c in PLANTED[indicator].components
                ),
            )
            for element in APPROACH_ELEMENTS
            for indicator in touched_indicators(element)
        ],
        schema=["element", "indicator_id", "odds_ratios"],
        orient="row",
    )
    order = {e: i for i, e in enumerate(APPROACH_ELEMENTS)}
    return (
        sums.group_by("element", "indicator_id")
        .agg(pl.col("sum_change").sum(), pl.col("population").sum())
        .join(odds, on=["element", "indicator_id"], how="left")
        .with_columns(
            effect=pl.when(pl.col("population") > 0).then(
                pl.col("sum_change") / pl.col("population")
            )
        )
        .with_columns(
            direction=pl.when(pl.col("effect") < 0)
            .then(pl.lit("lower"))
            .otherwise(pl.lit("higher"))
        )
        .select(EFFECT_COLUMNS)
        .sort(pl.col("element").replace_strict(order, return_dtype=pl.Int32), "indicator_id")
    )
