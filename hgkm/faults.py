"""Fault-injection points: let tests kill or pause a real `hgkm` process at a named stage.

Set HGKM_FAULT="<point>:kill" (SIGKILL itself there) or "<point>:pause=<seconds>". Unset, a
checkpoint costs one environment lookup. Points in use: ingest.read, ingest.load (inside the
transaction that records a delivery or a batch of them, before commit), run.move,
compute.build (mart half written), compute.publish (before the rename); the browser intake's
intake.place (an upload checked, before its rename into the inbox); hgkm.release's
release.stage (a built mart moved to staged/, before its record), release.approve (the
release's record written, its mart not yet moved), release.reject (likewise), release.link
(the release's mart in place, not yet the published one), release.audit (before its line).
"""

from __future__ import annotations

import os
import signal
import sys
import time

ENV = "HGKM_FAULT"


def checkpoint(point: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, action = spec.partition(":")
    if name != point:
        return
    print(f"hgkm-fault: reached {point}", file=sys.stderr, flush=True)
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action.startswith("pause="):
        time.sleep(float(action.removeprefix("pause=")))
