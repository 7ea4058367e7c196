"""The errors every command shares: bad usage (exit code 2), and where a failure came from."""

from __future__ import annotations


class UsageError(Exception):
    """Bad usage found after parsing (a missing file, a bad filter): exit code 2."""


# The project's top-level packages, whose frames `failure_place` names.
PROJECT = ("hgkm", "pipelines", "metrics", "dashboard", "generator", "commands")


def failure_place(exc: BaseException) -> str:
    """Where in this program a failure came from: the innermost of its own frames, as
    `package/module.py:line`. Never the failure's message, which could quote a value."""
    place = "?"
    trace = exc.__traceback__
    while trace is not None:
        folder, _, module = trace.tb_frame.f_code.co_filename.rpartition("/")
        package = folder.rpartition("/")[2]
        if package in PROJECT:
            place = f"{package}/{module}:{trace.tb_lineno}"
        trace = trace.tb_next
    return place
