"""The `hgkm dashboard` and `hgkm report` commands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hgkm.settings import ENV_DATA_DIR, Paths

APP = Path(__file__).resolve().parent / "app.py"
NO_MART = "no published figures in {path}: run `hgkm compute` first"


def register(subparsers: argparse._SubParsersAction) -> None:
    dash = subparsers.add_parser("dashboard", help="start the Streamlit dashboard on the mart")
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on")
    dash.add_argument("--port", type=int, default=8501, help="port to listen on")
    dash.set_defaults(handler=run_dashboard)

    report = subparsers.add_parser("report", help="write the meeting report (self-contained HTML)")
    report.add_argument("--region", required=True, help="Veilig Thuis region, e.g. VT11")
    report.add_argument("--period", required=True, help="cohort year or quarter, e.g. 2024")
    report.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    report.add_argument("--lang", choices=("nl", "en"), default="nl")
    report.set_defaults(handler=run_report)


def run_dashboard(args: argparse.Namespace, paths: Paths) -> int:
    if not paths.mart.is_file():
        print(NO_MART.format(path=paths.data_dir), file=sys.stderr)
        return 1
    env = {**os.environ, ENV_DATA_DIR: str(paths.data_dir.resolve())}
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", args.host,
        "--server.port", str(args.port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    print(f"HGKM monitor: http://{args.host}:{args.port}", flush=True)
    # Become the Streamlit server (no child process): a signal to `hgkm dashboard` reaches
    # the server itself, and nothing is left running when it stops. From the project folder,
    # so Streamlit finds .streamlit/config.toml (theme, toolbar).
    os.chdir(APP.parent.parent)
    os.execve(sys.executable, command, env)


def run_report(args: argparse.Namespace, paths: Paths) -> int:
    from hgkm.cli import UsageError

    if not paths.mart.is_file():
        print(NO_MART.format(path=paths.data_dir), file=sys.stderr)
        return 1
    _quiet_streamlit()
    from dashboard import data, report

    mart = data.current_version(paths.mart)
    region = args.region if ":" in args.region else f"{data.DEFAULT_REGION_TYPE}:{args.region}"
    if region not in data.regions(mart)["area_code"].to_list():
        raise UsageError(f"unknown region {args.region!r} (expected e.g. VT11)")
    if args.period not in data.periods(mart)["period"].to_list():
        raise UsageError(f"no published period {args.period!r}")
    html = report.build(mart, region, args.period, args.lang)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(html, encoding="utf-8")
    print(f"report written to {args.out} ({len(html) // 1024} KB)")
    return 0


def _quiet_streamlit() -> None:
    """The cached queries run here without a Streamlit server; silence its warnings about that."""
    import streamlit.logger

    streamlit.logger.set_log_level("error")
