"""The true rates and element effects the generator planted, for the side files.

For each proportion indicator, a unit's probability of being in the numerator follows from
the component probabilities of generator.model (how cases cause their events is in
generator.cases); the planted rate is the mean of those probabilities over exactly the units
in the indicator's population on the extract date, i.e. the expectation of the estimator.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from generator import model
from generator.cases import FAST_WINDOW, HELP_WINDOW, NO_DATE, Truth, day_of
from pipelines.contract import APPROACH_ELEMENTS, SAFETY_ASSESSMENTS, VIOLENCE_TYPES

# Which components each proportion indicator's numerator probability is built from.
INDICATOR_COMPONENTS: dict[str, tuple[str, ...]] = {
    "recurrence_12m": ("recurrence",),
    "violence_continued_18m": ("violence_continued",),
    "children_without_help": ("no_help", "family_help", "child_help"),
    "families_without_help_offer": ("no_help",),
    "specialist_within_30d": ("no_help", "specialist", "specialist_declined", "specialist_fast"),
    "coordinator_within_30d": ("coordinator",),
    "system_help_partner_violence": ("no_help", "family_help", "perpetrator_help"),
    "light_help_for_severe": ("specialist",),
    "recurrence_after_restraining_order": ("recurrence",),
}
CHILD_INDICATORS = ("children_without_help",)
RATE_COLUMNS = ("municipality_code", "year", "indicator_id", "planted_rate", "population")
EFFECT_COLUMNS = (
    "element",
    "indicator_id",
    "effect",
    "direction",
    "odds_ratios",
    "population",
)


def unit_probabilities(
    p: dict[str, np.ndarray], child_p: np.ndarray, child_case: np.ndarray
) -> dict[str, np.ndarray]:
    """Per unit (case, or child for children_without_help): P(numerator event)."""
    some_help = 1 - p["no_help"]
    return {
        "recurrence_12m": p["recurrence"],
        "violence_continued_18m": p["violence_continued"],
        "children_without_help": p["no_help"][child_case]
        + some_help[child_case] * (1 - p["family_help"][child_case]) * (1 - child_p),
        "families_without_help_offer": p["no_help"],
        "specialist_within_30d": some_help
        * p["specialist"]
        * (1 - p["specialist_declined"])
        * p["specialist_fast"],
        "coordinator_within_30d": p["coordinator"],
        "system_help_partner_violence": some_help
        * (1 - (1 - p["family_help"]) * (1 - p["perpetrator_help"])),
        "light_help_for_severe": 1 - p["specialist"],
        "recurrence_after_restraining_order": p["recurrence"],
    }


def populations(truth: Truth, extract: date) -> dict[str, np.ndarray]:
    """Per unit: is it in the indicator's population on this extract date (INDICATORS.md)?"""
    e = day_of(extract)
    r = truth.report_day
    cov = truth.covariates
    severe = np.isin(cov.safety, [SAFETY_ASSESSMENTS.index(s) for s in model.SEVERE])
    window_6m = r + HELP_WINDOW <= e
    o = truth.restraining_day
    return {
        "recurrence_12m": r + 365 <= e,
        "violence_continued_18m": (truth.followup18_day != NO_DATE)
        & (truth.followup18_day <= e)
        & truth.followup18_known,
        "children_without_help": window_6m[truth.child_case],
        "families_without_help_offer": window_6m,
        "specialist_within_30d": severe & (r + FAST_WINDOW <= e),
        "coordinator_within_30d": r + FAST_WINDOW <= e,
        "system_help_partner_violence": (cov.violence == VIOLENCE_TYPES.index("partner"))
        & window_6m,
        "light_help_for_severe": severe & window_6m & truth.any_help,
        "recurrence_after_restraining_order": (o != NO_DATE) & (o + 365 <= e),
    }


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
        unit_year = year[truth.child_case] if indicator in CHILD_INDICATORS else year
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
    return [i for i, used in INDICATOR_COMPONENTS.items() if components & set(used)]


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
                    if c in INDICATOR_COMPONENTS[indicator]
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
