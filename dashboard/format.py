"""Numbers, dates and comparisons as people read them: Dutch (`59,3%`) by default, or English.

Everything is a polars expression, so a whole column is formatted at once; the scalar
functions at the bottom run the same expressions on one value, so a table cell, a hover text
and a sentence in the report can never disagree.
"""

from __future__ import annotations

from datetime import date

import polars as pl

SUPPRESSED = "–"
NO_DATA = "n.b."
COMPARISONS = ("better", "similar", "worse", "not_compared")

MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}  # fmt: skip
DECIMAL = {"nl": ",", "en": "."}
THOUSANDS = {"nl": ".", "en": ","}
DAYS = {"nl": ("dag", "dagen"), "en": ("day", "days")}
NOT_REACHED = {"nl": "mediaan niet bereikt", "en": "median not reached"}
COMPARISON_WORDS = {
    "nl": {
        "better": "beter dan {b}",
        "similar": "vergelijkbaar met {b}",
        "worse": "slechter dan {b}",
        "not_compared": "niet vergeleken met {b}",
    },
    "en": {
        "better": "better than {b}",
        "similar": "similar to {b}",
        "worse": "worse than {b}",
        "not_compared": "not compared with {b}",
    },
}


def _grouped(digits: pl.Expr, lang: str) -> pl.Expr:
    """Thousands separators on a string of digits (`12345` -> `12.345`)."""
    return digits.str.reverse().str.extract_all(r"\d{1,3}").list.join(THOUSANDS[lang]).str.reverse()


