"""CSV that a spreadsheet opens as data, never as a formula: the one writer of every download
and export.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by Excel
or LibreOffice as a formula (which can run commands or leak data); such a cell gets a leading
apostrophe, which spreadsheets show as text. Numbers are never touched: a numeric column is
written as numbers, and a text cell that is a plain number (`-1.5`, `+3`) is left as it is,
since a spreadsheet reads it as a number, not a formula.
This module sits at the bottom of the import graph and imports nothing of the project.
"""

from __future__ import annotations

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?$"


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell that a spreadsheet would run prefixed by `'`."""
    text = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)
    ]
    return frame.with_columns(
        pl.when(
            pl.col(name).cast(pl.String).str.contains(FORMULA_START)
            & ~pl.col(name).cast(pl.String).str.contains(PLAIN_NUMBER)
        )
        .then(pl.lit("'") + pl.col(name).cast(pl.String))
        .otherwise(pl.col(name).cast(pl.String))
        .alias(name)
        for name in text
    )


def csv_text(frame: pl.DataFrame) -> str:
    """The frame as CSV text, formulas neutralised."""
    return neutralised(frame).write_csv()
