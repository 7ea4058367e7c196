"""The intake's limits, declared once: defaults, the hgkm.toml `[limits]` table, the docs.

A file or delivery over a limit is refused before the reader allocates for it, so one hostile
delivery is checked within a bounded memory and time. The defaults leave a wide margin over
the largest national delivery (benchmarks/findings.md gives the measured sizes).
This module sits at the bottom of the import graph with hgkm.config, its only project import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from hgkm.config import ConfigError, read_section

SECTION = "limits"
MiB = 1024**2


def _limit(default: int, unit: str, meaning: str) -> Any:
    return field(default=default, metadata={"unit": unit, "meaning": meaning})


@dataclass(frozen=True)
class Limits:
    """What one delivery (or approach-profile file) may hold; each key is a `[limits]` key."""

    file_bytes: int = _limit(
        128 * MiB,
        "bytes",
        "one file: a delivery's CSV or Parquet file (a zip member unpacked), a zip, a workbook, "
        "a profile file",
    )
    delivery_bytes: int = _limit(256 * MiB, "bytes", "a delivery's files together, unpacked")
    files: int = _limit(
        1_000, "entries", "entries in a delivery's folder or zip, or sheets in its workbook"
    )
    rows: int = _limit(1_000_000, "rows", "rows of one table (file or sheet)")
    columns: int = _limit(1_000, "columns", "columns in a header")
    field_bytes: int = _limit(64 * 1024, "bytes", "one value or column name")
    cells: int = _limit(
        15_000_000,
        "cells",
        "values (rows x columns) of a delivery's tables together; a sheet counts its extent, as "
        "its workbook declares it or as its cells reach",
    )
    errors_per_rule: int = _limit(
        10_000,
        "errors",
        "rows breaking one rule in one column that are recorded; beyond it the delivery is "
        "broken at the source and is not loaded, not even with --drop-invalid-rows",
    )
    reader_memory_bytes: int = _limit(
        2048 * MiB, "bytes", "address space of the child process that reads a workbook or Parquet"
    )
    reader_seconds: int = _limit(120, "seconds", "time that child process may take")
    run_seconds: int = _limit(
        3600, "seconds", "time of one `hgkm run`; past it the run stops with exit code 4"
    )


DEFAULTS = Limits()


def parse_limits(table: Mapping[str, Any], source: str) -> Limits:
    """The limits a `[limits]` table sets (the rest keep their defaults); errors name the key."""
    known = {f.name for f in fields(Limits)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown limit(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values = {}
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(f"{source}: [{SECTION}] {name} = {value!r} is not a positive integer")
        values[name] = value
    return replace(Limits(), **values)


def load_limits(environ: Mapping[str, str] | None = None, file: Path | None = None) -> Limits:
    """The limits of hgkm.toml (or the file $HGKM_CONFIG names), else the defaults."""
    table, path = read_section(SECTION, environ=environ, file=file)
    return parse_limits(table, str(path))


def docs_table() -> str:
    """The limits as the Markdown table of docs/operations.md (a test holds the two equal)."""
    lines = ["| `[limits]` key | default | what it bounds |", "|---|---|---|"]
    for f in fields(Limits):
        default = getattr(DEFAULTS, f.name)
        lines.append(
            f"| `{f.name}` | {shown(default, f.metadata['unit'])} | {f.metadata['meaning']} |"
        )
    return "\n".join(lines)


def shown(value: int, unit: str) -> str:
    """A limit for people: bytes in MiB or KiB when whole, other units with thousands marks."""
    if unit == "bytes" and value % MiB == 0:
        return f"{value // MiB:,} MiB"
    if unit == "bytes" and value % 1024 == 0:
        return f"{value // 1024:,} KiB"
    return f"{value:,} {unit}"


def described(limits: Limits, name: str) -> str:
    """`name`'s value and key, as a rejection names it: "128 MiB (limit file_bytes)"."""
    unit = next(f.metadata["unit"] for f in fields(Limits) if f.name == name)
    return f"{shown(getattr(limits, name), unit)} (limit {name})"