def number_expr(value: pl.Expr, decimals: int = 0, lang: str = "nl") -> pl.Expr:
    """A non-negative number with a fixed number of decimals, in the language's notation."""
    scale = 10**decimals
    scaled = (value * scale).round(0).cast(pl.Int64)
    whole = _grouped((scaled // scale).cast(pl.Utf8), lang)
    if decimals == 0:
        text = whole
    else:
        fraction = (scaled % scale).cast(pl.Utf8).str.zfill(decimals)
        text = whole + DECIMAL[lang] + fraction
    return pl.when(value.is_null() | value.is_nan()).then(pl.lit(None, pl.Utf8)).otherwise(text)


def percent_expr(fraction: pl.Expr, lang: str = "nl", decimals: int = 1) -> pl.Expr:
    """A fraction as a percentage: 0.593 -> `59,3%`."""
    return number_expr(fraction * 100, decimals, lang) + "%"


def days_expr(days: pl.Expr, lang: str = "nl") -> pl.Expr:
    one, many = DAYS[lang]
    rounded = days.round(0)
    return number_expr(rounded, 0, lang) + pl.when(rounded == 1).then(pl.lit(f" {one}")).otherwise(
        pl.lit(f" {many}")
    )


def value_expr(
    value: pl.Expr,
    value_format: str,
    suppressed: pl.Expr,
    median_reached: pl.Expr | None = None,
    lang: str = "nl",
) -> pl.Expr:
    """The figure as shown: `59,3%`, `23 dagen`, `–` when suppressed, `n.b.` when absent."""
    shown = days_expr(value, lang) if value_format == "days" else percent_expr(value, lang)
    result = pl.when(suppressed.fill_null(False)).then(pl.lit(SUPPRESSED))
    if median_reached is not None:
        result = result.when(median_reached.not_().fill_null(False)).then(pl.lit(NOT_REACHED[lang]))
    return result.when(value.is_null()).then(pl.lit(NO_DATA)).otherwise(shown)


def interval_expr(low: pl.Expr, high: pl.Expr, value_format: str, lang: str = "nl") -> pl.Expr:
    """`52,1–66,0%` or `17–31 dagen`; an open upper end (median not reached) as `≥ 71 dagen`."""
    if value_format == "days":
        lo, hi = number_expr(low.round(0), 0, lang), number_expr(high.round(0), 0, lang)
        unit = " " + DAYS[lang][1]
        open_end = pl.lit("≥ ") + lo + unit
    else:
        lo, hi = number_expr(low * 100, 1, lang), number_expr(high * 100, 1, lang)
        unit = "%"
        open_end = pl.lit("≥ ") + lo + unit
    return (
        pl.when(low.is_null())
        .then(pl.lit(None, pl.Utf8))
        .when(high.is_null())
        .then(open_end)
        .otherwise(lo + "–" + hi + unit)
    )


def comparison_expr(comparison: pl.Expr, benchmark: pl.Expr | str, lang: str = "nl") -> pl.Expr:
    """`beter dan Nederland`, `vergelijkbaar met IJsselland`, …"""
    bench = pl.lit(benchmark) if isinstance(benchmark, str) else benchmark
    result = pl.when(pl.lit(False)).then(pl.lit(None, pl.Utf8))
    for key, template in COMPARISON_WORDS[lang].items():
        before, _, after = template.partition("{b}")
        result = result.when(comparison == key).then(pl.lit(before) + bench + pl.lit(after))
    return result.otherwise(pl.lit(None, pl.Utf8))


def date_expr(day: pl.Expr, lang: str = "nl") -> pl.Expr:
    """`3 maart 2025` / `3 March 2025`."""
    month = day.dt.month().replace_strict(list(range(1, 13)), MONTHS[lang], return_dtype=pl.Utf8)
    text = day.dt.day().cast(pl.Utf8) + " " + month + " " + day.dt.year().cast(pl.Utf8)
    return pl.when(day.is_null()).then(pl.lit(SUPPRESSED)).otherwise(text)


def period_expr(period: pl.Expr, lang: str = "nl") -> pl.Expr:
    """`2024` stays; `2024-Q3` reads `2024 K3` in Dutch, `2024 Q3` in English."""
    return period.str.replace("-Q", " K" if lang == "nl" else " Q", literal=True)


def _scalar(expr: pl.Expr, name: str, value: object, dtype: pl.DataType) -> str:
    return pl.DataFrame({name: [value]}, schema={name: dtype}).select(expr)[0, 0]


def percent(fraction: float | None, lang: str = "nl", decimals: int = 1) -> str:
    text = _scalar(percent_expr(pl.col("x"), lang, decimals), "x", fraction, pl.Float64)
    return SUPPRESSED if text is None else text


def number(value: float | None, decimals: int = 0, lang: str = "nl") -> str:
    text = _scalar(number_expr(pl.col("x"), decimals, lang), "x", value, pl.Float64)
    return SUPPRESSED if text is None else text


def indicator_value(
    value: float | None,
    value_format: str,
    suppressed: bool = False,
    median_reached: bool | None = None,
    lang: str = "nl",
) -> str:
    frame = pl.DataFrame(
        {"v": [value], "s": [suppressed], "m": [median_reached]},
        schema={"v": pl.Float64, "s": pl.Boolean, "m": pl.Boolean},
    )
    expr = value_expr(pl.col("v"), value_format, pl.col("s"), pl.col("m"), lang)
    return frame.select(expr)[0, 0]


def interval(low: float | None, high: float | None, value_format: str, lang: str = "nl") -> str:
    frame = pl.DataFrame({"l": [low], "h": [high]}, schema={"l": pl.Float64, "h": pl.Float64})
    text = frame.select(interval_expr(pl.col("l"), pl.col("h"), value_format, lang))[0, 0]
    return SUPPRESSED if text is None else text


def comparison(key: str, benchmark: str, lang: str = "nl") -> str:
    return COMPARISON_WORDS[lang][key].format(b=benchmark)


def day(value: date | None, lang: str = "nl") -> str:
    return _scalar(date_expr(pl.col("x"), lang), "x", value, pl.Date)


def period(value: str, lang: str = "nl") -> str:
    return _scalar(period_expr(pl.col("x"), lang), "x", value, pl.Utf8)
