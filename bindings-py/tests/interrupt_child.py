"""Child process of test_interrupt.py: runs a backup, says READY on stdout when it reaches the wanted
phase, and reports the moment KeyboardInterrupt arrives (the parent sends SIGINT)."""

from __future__ import annotations

import signal
import sys
import time

import mesbackup

# A shell that starts a job in the background without job control ignores SIGINT for it, and Python
# then installs no handler: the test would wait forever for an interrupt that never comes.
signal.signal(signal.SIGINT, signal.default_int_handler)

base, out, when = sys.argv[1], sys.argv[2], sys.argv[3]
client = mesbackup.Client(base, token="admin-token", min_poll_delay=0.05, max_poll_delay=0.2)
ready = False


def progress(done: int, total: int | None, phase: str) -> None:
    global ready
    if not ready and ((when == "wait" and phase == "waiting") or (when == "download" and done > 0)):
        ready = True
        print("READY", flush=True)


try:
    client.backup("MES", out, progress=progress)
    print("FINISHED", flush=True)
    sys.exit(3)
except KeyboardInterrupt:
    print(f"INTERRUPTED {time.time():.6f}", flush=True)
    sys.exit(130)
