"""The `hgkm dashboard` and `hgkm report` commands."""

from __future__ import annotations

import argparse
import math
import os
import stat
import sys
import tomllib
from pathlib import Path

from dashboard.server import METRICS_ENV
from hgkm import access
from hgkm.config import ENV_CONFIG, config_file_path
from hgkm.errors import UsageError
from hgkm.intake import upload_limit
from hgkm.settings import ENV_DATA_DIR, Paths

APP = Path(__file__).resolve().parent / "app.py"
PROJECT = APP.parent.parent
# The names the server answers to out of the box: the machine itself.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
NO_MART = "no published figures in {path}: run `hgkm compute` first"
# Where Streamlit looks for secrets.toml unless told otherwise (the server runs in PROJECT).
DEFAULT_SECRETS = (
    Path.home() / ".streamlit" / "secrets.toml",
    PROJECT / ".streamlit" / "secrets.toml",
)
# What `st.login()` (the default provider) needs in [auth].
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


def register(subparsers: argparse._SubParsersAction) -> None:
    dash = subparsers.add_parser("dashboard", help="start the Streamlit dashboard on the mart")
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on")
    dash.add_argument("--port", type=int, default=8501, help="port to listen on")
    dash.add_argument(
        "--secrets",
        type=Path,
        help="the secrets.toml whose [auth] turns sign-in on (default: Streamlit's own, "
        ".streamlit/secrets.toml in the project folder or the home folder)",
    )
    dash.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a host name the browser uses to reach the dashboard (behind a reverse proxy: "
        "its public name; repeatable); other Host headers are refused (DNS rebinding)",
    )
    dash.add_argument(
        "--metrics",
        action="store_true",
        help="serve Streamlit's /_stcore/metrics (off: it is open to anyone who reaches it)",
    )
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
    access.load_roles()  # a bad [roles] stops here, named, not at someone's sign-in
    auth = _auth_section([args.secrets] if args.secrets else list(DEFAULT_SECRETS))
    env = {**os.environ, ENV_DATA_DIR: str(paths.data_dir.resolve())}
    config = config_file_path()
    if config.is_file():  # the server runs in the project folder: name the file absolutely
        env[ENV_CONFIG] = str(config.resolve())
    if args.metrics:
        env[METRICS_ENV] = "1"
    hosts = [*LOCAL_HOSTS, *(args.allowed_host or [])]
    command = [
        sys.executable, "-m", "dashboard.server", "run", str(APP),
        "--server.address", args.host,
        "--server.port", str(args.port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # an upload (Aanleveren) is refused by the server beyond the intake's file limit
        "--server.maxUploadSize", str(max(1, math.ceil(upload_limit() / 1024**2))),
        *(option for host in hosts for option in ("--server.allowedHosts", host)),
    ]  # fmt: skip
    if args.secrets:
        command += ["--secrets.files", str(args.secrets.resolve())]
    sign_in = "sign-in on" if auth else "no sign-in configured: open to all"
    print(f"HGKM monitor: http://{args.host}:{args.port} ({sign_in})", flush=True)
    # Become the Streamlit server (no child process): a signal to `hgkm dashboard` reaches
    # the server itself, and nothing is left running when it stops. From the project folder,
    # so Streamlit finds .streamlit/config.toml (theme, toolbar).
    os.chdir(APP.parent.parent)
    os.execve(sys.executable, command, env)


def _auth_section(files: list[Path]) -> dict:
    """The [auth] block Streamlit will read from `files` (later files win), checked for what
    st.login() needs; a secrets file others may read is pointed out."""
    auth: dict = {}
    for path in files:
        if not path.is_file():
            if path not in DEFAULT_SECRETS:
                raise UsageError(f"--secrets {path}: no such file")
            continue
        try:
            secrets = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise UsageError(f"cannot read the secrets file {path}: {exc}") from exc
        if "auth" not in secrets:
            continue
        auth.update(secrets["auth"])
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            print(
                f"warning: {path} holds the sign-in secrets but others may read it "
                f"(mode {mode:o}): chmod 600 {path} (see docs/dashboard.md)",
                file=sys.stderr,
            )
    missing = [key for key in AUTH_KEYS if not auth.get(key)] if auth else []
    if missing:
        raise UsageError(
            f"[auth] of the secrets file lacks {', '.join(missing)} (docs/dashboard.md)"
        )
    if auth and not str(auth["redirect_uri"]).endswith("/oauth2callback"):
        raise UsageError(
            f"[auth] redirect_uri = {auth['redirect_uri']!r} must end in /oauth2callback"
        )
    return auth


def run_report(args: argparse.Namespace, paths: Paths) -> int:
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
