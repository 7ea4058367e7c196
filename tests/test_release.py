"""Review before publishing: release_changes against hand-made marts, and the life of a mart —
staged, approved or rejected, every publication kept and numbered — in-process and through
`hgkm publish` / `hgkm compute` / `hgkm export` as a user runs them."""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import run_hgkm
from small_warehouse import SmallWarehouse, days

from commands import status
from hgkm import audit, release
from hgkm.settings import Paths
from metrics import changes, publish

E = date(2024, 12, 31)
GRONINGEN, STADSKANAAL = "GM0014", "GM0037"
KEYS = ["indicator_id", "area_type", "area_code", "period", "breakdown"]


# ---- release_changes, against marts written by hand


def cell(area: str, value: float | None, low: float | None, high: float | None, **extra) -> dict:
    return {
        "indicator_id": extra.pop("indicator_id", "coordinator_within_30d"),
        "area_type": "municipality" if area.startswith("GM") else "national",
        "area_code": area,
        "period": extra.pop("period", "2023"),
        "breakdown": "all",
        "value": value,
        "ci_low": low,
        "ci_high": high,
        "suppressed": extra.pop("suppressed", False),
        "comparison_national": extra.pop("national", "similar"),
        "comparison_region": extra.pop("region", "similar"),
        "area_name": area,
    }


def write_mart(path: Path, cells: list[dict], delivered: dict[str, int]) -> None:
    con = duckdb.connect(str(path))
    try:
        values = pl.DataFrame(cells, schema_overrides={"value": pl.Float64})
        con.register("v", values)
        con.execute("create table indicator_values as select * from v")
        areas = pl.DataFrame(
            {
                "area_type": [
                    "municipality" if a.startswith("GM") else "national" for a in delivered
                ],
                "area_code": list(delivered),
                "area_name": list(delivered),
                "n_delivered": list(delivered.values()),
                "n_municipalities": [1 if a.startswith("GM") else 3 for a in delivered],
            }
        )
        con.register("a", areas)
        con.execute("create table areas as select * from a")
    finally:
        con.close()


OLD = [
    cell("GM0001", 0.50, 0.40, 0.60),  # moves out of its interval
    cell("GM0002", 0.50, 0.40, 0.60),  # stays inside, but its comparison flips
    cell("GM0003", 0.50, 0.40, 0.60),  # becomes suppressed
    cell("GM0004", None, None, None, suppressed=True),  # becomes shown
    cell("GM0006", 0.30, 0.20, 0.40),  # disappears
    cell("GM0007", None, None, None, suppressed=True),  # disappears, was never shown: no change
    cell("GM0008", None, 40.0, None, indicator_id="time_to_specialist"),  # median reached now
    cell("GM0009", 0.50, 0.40, 0.60),  # lands exactly on its old upper bound: inside
    cell("NL", 0.45, 0.44, 0.46, national="not_compared"),  # unchanged
]
NEW = [
    cell("GM0001", 0.65, 0.55, 0.74),
    cell("GM0002", 0.55, 0.45, 0.65, national="worse"),
    cell("GM0003", None, None, None, suppressed=True),
    cell("GM0004", 0.20, 0.10, 0.30),
    cell("GM0005", 0.70, 0.60, 0.80),  # new: shown for the first time
    cell("GM0008", 31.0, 20.0, 45.0, indicator_id="time_to_specialist"),
    cell("GM0009", 0.60, 0.50, 0.70),
    cell("NL", 0.45, 0.44, 0.46, national="not_compared"),
]


