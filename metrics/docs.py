"""Generate docs/indicators.md from the catalogue (`python -m metrics.docs` writes it)."""

from __future__ import annotations

import sys
from pathlib import Path

from metrics.catalogue import INDICATORS, Indicator

DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "indicators.md"
POLARITY_TEXT = {"lower_is_better": "lower is better", "higher_is_better": "higher is better"}

HEADER = """\
# Indicators

Generated from the catalogue (each indicator's declaration `metrics/sql/<id>.toml`, loaded by
`metrics/catalogue.py`) by `python -m metrics.docs`; a test fails when this page drifts from
it. Exact definitions: `../shared/spec/INDICATORS.md`. `R` is a case's index report date, `E`
the extract date of its municipality's current delivery; a case counts in a population only
when its window has ended on or before `E`.

How the figures are made (`metrics/indicators.py`, `metrics/publish.py`):

- **Units and periods.** Each indicator's query (`metrics/sql/<id>.sql`) yields one row per
  case (per child for `children_without_help`) with `in_population` and `in_numerator`; Python
  counts them per municipality × cohort year and quarter (of `R`) × breakdown.
- **Empty cells.** A municipality, period and breakdown with nobody in the population gets no
  row at all (there is no figure to show, suppressed or not). Small populations do get a row,
  which disclosure control then suppresses.
- **Areas.** Regions of every type and the country (`NL`, all delivering municipalities) pool
  their municipalities' cases; each row carries its coverage (municipalities delivered / in
  the area; the country's total is all 342).
- **Statistics.** Proportions with 95% Wilson intervals; `time_to_specialist` as a
  Kaplan–Meier median with a Brookmeyer–Crowley interval from the log-log band. A municipality
  is compared with its Veilig Thuis region and the country, a region with the country, always
  against the benchmark's *published* value (a suppressed benchmark: `not_compared`). For the
  median an interval without an upper limit is open-ended; without a lower limit (or a median
  not reached on either side) it is `not_compared`.
- **Disclosure control** (`metrics/disclosure.py`) runs over the whole table, regions and
  country included, before anything is written.
- **Trends** use the five most recent *published* cohort years (Cochran–Armitage, χ² > 9.5495).
- **Funnel.** Per proportion indicator and cohort year, over the published municipalities,
  around the published national value. Over-dispersion (Spiegelhalter's φ, 10% winsorised) is
  flagged when n·φ exceeds the 95% point of χ² on n − 1 degrees of freedom (Spiegelhalter
  2005's test), not merely when φ > 1; only then are random-effects limits published.
"""


def _section(indicator: Indicator) -> str:
    breakdowns = ", ".join(f"`{b}`" for b in indicator.breakdowns) or "none"
    elements = ", ".join(f"`{e}`" for e in indicator.approach_elements)
    return f"""\
## `{indicator.id}` — {indicator.title_en}

*{indicator.title_nl}.* {indicator.short_en}

| | |
|---|---|
| population | {indicator.population_en} |
| numerator | {indicator.numerator_en} |
| polarity | {POLARITY_TEXT[indicator.polarity]} |
| unit | {indicator.unit} ({indicator.value_format}) |
| breakdowns | `all`, {breakdowns} |
| approach elements | {elements} |
| declaration, query | `metrics/sql/{indicator.id}.toml`, `metrics/sql/{indicator.id}.sql` |

**Why.** {indicator.rationale_en}

**Source.** {indicator.source}

**Caveats.** {indicator.caveats_en}

**Nederlands.** {indicator.short_nl} *Populatie:* {indicator.population_nl}
*Teller:* {indicator.numerator_nl} *Waarom:* {indicator.rationale_nl}
*Kanttekeningen:* {indicator.caveats_nl}
"""


def render() -> str:
    """The whole page, as it should be on disk."""
    index = "\n".join(f"- `{i.id}` — {i.title_en}" for i in INDICATORS)
    sections = "\n".join(_section(i) for i in INDICATORS)
    return f"{HEADER}\n{index}\n\n{sections}"


def main() -> int:
    DOCS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
