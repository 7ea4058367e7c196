"""The independent attacker (`attacker.py`) against published marts: the shipped sample's and
generated marts of several regions, made through the real CLI. No row the primary rule
protects may be pinned or narrowed (docs/methods.md, "The guarantee"); and the attacker has
teeth: it pins what weaker protection leaves open, at the true values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from attacker import (
    KEYS,
    NATIONAL,
    Attack,
    Cell,
    ModelError,
    Published,
    attack,
    published_table,
    read_mart,
    structure,
)
from conftest import run_hgkm
from guarantee import CELL, Finding, fails_primary, findings, shared_denominators

from metrics import disclosure, publish
from metrics.catalogue import INDICATORS
from metrics.counts import WarehouseCounts

# Generated marts: four Veilig Thuis regions each, some delivered in part, chosen so that
# safety, GGD and youth-care regions cut across them (that is where cross-type attacks live).
GENERATED = {
    # VT15 whole; VT21, VT27 in part (VR20, GG5206 span VT15 and VT21; VR21, GG5406 span VT15
    # and VT27); VT12 whole (its VR12 and GG3109 also hold VT17's GM0450, not delivered),
    # with three youth-care regions.
    "VT12-VT15-VT21-VT27": (
        "GM0744,GM0766,GM0784,GM0785,GM0797,GM0798,GM0809,GM0824,GM0855,GM0867,GM1723,"
        "GM0748,GM0777,GM0779,GM0840,GM0851,GM0873,GM0879,GM1719,"
        "GM0755,GM0757,GM0796,GM0828,GM0845,GM0743,GM0753,GM0762,GM0770,GM0772,"
        "GM0375,GM0377,GM0392,GM0394,GM0396,GM0397,GM0453,GM0473",
        "1",
        "1",
        "2019-2025",
    ),
    # VT13 whole and VT06's GM0944 (GG6011 and VR23 are VT13 plus GM0944); more of VT06; VT14's
    # youth-care region JZ12 and two others, VT03's GM0050 (JZ12 spans VT14 and VT03) and
    # GM0184; at half the volume, so more cells are small (and four cohort years, to keep the
    # attack's time down: it grows with the many suppressed cells).
    "VT03-VT06-VT13-VT14": (
        "GM0889,GM0893,GM0907,GM0946,GM0957,GM0983,GM0984,GM0988,GM1507,GM1640,GM1641,"
        "GM1669,GM1711,GM1894,GM0944,GM0209,GM0214,GM0225,GM0252,GM0263,"
        "GM0230,GM0233,GM0243,GM0269,GM0273,GM0302,GM0244,GM0246,GM0050,GM0184",
        "2",
        "0.5",
        "2022-2025",
    ),
}


def true_figures(warehouse: Path) -> pl.DataFrame:
    """`indicator_values` as compute builds it with disclosure control switched off: the same
    counting code, every row with its figures."""

    def unprotected(
        frame: pl.DataFrame, *, memberships: pl.DataFrame, units: object = None
    ) -> pl.DataFrame:
        return frame.with_columns(suppressed=pl.lit(False))

    def population_unprotected(
        frames: list[pl.DataFrame], *, memberships: pl.DataFrame, units: object = None
    ) -> list[pl.DataFrame]:
        return [unprotected(frame, memberships=memberships) for frame in frames]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(disclosure, "protect", unprotected)
        patch.setattr(disclosure, "protect_population", population_unprotected)
        with publish.open_warehouse(warehouse) as con:
            tables = publish.build_tables(
                WarehouseCounts(con), as_of=None, published_at=datetime.now()
            )
            name, values = next(tables)
            tables.close()
    assert name == "indicator_values"
    assert values["numerator"].null_count() == values["denominator"].null_count() == 0
    return values.select(*KEYS, "numerator", "denominator")


@dataclass
class Attacked:
    """A mart, the attack on it and its true figures."""

    published: Published
    truth: pl.DataFrame
    units: Mapping[str, str]
    shared: list[tuple[Cell, Cell]]
    result: Attack
    findings: list[Finding]

    def protected(self) -> int:
        """Suppressed rows whose true figures fail the primary rule."""
        hidden = self.published.rows.filter(pl.col("suppressed")).join(self.truth, on=list(KEYS))
        return sum(
            fails_primary(n, d, self.units[i])
            for i, n, d in hidden.select(
                "indicator_id", "numerator_right", "denominator_right"
            ).iter_rows()
        )

    def summary(self) -> str:
        sizes = self.result.component_sizes
        return (
            f"{self.published.rows.height} rows, "
            f"{int(self.published.rows['suppressed'].sum())} suppressed, "
            f"{self.protected()} protected; {len(sizes)} components (largest {sizes[:5]}, "
            f"median {sizes[len(sizes) // 2] if sizes else 0}); {self.result.programmes} "
            f"programmes in {self.result.calls} linprog calls, {self.result.seconds:.1f} s"
        )


def catalogue_of(mart: Path) -> tuple[dict[str, str], dict[str, str | None]]:
    """Each indicator's unit, as the mart's catalogue publishes it, and population, as its
    definition (docs/indicators.md) says."""
    con = duckdb.connect(str(mart), read_only=True)
    try:
        units = dict(con.sql("select indicator_id, unit from catalogue").fetchall())
    finally:
        con.close()
    return units, {i.id: i.population for i in INDICATORS}


def attacked(
    published: Published,
    truth: pl.DataFrame,
    units: Mapping[str, str],
    shared: list[tuple[Cell, Cell]] | None = None,
) -> Attacked:
    shared = shared or []
    result = attack(published, shared=shared)
    found = findings(published, result, truth, units)
    return Attacked(published, truth, units, shared, result, found)


def attacked_mart(data: Path) -> Attacked:
    mart = data / "mart.duckdb"
    truth = true_figures(data / "warehouse.duckdb")
    units, populations = catalogue_of(mart)
    published = read_mart(mart)
    if has_benchmark(mart):
        # NL's rows are then the imported benchmark's, protected by the hub over the whole
        # country (docs/federation.md): no sum of this mart's municipalities. This mart's own
        # NL (the sum of its deliveries, which its protection covers) is not published.
        national = pl.col("area_code") == NATIONAL
        own = truth.filter(national).with_columns(suppressed=pl.lit(True))
        rows = pl.concat([published.rows.filter(~national), own.select(published.rows.columns)])
        published = published_table(rows, published.members)
    return attacked(published, truth, units, shared_denominators(truth, populations))


def has_benchmark(mart: Path) -> bool:
    """Whether the mart publishes an imported national benchmark (its `benchmark` row)."""
    con = duckdb.connect(str(mart), read_only=True)
    try:
        return bool(con.sql("select count(*) from benchmark").fetchall()[0][0])
    finally:
        con.close()


@pytest.fixture(scope="session")
def sample_attacked(sample_pipeline: dict) -> Attacked:
    return attacked_mart(sample_pipeline["data"])


@pytest.fixture(scope="session", params=list(GENERATED))
def generated_attacked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Attacked:
    municipalities, seed, scale, years = GENERATED[request.param]
    root = tmp_path_factory.mktemp(f"generated-{request.param}")
    data = root / "data"
    steps = [
        (
            "sample",
            "--out",
            root / "source",
            "--municipalities",
            municipalities,
            "--seed",
            seed,
            "--scale",
            scale,
            "--years",
            years,
            "--extract-date",
            "2026-10-01",
            "--no-profiles",
        ),
        ("ingest", root / "source" / "deliveries"),
        ("compute",),
    ]
    for step in steps:
        result = run_hgkm(*step, data_dir=data)
        assert result.returncode == 0, f"hgkm {step[0]}: {result.stdout}\n{result.stderr}"
    return attacked_mart(data)


def _breaches(subject: Attacked) -> str:
    return f"{subject.summary()}\n" + "\n".join(map(str, subject.findings))


def test_the_sample_mart_keeps_the_guarantee(sample_attacked: Attacked) -> None:
    print(f"\nsample mart: {sample_attacked.summary()}")
    assert sample_attacked.protected() > 0
    assert sample_attacked.findings == [], _breaches(sample_attacked)


def test_generated_marts_of_several_regions_keep_the_guarantee(
    generated_attacked: Attacked,
) -> None:
    print(f"\ngenerated mart: {generated_attacked.summary()}")
    assert generated_attacked.protected() > 0
    assert generated_attacked.findings == [], _breaches(generated_attacked)


def test_the_generated_regions_overlap_across_types(generated_attacked: Attacked) -> None:
    """The generated marts hold what cross-type attacks need: a region of another type that
    spans two Veilig Thuis regions, and regions delivered only in part."""
    members = generated_attacked.published.members
    delivered = members["NL"]
    vt_of = {
        municipality: area
        for area, munis in members.items()
        if area.startswith("veilig_thuis_region:")
        for municipality in munis & delivered
    }
    spanning = [
        area
        for area, munis in members.items()
        if ":" in area
        and not area.startswith("veilig_thuis_region:")
        and len({vt_of[m] for m in munis & delivered}) > 1
    ]
    assert spanning
    assert len(set(vt_of.values())) == 4
    assert any(munis & delivered and not munis <= delivered for munis in members.values())


# --- the attacker has teeth -------------------------------------------------------------------


def weakly_protected(subject: Attacked, suppressed: list[bool]) -> Published:
    """The true table published with the given rows suppressed."""
    return published_table(
        subject.truth.with_columns(suppressed=pl.Series(suppressed, dtype=pl.Boolean)),
        subject.published.members,
    )


def primary_only(subject: Attacked) -> list[bool]:
    return [
        fails_primary(n, d, subject.units[i])
        for i, n, d in subject.truth.select("indicator_id", "numerator", "denominator").iter_rows()
    ]


def one_equation_at_a_time(subject: Attacked) -> list[bool]:
    """Primary suppression, then a naive secondary: in every sum with exactly one suppressed
    row, suppress the published row with the smallest denominator too, until none is alone."""
    suppressed = primary_only(subject)
    truth = subject.truth
    row_of = {key: i for i, key in enumerate(truth.select(CELL).iter_rows())}
    shown = weakly_protected(subject, [False] * truth.height)
    sums = [
        [row_of[cell] for cell, _ in constraint.terms if cell in row_of]
        for constraint in structure(shown).constraints
        if not constraint.at_least
    ]
    denominators = truth["denominator"].to_list()
    changed = True
    while changed:
        changed = False
        for rows in sums:
            published = [i for i in rows if not suppressed[i]]
            if published and sum(suppressed[i] for i in rows) == 1:
                suppressed[min(published, key=lambda i: denominators[i])] = True
                changed = True
    return suppressed


@pytest.mark.parametrize("protection", [primary_only, one_equation_at_a_time])
def test_the_attacker_pins_what_weaker_protection_leaves_open(
    sample_attacked: Attacked, protection
) -> None:
    weak = weakly_protected(sample_attacked, protection(sample_attacked))
    found = attacked(weak, sample_attacked.truth, sample_attacked.units).findings
    pinned = [f for f in found if f.kind == "pinned"]
    print(f"\n{protection.__name__}: {len(pinned)} pinned, {len(found) - len(pinned)} narrowed")
    assert pinned
    assert all(f.low == pytest.approx(f.truth, abs=1e-6) for f in pinned)


def each_indicator_alone(subject: Attacked) -> list[bool]:
    """Full protection (secondary suppression and the audit), but of each indicator alone:
    blind to the denominators indicators counting one population share."""
    memberships = pl.DataFrame(
        [(area, m) for area, munis in subject.published.members.items() for m in munis],
        schema=["area_code", "municipality_code"],
        orient="row",
    )
    figures = {column: pl.lit(None, pl.Float64) for column in ("value", "ci_low", "ci_high")}
    protected = pl.concat(
        disclosure.protect(
            frame.drop("suppressed", strict=False).with_columns(**figures),
            memberships=memberships,
            units=subject.units,
        )
        for frame in subject.truth.partition_by("indicator_id")
    )
    return subject.truth.join(
        protected.select(*CELL, hidden="suppressed"), on=list(CELL), how="left"
    )["hidden"].to_list()


def test_indicators_protected_alone_leave_shared_denominators_open(
    sample_attacked: Attacked,
) -> None:
    """Where two indicators count one population, each one's protection alone leaves the
    other's published denominators to pin its hidden ones: the attacker finds them."""
    weak = weakly_protected(sample_attacked, each_indicator_alone(sample_attacked))
    found = attacked(weak, sample_attacked.truth, sample_attacked.units, sample_attacked.shared)
    print(f"\neach indicator alone: {len(found.findings)} breaches")
    assert found.findings
    alone = attacked(weak, sample_attacked.truth, sample_attacked.units)
    assert alone.findings == [], "alone, each indicator's protection holds"


