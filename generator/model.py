"""The planted truth: case mix, per-case probabilities of every event, trends and element effects.

Every probability is a logistic model on a case's covariates. The numbers and their sources
are documented in docs/sample_data.md; keep the two together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.contract import AGE_BANDS, APPROACH_ELEMENTS, SAFETY_ASSESSMENTS, VIOLENCE_TYPES

# Cases per 1,000 inhabitants per year: ~90,000 a year nationally (PRODUCT.md: "in the order
# of 100,000 new cases a year"; CBS counts ~127,000 Veilig Thuis reports, not all local cases).
CASES_PER_1000 = 5.0
VOLUME_GROWTH_PER_YEAR = 0.02
VOLUME_SD = 0.15  # log-scale spread of municipalities' case rates around the national rate

VIOLENCE_SHARES = dict(zip(VIOLENCE_TYPES, (0.45, 0.30, 0.07, 0.08, 0.10), strict=True))
SAFETY_SHARES = dict(zip(SAFETY_ASSESSMENTS, (0.10, 0.35, 0.40, 0.15), strict=True))
AGE_SHARES = dict(zip(AGE_BANDS, (0.30, 0.45, 0.25), strict=True))
# Children 0-17 in the household: P(none) and, when there are some, 1 + Poisson(extra).
CHILDREN_NONE = dict(zip(VIOLENCE_TYPES, (0.35, 0.0, 0.45, 0.92, 0.50), strict=True))
CHILDREN_EXTRA = dict(zip(VIOLENCE_TYPES, (0.9, 0.9, 0.5, 0.5, 0.6), strict=True))
MAX_CHILDREN = 8
# Temporary restraining order (huisverbod), ~3% of cases, mostly partner violence and acute.
RESTRAINING_ORDER_BY_TYPE = dict(
    zip(VIOLENCE_TYPES, (0.055, 0.010, 0.015, 0.005, 0.005), strict=True)
)
RESTRAINING_ORDER_BY_SAFETY = dict(zip(SAFETY_ASSESSMENTS, (3.0, 1.2, 0.3, 0.8), strict=True))
SEVERE = ("acute", "structural")

# The events a case can have; each is one Bernoulli draw with a per-case probability.
COMPONENTS = (
    "no_help",  # no help offered at all within 6 months
    "family_help",  # given some help: a row for the whole family within 6 months
    "perpetrator_help",  # given some help: a row for the perpetrator within 6 months
    "child_help",  # given some help: a row of its own for one child within 6 months
    "victim_help",  # given some help: a basic row for the victim
    "specialist",  # given some help: a specialist row within 6 months
    "specialist_fast",  # given that specialist row: it starts within 30 days
    "specialist_declined",  # given that specialist row: it never starts
    "coordinator",  # a coordinator assigned within 30 days
    "recurrence",  # a new report 8..365 days after the index report
    "violence_continued",  # the 18-month follow-up answers 'yes'
    "followup",  # the case is followed up (3, 12, 18 months)
)

# Baseline probability in 2019 for a municipality of average quality without any element.
BASE = {
    "no_help": 0.085,
    "family_help": 0.25,
    "perpetrator_help": 0.22,
    "child_help": 0.20,
    "victim_help": 0.60,
    "specialist": 0.55,
    "specialist_fast": 0.30,
    "specialist_declined": 0.08,
    "coordinator": 0.35,
    "recurrence": 0.31,
    "violence_continued": 0.56,
    "followup": 0.35,
}
# Change of the logit per cohort year after 2019: modest improvement everywhere.
TREND = {
    "no_help": -0.04,
    "family_help": 0.03,
    "perpetrator_help": 0.03,
    "child_help": 0.04,
    "specialist": 0.03,
    "specialist_fast": 0.04,
    "coordinator": 0.05,
    "recurrence": -0.02,
    "violence_continued": -0.03,
    "followup": 0.03,
}
# +1 when a higher probability is better for the family, -1 when worse; a better-performing
# municipality moves each component in its good direction.
GOOD_DIRECTION = {
    "no_help": -1,
    "family_help": 1,
    "perpetrator_help": 1,
    "child_help": 1,
    "victim_help": 1,
    "specialist": 1,
    "specialist_fast": 1,
    "specialist_declined": -1,
    "coordinator": 1,
    "recurrence": -1,
    "violence_continued": -1,
    "followup": 1,
}
# Between-municipality spread on the logit scale: a shared quality score (weight) plus a
# component's own noise; a few municipalities get an amplified score (clearly better/worse).
MUNICIPALITY_SD = 0.25
SHARED_WEIGHT = 0.7
OUTLIER_SHARE = 0.12
OUTLIER_FACTOR = 2.5

# Logit shifts by safety assessment (acute, structural, not_unsafe, unknown).
BY_SAFETY = {
    "no_help": (-0.6, -0.2, 0.5, 0.2),
    "specialist": (0.6, 0.3, -1.4, -0.9),
    "specialist_fast": (0.6, 0.0, -0.3, -0.2),
    "coordinator": (0.5, 0.3, -0.4, -0.2),
    "recurrence": (0.3, 0.2, -0.3, 0.0),
    "violence_continued": (0.3, 0.2, -0.4, 0.0),
}
# Logit shifts by violence type (partner, child_abuse, against_parents, elder_abuse, other).
BY_VIOLENCE = {
    "child_help": (0.0, 0.6, 0.0, 0.0, 0.0),
    "perpetrator_help": (0.0, -0.3, -0.8, -0.8, -0.8),
}
BY_AGE = (-0.4, 0.0, 0.3)  # child_help by age band 0-3, 4-11, 12-17
RESTRAINING_ORDER_RECURRENCE = -0.5  # after a huisverbod 21% vs 30% (Regioplan 2013)

# Planted element effects: log odds ratio on a component for a case that falls under the
# element. intensive_case_management only acts on severe cases (it targets high risk).
ELEMENT_EFFECTS: dict[str, dict[str, float]] = {
    "specialist_at_front_door": {"specialist": 0.9, "specialist_fast": 0.9},
    "single_coordinator": {"coordinator": 1.4},
    "multidisciplinary_team": {"coordinator": 0.3, "recurrence": -0.15, "violence_continued": -0.2},
    "system_oriented_offer": {"family_help": 0.9, "perpetrator_help": 0.9},
    "child_focused_offer": {"child_help": 1.3},
    "intensive_case_management": {"recurrence": -0.2, "violence_continued": -0.25},
    "long_term_monitoring": {"followup": 1.6, "recurrence": -0.1, "violence_continued": -0.25},
}
SEVERE_ONLY_ELEMENTS = ("intensive_case_management",)


def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class CaseCovariates:
    """What a case's probabilities depend on; arrays of one length (the cases)."""

    year: np.ndarray  # cohort year
    safety: np.ndarray  # index into SAFETY_ASSESSMENTS
    violence: np.ndarray  # index into VIOLENCE_TYPES
    restraining_order: np.ndarray  # bool
    elements: np.ndarray  # bool (cases x APPROACH_ELEMENTS): falls under the element


