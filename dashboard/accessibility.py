"""What is known about the dashboard's accessibility: the audit, and what does not comply.

Declared once: the statement page, docs/accessibility.md and the browser test
(tests/test_accessibility.py) all read it. `axe_rule` marks a part axe-core reports; the test
tolerates exactly those findings and fails when one no longer occurs, so the list only shrinks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

AUDIT_DATE = date(2026, 12, 3)
# the axe-core that axe-playwright-python bundles (the browser test checks it is this one)
AXE_VERSION = "4.12"
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


@dataclass(frozen=True)
class Shortfall:
    """A part that does not (fully) meet WCAG 2.1 AA, owned by Streamlit or Plotly."""

    criterion: str  # the WCAG success criterion
    target: str  # a CSS selector of the part
    owner: str
    key: str  # i18n key of what is wrong and what the app offers instead
    axe_rule: str | None = None  # set when axe-core reports it (a tolerated finding)


SHORTFALLS = (
    Shortfall("1.3.1, 4.1.2", '[data-testid="stDataFrame"]', "Streamlit", "a11y_dataframe"),
    Shortfall("2.1.1", ".js-plotly-plot", "Plotly", "a11y_hover"),
    Shortfall(
        "3.1.2", '.modebar-btn, [data-testid="stMainMenu"]', "Plotly, Streamlit", "a11y_english"
    ),
)
# axe-core findings in parts the app does not control, by (rule, target): none at this audit
TOLERATED = {(s.axe_rule, s.target) for s in SHORTFALLS if s.axe_rule}
