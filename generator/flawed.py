"""Deliveries that break one contract rule each, derived from one tiny valid delivery.

Each Flaw declares what the ingest must report (rule, file, row, column); the same
declarations write `sample_data/flawed/README.md` and drive the test that ingests them.
Rows are numbered as the local team sees them in the file: the header is line 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from generator import write
from generator.build import EMPTY_PROFILE
from generator.cases import day_of, generate_municipality, snapshot
from hgkm import reference

BASE_MUNICIPALITY = "GM0193"
BASE_EXTRACT = date(2026, 10, 1)
BASE_YEARS = list(range(2019, 2026))
BASE_SCALE = 0.0025  # a handful of cases
BASE_QUIRKS = write.Quirks(source_system="Wijkteamregistratie")
FIRST_DATA_LINE = 2  # line 1 is the header

Tables = dict[str, pl.DataFrame]


@dataclass(frozen=True)
class Flaw:
    """One rejected delivery: how it is broken and what the ingest must say about it."""

    name: str
    what: str
    rule: str
    file: str
    row: int | None
    column: str | None
    make: Callable[[Tables, dict[str, str]], dict[str, bytes] | bytes]
    shape: str = "folder"  # folder: make returns files; zip: make returns the zip's bytes


def base_tables(seed: int) -> Tables:
    population = dict(
        reference.municipalities().select("municipality_code", "population").iter_rows()
    )[BASE_MUNICIPALITY]
    truth = generate_municipality(
        seed,
        BASE_MUNICIPALITY,
        population,
        BASE_YEARS,
        BASE_SCALE,
        EMPTY_PROFILE,
        day_of(BASE_EXTRACT),
    )
    return snapshot(truth, BASE_EXTRACT, seed)


def base_manifest() -> dict[str, str]:
    return dict(
        write.manifest(BASE_MUNICIPALITY, BASE_EXTRACT, BASE_QUIRKS)
        .select("key", "value")
        .iter_rows()
    )


def files(tables: Tables, manifest: dict[str, str]) -> dict[str, bytes]:
    frame = pl.DataFrame({"key": list(manifest), "value": list(manifest.values())})
    out = {"manifest.csv": write.csv_bytes("manifest", frame, write.PLAIN)}
    out.update({f"{n}.csv": write.csv_bytes(n, t, write.PLAIN) for n, t in tables.items()})
    return out


def _manifest_line(key: str) -> int:
    return FIRST_DATA_LINE + list(base_manifest()).index(key)


def _with_manifest(key: str, value: str) -> Callable[[Tables, dict[str, str]], dict[str, bytes]]:
    return lambda t, m: files(t, {**m, key: value})


def _set(table: str, row: int, column: str, value: str | None):
    """Replace one cell (0-based data row) after turning the column into text."""

    def make(t: Tables, m: dict[str, str]) -> dict[str, bytes]:
        cell = pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, dtype=pl.String))
        frame = t[table].with_columns(cell.otherwise(pl.col(column).cast(pl.String)).alias(column))
        return files({**t, table: frame}, m)

    return make


def _rename_case(old_index: int, new_id: str):
    """Give one case another id everywhere it occurs (so only the id itself is wrong)."""

    def make(t: Tables, m: dict[str, str]) -> dict[str, bytes]:
        old = t["cases"]["case_id"][old_index]
        return files(
            {n: f.with_columns(pl.col("case_id").replace(old, new_id)) for n, f in t.items()}, m
        )

    return make


def _rename_child(old_index: int, new_id: str):
    def make(t: Tables, m: dict[str, str]) -> dict[str, bytes]:
        old = t["children"]["child_id"][old_index]
        out = dict(t)
        for name in ("children", "help"):
            out[name] = t[name].with_columns(pl.col("child_id").replace(old, new_id))
        return files(out, m)

    return make


def _extra_column(t: Tables, m: dict[str, str]) -> dict[str, bytes]:
    surnames = ["Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit"]
    n = t["cases"].height
    naam = (surnames * (n // len(surnames) + 1))[:n]
    return files({**t, "cases": t["cases"].with_columns(naam=pl.Series(naam))}, m)


def _missing_column(t: Tables, m: dict[str, str]) -> dict[str, bytes]:
    return files({**t, "cases": t["cases"].drop("safety_assessment")}, m)


def _missing_file(t: Tables, m: dict[str, str]) -> dict[str, bytes]:
    return files({n: f for n, f in t.items() if n != "followups"}, m)


def _duplicate_case(t: Tables, m: dict[str, str]) -> dict[str, bytes]:
    cases = t["cases"]
    return files({**t, "cases": pl.concat([cases, cases.slice(0, 1)])}, m)


def _child_help_without_id(t: Tables, m: dict[str, str]) -> dict[str, bytes]:
    help_rows = t["help"].with_columns(
        recipient=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("child")).otherwise("recipient"),
        child_id=pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise("child_id"),
    )
    return files({**t, "help": help_rows}, m)


def _corrupt_zip(t: Tables, m: dict[str, str]) -> bytes:
    whole = write.zip_bytes(files(t, m))
    return whole[: len(whole) // 2]  # cut off halfway, as an interrupted upload


def _unsafe_zip(t: Tables, m: dict[str, str]) -> bytes:
    return write.zip_bytes({f"../{name}": data for name, data in files(t, m).items()})


def flaws(tables: Tables) -> tuple[Flaw, ...]:
    """Every flaw, with rows pointing into `tables` (the base delivery)."""
    last_case = tables["cases"].height - 1
    help_row = 0
    followup_row = 0
    line = FIRST_DATA_LINE
    return (
        Flaw(
            "bsn_in_source_system",
            "a BSN (passing the eleven-test) in the manifest's free text",
            "personal_data_bsn",
            "manifest.csv",
            _manifest_line("source_system"),
            "value",
            _with_manifest("source_system", "Export 111222333"),
        ),
        Flaw(
            "bsn_as_case_id",
            "a case_id that is a BSN-valid 9-digit number (in every table)",
            "personal_data_bsn",
            "cases.csv",
            line + last_case,
            "case_id",
            _rename_case(last_case, "111222333"),
        ),
        Flaw(
            "email_in_source_system",
            "an e-mail address in the manifest",
            "personal_data_email",
            "manifest.csv",
            _manifest_line("source_system"),
            "value",
            _with_manifest("source_system", "export door wijkteam@gemeente.example"),
        ),
        Flaw(
            "phone_as_child_id",
            "a Dutch mobile number as a child_id",
            "personal_data_phone",
            "children.csv",
            line,
            "child_id",
            _rename_child(0, "0612345678"),
        ),
        Flaw(
            "postcode_in_source_system",
            "a postcode with letters in the manifest",
            "personal_data_postcode",
            "manifest.csv",
            _manifest_line("source_system"),
            "value",
            _with_manifest("source_system", "Wijkteam 8011 AB"),
        ),
        Flaw(
            "iban_in_source_system",
            "an IBAN in the manifest",
            "personal_data_iban",
            "manifest.csv",
            _manifest_line("source_system"),
            "value",
            _with_manifest("source_system", "Registratie NL91ABNA0417164300"),
        ),
        Flaw(
            "extra_column_naam",
            "an extra column `naam` in cases",
            "unexpected_column",
            "cases.csv",
            None,
            "naam",
            _extra_column,
        ),
        Flaw(
            "missing_column",
            "cases without its `safety_assessment` column",
            "missing_column",
            "cases.csv",
            None,
            "safety_assessment",
            _missing_column,
        ),
        Flaw(
            "missing_file",
            "no followups.csv",
            "missing_file",
            "followups.csv",
            None,
            None,
            _missing_file,
        ),
        Flaw(
            "help_for_unknown_case",
            "a help row whose case_id is not in cases",
            "unknown_case",
            "help.csv",
            line + help_row,
            "case_id",
            _set("help", help_row, "case_id", "Cunknown01"),
        ),
        Flaw(
            "date_after_extract",
            "a follow-up dated after the extract date",
            "date_after_extract",
            "followups.csv",
            line + followup_row,
            "followup_date",
            _set("followups", followup_row, "followup_date", "2026-11-02"),
        ),
        Flaw(
            "unparsable_date",
            "a closed_date that is no date (month 13)",
            "date_format",
            "cases.csv",
            line,
            "closed_date",
            _set("cases", 0, "closed_date", "2024-13-01"),
        ),
        Flaw(
            "bad_enum",
            "a violence_type outside the contract's values",
            "enum_value",
            "cases.csv",
            line,
            "violence_type",
            _set("cases", 0, "violence_type", "huiselijk_geweld"),
        ),
        Flaw(
            "child_help_without_child_id",
            "a help row for a child with an empty child_id",
            "child_id_required",
            "help.csv",
            line,
            "child_id",
            _child_help_without_id,
        ),
        Flaw(
            "duplicate_case_id",
            "the first case repeated at the end of cases",
            "unique",
            "cases.csv",
            line + last_case + 1,
            "case_id",
            _duplicate_case,
        ),
        Flaw(
            "unknown_municipality",
            "a municipality code that is not in the reference list",
            "manifest_municipality",
            "manifest.csv",
            _manifest_line("municipality_code"),
            "value",
            _with_manifest("municipality_code", "GM9999"),
        ),
        Flaw(
            "wrong_contract_version",
            "contract_version 2",
            "manifest_contract_version",
            "manifest.csv",
            _manifest_line("contract_version"),
            "value",
            _with_manifest("contract_version", "2"),
        ),
        Flaw(
            "corrupt_zip",
            "a zip cut off halfway",
            "zip_corrupt",
            "corrupt_zip.zip",
            None,
            None,
            _corrupt_zip,
            shape="zip",
        ),
        Flaw(
            "zip_with_parent_paths",
            "a zip whose entries start with `../`",
            "zip_unsafe_path",
            "zip_with_parent_paths.zip",
            None,
            None,
            _unsafe_zip,
            shape="zip",
        ),
    )


def write_flawed(out: Path, seed: int) -> list[tuple[Flaw, Path]]:
    """Write every flawed delivery and the README into `out`."""
    tables = base_tables(seed)
    manifest = base_manifest()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for flaw in flaws(tables):
        made = flaw.make(tables, manifest)
        if flaw.shape == "zip":
            path = out / f"{flaw.name}.zip"
            path.write_bytes(made)  # type: ignore[arg-type]
        else:
            path = out / flaw.name
            path.mkdir(exist_ok=True)
            for name, data in made.items():  # type: ignore[union-attr]
                (path / name).write_bytes(data)
        written.append((flaw, path))
    (out / "README.md").write_text(readme(flaws(tables)), encoding="utf-8")
    return written


def readme(all_flaws: tuple[Flaw, ...]) -> str:
    lines = [
        "# Flawed deliveries — one rejection each",
        "",
        "Written by `python -m generator.committed sample_data` (do not edit by hand). Each is",
        f"the same tiny valid delivery of {BASE_MUNICIPALITY} (extract {BASE_EXTRACT}) with one",
        "thing broken; `hgkm ingest` must reject it and report exactly this rule at this place",
        "(row = line in the file as the local team sees it, the header being line 1; `-` = the",
        "whole file or column). Personal-data findings never show the value.",
        "",
        "| delivery | what is wrong | rule | file | row | column |",
        "|---|---|---|---|---|---|",
    ]
    for f in all_flaws:
        name = f"{f.name}.zip" if f.shape == "zip" else f"{f.name}/"
        lines.append(
            f"| `{name}` | {f.what} | `{f.rule}` | {f.file} | {f.row or '-'} | {f.column or '-'} |"
        )
    return "\n".join(lines) + "\n"
