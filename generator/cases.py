"""One municipality's synthetic cases on a full timeline, and their snapshot on an extract date.

Everything is drawn vectorised with numpy from a generator seeded by (seed, municipality), so
a municipality's data do not depend on which other municipalities are generated. Dates are
whole days since 1970-01-01 until the snapshot turns them into contract tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from generator import model
from generator.profiles import elements_in_place
from pipelines.contract import (
    AGE_BANDS,
    REPORTERS,
    SAFETY_ASSESSMENTS,
    TABLES,
    VIOLENCE_TYPES,
)

EPOCH = date(1970, 1, 1)
NO_DATE = -1  # sentinel for an empty date until the snapshot turns it into null

STREAM_MUNICIPALITY = 1
STREAM_CASES = 2
STREAM_PROFILE = 3

HELP_WINDOW = 182  # "offered within 6 months" = R .. R + 182 (INDICATORS.md)
FAST_WINDOW = 30
RESTRAINING_ORDER_LEAD = 14  # a huisverbod may precede the report by at most 14 days
SPECIALIST_SLOW_WAIT_MEAN = 60  # days beyond 30 for specialist help that is not fast
BASIC_STARTED = 0.85
HELP_ENDED = 0.85
LATER_HELP = 0.15  # a help row offered after the 6-month window
LATER_HELP_IF_NONE = 0.30
LATER_SPECIALIST = 0.40
SECOND_RECURRENCE = 0.30
SAME_INCIDENT_REPORT = 0.15  # a report within 7 days: the same incident, not a recurrence
REPORT_AFTER_YEAR = 0.25
REPORTER_SHARES = (0.40, 0.35, 0.15, 0.10)
COORDINATOR_LATER = 0.30
CLOSED = 0.90
FOLLOWUP_PRESENT = {"3m": (0.90, 75, 110), "12m": (0.80, 340, 395), "18m": (0.75, 500, 600)}
FOLLOWUP_UNKNOWN = 0.10
PSEUDONYM_BITS = 40
PSEUDONYM_KINDS = ("C", "K")  # case, child (kind)
PSEUDONYM_MULTIPLIER = 0x9E3779B97F  # odd, so multiplying is a bijection modulo 2**40
# Alternate letters that are not hex digits with hex digits, so no run of digits in a
# pseudonym can ever look like a BSN or a phone number.
LETTERS = np.frombuffer(b"ghjkmnpqrstvwxyz", dtype="S1")
HEX = np.frombuffer(b"0123456789abcdef", dtype="S1")


def day_of(d: date) -> int:
    return (d - EPOCH).days


def pseudonyms(prefix: str, municipality_number: int, index: np.ndarray, seed: int) -> np.ndarray:
    """Unique, stable, harmless ids: a bijective scramble of (kind, municipality, index).

    The kind (case or child) takes bits 36-39, the municipality 22-35, the index 0-21, so ids
    never collide and a child's id says nothing about its case's.
    """
    mask = (1 << PSEUDONYM_BITS) - 1
    key = (seed * 0x5851F42D4C957F2D) & mask
    kind = PSEUDONYM_KINDS.index(prefix)
    x = (
        (np.uint64(kind) << np.uint64(36))
        + (np.uint64(municipality_number) << np.uint64(22))
        + index.astype(np.uint64)
    )
    x = ((x * np.uint64(PSEUDONYM_MULTIPLIER)) & np.uint64(mask)) ^ np.uint64(key)
    shifts = np.arange(PSEUDONYM_BITS - 4, -1, -4, dtype=np.uint64)
    nibbles = ((x[:, None] >> shifts) & np.uint64(0xF)).astype(np.intp)
    chars = np.where(np.arange(nibbles.shape[1]) % 2 == 0, LETTERS[nibbles], HEX[nibbles])
    body = np.ascontiguousarray(chars).view(f"S{nibbles.shape[1]}").ravel()
    return np.char.add(prefix.encode(), body).astype(str)


@dataclass
class Truth:
    """The full timeline of one municipality plus what the planted rates need."""

    municipality_code: str
    covariates: model.CaseCovariates
    municipality: dict[str, float]
    probability: dict[str, np.ndarray]  # per case, per component
    report_day: np.ndarray
    any_help: np.ndarray  # some help offered within 6 months
    restraining_day: np.ndarray  # NO_DATE when none
    followup18_day: np.ndarray  # NO_DATE when none
    followup18_known: np.ndarray  # the 18-month answer is yes or no
    child_case: np.ndarray  # case index of each child
    child_age: np.ndarray
    child_probability: np.ndarray  # each child's chance of help of its own, given some help
    tables: dict[str, pl.DataFrame]  # contract columns, dates as day numbers, case/child index


def _volume(
    rng: np.random.Generator, population: int, years: list[int], scale: float, last_day: int
) -> np.ndarray:
    """Sorted index report days: Poisson counts per year, uniform within the year."""
    factor = np.exp(rng.normal(0.0, model.VOLUME_SD))
    days = []
    for year in years:
        first, last = day_of(date(year, 1, 1)), min(day_of(date(year, 12, 31)), last_day)
        if last < first:
            continue
        share = (last - first + 1) / (day_of(date(year, 12, 31)) - first + 1)
        growth = 1 + model.VOLUME_GROWTH_PER_YEAR * (year - 2019)
        mean = model.CASES_PER_1000 * population / 1000 * scale * factor * growth * share
        days.append(np.sort(rng.integers(first, last + 1, size=rng.poisson(mean))))
    return np.concatenate(days) if days else np.zeros(0, dtype=np.int64)


def _basic_timing(
    rng: np.random.Generator, report: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offered within the 6-month window (early more likely), start and end or NO_DATE."""
    n = len(report)
    offered = report + np.floor((HELP_WINDOW + 1) * rng.random(n) ** 2).astype(np.int64)
    start = np.where(rng.random(n) < BASIC_STARTED, offered + rng.integers(0, 43, n), NO_DATE)
    end = _end(rng, start, 20, 300)
    return offered, start, end


