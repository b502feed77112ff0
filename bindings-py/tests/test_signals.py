"""SIGTERM, as systemd's stop or Kubernetes sends it, in a program that installed its own handler: the
library installs none of its own; the handler runs, and its exception (``SystemExit`` or the program's
own) cancels the transfer within half a second and leaves nothing in the folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Mock

CHILD = Path(__file__).with_name("sigterm_child.py")
DRIP = {"payload": {"size": 8_000_000, "seed": 5}, "download": {"drip": {"chunk": 32768, "interval_ms": 40}}}


@pytest.mark.parametrize("raises", ["SystemExit", "ServiceStopping"])
@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_users_sigterm_handler_cancels_the_download_cleanly(
    mock: Mock, tmp_path: Path, raises: str, api: str
) -> None:
    mock.load(DRIP)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), mock.base, str(tmp_path), raises, api], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    try:
        ready = child.stdout.readline().split()
        assert ready and ready[0] == "READY", ready
        assert ready[1] == "0", "something installed a SIGHUP handler"
        assert any(p.name.endswith(".mesbackup-partial") for p in tmp_path.iterdir())
        sent = time.time()
        os.kill(child.pid, signal.SIGTERM)
        line = child.stdout.readline().split()
        child.wait(timeout=15)
    finally:
        child.kill()
    assert line and line[0] == "STOPPED", line
    assert line[1] == raises
    latency = float(line[2]) - sent
    assert latency < 0.5, f"the handler's exception took {latency:.3f} s to stop the backup"
    assert child.returncode == 143
    assert list(tmp_path.iterdir()) == []