def test_one_programme_per_bound_gives_the_same_intervals(sample_attacked: Attacked) -> None:
    """The shortcuts (joint programmes, bounds settled by tables found and outer bounds) change
    no interval, on the sample protected by the primary rule alone (many rows pinned)."""
    weak = weakly_protected(sample_attacked, primary_only(sample_attacked))
    fast = attack(weak).intervals.sort(CELL)
    slow = attack(weak, shortcuts=False).intervals.sort(CELL)
    assert fast.select(CELL).equals(slow.select(CELL))
    for column in fast.columns[len(CELL) :]:
        difference = (fast[column] - slow[column]).abs().fill_nan(0.0)
        assert difference.max() <= 1e-6, column


# --- the attacker on tables worked out by hand ------------------------------------------------


def hand_table(members: dict[str, set[str]], *rows: tuple, indicator: str = "x") -> Published:
    """Rows of (area_code, period, breakdown, numerator, denominator, suppressed) of one
    proportion indicator; the area type follows from the code."""
    frame = pl.DataFrame(
        [
            {
                "indicator_id": indicator,
                "area_type": "national"
                if area == "NL"
                else ("region" if ":" in area else "municipality"),
                "area_code": area,
                "period": period,
                "breakdown": breakdown,
                "numerator": num,
                "denominator": den,
                "suppressed": hidden,
            }
            for area, period, breakdown, num, den, hidden in rows
        ],
        schema_overrides={"numerator": pl.Int64, "denominator": pl.Int64},
    )
    return published_table(frame, {area: frozenset(munis) for area, munis in members.items()})


