"""The guarantee of docs/methods.md checked row by row: the attacker's intervals (`attacker`)
against the true figures, for every suppressed row whose true figures fail the primary rule."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
from attacker import NATIONAL, QUANTITIES, TOLERANCE, Attack, Cell, ModelError, Published

CELL = ("indicator_id", "area_code", "period", "breakdown")
SMALL = range(1, 5)  # the counts the primary rule protects
SHOWN_FROM = 10  # the least denominator the primary rule lets be shown


def fails_primary(numerator: int, denominator: int, unit: str) -> bool:
    """docs/methods.md "Small numbers": a proportion with a denominator below 10, or a numerator
    or complement of 1..4; a median with a population below 10 or fewer than 5 events."""
    if unit == "proportion":
        return denominator < SHOWN_FROM or numerator in SMALL or (denominator - numerator) in SMALL
    return denominator < SHOWN_FROM or numerator < 5


def shared_denominators(
    truth: pl.DataFrame, populations: Mapping[str, str | None]
) -> list[tuple[Cell, Cell]]:
    """Pairs of cells of indicators that count one population (the catalogue's `population`)
    whose true denominators are equal. Anyone can tell from the definitions that they are
    where the indicators' windows are complete; taking every cell where they are equal gives
    the attacker at least that."""
    groups: dict[str, list[str]] = {}
    for indicator, population in sorted(populations.items()):
        if population is not None:
            groups.setdefault(population, []).append(indicator)
    denominators = {
        tuple(row[:4]): row[4] for row in truth.select(*CELL, "denominator").iter_rows()
    }
    pairs = []
    for indicators in groups.values():
        for first, other in itertools.combinations(indicators, 2):
            for (indicator, *key), denominator in denominators.items():
                if indicator == first and denominators.get((other, *key)) == denominator:
                    pairs.append(((first, *key), (other, *key)))
    return pairs


@dataclass(frozen=True)
class Finding:
    """A protected row the attacker learns too much about (or a row the rule protects that
    was published)."""

    row: tuple[str, str, str, str]
    quantity: str
    kind: str  # pinned | narrowed | published
    low: float
    high: float
    truth: int

    def __str__(self) -> str:
        if self.kind == "published":
            return f"published {'/'.join(self.row)}: {self.low:g}/{self.high:g} fails the rule"
        return (
            f"{self.kind} {self.quantity} of {'/'.join(self.row)}: "
            f"[{self.low:g}, {self.high:g}], true {self.truth}"
        )


def findings(
    published: Published, result: Attack, truth: pl.DataFrame, units: Mapping[str, str]
) -> list[Finding]:
    """Every breach of the guarantee. Raises ModelError when an interval misses the true value
    (the attacker's model would then be wrong, and its silence worthless)."""
    rows = published.rows.join(
        truth.select(*CELL, true_numerator="numerator", true_denominator="denominator"),
        on=list(CELL),
        how="full",
        coalesce=True,
    )
    unmatched = rows.filter(pl.col("suppressed").is_null() | pl.col("true_denominator").is_null())
    if unmatched.height:
        raise ModelError(f"published rows and true rows differ: {unmatched.head(5)}")
    out: list[Finding] = []
    for row in rows.filter(~pl.col("suppressed")).iter_rows(named=True):
        key = tuple(row[k] for k in CELL)
        if (row["numerator"], row["denominator"]) != (
            row["true_numerator"],
            row["true_denominator"],
        ):
            raise ModelError(f"published {key} differs from its true figures")
        if fails_primary(row["numerator"], row["denominator"], units[row["indicator_id"]]):
            out.append(Finding(key, "row", "published", row["numerator"], row["denominator"], 0))

    hidden = result.intervals.join(
        rows.select(*CELL, "true_numerator", "true_denominator"), on=list(CELL), how="left"
    )
    containing = _Containing(published, truth)
    for row in hidden.iter_rows(named=True):
        key = tuple(row[k] for k in CELL)
        true = {
            "numerator": row["true_numerator"],
            "complement": row["true_denominator"] - row["true_numerator"],
            "denominator": row["true_denominator"],
        }
        unit = units[row["indicator_id"]]
        for quantity in QUANTITIES:
            low, high = row[f"{quantity}_low"], row[f"{quantity}_high"]
            if not low - TOLERANCE <= true[quantity] <= high + TOLERANCE:
                raise ModelError(
                    f"the attacker's interval [{low}, {high}] for the {quantity} of {key} "
                    f"misses its true value {true[quantity]}"
                )
        if not fails_primary(true["numerator"], true["denominator"], unit):
            continue
        for quantity in QUANTITIES:
            low, high = row[f"{quantity}_low"], row[f"{quantity}_high"]
            value = true[quantity]
            if high - low <= TOLERANCE:
                if quantity == "denominator":
                    # a population of 10 or more is one the rule shows (another indicator
                    # counting it may publish it); only a smaller one is protected
                    allowed = value >= SHOWN_FROM
                else:
                    allowed = value == 0 and containing.has_zero(key, quantity)
                if not allowed:
                    out.append(Finding(key, quantity, "pinned", low, high, value))
            elif value in SMALL and (quantity != "complement" or unit == "proportion"):
                reaches_big = high >= 5 - TOLERANCE
                holds_zero = quantity != "denominator" and low <= TOLERANCE
                if not (reaches_big or holds_zero):
                    out.append(Finding(key, quantity, "narrowed", low, high, value))
    return out


class _Containing:
    """The guarantee's exception: a numerator (or complement) of 0 may be known when a group
    containing the row, of 10 or more (true figures), has 0 too."""

    def __init__(self, published: Published, truth: pl.DataFrame) -> None:
        delivered = published.members.get(NATIONAL, frozenset())
        self.sets = {area: munis & delivered for area, munis in published.members.items()}
        self.rows = {
            tuple(r[:4]): (r[4], r[5])
            for r in truth.select(*CELL, "numerator", "denominator").iter_rows()
        }
        self.areas: dict[str, list[str]] = {}
        for indicator, area, *_ in self.rows:
            self.areas.setdefault(indicator, [])
            if area not in self.areas[indicator]:
                self.areas[indicator].append(area)

    def _municipalities(self, area: str) -> frozenset[str]:
        return self.sets.get(area, frozenset({area}))

    def has_zero(self, row: tuple[str, str, str, str], quantity: str) -> bool:
        indicator, area, period, breakdown = row
        inside = self._municipalities(area)
        for other in self.areas[indicator]:
            if not inside <= self._municipalities(other):
                continue
            for other_period in {period, period[:4]}:
                for other_breakdown in {breakdown, "all"}:
                    figures = self.rows.get((indicator, other, other_period, other_breakdown))
                    if figures is None or (other, other_period, other_breakdown) == row[1:]:
                        continue
                    numerator, denominator = figures
                    count = numerator if quantity == "numerator" else denominator - numerator
                    if denominator >= SHOWN_FROM and count == 0:
                        return True
        return False
