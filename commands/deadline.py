"""The job's time limit: past it, the run stops where it is, as a failed run.

SIGALRM raises TimeLimitReached in the main thread (a BaseException, so no handler of a
delivery's failure swallows it; an open transaction rolls back on the way out). If the main
thread cannot take it (stuck inside a library call), a watchdog thread calls `on_stuck` a
grace period later, which ends the process: the next run takes over as after a kill.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

GRACE_SECONDS = 30.0


class TimeLimitReached(BaseException):
    """The run's time limit has passed."""


@contextmanager
def deadline(seconds: float, on_stuck: Callable[[], None]) -> Iterator[None]:
    """Raise TimeLimitReached in this (the main) thread after `seconds`."""

    def alarm(signum: int, frame: FrameType | None) -> None:
        raise TimeLimitReached

    previous = signal.signal(signal.SIGALRM, alarm)
    watchdog = threading.Timer(seconds + GRACE_SECONDS, on_stuck)
    watchdog.daemon = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    watchdog.start()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        watchdog.cancel()