def interval(result: Attack, area: str, quantity: str, indicator: str = "x") -> tuple[float, float]:
    row = result.intervals.filter(
        (pl.col("area_code") == area) & (pl.col("indicator_id") == indicator)
    ).row(0, named=True)
    return row[f"{quantity}_low"], row[f"{quantity}_high"]


def test_a_region_of_one_type_minus_one_of_another_leaves_one_municipality() -> None:
    # ggd G = {A, B, C}, youth care J = {B, C}: A = G - J, though A, B and C are all hidden
    members = {"NL": {"A", "B", "C"}, "ggd_region:G": {"A", "B", "C"}, "youth:J": {"B", "C"}}
    table = hand_table(
        members,
        ("NL", "2024", "all", 20, 60, False),
        ("ggd_region:G", "2024", "all", 20, 60, False),
        ("youth:J", "2024", "all", 18, 53, False),
        ("A", "2024", "all", 2, 7, True),
        ("B", "2024", "all", 9, 26, True),
        ("C", "2024", "all", 9, 27, True),
    )
    result = attack(table)
    assert interval(result, "A", "numerator") == pytest.approx((2, 2))
    assert interval(result, "A", "denominator") == pytest.approx((7, 7))
    # B and C share J: each at least 1 case (their rows exist), complements of 35 between them
    assert interval(result, "B", "numerator") == pytest.approx((0, 18))
    assert interval(result, "B", "complement") == pytest.approx((0, 35))
    assert interval(result, "B", "denominator") == pytest.approx((1, 52))


