"""Run one measured step in a fresh subprocess and summarise repeats (median and spread).

Each step runs in its own interpreter so its peak RSS (`ru_maxrss`) is its own and no cache of
an earlier step helps it. The child prints one line `BENCH-RESULT {json}` with the step's wall
time (imports excluded), its peak RSS and whatever the step returns (row counts, latencies).
Run as `python -m benchmarks.measure STEP ARGS_JSON` by `measure()`; not meant for people.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MARKER = "BENCH-RESULT "


class StepFailed(RuntimeError):
    """A measured step's subprocess exited non-zero or reported no result."""


@dataclass
class Run:
    """One run of a step: wall time of the step itself, of the whole process, and peak RSS."""

    seconds: float
    process_seconds: float
    peak_rss_mb: float
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Summary:
    """Median and spread of a step over its repeats."""

    step: str
    repeats: int
    seconds_median: float
    seconds_min: float
    seconds_max: float
    process_seconds_median: float
    peak_rss_mb_median: float
    peak_rss_mb_max: float
    runs: list[Run]

    @property
    def spread_percent(self) -> float:
        """(max - min) / median of the step's wall time, in percent."""
        if self.seconds_median == 0:
            return 0.0
        return 100 * (self.seconds_max - self.seconds_min) / self.seconds_median

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "spread_percent": self.spread_percent}


def summarise(step: str, runs: list[Run]) -> Summary:
    seconds = [r.seconds for r in runs]
    rss = [r.peak_rss_mb for r in runs]
    return Summary(
        step=step,
        repeats=len(runs),
        seconds_median=statistics.median(seconds),
        seconds_min=min(seconds),
        seconds_max=max(seconds),
        process_seconds_median=statistics.median(r.process_seconds for r in runs),
        peak_rss_mb_median=statistics.median(rss),
        peak_rss_mb_max=max(rss),
        runs=runs,
    )


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_once(
    step: str, args: dict[str, Any], timeout: float = 3600, max_rss_mb: float = 8192
) -> Run:
    """Run `step` with `args` in a new interpreter and read back its report.

    The machine is shared: a child whose RSS passes `max_rss_mb` is killed (StepFailed)
    rather than let it push others into swap or the OOM killer.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.measure", step, json.dumps(args)],
            cwd=ROOT,
            stdout=out,
            stderr=err,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        seen = 0.0
        while child.poll() is None:
            seen = max(seen, _rss_mb(child.pid))
            elapsed = time.perf_counter() - started
            if seen > max_rss_mb or elapsed > timeout:
                child.kill()
                child.wait()
                why = f"RSS passed {max_rss_mb:,.0f} MB" if seen > max_rss_mb else "timed out"
                raise StepFailed(f"step {step} killed after {elapsed:.0f} s: {why}")
            time.sleep(0.1)
        process_seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    if child.returncode != 0 or not lines:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise StepFailed(f"step {step} exited {child.returncode}:\n{tail}")
    report = json.loads(lines[-1][len(MARKER) :])
    return Run(
        seconds=report["seconds"],
        process_seconds=process_seconds,
        peak_rss_mb=report["peak_rss_mb"],
        extra=report["extra"],
    )


def measure(
    step: str,
    args: dict[str, Any],
    repeats: int,
    prepare: Any = None,
    *,
    cap_seconds: float = float("inf"),
    max_rss_mb: float = 8192,
    timeout: float = 3600,
) -> Summary:
    """Up to `repeats` fresh-process runs of `step`; `prepare()` (if given) runs before each.

    A slow step stops repeating once its runs took `cap_seconds` together: after two runs, or
    after the first when that one alone took twice the cap. The report shows how many runs
    each median has.
    """
    runs: list[Run] = []
    for _ in range(repeats):
        if prepare is not None:
            prepare()
        runs.append(run_once(step, args, timeout, max_rss_mb))
        spent = sum(r.process_seconds for r in runs)
        if spent > cap_seconds and (len(runs) >= 2 or spent > 2 * cap_seconds):
            break
    return summarise(step, runs)


def _child(step: str, args_json: str) -> None:
    import importlib

    from benchmarks import steps

    modules, function = steps.STEPS[step]
    for module in modules:
        importlib.import_module(module)
    args = json.loads(args_json)
    started = time.perf_counter()
    extra = function(**args) or {}
    seconds = time.perf_counter() - started
    # Linux reports ru_maxrss in KiB.
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"seconds": seconds, "peak_rss_mb": peak_rss_mb, "extra": extra}
    print(MARKER + json.dumps(report), flush=True)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