def _end(rng: np.random.Generator, start: np.ndarray, low: int, high: int) -> np.ndarray:
    n = len(start)
    ended = (start != NO_DATE) & (rng.random(n) < HELP_ENDED)
    return np.where(ended, start + rng.integers(low, high + 1, n), NO_DATE)


def _help_rows(
    case: np.ndarray,
    recipient: str | np.ndarray,
    level: str | np.ndarray,
    timing: tuple[np.ndarray, np.ndarray, np.ndarray],
    child: np.ndarray | None = None,
) -> pl.DataFrame:
    offered, start, end = timing
    n = len(case)
    levels = np.full(n, level) if isinstance(level, str) else level
    recipients = np.full(n, recipient) if isinstance(recipient, str) else recipient
    return pl.DataFrame(
        {
            "case": case.astype(np.int64),
            "recipient": recipients.astype(str),
            "child": (np.full(n, -1) if child is None else child).astype(np.int64),
            "level": levels.astype(str),
            "offered_date": offered.astype(np.int64),
            "start_date": start.astype(np.int64),
            "end_date": end.astype(np.int64),
        }
    )


def generate_municipality(
    seed: int,
    municipality_code: str,
    population: int,
    years: list[int],
    scale: float,
    profile: pl.DataFrame,
    last_day: int,
) -> Truth:
    """Draw every case of one municipality reported in `years` up to `last_day`."""
    number = int(municipality_code[2:])
    rng_m = np.random.default_rng([seed, number, STREAM_MUNICIPALITY])
    municipality = model.municipality_effects(rng_m)
    report = _volume(rng_m, population, years, scale, last_day)
    rng = np.random.default_rng([seed, number, STREAM_CASES])
    n = len(report)
    cohort = report.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970

    violence = rng.choice(len(VIOLENCE_TYPES), size=n, p=list(model.VIOLENCE_SHARES.values()))
    safety = rng.choice(len(SAFETY_ASSESSMENTS), size=n, p=list(model.SAFETY_SHARES.values()))
    ro_p = (
        np.asarray(list(model.RESTRAINING_ORDER_BY_TYPE.values()))[violence]
        * np.asarray(list(model.RESTRAINING_ORDER_BY_SAFETY.values()))[safety]
    )
    restraining = rng.random(n) < ro_p
    lead = np.where(restraining, rng.integers(0, RESTRAINING_ORDER_LEAD + 1, n), 0)
    restraining_day = np.where(restraining, report - lead, NO_DATE)

    cov = model.CaseCovariates(
        year=cohort,
        safety=safety,
        violence=violence,
        restraining_order=restraining,
        elements=elements_in_place(profile, report),
    )
    logits = model.component_logits(cov, municipality)
    p = {name: model.expit(x) for name, x in logits.items()}

    # Children in the household at the index report.
    none_p = np.asarray(list(model.CHILDREN_NONE.values()))[violence]
    extra = np.asarray(list(model.CHILDREN_EXTRA.values()))[violence]
    n_children = np.where(
        rng.random(n) < none_p, 0, np.minimum(1 + rng.poisson(extra), model.MAX_CHILDREN)
    )
    child_case = np.repeat(np.arange(n), n_children)
    child_age = rng.choice(len(AGE_BANDS), size=len(child_case), p=list(model.AGE_SHARES.values()))
    child_p = model.child_help_probability(logits["child_help"][child_case], child_age)

    # Help within the 6-month window: first whether any, then each kind independently.
    any_help = rng.random(n) >= p["no_help"]
    family = any_help & (rng.random(n) < p["family_help"])
    perpetrator = any_help & (rng.random(n) < p["perpetrator_help"])
    child_help = any_help[child_case] & (rng.random(len(child_case)) < child_p)
    specialist = any_help & (rng.random(n) < p["specialist"])
    some_child = np.bincount(child_case[child_help], minlength=n) > 0
    victim = any_help & (
        (rng.random(n) < p["victim_help"]) | ~(family | perpetrator | some_child | specialist)
    )
    fast = rng.random(n) < p["specialist_fast"]
    declined = rng.random(n) < p["specialist_declined"]
    wait = np.where(
        fast,
        rng.integers(0, FAST_WINDOW + 1, n),
        FAST_WINDOW + 1 + np.floor(rng.exponential(SPECIALIST_SLOW_WAIT_MEAN, n)).astype(np.int64),
    )
    spec_offered = report + np.floor(rng.random(n) * (np.minimum(wait, HELP_WINDOW) + 1)).astype(
        np.int64
    )
    spec_start = np.where(declined, NO_DATE, report + wait)
    spec_end = _end(rng, spec_start, 30, 365)

    later = rng.random(n) < np.where(any_help, LATER_HELP, LATER_HELP_IF_NONE)
    later_offered = report + HELP_WINDOW + 1 + rng.integers(0, 400, n)
    later_start = np.where(rng.random(n) < 0.8, later_offered + rng.integers(0, 61, n), NO_DATE)
    later_recipient = rng.choice(
        np.array(["victim", "perpetrator", "family"]), n, p=[0.5, 0.25, 0.25]
    )
    later_level = np.where(rng.random(n) < LATER_SPECIALIST, "specialist", "basic")
    later_end = _end(rng, later_start, 20, 300)

    def pick(mask: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(a[mask] for a in arrays)

    cases_idx = np.arange(n)
    help_table = pl.concat(
        [
            _help_rows(cases_idx[family], "family", "basic", _basic_timing(rng, report[family])),
            _help_rows(
                cases_idx[perpetrator],
                "perpetrator",
                "basic",
                _basic_timing(rng, report[perpetrator]),
            ),
            _help_rows(
                child_case[child_help],
                "child",
                "basic",
                _basic_timing(rng, report[child_case[child_help]]),
                child=np.flatnonzero(child_help),
            ),
            _help_rows(cases_idx[victim], "victim", "basic", _basic_timing(rng, report[victim])),
            _help_rows(
                cases_idx[specialist],
                "victim",
                "specialist",
                pick(specialist, spec_offered, spec_start, spec_end),
            ),
            _help_rows(
                cases_idx[later],
                later_recipient[later],
                later_level[later],
                pick(later, later_offered, later_start, later_end),
            ),
        ]
    ).sort("case", "offered_date", "recipient", "child")

    # Coordinator, closing.
    coordinator = np.where(
        rng.random(n) < p["coordinator"],
        report + rng.integers(0, FAST_WINDOW + 1, n),
        np.where(
            rng.random(n) < COORDINATOR_LATER,
            report + FAST_WINDOW + 1 + rng.integers(0, 300, n),
            NO_DATE,
        ),
    )
    closed = np.where(rng.random(n) < CLOSED, report + 30 + rng.integers(0, 700, n), NO_DATE)

    # Later reports. A recurrence lies in R+8..R+365 and, after a huisverbod on O = R - lead,
    # also in O+8..O+365; a non-recurrent case only gets reports outside both windows.
    recurrence = rng.random(n) < p["recurrence"]
    window_end = 365 - lead
    first = report + rng.integers(8, window_end + 1)
    second_mask = recurrence & (rng.random(n) < SECOND_RECURRENCE)
    second = report + rng.integers(8, window_end + 1)
    same_mask = ~recurrence & (lead <= 7) & (rng.random(n) < SAME_INCIDENT_REPORT)
    same = report + rng.integers(0, 8 - np.minimum(lead, 7))
    after_mask = rng.random(n) < REPORT_AFTER_YEAR
    after = report + 366 + rng.integers(0, 600, n)
    report_case = np.concatenate(
        [cases_idx[recurrence], cases_idx[second_mask], cases_idx[same_mask], cases_idx[after_mask]]
    )
    report_day = np.concatenate(
        [first[recurrence], second[second_mask], same[same_mask], after[after_mask]]
    )
    reports_table = pl.DataFrame(
        {
            "case": report_case.astype(np.int64),
            "report_date": report_day.astype(np.int64),
            "reporter": np.asarray(REPORTERS)[
                rng.choice(len(REPORTERS), len(report_case), p=REPORTER_SHARES)
            ],
        }
    ).sort("case", "report_date")

    # Follow-ups at about 3, 12 and 18 months for the cases that are followed.
    followed = rng.random(n) < p["followup"]
    parts = []
    followup18_day = np.full(n, NO_DATE)
    followup18_known = np.zeros(n, dtype=bool)
    for label, (present, low, high) in FOLLOWUP_PRESENT.items():
        mask = followed & (rng.random(n) < present)
        day = report + rng.integers(low, high + 1, n)
        unknown = rng.random(n) < FOLLOWUP_UNKNOWN
        yes_p = (
            p["violence_continued"]
            if label == "18m"
            else np.minimum(p["violence_continued"] + 0.15, 0.95)
        )
        answer = np.where(unknown, "unknown", np.where(rng.random(n) < yes_p, "yes", "no"))
        if label == "18m":
            followup18_day = np.where(mask, day, NO_DATE)
            followup18_known = mask & ~unknown
        parts.append(
            pl.DataFrame(
                {
                    "case": cases_idx[mask].astype(np.int64),
                    "followup_date": day[mask].astype(np.int64),
                    "violence_since_previous": answer[mask],
                }
            )
        )
    followups_table = pl.concat(parts).sort("case", "followup_date")

    cases_table = pl.DataFrame(
        {
            "case": cases_idx.astype(np.int64),
            "report_date": report.astype(np.int64),
            "violence_type": np.asarray(VIOLENCE_TYPES)[violence],
            "safety_assessment": np.asarray(SAFETY_ASSESSMENTS)[safety],
            "restraining_order_date": restraining_day.astype(np.int64),
            "coordinator_date": coordinator.astype(np.int64),
            "closed_date": closed.astype(np.int64),
        }
    )
    children_table = pl.DataFrame(
        {
            "case": child_case.astype(np.int64),
            "child": np.arange(len(child_case), dtype=np.int64),
            "age_band": np.asarray(AGE_BANDS)[child_age],
        }
    )
    return Truth(
        municipality_code=municipality_code,
        covariates=cov,
        municipality=municipality,
        probability=p,
        report_day=report,
        any_help=any_help,
        restraining_day=restraining_day,
        followup18_day=followup18_day,
        followup18_known=followup18_known,
        child_case=child_case,
        child_age=child_age,
        child_probability=child_p,
        tables={
            "cases": cases_table,
            "reports": reports_table,
            "children": children_table,
            "help": help_table,
            "followups": followups_table,
        },
    )


def snapshot(truth: Truth, extract: date, seed: int) -> dict[str, pl.DataFrame]:
    """The contract tables as known on `extract`: later cases, rows and dates left out."""
    e = day_of(extract)
    number = int(truth.municipality_code[2:])
    n_cases = truth.tables["cases"].height
    n_children = truth.tables["children"].height
    case_ids = pl.Series(pseudonyms("C", number, np.arange(n_cases), seed), dtype=pl.String)
    child_ids = pl.Series(pseudonyms("K", number, np.arange(n_children), seed), dtype=pl.String)

    def known(column: str) -> pl.Expr:
        # A date after the extract is not known yet: empty, as the case system would show.
        return (
            pl.when((pl.col(column) != NO_DATE) & (pl.col(column) <= e))
            .then(pl.col(column))
            .cast(pl.Date)
        )

    def ids(frame: pl.DataFrame) -> pl.DataFrame:
        out = frame.with_columns(case_id=case_ids.gather(frame["case"]))
        if "child" in frame.columns:
            child = frame["child"]
            gathered = child_ids.gather(child.clip(lower_bound=0))
            out = out.with_columns(child_id=pl.when(child >= 0).then(gathered).otherwise(None))
        return out

    report_ok = pl.col("report_date") <= e
    cases = ids(truth.tables["cases"].filter(report_ok)).with_columns(
        known(c.name) for c in TABLES["cases"] if c.kind == "date"
    )
    in_extract = truth.tables["cases"].filter(report_ok)["case"]
    keep = pl.col("case").is_in(in_extract.implode())
    known_rows = {
        "cases": cases,
        "reports": ids(
            truth.tables["reports"].filter(keep & (pl.col("report_date") <= e))
        ).with_columns(known("report_date")),
        "children": ids(truth.tables["children"].filter(keep)),
        "help": ids(truth.tables["help"].filter(keep & (pl.col("offered_date") <= e)))
        .with_columns(known("offered_date"), known("start_date"))
        .with_columns(end_date=pl.when(pl.col("start_date").is_not_null()).then(known("end_date"))),
        "followups": ids(
            truth.tables["followups"].filter(keep & (pl.col("followup_date") <= e))
        ).with_columns(known("followup_date")),
    }
    # The contract's columns, in its order (a column it declares must be in the truth).
    return {name: frame.select(c.name for c in TABLES[name]) for name, frame in known_rows.items()}