def test_hidden_rows_of_an_empty_pool_are_one_case_each() -> None:
    # NL is 0/3 over three hidden municipalities: each row exists, so each is exactly 0/1
    members = {"NL": {"A", "B", "C"}}
    table = hand_table(
        members,
        ("NL", "2024", "all", 0, 3, False),
        *((m, "2024", "all", 0, 1, True) for m in "ABC"),
    )
    result = attack(table)
    for municipality in "ABC":
        assert interval(result, municipality, "numerator") == pytest.approx((0, 0))
        assert interval(result, municipality, "denominator") == pytest.approx((1, 1))


def test_a_hidden_total_over_hidden_parts_is_open_above() -> None:
    # a municipality's year and both its quarters hidden: nothing bounds them from above
    # (NL is the same hidden cells again)
    members = {"NL": {"A"}}
    table = hand_table(
        members,
        ("NL", "2024", "all", 0, 0, True),
        ("NL", "2024-Q1", "all", 0, 0, True),
        ("NL", "2024-Q2", "all", 0, 0, True),
        ("A", "2024", "all", 0, 0, True),
        ("A", "2024-Q1", "all", 0, 0, True),
        ("A", "2024-Q2", "all", 0, 0, True),
    )
    result = attack(table)
    assert interval(result, "A", "denominator") == (pytest.approx(2), float("inf"))
    assert interval(result, "A", "numerator") == (0, float("inf"))
    assert interval(result, "NL", "complement") == (0, float("inf"))


