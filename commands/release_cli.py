"""The `hgkm publish` command: review, approve or reject the staged mart from a shell, and list
every published mart (hgkm.release)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl

from hgkm import release
from hgkm.config import load_config
from hgkm.errors import UsageError
from hgkm.safe_csv import csv_text
from hgkm.settings import Paths

SHOWN_PER_KIND = 10
# The words of `release_changes.change` (metrics.changes.KINDS) in the review's text.
KIND_WORDS = {
    "moved": "value moved outside its old 95% interval",
    "newly_suppressed": "shown before, now suppressed",
    "removed": "shown before, now gone",
    "newly_shown": "newly shown",
    "comparison": "comparison with region or country changed",
    "coverage": "coverage (municipalities delivered) changed",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="review, approve or reject the staged mart; list every published mart",
        description='With publish = "review" in hgkm.toml, `hgkm compute` (and `hgkm run`) '
        "stage a new mart instead of publishing it. `hgkm publish` shows what it would change, "
        "`approve` publishes it, `reject --reason` keeps the published mart. Every published "
        "mart is kept, numbered (`list`; `hgkm export --release N`).",
    )
    parser.set_defaults(handler=show_command, json=False)
    actions = parser.add_subparsers(dest="publish_command", metavar="ACTION")
    show = actions.add_parser("show", help="the staged mart and what it would change (default)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_command)
    approve = actions.add_parser("approve", help="publish the staged mart")
    approve.add_argument("--note", default="", help="a note kept with the approval")
    approve.add_argument("--build", help="the staged build's id, as `show` gives it (a check)")
    approve.set_defaults(handler=approve_command)
    reject = actions.add_parser("reject", help="reject the staged mart; the published one stays")
    reject.add_argument("--reason", required=True, help="why (kept and written to the audit log)")
    reject.add_argument("--build", help="the staged build's id, as `show` gives it (a check)")
    reject.set_defaults(handler=reject_command)
    listing = actions.add_parser("list", help="every published and rejected mart")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_command)
    changes = actions.add_parser("changes", help="write a mart's changes as CSV")
    changes.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    changes.add_argument("--release", type=int, help="of this release (default: the staged mart)")
    changes.set_defaults(handler=changes_command)


def _describe(build: release.Build) -> str:
    who = f"{build.built_by} ({build.role})" if build.built_by else "unknown"
    base = f"release {build.base}" if build.base else "nothing (the first publication)"
    as_of = f", deliveries as of {build.as_of}" if build.as_of else ""
    return f"built {build.built_at} by {who}{as_of}; compared with {base}"


def _change_line(row: dict[str, Any]) -> str:
    if row["change"] == "coverage":
        return (
            f"    {row['area_code']} {row['area_name'] or ''}: {row['old_coverage'] or 0} -> "
            f"{row['new_coverage']} of {row['coverage_total']} delivered"
        )

    def figure(side: str) -> str:
        if row[f"{side}_suppressed"] is None:
            return "none"
        if row[f"{side}_suppressed"]:
            return "suppressed"
        value = row[f"{side}_value"]
        shown = "not reached" if value is None else f"{value:.4g}"
        return f"{shown} [{row[f'{side}_comparison_national']}]"

    return (
        f"    {row['indicator_id']} {row['area_code']} {row['period']} {row['breakdown']}: "
        f"{figure('old')} -> {figure('new')}"
    )


def show_command(args: argparse.Namespace, paths: Paths) -> int:
    mode = load_config(only=frozenset({"publish"})).publish
    pending = release.staged(paths)
    if getattr(args, "json", False):
        body: dict[str, Any] = {"mode": mode, "staged": None}
        if pending is not None:
            changes = release.changes_of(pending.path)
            body["staged"] = {
                **asdict(pending.build),
                "changes": dict(changes.group_by("change").len().iter_rows())
                if changes.height
                else {},
            }
        print(json.dumps(body, indent=2))
        return 0
    print(f'publish = "{mode}"')
    if pending is None:
        print("nothing is staged for review")
        return 0
    print(f"staged build {pending.build.id}: {_describe(pending.build)}")
    changes = release.changes_of(pending.path)
    if changes.is_empty():
        print("no figure changes against the published mart")
    for kind, words in KIND_WORDS.items():
        rows = changes.filter(pl.col("change") == kind) if changes.height else changes
        if rows.is_empty():
            continue
        print(f"  {rows.height} {words}:")
        for row in rows.head(SHOWN_PER_KIND).iter_rows(named=True):
            print(_change_line(row))
        if rows.height > SHOWN_PER_KIND:
            print(f"    … {rows.height - SHOWN_PER_KIND} more (hgkm publish changes --out FILE)")
    print(
        f"approve: hgkm publish approve --build {pending.build.id}   "
        f'reject: hgkm publish reject --build {pending.build.id} --reason "…"'
    )
    return 0


def _pending(args: argparse.Namespace, paths: Paths) -> release.Staged:
    pending = release.staged(paths)
    if pending is None:
        raise UsageError("nothing is staged for review")
    if args.build and args.build != pending.build.id:
        raise UsageError(
            f"build {args.build} is not the one staged now ({pending.build.id}): "
            "look again with `hgkm publish`"
        )
    return pending


def approve_command(args: argparse.Namespace, paths: Paths) -> int:
    pending = _pending(args, paths)
    try:
        done = release.approve(paths, pending.build.id, release.Actor.shell(), args.note)
    except release.ReleaseError as exc:
        print(f"hgkm publish approve: {exc}")
        return 1
    print(f"published build {pending.build.id} as release {done.number}: {paths.mart}")
    return 0


def reject_command(args: argparse.Namespace, paths: Paths) -> int:
    pending = _pending(args, paths)
    try:
        release.reject(paths, pending.build.id, release.Actor.shell(), args.reason)
    except release.ReleaseError as exc:
        print(f"hgkm publish reject: {exc}")
        return 1
    print(f"rejected build {pending.build.id}; the published mart is unchanged")
    return 0


def list_command(args: argparse.Namespace, paths: Paths) -> int:
    release.recover(paths)
    published = release.releases(paths)
    rejected = release.rejections(paths)
    if args.json:
        print(
            json.dumps(
                {
                    "releases": [
                        {"number": r.number, **asdict(r.decision), "build": asdict(r.build)}
                        for r in published
                    ],
                    "rejected": [
                        {**asdict(r.decision), "build": asdict(r.build)} for r in rejected
                    ],
                },
                indent=2,
            )
        )
        return 0
    if not published:
        print("nothing published yet")
    for r in published:
        by = f"{r.decision.by} ({r.decision.role})" if r.decision.by else "—"
        note = f"  note: {r.decision.text}" if r.decision.text else ""
        print(
            f"release {r.number:>4}  published {r.decision.at}  {r.decision.mode:<7} by {by}{note}"
        )
        print(f"              {_describe(r.build)}")
    for no in rejected:
        print(
            f"rejected      {no.decision.at}  build {no.build.id} by {no.decision.by} "
            f"({no.decision.role}): {no.decision.text}"
        )
    return 0


def changes_command(args: argparse.Namespace, paths: Paths) -> int:
    if args.release is None:
        pending = release.staged(paths)
        if pending is None:
            raise UsageError("nothing is staged for review: give --release N")
        mart = pending.path
    else:
        chosen = [r for r in release.releases(paths) if r.number == args.release]
        if not chosen:
            raise UsageError(f"no release {args.release} (see `hgkm publish list`)")
        mart = chosen[0].path
    changes = release.changes_of(mart)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(csv_text(changes), encoding="utf-8")
    print(f"wrote {changes.height} changes to {args.out}")
    return 0
