"""Anonymisation guard: find text values that look like direct identifiers, never showing them.

Vectorised over all text cells at once (one long frame): regular expressions find candidates,
and the BSN eleven-test and the IBAN mod-97 check run as polars column arithmetic.
"""

from __future__ import annotations

import re

import polars as pl

# Found by pattern alone.
EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
# 06-, area codes (010, 0592, ...), +31 / 0031 (optionally "(0)"), separators ' ' . - ( ) /.
PHONE = (
    r"(?:(?:\+|\b00)31[ .\-]?(?:\(0\)[ .\-]?)?|\(?\b0)"
    r"[1-9](?:[ .\-/)]{0,2}[0-9]){8}\b"
)
POSTCODE = r"(?i)\b[1-9][0-9]{3} ?[A-Z]{2}\b"
# Candidates that must also pass a checksum.
BSN = r"\b[0-9](?:[. ]?[0-9]){8}\b"
IBAN = r"(?i)\b[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)\b"

# Every match of a pattern above holds an "@", four digits with at most two separators
# between each two, or an IBAN's start (two letters, two digits) followed by ten letters,
# digits or spaces: one cheap pass picks the few cells worth the five full patterns (a test
# generates matches of every pattern and finds the candidate in each).
CANDIDATE = r"@|[0-9](?:[ .\-/()]{0,2}[0-9]){3}|[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{10}"

PATTERN_RULES: dict[str, str] = {
    "personal_data_email": EMAIL,
    "personal_data_phone": PHONE,
    "personal_data_postcode": POSTCODE,
}
_LETTERS = [chr(65 + i) for i in range(26)]
_LETTER_VALUES = [str(10 + i) for i in range(26)]  # A=10 .. Z=35
_IBAN_MAX_DIGITS = 34 * 2
_CHUNK = 7
_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def bsn_valid(candidate: pl.Expr) -> pl.Expr:
    """True where the text, without dots and spaces, is 9 digits passing the eleven-test."""
    digits = candidate.str.replace_all(r"[. ]", "")
    weighted = pl.sum_horizontal(
        digits.str.slice(i, 1).cast(pl.Int64, strict=False) * weight
        for i, weight in enumerate(_BSN_WEIGHTS)
    )
    # All zeros passes the arithmetic but is no citizen's number.
    return digits.str.contains(r"^[0-9]{9}$") & (weighted % 11 == 0) & (weighted != 0)


def iban_valid(candidate: pl.Expr) -> pl.Expr:
    """True where the text, without spaces, passes the ISO 13616 mod-97 check."""
    compact = candidate.str.replace_all(" ", "").str.to_uppercase()
    rearranged = compact.str.slice(4) + compact.str.slice(0, 4)
    digits = rearranged.str.replace_many(_LETTERS, _LETTER_VALUES)
    remainder = pl.lit(0, dtype=pl.Int64)
    # Reduce chunk by chunk: each step stays far below Int64's range, and `remainder` is used
    # once per step so the expression grows linearly.
    for start in range(0, _IBAN_MAX_DIGITS, _CHUNK):
        chunk = digits.str.slice(start, _CHUNK)
        scale = pl.lit(10, dtype=pl.Int64).pow(chunk.str.len_chars().cast(pl.Int64))
        remainder = (remainder * scale + chunk.cast(pl.Int64, strict=False).fill_null(0)) % 97
    return compact.str.contains(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$") & (remainder == 1)


CHECKSUM_RULES: dict[str, tuple[str, object]] = {
    "personal_data_bsn": (BSN, bsn_valid),
    "personal_data_iban": (IBAN, iban_valid),
}
RULES = (*PATTERN_RULES, *CHECKSUM_RULES)


def scan(frame: pl.DataFrame, row: str, columns: list[str]) -> pl.DataFrame:
    """One row (row, column, rule) per cell of `columns` that looks like personal data.

    `row` names the column holding each row's number; the values themselves never leave here.
    """
    empty = pl.DataFrame(schema={"row": pl.Int64, "column": pl.String, "rule": pl.String})
    if not columns or frame.is_empty():
        return empty
    # Only candidate cells are copied into the long frame of (row, column, value).
    source = frame.lazy()
    cells = pl.concat(
        pl.collect_all(
            source.select(
                pl.col(row).alias("row"),
                pl.lit(column).alias("column"),
                pl.col(column).cast(pl.String).alias("value"),
            ).filter(pl.col("value").str.contains(CANDIDATE))
            for column in columns
        )
    )
    if cells.is_empty():
        return empty
    lazy = cells.lazy()
    plans = [
        lazy.filter(pl.col("value").str.contains(pattern)).select(
            "row", "column", pl.lit(rule).alias("rule")
        )
        for rule, pattern in PATTERN_RULES.items()
    ]
    for rule, (pattern, valid) in CHECKSUM_RULES.items():
        plans.append(
            lazy.filter(pl.col("value").str.contains(pattern))
            .with_columns(pl.col("value").str.extract_all(pattern))
            .explode("value")
            .filter(valid(pl.col("value")))  # type: ignore[operator]
            .select("row", "column", pl.lit(rule).alias("rule"))
            .unique()
        )
    return pl.concat([empty, *pl.collect_all(plans)]).sort("row", "column", "rule")


def text_rules(text: str) -> list[str]:
    """The rules one short text breaks (a file, folder, zip member or sheet name), in plain
    Python: a polars scan costs milliseconds per call, and a delivery has a handful of names.

    The same patterns and checksums as `scan` (a property test holds the two equal).
    """
    if not re.search(CANDIDATE, text):
        return []
    found = [rule for rule, pattern in PATTERN_RULES.items() if re.search(pattern, text)]
    if any(_bsn_valid(m) for m in re.findall(BSN, text)):
        found.append("personal_data_bsn")
    if any(_iban_valid(m) for m in re.findall(IBAN, text)):
        found.append("personal_data_iban")
    return sorted(found)


def _bsn_valid(candidate: str) -> bool:
    digits = re.sub(r"[. ]", "", candidate)
    if not re.fullmatch(r"[0-9]{9}", digits):
        return False
    weighted = sum(int(d) * w for d, w in zip(digits, _BSN_WEIGHTS, strict=True))
    return weighted % 11 == 0 and weighted != 0


def _iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return int(digits) % 97 == 1
