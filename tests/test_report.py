"""The meeting report: self-contained HTML with the grid and a summary, written by the CLI."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from mart_builder import build_mart


class _Links(HTMLParser):
    """Every src/href attribute of the document's own tags (script bodies are not tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.external_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)
        if tag == "script" and dict(attrs).get("src"):
            self.external_scripts += 1


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    from conftest import run_hgkm

    data_dir = tmp_path_factory.mktemp("report") / "data"
    data_dir.mkdir()
    build_mart(data_dir / "mart.duckdb")
    out = data_dir.parent / "out" / "rapport.html"
    result = run_hgkm(
        "report", "--region", "VT11", "--period", "2024", "--out", out, data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    assert "rapport.html" in result.stdout
    return data_dir, out, out.read_text(encoding="utf-8")


def test_report_makes_no_outside_requests(written: tuple[Path, Path, str]) -> None:
    _, _, html = written
    links = _Links()
    links.feed(html)
    assert links.external_scripts == 0
    assert [u for u in links.urls if re.match(r"(https?:)?//", u)] == []
    # plotly.js is inlined exactly once, however many charts there are
    assert html.count("plotly.js v") == 1 and html.count("window.PlotlyConfig") == 1
    assert html.count("Plotly.newPlot") == 11
    assert html.count('class="plotly-graph-div"') == 11  # the grid and one chart per indicator


def test_report_has_the_grid_and_a_summary_per_municipality(
    written: tuple[Path, Path, str],
) -> None:
    data_dir, _, html = written
    assert "<h1>IJsselland: aanpak huiselijk geweld en kindermishandeling, 2024</h1>" in html
    assert "IJsselland: gemeenten vergeleken met Nederland, 2024" in html  # the grid's title
    with duckdb.connect(str(data_dir / "mart.duckdb"), read_only=True) as con:
        members = con.execute(
            """select a.area_name from area_members m
               join areas a on a.area_code = m.municipality_code
               where m.area_code = 'veilig_thuis_region:VT11'"""
        ).fetchall()
        worse = con.execute(
            """select count(*) from indicator_values where area_code = 'veilig_thuis_region:VT11'
               and period = '2024' and breakdown = 'all' and comparison_national = 'worse'"""
        ).fetchone()[0]
        indicators = con.execute("select count(*) from catalogue").fetchone()[0]
    for (name,) in members:
        assert f"<dt>{name}</dt>" in html
    assert "<dt>Olst-Wijhe</dt><dd>Geen cijfers: geen (actuele) aanlevering.</dd>" in html
    assert f"slechter op {worse} van de {indicators} indicatoren" in html
    assert "Bron: CBS/PDOK gebiedsindelingen 2025" in html and "Methode:" in html


def test_report_in_english(written: tuple[Path, Path, str], tmp_path: Path) -> None:
    from conftest import run_hgkm

    data_dir, _, _ = written
    out = tmp_path / "report_en.html"
    result = run_hgkm(
        "report", "--region", "veilig_thuis_region:VT03", "--period", "2024-Q3",
        "--out", out, "--lang", "en", data_dir=data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert "Flevoland: the approach to domestic violence and child abuse, 2024 Q3" in html


def test_report_refuses_bad_usage(written: tuple[Path, Path, str], tmp_path: Path) -> None:
    from conftest import run_hgkm

    data_dir, _, _ = written
    unknown = run_hgkm(
        "report", "--region", "VT99", "--period", "2024", "--out", tmp_path / "x.html",
        data_dir=data_dir,
    )  # fmt: skip
    assert unknown.returncode == 2 and "VT99" in unknown.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = run_hgkm(
        "report", "--region", "VT11", "--period", "2024", "--out", tmp_path / "y.html",
        data_dir=empty,
    )  # fmt: skip
    assert missing.returncode == 1 and "hgkm compute" in missing.stderr
    assert not (tmp_path / "y.html").exists()


def test_dashboard_command_says_to_compute_first(tmp_path: Path) -> None:
    from conftest import run_hgkm

    result = run_hgkm("dashboard", "--port", "1", data_dir=tmp_path)
    assert result.returncode == 1
    assert "run `hgkm compute` first" in result.stderr