def test_indicators_counting_one_population_pin_what_each_leaves_open() -> None:
    """Two indicators that count one population (their catalogue says so) have equal
    denominators. x hides A and B; y shows B (A still hidden), so A's denominator in x is
    y's 12 - 8."""
    members = {"NL": {"A", "B"}}
    x = hand_table(
        members,
        ("NL", "2024", "all", 6, 12, False),
        ("A", "2024", "all", 2, 4, True),
        ("B", "2024", "all", 4, 8, True),
    )
    y = hand_table(
        members,
        ("NL", "2024", "all", 0, 12, False),
        ("A", "2024", "all", 0, 4, True),
        ("B", "2024", "all", 0, 8, False),
        indicator="y",
    )
    both = Published(pl.concat([x.rows, y.rows]), x.members)
    assert interval(attack(both), "A", "denominator") == pytest.approx((1, 11))
    shared = [(("x", area, "2024", "all"), ("y", area, "2024", "all")) for area in ("NL", "A", "B")]
    linked = attack(both, shared=shared)
    assert interval(linked, "A", "denominator") == pytest.approx((4, 4))
    assert interval(linked, "A", "numerator") == pytest.approx((0, 4))


# --- the guarantee's check on intervals given by hand -----------------------------------------


def test_the_guarantee_check_reads_intervals_as_the_docs_state() -> None:
    members = {"NL": {"A", "B"}}
    truth_rows = [  # indicator, area, numerator, denominator, suppressed
        ("x", "NL", 0, 12, False),
        ("x", "A", 0, 4, True),  # numerator 0 inside NL's 0 of 12: may be known
        ("x", "B", 0, 8, True),
        ("y", "NL", 1, 12, True),
        ("y", "A", 0, 4, True),  # numerator 0, but no group of 10 or more with 0 holds it
        ("y", "B", 1, 8, True),
        ("m", "NL", 7, 12, False),  # a median: events and cases
        ("m", "A", 2, 4, True),
        ("m", "B", 5, 8, True),
        ("z", "NL", 3, 12, False),  # published, though the rule protects it
    ]
    truth = pl.DataFrame(
        [
            {
                "indicator_id": i,
                "area_type": "national" if a == "NL" else "municipality",
                "area_code": a,
                "period": "2024",
                "breakdown": "all",
                "numerator": n,
                "denominator": d,
                "suppressed": s,
            }
            for i, a, n, d, s in truth_rows
        ]
    )
    published = published_table(truth, {k: frozenset(v) for k, v in members.items()})
    given = {  # (indicator, area): numerator, complement and denominator intervals
        ("x", "A"): ((0, 0), (1, 11), (1, 11)),
        ("x", "B"): ((0, 0), (1, 11), (1, 11)),
        ("y", "NL"): ((0, 12), (0, 12), (2, 24)),
        ("y", "A"): ((0, 0), (1, 4), (1, 4)),  # numerator pinned; complement, denominator narrowed
        ("y", "B"): ((1, 4), (0, 7), (1, 11)),  # numerator narrowed to 1..4
        ("m", "A"): ((1, 4), (1, 4), (2, 5)),  # events narrowed; a median's complement is free
        ("m", "B"): ((3, 6), (2, 3), (5, 9)),
    }
    intervals = pl.DataFrame(
        [
            {
                "indicator_id": i,
                "area_code": a,
                "period": "2024",
                "breakdown": "all",
                **{
                    f"{quantity}_{end}": float(bounds[q][e])
                    for q, quantity in enumerate(("numerator", "complement", "denominator"))
                    for e, end in enumerate(("low", "high"))
                },
            }
            for (i, a), bounds in given.items()
        ]
    )
    result = Attack(intervals, [], 0, 0, 0.0)
    units = {"x": "proportion", "y": "proportion", "m": "days", "z": "proportion"}
    found = {
        (f.row[0], f.row[1], f.quantity, f.kind) for f in findings(published, result, truth, units)
    }
    assert found == {
        ("y", "A", "numerator", "pinned"),
        ("y", "A", "complement", "narrowed"),
        ("y", "A", "denominator", "narrowed"),
        ("y", "B", "numerator", "narrowed"),
        ("m", "A", "numerator", "narrowed"),
        ("z", "NL", "row", "published"),
    }
    # an interval that misses the true value means the attacker's model is wrong
    wrong = intervals.with_columns(
        numerator_high=pl.when(pl.col("indicator_id") == "m")
        .then(1.0)
        .otherwise(pl.col("numerator_high"))
    )
    with pytest.raises(ModelError, match="misses its true value"):
        findings(published, Attack(wrong, [], 0, 0, 0.0), truth, units)
