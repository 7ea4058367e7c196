"""Text contrast of at least 4.5:1 (WCAG 2.1 1.4.3) for the colours the app declares, computed
here from WCAG's formula; and the comparison colours stay colour-blind safe and never alone."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from dashboard import charts, report, tables

ROOT = Path(__file__).resolve().parent.parent
THEME = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
# Streamlit's light theme: the page, the sidebar, inline code; captions are the text colour at
# 60% opacity (measured in chromium: #2f2d2b became #828180 on white)
WHITE, SIDEBAR, CODE_BACKGROUND, CAPTION_OPACITY = "#FFFFFF", "#F8F8F7", "#FDFDFD", 0.6
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


def channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def over(colour: str, background: str, opacity: float) -> str:
    """`colour` at `opacity` drawn on `background`."""
    mixed = (
        round(opacity * int(colour[i : i + 2], 16) + (1 - opacity) * int(background[i : i + 2], 16))
        for i in (1, 3, 5)
    )
    return "#" + "".join(f"{c:02X}" for c in mixed)


def test_the_formula_matches_published_values() -> None:
    assert ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # WebAIM's example
    assert ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("background", [WHITE, SIDEBAR])
def test_theme_text_and_captions(background: str) -> None:
    text = THEME["textColor"]
    assert ratio(text, background) >= 4.5
    assert ratio(over(text, background, CAPTION_OPACITY), background) >= 4.5
    assert ratio(THEME["primaryColor"], background) >= 4.5  # links, focus, selected options


def test_theme_code_and_primary_buttons() -> None:
    assert ratio(THEME["codeTextColor"], CODE_BACKGROUND) >= 4.5
    assert ratio(WHITE, THEME["primaryColor"]) >= 4.5  # white text on a primary button


@pytest.mark.parametrize("status", list(charts.COLOURS))
def test_grid_cell_ink_on_every_cell_colour(status: str) -> None:
    assert ratio(charts.CELL_INK, charts.COLOURS[status]) >= 4.5


def test_chart_text_on_white() -> None:
    assert ratio(charts.FONT["color"], WHITE) >= 4.5
    assert ratio(charts.INK, WHITE) >= 4.5


def test_report_text_colours() -> None:
    """Every text colour of the report's style sheet on its white page and its grey lead box."""
    colours = re.findall(r"(?<![-\w])color:\s*(#[0-9A-Fa-f]{6})", report.STYLE)
    assert len(colours) >= 3
    for colour in colours:
        assert ratio(colour, WHITE) >= 4.5, colour
        assert ratio(colour, "#F5F7FA") >= 4.5, colour


def test_comparison_colours_are_colour_blind_safe_and_never_alone() -> None:
    meaningful = ("better", "similar", "worse")
    assert {charts.COLOURS[s].upper() for s in meaningful} <= OKABE_ITO
    symbols = [tables.SYMBOLS[s] for s in (*meaningful, "suppressed", "no_data")]
    assert all(symbols) and len(set(symbols)) == len(symbols)
    assert len({charts.MARKERS[s] for s in meaningful}) == 3
