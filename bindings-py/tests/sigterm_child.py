"""Child process of test_signals.py: installs the SIGTERM handler a service would (raising
``SystemExit`` or its own exception), runs a backup, says READY on stdout once the download has begun,
and reports when the handler's exception reached it (the parent sends SIGTERM)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from types import FrameType

import mesbackup

base, out, raises, api = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


class ServiceStopping(Exception):
    pass


def caught_by_the_process(signum: int) -> bool:
    """Whether any handler (Python's or native code's) is installed for ``signum``, from the kernel's view."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    raise RuntimeError("no SigCgt in /proc/self/status")


ready = False


def progress(done: int, total: int | None, phase: str) -> None:
    global ready
    if not ready and done > 0:
        ready = True
        # mesbackup installed nothing for SIGTERM or SIGHUP: only ours (set below) is there.
        hup = caught_by_the_process(signal.SIGHUP)
        print(f"READY {int(hup)}", flush=True)


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    if raises == "SystemExit":
        raise SystemExit(143)
    raise ServiceStopping()


assert not caught_by_the_process(signal.SIGTERM)
signal.signal(signal.SIGTERM, on_sigterm)

try:
    if api == "sync":
        client = mesbackup.Client(base, token="admin-token", min_poll_delay=0.05, max_poll_delay=0.2)
        client.backup("MESCDM", out, progress=progress)
    else:
        aclient = mesbackup.AsyncClient(base, token="admin-token", min_poll_delay=0.05, max_poll_delay=0.2)
        asyncio.run(aclient.backup("MESCDM", out, progress=progress))
    print("FINISHED", flush=True)
    sys.exit(3)
except (SystemExit, ServiceStopping) as e:
    print(f"STOPPED {type(e).__name__} {time.time():.6f}", flush=True)
    sys.exit(143)
