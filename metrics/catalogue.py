"""The indicator catalogue: each indicator declared once, beside its query, and checked on load.

An indicator is two files in metrics/sql/: `<id>.toml`, its declaration (titles, definitions,
polarity, unit, sources, caveats, breakdowns, approach elements, the population it shares
with others; texts several share are named in `_shared.toml`), and `<id>.sql`, its query.
The catalogue drives computation, the mart's `catalogue` table, the dashboard's labels,
exports, the tests over every indicator and docs/indicators.md (`python -m metrics.docs`).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.contract import APPROACH_ELEMENTS

SQL_DIR = Path(__file__).parent / "sql"
SHARED = "_shared.toml"
ID_PATTERN = r"[a-z][a-z0-9_]*"

POLARITIES = ("lower_is_better", "higher_is_better")
# Each unit and the format its values are shown in.
UNIT_FORMATS = {"proportion": "percent", "days": "days"}
UNITS = tuple(UNIT_FORMATS)
VALUE_FORMATS = tuple(UNIT_FORMATS.values())
# Breakdown families and the unit-row column each one splits on.
BREAKDOWN_FAMILIES = ("violence_type", "age_band")


@dataclass(frozen=True)
class Indicator:
    """One indicator: what it measures, for whom, which way is better; its query is `<id>.sql`."""

    id: str
    title_nl: str
    title_en: str
    short_nl: str
    short_en: str
    population_nl: str
    population_en: str
    numerator_nl: str
    numerator_en: str
    polarity: str
    unit: str
    value_format: str
    rationale_nl: str
    rationale_en: str
    source: str
    caveats_nl: str
    caveats_en: str
    breakdowns: tuple[str, ...]
    approach_elements: tuple[str, ...]
    # Quarters per municipality: not for a population of a few cases per municipality and
    # year, whose quarters would nearly all be suppressed (regions and the country keep them).
    municipal_quarters: bool = True
    # Indicators naming one population count the same units under different windows: where
    # the windows are complete for all of them their denominators are equal, which anyone
    # can see from their definitions, so they are protected together (`disclosure`).
    population: str | None = None

    @property
    def sql(self) -> str:
        return sql_text(self.id)

    @property
    def is_proportion(self) -> bool:
        return self.unit == "proportion"


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


class CatalogueError(ValueError):
    """A declaration that does not follow the schema: names its file and field."""


TEXTS = tuple(
    f"{name}_{lang}"
    for name in ("title", "short", "population", "numerator", "rationale", "caveats")
    for lang in ("nl", "en")
)
# The declaration's fields: field -> (type, required). Each text must say more than a word.
FIELDS: dict[str, tuple[type, bool]] = {
    "order": (int, True),
    **{text: (str, True) for text in TEXTS},
    "polarity": (str, True),
    "unit": (str, True),
    "value_format": (str, True),
    "sources": (list, False),
    "source": (str, False),
    "caveat_notes": (list, False),
    "breakdowns": (list, True),
    "approach_elements": (list, True),
    "municipal_quarters": (bool, False),
    "population": (str, False),
}


def load(directory: Path = SQL_DIR) -> tuple[Indicator, ...]:
    """Every `<id>.toml` in the directory, checked, in their declared `order`.

    Raises CatalogueError naming the file and field of the first problem found.
    """
    shared_path = directory / SHARED
    shared = _toml(shared_path)
    sources, notes = shared.get("sources", {}), shared.get("notes", {})
    paths = sorted(p for p in directory.glob("*.toml") if p.name != SHARED)
    declared = {p.stem for p in paths}
    for query in sorted(directory.glob("*.sql")):
        if query.stem not in declared:
            raise CatalogueError(f"{query}: a query without a declaration {query.stem}.toml")
    found = [(path, _indicator(path, _toml(path), sources, notes)) for path in paths]
    orders: dict[int, Path] = {}
    for path, (order, _) in found:
        if order in orders:
            raise CatalogueError(f"{path}: order: {order} is also {orders[order].name}'s")
        orders[order] = path
    return tuple(indicator for _, (_, indicator) in sorted(found, key=lambda f: f[1][0]))


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot be read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from exc


def _indicator(
    path: Path, raw: dict[str, Any], sources: dict[str, str], notes: dict[str, dict[str, str]]
) -> tuple[int, Indicator]:
    """The declaration in `path` as (order, Indicator), or a CatalogueError saying what to fix."""

    def fail(field: str, problem: str) -> CatalogueError:
        return CatalogueError(f"{path}: {field}: {problem}")

    def among(field: str, values: list[str], allowed: tuple[str, ...] | list[str]) -> None:
        unknown = [v for v in values if v not in allowed]
        if unknown or len(set(values)) < len(values):
            what = f"unknown {unknown}" if unknown else "a value twice"
            raise fail(field, f"{what}; one of {list(allowed)}, each once")

    if not re.fullmatch(ID_PATTERN, path.stem):
        raise fail("id", f"the file name must be the id, {ID_PATTERN}")
    if not (path.parent / f"{path.stem}.sql").is_file():
        raise fail("query", f"no {path.stem}.sql beside the declaration")
    for field in raw:
        if field not in FIELDS:
            raise fail(field, f"not a field of a declaration; the fields are {list(FIELDS)}")
    for field, (kind, required) in FIELDS.items():
        if field not in raw:
            if required:
                raise fail(field, "missing")
            continue
        value = raw[field]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise fail(field, f"must be a {kind.__name__}, not {type(value).__name__}")
        if kind is list and not all(isinstance(v, str) for v in raw[field]):
            raise fail(field, "must be a list of strings")
    for field in TEXTS:
        if len(raw[field].split()) < 2:
            raise fail(field, "must say more than a word")
    among("polarity", [raw["polarity"]], POLARITIES)
    among("unit", [raw["unit"]], UNITS)
    if raw["value_format"] != UNIT_FORMATS[raw["unit"]]:
        raise fail("value_format", f"a {raw['unit']} is shown as {UNIT_FORMATS[raw['unit']]!r}")
    among("breakdowns", raw["breakdowns"], BREAKDOWN_FAMILIES)
    if not raw["approach_elements"]:
        raise fail("approach_elements", "name at least one element the indicator follows")
    among("approach_elements", raw["approach_elements"], APPROACH_ELEMENTS)
    if ("sources" in raw) == ("source" in raw):
        raise fail("sources", f"give either `sources` (names in {SHARED}) or `source` (a text)")
    among("sources", raw.get("sources", []), list(sources))
    among("caveat_notes", raw.get("caveat_notes", []), list(notes))
    if "population" in raw and not re.fullmatch(ID_PATTERN, raw["population"]):
        raise fail("population", f"a name for the population counted, {ID_PATTERN}")
    noted = {
        lang: " ".join(
            [raw[f"caveats_{lang}"], *(notes[n][lang] for n in raw.get("caveat_notes", []))]
        )
        for lang in ("nl", "en")
    }
    return raw["order"], Indicator(
        id=path.stem,
        **{text: raw[text] for text in TEXTS if not text.startswith("caveats_")},
        polarity=raw["polarity"],
        unit=raw["unit"],
        value_format=raw["value_format"],
        source=raw.get("source") or "; ".join(sources[name] for name in raw["sources"]),
        caveats_nl=noted["nl"],
        caveats_en=noted["en"],
        breakdowns=tuple(raw["breakdowns"]),
        approach_elements=tuple(raw["approach_elements"]),
        municipal_quarters=raw.get("municipal_quarters", True),
        population=raw.get("population"),
    )


INDICATORS: tuple[Indicator, ...] = load()

BY_ID: dict[str, Indicator] = {ind.id: ind for ind in INDICATORS}


@cache
def catalogue_version() -> str:
    """A short fingerprint of what the counts depend on: every indicator's id, unit, breakdowns,
    approach elements and SQL. Two installations count alike exactly when it is the same, so
    a hub accepts only packages of its own catalogue version (`metrics.package`)."""
    parts = [
        "\x1f".join([ind.id, ind.unit, *ind.breakdowns, "|", *ind.approach_elements, ind.sql])
        for ind in INDICATORS
    ]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:12]


def catalogue_frame() -> pl.DataFrame:
    """The mart's `catalogue` table (docs/mart.md), one row per indicator in catalogue order."""
    return pl.DataFrame(
        [
            {
                "indicator_id": ind.id,
                "sort_order": order,
                "title_nl": ind.title_nl,
                "title_en": ind.title_en,
                "short_nl": ind.short_nl,
                "short_en": ind.short_en,
                "population_nl": ind.population_nl,
                "population_en": ind.population_en,
                "numerator_nl": ind.numerator_nl,
                "numerator_en": ind.numerator_en,
                "polarity": ind.polarity,
                "unit": ind.unit,
                "value_format": ind.value_format,
                "rationale_nl": ind.rationale_nl,
                "rationale_en": ind.rationale_en,
                "source": ind.source,
                "caveats_nl": ind.caveats_nl,
                "caveats_en": ind.caveats_en,
                "breakdowns": ",".join(ind.breakdowns),
                "approach_elements": ",".join(ind.approach_elements),
                "municipal_quarters": ind.municipal_quarters,
                "population": ind.population,
            }
            for order, ind in enumerate(INDICATORS, start=1)
        ]
    )
