"""The `hgkm` command line: a thin router to each layer's commands.

Each module in COMMAND_MODULES has `register(subparsers)`, which adds its sub-commands with
`set_defaults(handler=fn)`; a handler takes the parsed arguments and the resolved paths and
returns the exit code (0 ok, 1 a delivery rejected or a job failed, 2 bad usage).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from hgkm.config import ConfigError
from hgkm.errors import UsageError, failure_place
from hgkm.settings import resolve_paths

COMMAND_MODULES = (
    "pipelines.cli",  # ingest, deliveries
    "pipelines.approach_cli",  # approach import, approach list
    "generator.cli",  # sample
    "metrics.cli",  # compute, export
    "metrics.federation_cli",  # share export, share import, benchmarks import
    "dashboard.cli",  # dashboard, report
    "commands.run",  # run, status
    "commands.access_cli",  # users, audit
    "commands.release_cli",  # publish
)


EXIT_FAILED = 4  # the command failed in this program (as `hgkm run`'s failed run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hgkm",
        description="HGKM monitor: check municipal deliveries, compute indicators, publish.",
    )
    parser.add_argument(
        "--data-dir",
        help="data folder (default: $HGKM_DATA_DIR, else data_dir in hgkm.toml, else ./data)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for command_parser in sub.choices.values():
        _accept_data_dir_anywhere(command_parser)
    return parser


def _accept_data_dir_anywhere(parser: argparse.ArgumentParser) -> None:
    """Let `--data-dir` also follow the command (`hgkm ingest X --data-dir D`)."""
    parser.add_argument("--data-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _accept_data_dir_anywhere(child)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        paths = resolve_paths(args.data_dir)
        return int(args.handler(args, paths))
    except (UsageError, ConfigError) as exc:
        print(f"hgkm {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # No traceback for the user: its message or a local variable could quote a value.
        print(
            f"hgkm {args.command}: failed in HGKM monitor ({type(exc).__name__} at "
            f"{failure_place(exc)}); what was committed before stays. Please report it.",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