def test_changes_list_every_visible_change_and_nothing_else(tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    write_mart(old, OLD, {"NL": 2, "GM0001": 1, "GM0005": 0})
    values = pl.DataFrame(NEW, schema_overrides={"value": pl.Float64})
    areas = pl.DataFrame(
        {
            "area_type": ["national", "municipality", "municipality"],
            "area_code": ["NL", "GM0001", "GM0005"],
            "area_name": ["Nederland", "Eenstad", "Vijfdorp"],
            "n_delivered": [3, 1, 1],
            "n_municipalities": [3, 1, 1],
        }
    )
    found = changes.changes_table(old, values, areas)
    assert found.columns == list(changes.SCHEMA)
    listed = {(row["change"], row["area_code"]) for row in found.iter_rows(named=True)}
    assert listed == {
        ("moved", "GM0001"),
        ("comparison", "GM0002"),
        ("newly_suppressed", "GM0003"),
        ("newly_shown", "GM0004"),
        ("newly_shown", "GM0005"),
        ("removed", "GM0006"),
        ("moved", "GM0008"),
        ("coverage", "NL"),
        ("coverage", "GM0005"),
    }
    moved = found.filter(pl.col("area_code") == "GM0001").row(0, named=True)
    assert (moved["old_value"], moved["old_ci_low"], moved["old_ci_high"]) == (0.5, 0.4, 0.6)
    assert (moved["new_value"], moved["new_ci_low"], moved["new_ci_high"]) == (0.65, 0.55, 0.74)
    assert moved["area_name"] == "Eenstad"
    flipped = found.filter(pl.col("change") == "comparison").row(0, named=True)
    assert (flipped["old_comparison_national"], flipped["new_comparison_national"]) == (
        "similar",
        "worse",
    )
    coverage = found.filter(pl.col("change") == "coverage").sort("area_code")
    assert coverage.select(
        "area_code", "old_coverage", "new_coverage", "coverage_total"
    ).rows() == [
        ("GM0005", 0, 1, 1),
        ("NL", 2, 3, 3),
    ]
    # a suppressed figure's value never appears: none is in the hand-made marts' suppressed rows
    newly = found.filter(pl.col("change") == "newly_suppressed").row(0, named=True)
    assert newly["new_value"] is None and newly["old_value"] == 0.5
    # the review order: moved first, then suppressed, removed, shown, comparisons, coverage
    assert found["change"].to_list() == sorted(found["change"].to_list(), key=changes.KINDS.index)


def test_no_publication_yet_means_no_changes(tmp_path: Path) -> None:
    values = pl.DataFrame(NEW, schema_overrides={"value": pl.Float64})
    areas = pl.DataFrame(
        {"area_type": ["national"], "area_code": ["NL"], "area_name": ["Nederland"],
         "n_delivered": [3], "n_municipalities": [3]}
    )  # fmt: skip
    assert changes.changes_table(None, values, areas).is_empty()


# ---- the life of a mart


def deliver(path: Path, code: str, extract: date, with_coordinator: int, total: int = 100) -> None:
    """One delivery of `total` cases in 2023, `with_coordinator` of them with a coordinator in
    time: coordinator_within_30d = with_coordinator / total."""
    wh = SmallWarehouse(path)
    delivery = wh.delivery(
        code, extract, received_at=datetime.combine(extract, datetime.min.time())
    )
    # each delivery its own content (SmallWarehouse numbers them per instance)
    wh.con.execute(
        "update deliveries set content_hash = ? where delivery_id = ?",
        [f"{code}{extract}", delivery],
    )
    for i in range(total):
        r = date(2023, 1 + i % 12, 10)
        wh.case(
            delivery,
            f"{code}-{extract:%Y%m%d}-{i:04d}",
            r,
            safety="not_unsafe",
            coordinator=days(r, 3) if i < with_coordinator else None,
        )
    wh.close()


def figure(mart: Path, code: str) -> tuple[float, bool]:
    con = duckdb.connect(str(mart), read_only=True)
    try:
        return con.execute(
            "select value, suppressed from indicator_values where indicator_id = "
            "'coordinator_within_30d' and area_code = ? and period = '2023' and breakdown = 'all'",
            [code],
        ).fetchall()[0]
    finally:
        con.close()


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """A data folder with one delivery published (auto), then switched to publish = "review"."""
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "hgkm.toml"
    monkeypatch.setenv("HGKM_CONFIG", str(config))
    monkeypatch.setenv("HGKM_DATA_DIR", str(data))
    deliver(data / "warehouse.duckdb", GRONINGEN, E, 65)
    deliver(data / "warehouse.duckdb", STADSKANAAL, E, 50)
    paths = Paths(data)
    config.write_text('publish = "auto"\n', encoding="utf-8")
    summary = publish.compute(paths, actor=release.Actor("job-user", "job"))
    assert summary.release == 1 and summary.mart == paths.mart
    config.write_text('publish = "review"\n', encoding="utf-8")
    return paths


def events(paths: Paths) -> list[dict]:
    log = audit.read(paths.audit_log)
    assert log.unreadable == []
    return log.events


def test_auto_mode_publishes_at_once_keeps_it_and_says_so(review: Paths) -> None:
    (first,) = release.releases(review)
    assert first.number == 1 and first.decision.mode == "auto"
    assert os.path.samefile(review.mart, first.path)
    assert not os.access(first.path, os.W_OK) or os.geteuid() == 0  # kept read-only
    assert oct(first.path.stat().st_mode & 0o777) == oct(0o444)
    assert figure(review.mart, GRONINGEN) == (0.65, False)
    (line,) = events(review)
    assert (line["user"], line["role"], line["action"]) == ("job-user", "job", "publish")
    assert line["what"]["release"] == 1


def test_review_stages_and_the_public_mart_stays_until_approved(review: Paths) -> None:
    published = review.mart.stat().st_ino
    deliver(review.warehouse, GRONINGEN, date(2025, 3, 31), 20)  # far below the fixture's: moved
    summary = publish.compute(review)
    assert summary.release is None
    pending = release.staged(review)
    assert pending is not None and pending.path == summary.mart and pending.build.base == 1
    assert review.mart.stat().st_ino == published
    assert figure(review.mart, GRONINGEN) == (0.65, False)  # the public sees the old figure
    assert status.mart_state(review)["staged"]["build"] == pending.build.id
    assert not status.mart_state(review)["behind"]  # staged from the current deliveries

    con = duckdb.connect(str(pending.path), read_only=True)
    found = con.sql("select * from release_changes").pl()
    con.close()
    moved = found.filter(
        (pl.col("change") == "moved")
        & (pl.col("area_code") == GRONINGEN)
        & (pl.col("indicator_id") == "coordinator_within_30d")
        & (pl.col("period") == "2023")
        & (pl.col("breakdown") == "all")
    )
    assert moved.select("old_value", "new_value").rows() == [(0.65, 0.2)]

    done = release.approve(review, pending.build.id, release.Actor("a@x.nl", "analyst"), "ok")
    assert done.number == 2 and os.path.samefile(review.mart, done.path)
    assert figure(review.mart, GRONINGEN) == (0.2, False)
    assert release.staged(review) is None
    line = events(review)[-1]
    assert (line["user"], line["role"], line["action"]) == ("a@x.nl", "analyst", "approve")
    assert line["what"]["release"] == 2 and line["what"]["note"] == "ok"
    assert GRONINGEN in line["concerns"]
    # every published mart is kept, and the first still shows what the public saw then
    assert [r.number for r in release.releases(review)] == [1, 2]
    assert figure(release.releases(review)[0].path, GRONINGEN) == (0.65, False)
    assert release.release_on(review, datetime.fromisoformat(done.decision.at)).number == 2


def test_a_rejection_keeps_the_published_mart_and_is_not_staged_again(review: Paths) -> None:
    before = review.mart.read_bytes()
    deliver(review.warehouse, GRONINGEN, date(2025, 3, 31), 20)
    pending = publish.compute(review)
    build = release.staged(review)
    assert build is not None and pending.release is None
    with pytest.raises(release.ReleaseError, match="reason"):
        release.reject(review, build.build.id, release.Actor("a@x.nl", "analyst"), "  ")
    release.reject(review, build.build.id, release.Actor("a@x.nl", "analyst"), "Zwolle checks")
    assert review.mart.read_bytes() == before
    assert release.staged(review) is None
    (rejected,) = release.rejections(review)
    assert rejected.decision.text == "Zwolle checks" and rejected.path.is_file()
    line = events(review)[-1]
    assert (line["action"], line["what"]["reason"]) == ("reject", "Zwolle checks")
    # the job compares the warehouse with the mart built last: the rejected one
    assert not status.mart_state(review)["behind"]
    deliver(review.warehouse, STADSKANAAL, date(2025, 3, 31), 10)
    assert status.mart_state(review)["behind"]
    with pytest.raises(release.ReleaseError, match="no longer waiting"):
        release.approve(review, build.build.id, release.Actor("a@x.nl", "analyst"))


def test_an_approval_must_be_of_what_was_reviewed(review: Paths) -> None:
    deliver(review.warehouse, GRONINGEN, date(2025, 3, 31), 20)
    publish.compute(review)
    first = release.staged(review)
    assert first is not None
    deliver(review.warehouse, STADSKANAAL, date(2025, 3, 31), 10)
    publish.compute(review)  # a newer staging replaces the one under review
    second = release.staged(review)
    assert second is not None and second.build.id != first.build.id
    assert not first.path.exists()
    with pytest.raises(release.ReleaseError, match="no longer waiting"):
        release.approve(review, first.build.id, release.Actor("a@x.nl", "analyst"))
    # A mart compared with release 1 (staged while another process published release 2)
    # cannot be approved: its changes were not the ones the public will see.
    copy = review.data_dir / "copy.duckdb"
    copy.write_bytes(second.path.read_bytes())
    release.approve(review, second.build.id, release.Actor("a@x.nl", "analyst"))
    late = release.stage(review, copy, release.Actor("job", "job"), as_of=None, base=1)
    with pytest.raises(release.ReleaseError, match="changed since this one was staged"):
        release.approve(review, late.build.id, release.Actor("a@x.nl", "analyst"))
    assert [r.number for r in release.releases(review)] == [1, 2]


def test_a_mart_published_before_releases_is_kept_as_the_first(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("HGKM_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    deliver(data / "warehouse.duckdb", GRONINGEN, E, 65)
    paths = Paths(data)
    publish.compute(paths)
    # as an install before releases left it: a plain mart file, no releases folder
    plain = paths.mart.read_bytes()
    shutil.rmtree(paths.releases)
    paths.mart.unlink()
    paths.mart.write_bytes(plain)
    deliver(paths.warehouse, GRONINGEN, date(2025, 3, 31), 20)
    summary = publish.compute(paths)
    assert summary.release == 2
    first, second = release.releases(paths)
    assert first.decision.mode == "adopted" and first.path.read_bytes() == plain
    assert second.build.base == 1
    assert figure(first.path, GRONINGEN) == (0.65, False)


# ---- the same from a shell


def test_hgkm_publish_from_the_shell(review: Paths, tmp_path: Path) -> None:
    env = {"HGKM_CONFIG": str(tmp_path / "hgkm.toml")}
    shown = run_hgkm("publish", data_dir=review.data_dir, env=env)
    assert shown.returncode == 0 and "nothing is staged for review" in shown.stdout
    deliver(review.warehouse, GRONINGEN, date(2025, 3, 31), 20)
    computed = run_hgkm("compute", data_dir=review.data_dir, env=env)
    assert computed.returncode == 0 and "staged" in computed.stdout, computed.stdout
    build = release.staged(review)
    assert build is not None
    shown = run_hgkm("publish", "show", data_dir=review.data_dir, env=env)
    assert f"staged build {build.build.id}" in shown.stdout
    assert "coordinator_within_30d GM0014 2023 all: 0.65 [" in shown.stdout
    assert "value moved outside its old 95% interval" in shown.stdout
    out = tmp_path / "changes.csv"
    assert run_hgkm("publish", "changes", "--out", out, data_dir=review.data_dir).returncode == 0
    assert "GM0014" in pl.read_csv(out)["area_code"].to_list()
    wrong = run_hgkm("publish", "approve", "--build", "nothere", data_dir=review.data_dir, env=env)
    assert wrong.returncode == 2 and "is not the one staged now" in wrong.stderr
    approved = run_hgkm(
        "publish", "approve", "--build", build.build.id, "--note", "checked",
        data_dir=review.data_dir, env=env,
    )  # fmt: skip
    assert approved.returncode == 0 and "as release 2" in approved.stdout
    assert figure(review.mart, GRONINGEN) == (0.2, False)
    line = events(review)[-1]
    assert (line["role"], line["action"], line["what"]["note"]) == ("shell", "approve", "checked")
    listing = run_hgkm("publish", "list", data_dir=review.data_dir, env=env)
    assert "release    1" in listing.stdout and "review  by" in listing.stdout
    old = tmp_path / "release1.csv"
    exported = run_hgkm("export", "--out", old, "--release", "1", data_dir=review.data_dir)
    assert exported.returncode == 0, exported.stderr
    first = pl.read_csv(old, infer_schema=False).filter(
        (pl.col("indicator_id") == "coordinator_within_30d")
        & (pl.col("area_code") == GRONINGEN)
        & (pl.col("period") == "2023")
        & (pl.col("breakdown") == "all")
    )
    assert first["value"].to_list() == ["0.65"]
    nothing = run_hgkm("publish", "reject", "--reason", "x", data_dir=review.data_dir, env=env)
    assert nothing.returncode == 2 and "nothing is staged" in nothing.stderr
