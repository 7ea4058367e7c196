"""The scheduled job `hgkm run --inbox DIR` and `hgkm status`, which reports on it.

A run takes the lock, ingests every settled delivery in the inbox, files each into
`processed/`, `rejected/` or `unrecognised/` with its report, publishes the mart when the
warehouse's current deliveries differ from the ones the mart was built from, and records
itself in the run log. Its order — commit the load, then write the reports, then move —
makes a killed run harmless: the next run finds the delivery "already loaded" and files it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from commands import runlog, status
from commands.deadline import TimeLimitReached, deadline
from hgkm import faults, inbox
from hgkm.config import Config, ConfigError, load_config
from hgkm.errors import UsageError
from hgkm.escape import command_path, printable
from hgkm.inbox import Entry
from hgkm.joblog import JobLog
from hgkm.limits import DEFAULTS, Limits, load_limits
from hgkm.lock import LockBusy, RunLock
from hgkm.release import Actor
from hgkm.settings import Paths
from pipelines import bookkeeping, warehouse

EXIT_OK = 0  # all fine, or nothing to do
EXIT_ATTENTION = 1  # a delivery rejected, or an inbox file unreadable or not a delivery
EXIT_LOCKED = 3  # another run holds the lock (and did not finish within --wait)
EXIT_FAILED = 4  # the job itself failed: an ingest crashed, or computing/publishing the mart


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run",
        help="the scheduled job: ingest the inbox, file each delivery, publish the mart",
        description=(
            "Ingest every new delivery in the inbox, move each into processed/, rejected/ or "
            "unrecognised/ with its report beside it, and recompute and publish the mart when "
            "something changed. Exit codes: 0 fine or nothing to do; 1 a delivery rejected or "
            "an inbox file unreadable or unrecognised; 2 bad usage; 3 another run holds the "
            "lock; 4 the job failed (ingest crash, compute or publish). See docs/operations.md."
        ),
    )
    run.add_argument(
        "--inbox", type=Path, help="the inbox folder (default: $HGKM_INBOX, hgkm.toml)"
    )
    run.add_argument(
        "--wait",
        type=float,
        dest="wait_seconds",
        metavar="SECONDS",
        help="wait this long for a running job to finish instead of exiting with 3",
    )
    run.add_argument(
        "--settle",
        type=float,
        dest="settle_seconds",
        metavar="SECONDS",
        help="a file changed this recently is watched this long; if it changes, it waits for "
        "the next run (default 5)",
    )
    run.add_argument(
        "--log-stderr",
        action="store_const",
        const=True,
        help="also write the JSON log lines to stderr (for journald and log collectors)",
    )
    run.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="stop with exit code 4 when the run takes longer (default: run_seconds in "
        "hgkm.toml's [limits], 3600)",
    )
    run.set_defaults(handler=run_command)

    status = subparsers.add_parser(
        "status",
        help="the last runs and what needs attention",
        description="The last runs, municipalities whose last delivery was rejected or whose "
        "data is stale, and whether the mart is behind the warehouse. Exit 1 when something "
        "needs attention, else 0.",
    )
    status.add_argument("--runs", type=int, default=5, help="how many runs to show (default 5)")
    status.add_argument("--staleness-days", type=int, help="days after which data is stale")
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.set_defaults(handler=status_command)


def _config(args: argparse.Namespace, paths: Paths) -> Config:
    overrides = {
        name: getattr(args, name, None)
        for name in ("inbox", "wait_seconds", "settle_seconds", "log_stderr", "staleness_days")
    }
    try:
        return load_config({**overrides, "data_dir": paths.data_dir})
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def run_command(args: argparse.Namespace, paths: Paths) -> int:
    config = _config(args, paths)
    if config.inbox is None:
        raise UsageError("no inbox: give --inbox DIR, set HGKM_INBOX, or inbox in hgkm.toml")
    if not config.inbox.is_dir():
        raise UsageError(f"the inbox {printable(str(config.inbox))} is not a folder")
    problem = inbox.folder_problem(config.inbox)
    if problem:
        raise UsageError(f"not started: {problem}")
    try:
        limits = load_limits()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    seconds = args.time_limit if args.time_limit is not None else limits.run_seconds
    if seconds <= 0:
        raise UsageError("--time-limit must be positive")
    job = Job(paths, config, config.inbox.absolute(), limits=limits, time_limit=seconds)
    return job.run_locked()


def status_command(args: argparse.Namespace, paths: Paths) -> int:
    config = _config(args, paths)
    report = status.collect(
        paths, staleness_days=config.staleness_days, runs=args.runs, today=date.today()
    )
    if args.json:
        print(json.dumps(status.json_ready(report), indent=2, ensure_ascii=False))
    else:
        print(status.render(report))
    return EXIT_ATTENTION if status.needs_attention(report) else EXIT_OK


# The layers are imported when a run uses them, not at the top: every `hgkm` command imports
# this module to register `run` and `status`, and importing pipelines.load (pandera) is slow.
def _default_ingest(paths: Paths, source: Path) -> Any:
    from pipelines.load import ingest

    return ingest(paths, source, limits=load_limits())


def _default_compute(paths: Paths) -> Any:
    from metrics.publish import compute

    return compute(paths, actor=Actor.shell("job"))


def _default_import_profile(paths: Paths, source: Path) -> Any:
    from pipelines.approach import import_profiles

    con = warehouse.connect(paths.warehouse)
    try:
        return import_profiles(con, source, limits=load_limits())
    finally:
        con.close()


def _is_delivery(path: Path) -> bool:
    from pipelines.read import is_delivery

    return is_delivery(path)


def _content_hash(path: Path) -> str:
    from pipelines.read import read_delivery

    return read_delivery(path, load_limits()).content_hash


def _shown(name: str, tag: str) -> str:
    """An inbox name as it may be shown, stored and filed as (`pipelines.names`)."""
    from pipelines.names import shown

    return shown(name, tag)


def _name_fails(name: str) -> bool:
    from pipelines.names import rules

    return bool(rules(name))


def _label(content_hash: str) -> str:
    from pipelines.read import label

    return label(content_hash)


def _report_from_record(path: Path, row: dict[str, Any]) -> Any:
    """The report of a rejection recorded earlier, rebuilt from its deliveries row."""
    from pipelines.report import DeliveryReport, DeliveryWarning, Issue

    errors = [Issue(**issue) for issue in json.loads(row["errors"] or "[]")]
    return DeliveryReport(
        name=row["source_name"],
        source=path,
        status="already_loaded",
        shape=row["shape"],
        content_hash=row["content_hash"],
        municipality_code=row["municipality_code"],
        extract_date=row["extract_date"],
        delivery_id=row["delivery_id"],
        received_at=row["received_at"],
        formats=json.loads(row["formats"] or "{}"),
        warnings=[DeliveryWarning(**w) for w in json.loads(row["warnings"] or "[]")],
        errors=errors,
        error_total=row["error_count"],
        # the errors list is capped per rule; error_counts holds the full count per rule
        error_counts=json.loads(row.get("error_counts") or "null")
        or dict(Counter(issue.rule for issue in errors)),
    )


@dataclass
class Job:
    """One run of the scheduled job over one inbox."""

    paths: Paths
    config: Config
    inbox: Path
    ingest: Callable[[Paths, Path], Any] = _default_ingest
    compute: Callable[[Paths], Any] = _default_compute
    is_delivery: Callable[[Path], bool] = _is_delivery
    content_hash: Callable[[Path], str] = _content_hash
    import_profile: Callable[[Paths, Path], Any] = _default_import_profile
    limits: Limits = DEFAULTS
    time_limit: float | None = None  # seconds; None: no limit
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    counts: Counter[str] = field(default_factory=Counter)
    profiles: Counter[str] = field(default_factory=Counter)  # profile files, by outcome
    filed_rejected: int = 0
    current: str = "starting"  # what the run is on, for the time limit's message
    staged: bool = False  # the mart was staged for review rather than published

    def __post_init__(self) -> None:
        self.log = JobLog(
            self.paths.logs, run_id=self.run_id, job="run", echo_stderr=self.config.log_stderr
        )

    def say(self, text: str) -> None:
        """A line of the human summary on stdout."""
        print(text, flush=True)

    def run_locked(self) -> int:
        try:
            lock = RunLock(self.paths.lock, wait_seconds=self.config.wait_seconds)
            lock.acquire()
        except LockBusy as exc:
            holder = exc.holder
            print(
                f"hgkm run: not started: {exc}. It is still running; try again later or use "
                "--wait SECONDS.",
                file=sys.stderr,
            )
            self.log.event(
                "run.locked",
                level="warning",
                exit_code=EXIT_LOCKED,
                holder_pid=holder.pid if holder else None,
                holder_host=holder.host if holder else None,
                holder_started_at=holder.started_at if holder else None,
                waited_seconds=exc.waited,
            )
            return EXIT_LOCKED
        try:
            if lock.stale is not None:
                alive = lock.stale.is_alive()
                state = "no longer running" if alive is False else "not holding it any more"
                self.say(f"took over a stale lock from {lock.stale.describe()} ({state})")
                self.log.event(
                    "run.stale_lock_taken_over",
                    level="warning",
                    stale_pid=lock.stale.pid,
                    stale_host=lock.stale.host,
                    stale_started_at=lock.stale.started_at,
                )
            return self.run()
        finally:
            lock.release()

    def run(self) -> int:
        """The job proper; the caller holds the lock."""
        self.log.event("run.start", inbox=str(self.inbox), data_dir=str(self.paths.data_dir))
        self.say(f"hgkm run {self.run_id}: inbox {printable(str(self.inbox))}")
        try:
            # Made (or upgraded) now, and a writer holding it found, before the inbox is touched.
            warehouse.connect(self.paths.warehouse).close()
        except duckdb.Error as exc:
            return self._abort(f"cannot open the warehouse: {exc}")
        try:
            interrupted = runlog.start(
                self.paths.logs,
                run_id=self.run_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                inbox=self.inbox,
            )
        except OSError as exc:
            return self._abort(f"cannot write the run log: {exc.strerror or exc}")
        if interrupted:
            self.say(f"{interrupted} earlier run(s) had been interrupted; picking up after them")
            self.log.event("run.interrupted_runs_found", level="warning", count=interrupted)
        for leftover in inbox.remove_leftovers(self.inbox):
            self.log.event("inbox.leftover_removed", path=str(leftover))

        error: str | None = None
        published = False
        try:
            with self._deadline():
                error, published = self._work()
        except TimeLimitReached:
            error = (
                f"time limit of {self.time_limit:g} s reached while on {self.current}; "
                "stopped (what was committed stays; the next run goes on from there)"
            )
            self.say(f"ERROR {error}")
            self.log.event("run.time_limit", level="error", error=error, on=self.current)
        if error or self.counts["failed"]:
            code, outcome = EXIT_FAILED, "failed"
            error = error or f"{self.counts['failed']} delivery(ies) could not be ingested or filed"
        elif self.filed_rejected or self.counts["unreadable"] or self.counts["unrecognised"]:
            code, outcome = EXIT_ATTENTION, "attention"
        else:
            code, outcome = EXIT_OK, "ok"
        self.say(self._summary(published))
        self.log.event(
            "run.end",
            level={"ok": "info", "attention": "warning", "failed": "error"}[outcome],
            outcome=outcome,
            exit_code=code,
            mart_published=published,
            error=error,
            **{name: self.counts[name] for name in runlog.COUNTS},
        )
        try:
            runlog.finish(
                self.paths.logs,
                run_id=self.run_id,
                outcome=outcome,
                exit_code=code,
                counts=self.counts,
                mart_published=published,
                error=error,
            )
        except OSError as exc:
            self.say(f"ERROR could not record the run in the run log: {exc.strerror or exc}")
            self.log.event("runlog.failed", level="error", error=exc.strerror or str(exc))
            return EXIT_FAILED
        return code

    def _deadline(self) -> Any:
        """The run's time limit (none when `time_limit` is None)."""
        import contextlib

        if self.time_limit is None:
            return contextlib.nullcontext()
        return deadline(self.time_limit, self._stuck)

    def _stuck(self) -> None:
        """The main thread did not stop at the time limit: end the process as failed."""
        error = f"time limit of {self.time_limit:g} s reached while on {self.current}; killed"
        self.say(f"ERROR {error}")
        self.log.event("run.time_limit", level="error", error=error, on=self.current)
        os._exit(EXIT_FAILED)

    def _work(self) -> tuple[str | None, bool]:
        """File every inbox entry, then publish when needed; (error, whether published)."""
        error: str | None = None
        self.current = "the inbox's listing"
        try:
            entries = inbox.scan(
                self.inbox, settle_seconds=self.config.settle_seconds, is_delivery=self.is_delivery
            )
        except OSError as exc:
            entries = []
            error = f"cannot list the inbox: {exc.strerror}"
            self.say(f"ERROR {error}")
            self.log.event("inbox.unlistable", level="error", error=error)
        for position, entry in enumerate(entries, start=1):
            shown = _shown(entry.path.name, f"inbox entry {position}")
            self.current = shown
            try:
                self._handle(entry, shown)
            except OSError as exc:
                # Filing failed (e.g. no write access to the inbox): the entry stays put.
                self.counts["failed"] += 1
                why = exc.strerror or type(exc).__name__
                self.say(f"  {shown}: CANNOT FILE ({why}); left in the inbox")
                self.log.event(
                    "inbox.filing_failed", level="error", path=self._path(shown), reason=why
                )

        published = False
        self.current = "publishing the mart"
        try:
            reason = self._publish_reason()
            if reason:
                self.say(f"publishing the mart ({reason})")
                self.log.event("compute.start", reason=reason)
                summary = self.compute(self.paths)
                published = True
                # publish = "review": built and staged, not yet public (hgkm.release)
                self.staged = getattr(summary, "release", 0) is None
                self.log.event("compute.done", summary=_plain(summary))
            else:
                self.say("mart unchanged (no new accepted delivery)")
        except Exception as exc:  # the job must end with a log entry and exit code, never a trace
            error = f"compute/publish failed: {type(exc).__name__}: {exc}"
            self.say(f"ERROR {error}; the published mart is unchanged")
            self.log.event("compute.failed", level="error", error=error)
        return error, published

    def _warehouse_failed(
        self, shown: str, exc: Exception, what: str, event: str, after: str = ""
    ) -> None:
        """An entry the warehouse (not the entry) failed on: counted, said and logged by the
        exception's type only (its message could quote a value)."""
        self.counts["failed"] += 1
        self.say(f"  {shown}: {what} ({type(exc).__name__}: the warehouse){after}")
        self.log.event(event, level="error", path=self._path(shown), exception=type(exc).__name__)

    def _path(self, shown: str) -> str:
        """An inbox entry's path as logged: the inbox and the entry's name as it may be shown."""
        return printable(str(self.inbox / shown))

    def _abort(self, error: str) -> int:
        self.say(f"ERROR {error}")
        self.log.event(
            "run.end", level="error", outcome="failed", exit_code=EXIT_FAILED, error=error
        )
        return EXIT_FAILED

    def _handle(self, entry: Entry, shown: str) -> None:
        """File or leave one inbox entry; `shown` is its name as it may be shown and filed."""
        path = self._path(shown)
        if entry.state in (inbox.READY, inbox.NOT_A_DELIVERY) and inbox.is_profile_file(entry.path):
            self._import_profile(entry.path, shown)
        elif entry.state == inbox.UNSETTLED:
            self.counts["skipped"] += 1
            self.say(f"  {shown}: skipped, {entry.reason}; the next run takes it")
            self.log.event("inbox.skipped", level="info", path=path, reason=entry.reason)
        elif entry.state == inbox.UNREADABLE:
            self.counts["unreadable"] += 1
            self.say(
                f"  {shown}: CANNOT READ ({entry.reason}); left in the inbox — fix its permissions"
            )
            self.log.event("inbox.unreadable", level="warning", path=path, reason=entry.reason)
        elif entry.state == inbox.NOT_A_DELIVERY:
            self.counts["unrecognised"] += 1
            text = f"{shown}: NOT RECOGNISED — {entry.reason}. Nothing was loaded from it."
            target = self._file(entry.path, shown, inbox.UNRECOGNISED, text, "unrecognised", entry)
            self.say(f"  {shown}: not a delivery; moved to {_rel(target, self.inbox)}")
            self.log.event("inbox.unrecognised", level="warning", path=path, filed_as=str(target))
        elif entry.state == inbox.REFUSED:
            self.counts["seen"] += 1
            self.counts["rejected"] += 1
            self.filed_rejected += 1
            text = f"{shown}: REFUSED — {entry.reason}. Nothing was read from it."
            target = self._file(entry.path, shown, inbox.REJECTED, text, "refused", entry)
            self.say(f"  {shown}: REFUSED ({entry.reason}); moved to {_rel(target, self.inbox)}")
            self.log.event(
                "inbox.refused",
                level="warning",
                path=path,
                filed_as=str(target),
                reason=entry.reason,
            )
        else:
            self._ingest(entry.path, shown)

    def _file(
        self, source: Path, shown: str, folder: str, text: str, status: str, entry: Entry
    ) -> Path:
        """File an entry that was not ingested, with a short report."""
        return inbox.file_entry(
            source,
            self.inbox / folder,
            content_hash=None,
            report_text=text,
            report_json={"source": self._path(shown), "status": status, "reason": entry.reason},
            now=datetime.now(),
            name=shown,
        )

    def _ingest(self, path: Path, shown: str) -> None:
        self.counts["seen"] += 1
        try:
            report = self._recorded_rejection(path) or self.ingest(self.paths, path)
        except OSError as exc:
            # Lost read access between the scan and the read: leave it for a later run.
            self._unreadable(shown, exc)
            return
        except duckdb.Error as exc:
            # The warehouse, not the delivery: it stays for the next run.
            self._warehouse_failed(
                shown,
                exc,
                "INGEST FAILED",
                "delivery.failed",
                "; left in the inbox for the next run",
            )
            return
        except Exception as exc:
            # This program failed on the delivery: filed as rejected, so that no later run
            # stops on it again. The message could quote a value: only its type is shown.
            self.counts["failed"] += 1
            self.filed_rejected += 1
            text = (
                f"{shown}: INGEST FAILED ({type(exc).__name__}) — HGKM monitor failed on this "
                "delivery; nothing of it was loaded. The analysts must look at it."
            )
            target = inbox.file_entry(
                path,
                self.inbox / inbox.REJECTED,
                content_hash=None,
                report_text=text,
                report_json={
                    "source": self._path(shown),
                    "status": "failed",
                    "exception": type(exc).__name__,
                },
                now=datetime.now(),
                name=shown,
            )
            self.say(
                f"  {shown}: INGEST FAILED ({type(exc).__name__}); moved to "
                f"{_rel(target, self.inbox)}. `hgkm ingest {command_path(target)}` by hand "
                "shows what went wrong."
            )
            self.log.event(
                "delivery.failed",
                level="error",
                path=self._path(shown),
                filed_as=str(target),
                exception=type(exc).__name__,
            )
            return
        # Loaded and committed, not yet filed: a kill here must leave nothing lost or doubled.
        faults.checkpoint("run.move")
        original = report.status
        if report.status == "already_loaded":
            original = self._original_status(report.content_hash)
        folder = inbox.PROCESSED if original == "accepted" else inbox.REJECTED
        self.counts[report.status] += 1
        # A rejection first filed by this run (its load was committed by a killed run) has not
        # been announced yet: it calls for attention as a fresh rejection would.
        self.filed_rejected += folder == inbox.REJECTED
        # Filed under its name as the report shows it: a name failing the guard is replaced by
        # its label (keeping a .zip or .xlsx suffix, so that it still opens).
        filed_as = getattr(report, "name", shown)
        if filed_as != printable(path.name) and path.suffix.lower() in (".zip", ".xlsx"):
            filed_as += path.suffix.lower()
        target = inbox.file_entry(
            path,
            self.inbox / folder,
            content_hash=report.content_hash,
            report_text=report.render_text(),
            report_json=report.to_dict(),
            now=datetime.now(),
            name=filed_as,
        )
        self.say(report.render_text())
        self.say(f"  -> {printable(_rel(target, self.inbox))}")
        self.log.event(
            "delivery.filed",
            level="warning" if original == "rejected" else "info",
            path=self._path(filed_as),
            status=report.status,
            filed_as=str(target),
            municipality_code=report.municipality_code,
            content_hash=report.content_hash,
            error_total=getattr(report, "error_total", 0),
            error_counts=getattr(report, "error_counts", {}),
        )

    def _import_profile(self, path: Path, shown: str) -> None:
        """Import an approach profile file as `hgkm approach import` does, then file it with
        its report: processed/ when it was stored (or was current already), else rejected/."""
        try:
            report = self.import_profile(self.paths, path)
        except OSError as exc:
            self._unreadable(shown, exc)
            return
        except duckdb.Error as exc:
            self._warehouse_failed(shown, exc, "PROFILE IMPORT FAILED", "profile.failed")
            return
        except Exception as exc:
            # Refused (not a regular file, over the size limit) or a failure of this program:
            # filed as rejected, so that no later run stops on it again.
            self.profiles["rejected"] += 1
            self.filed_rejected += 1
            text = f"{shown}: PROFILE NOT IMPORTED ({type(exc).__name__}); nothing was stored."
            target = inbox.file_entry(
                path,
                self.inbox / inbox.REJECTED,
                content_hash=None,
                report_text=text,
                report_json={"source": self._path(shown), "status": "rejected"},
                now=datetime.now(),
                name=shown,
            )
            self.say(f"  {text} -> {printable(_rel(target, self.inbox))}")
            self.log.event(
                "profile.failed", level="error", path=self._path(shown), filed_as=str(target)
            )
            return
        # Stored and committed, not yet filed: a run killed here imports it again next time,
        # and finds it current already.
        faults.checkpoint("run.move")
        self.profiles[report.status] += 1
        rejected = report.status == "rejected"
        self.filed_rejected += rejected
        target = inbox.file_entry(
            path,
            self.inbox / (inbox.REJECTED if rejected else inbox.PROCESSED),
            content_hash=report.content_hash,
            report_text=report.render_text(),
            report_json=report.to_dict(),
            now=datetime.now(),
            name=getattr(report, "name", shown),
        )
        self.say(report.render_text())
        self.say(f"  -> {printable(_rel(target, self.inbox))}")
        self.log.event(
            "profile.filed",
            level="warning" if rejected else "info",
            path=self._path(shown),
            status=report.status,
            filed_as=str(target),
            municipalities=report.municipalities,
            error_counts=report.error_counts,
        )

    def _unreadable(self, shown: str, exc: OSError) -> None:
        """An entry that could not be read after all: left in the inbox for a later run."""
        self.counts["unreadable"] += 1
        reason = exc.strerror or type(exc).__name__
        self.say(f"  {shown}: CANNOT READ ({reason}); left in the inbox")
        self.log.event("inbox.unreadable", level="warning", path=self._path(shown), reason=reason)

    def _recorded_rejection(self, path: Path) -> Any | None:
        """The earlier report when this very delivery was already recorded as rejected.

        The ingest only recognises content it accepted before; a rejection it recorded just
        before a run was killed would be recorded again. Only a rejected delivery of the same
        name (as recorded: a name failing the guard is recorded by its label, which needs the
        content hash) costs the extra read of its content hash.
        """
        content_hash = self.content_hash(path) if _name_fails(path.name) else None
        recorded = _label(content_hash) if content_hash else printable(path.name)
        con = duckdb.connect(str(self.paths.warehouse), read_only=True)
        try:
            rows = bookkeeping.recorded_rejections(con, recorded)
        finally:
            con.close()
        if rows.is_empty():
            return None
        matching = rows.filter(content_hash=content_hash or self.content_hash(path))
        return _report_from_record(path, matching.row(0, named=True)) if matching.height else None

    def _original_status(self, content_hash: str) -> str:
        """How a delivery loaded before fared: accepted if any load of that content was."""
        con = duckdb.connect(str(self.paths.warehouse), read_only=True)
        try:
            statuses = bookkeeping.statuses_of(con, content_hash)
        finally:
            con.close()
        return "accepted" if "accepted" in statuses or not statuses else "rejected"

    def _publish_reason(self) -> str | None:
        state = status.mart_state(self.paths)
        if not state["current"]:
            return None
        if self.counts["accepted"]:
            return f"{self.counts['accepted']} delivery(ies) accepted"
        if self.profiles["accepted"]:
            return f"{self.profiles['accepted']} approach profile file(s) imported"
        if not state["mart_exists"]:
            return "no mart yet"
        if state["behind"]:
            return "the mart is behind the warehouse"
        return None

    def _summary(self, published: bool) -> str:
        c = self.counts
        parts = [
            f"{c['seen']} delivery(ies) seen: {c['accepted']} accepted, {c['rejected']} rejected, "
            f"{c['already_loaded']} already loaded"
        ]
        for key, text in (
            ("failed", "failed to ingest (see above: filed into rejected/ or left in the inbox)"),
            ("skipped", "still being written (next run)"),
            ("unreadable", "unreadable (left in the inbox)"),
            ("unrecognised", "not a delivery (moved to unrecognised/)"),
        ):
            if c[key]:
                parts.append(f"{c[key]} {text}")
        if self.profiles.total():
            parts.append(
                f"{self.profiles.total()} approach profile file(s): "
                f"{self.profiles['accepted']} imported, {self.profiles['rejected']} rejected, "
                f"{self.profiles['already_loaded']} current already"
            )
        parts.append(
            "mart staged for review (hgkm publish)"
            if published and self.staged
            else "mart published"
            if published
            else "mart not republished"
        )
        return "summary: " + "; ".join(parts)


def _rel(path: Path, base: Path) -> str:
    return printable(str(path.relative_to(base)))


def _plain(value: Any) -> Any:
    """A JSON-friendly form of the compute summary."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value if isinstance(value, dict | list | str | int | float | None) else str(value)
