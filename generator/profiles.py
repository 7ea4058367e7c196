"""Synthetic approach profiles: which elements each municipality has in place, since when.

An element is either in place since a date before 2019 (a few of those stop on 31 December
2021 or 2022), introduced on 1 January 2021, 2022 or 2023, or absent; so every cohort year
of a municipality lies wholly before or after a change. Periods are inclusive at both ends.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.contract import APPROACH_ELEMENTS, APPROACH_SCHEMA

# (share in place since before 2019, share introduced 2021-2023); the rest never had it.
PREVALENCE: dict[str, tuple[float, float]] = {
    "specialist_at_front_door": (0.25, 0.30),
    "single_coordinator": (0.30, 0.30),
    "multidisciplinary_team": (0.45, 0.25),
    "system_oriented_offer": (0.30, 0.25),
    "child_focused_offer": (0.20, 0.30),
    "intensive_case_management": (0.25, 0.15),
    "long_term_monitoring": (0.15, 0.30),
}
STOPPED_SHARE = 0.10  # of the elements in place before 2019
NOTES: dict[str, str] = {
    "specialist_at_front_door": "Specialist huiselijk geweld bij de intake van het wijkteam",
    "single_coordinator": "Eén gezin, één plan, één regisseur vanaf de melding",
    "multidisciplinary_team": "Complexe casuïstiek naar het MDA++-team",
    "system_oriented_offer": "Systeemgerichte hulp, ook voor de pleger",
    "child_focused_offer": "Elk kind in een gemeld gezin krijgt een eigen hulpaanbod",
    "intensive_case_management": "Intensief casemanagement voor hoog-risicosituaties",
    "long_term_monitoring": "Veiligheid wordt minstens 18 maanden gevolgd",
}
EPOCH = date(1970, 1, 1)
SINCE_BEFORE_2019 = date(2014, 1, 1)  # earliest start of an element in place before 2019


def municipality_profile(rng: np.random.Generator, municipality_code: str) -> pl.DataFrame:
    """The dated elements of one municipality, one row per period, in contract columns."""
    rows = []
    for element in APPROACH_ELEMENTS:
        before, introduced = PREVALENCE[element]
        u, start_day, stop, stop_year, intro_year = rng.random(5)
        until = None
        if u < before:
            start = date.fromordinal(SINCE_BEFORE_2019.toordinal() + int(start_day * 5 * 365))
            if stop < STOPPED_SHARE:
                until = date(2021 + int(stop_year * 2), 12, 31)
        elif u < before + introduced:
            start = date(2021 + int(intro_year * 3), 1, 1)
        else:
            continue
        rows.append((municipality_code, element, start, until, NOTES[element]))
    return pl.DataFrame(rows, schema=APPROACH_SCHEMA, orient="row")


def elements_in_place(profile: pl.DataFrame, report_day: np.ndarray) -> np.ndarray:
    """Cases x elements: does each case's index report day (days since 1970) lie in a period?"""
    active = np.zeros((len(report_day), len(APPROACH_ELEMENTS)), dtype=bool)
    for element, start, until in profile.select(
        "element", "in_place_from", "in_place_until"
    ).iter_rows():
        lo = (start - EPOCH).days
        hi = (until - EPOCH).days if until is not None else np.iinfo(np.int64).max
        active[:, APPROACH_ELEMENTS.index(element)] |= (report_day >= lo) & (report_day <= hi)
    return active