def municipality_effects(rng: np.random.Generator) -> dict[str, float]:
    """One municipality's logit shift per component (its quality, good direction positive)."""
    shared = rng.normal()
    if rng.random() < OUTLIER_SHARE:
        shared *= OUTLIER_FACTOR
    own = rng.normal(size=len(COMPONENTS))
    mix = SHARED_WEIGHT * shared + np.sqrt(1 - SHARED_WEIGHT**2) * own
    return {
        name: float(GOOD_DIRECTION[name] * MUNICIPALITY_SD * m)
        for name, m in zip(COMPONENTS, mix, strict=True)
    }


def component_logits(
    cov: CaseCovariates,
    municipality: dict[str, float],
    without: str | None = None,
    forced: str | None = None,
) -> dict[str, np.ndarray]:
    """Per-case logit of every component; `forced`/`without` set one element on/off for all."""
    elements = cov.elements.copy()
    for name, value in ((forced, True), (without, False)):
        if name is not None:
            elements[:, APPROACH_ELEMENTS.index(name)] = value
    severe = np.isin(cov.safety, [SAFETY_ASSESSMENTS.index(s) for s in SEVERE])
    years = (cov.year - 2019).astype(float)
    out = {}
    for name in COMPONENTS:
        x = np.full(len(years), logit(BASE[name]) + municipality[name])
        x += TREND.get(name, 0.0) * years
        if name in BY_SAFETY:
            x += np.asarray(BY_SAFETY[name])[cov.safety]
        if name in BY_VIOLENCE:
            x += np.asarray(BY_VIOLENCE[name])[cov.violence]
        if name == "recurrence":
            x += RESTRAINING_ORDER_RECURRENCE * cov.restraining_order
        for j, element in enumerate(APPROACH_ELEMENTS):
            effect = ELEMENT_EFFECTS[element].get(name)
            if effect is None:
                continue
            applies = elements[:, j] & severe if element in SEVERE_ONLY_ELEMENTS else elements[:, j]
            x += effect * applies
        out[name] = x
    return out


def child_help_probability(case_logit: np.ndarray, age: np.ndarray) -> np.ndarray:
    """A child's chance of help of its own, from its case's logit and its age band index."""
    return expit(case_logit + np.asarray(BY_AGE)[age])
