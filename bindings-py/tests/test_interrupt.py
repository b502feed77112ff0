"""Ctrl-C (SIGINT) stops a running backup within half a second and leaves no partial file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Mock

CHILD = Path(__file__).with_name("interrupt_child.py")


@pytest.mark.parametrize(
    "when, server",
    [
        ("wait", {"pending_polls": 100_000}),
        (
            "download",
            {"payload": {"size": 8_000_000, "seed": 5}, "download": {"drip": {"chunk": 32768, "interval_ms": 40}}},
        ),
    ],
)
def test_sigint_stops_the_backup_quickly(mock: Mock, tmp_path: Path, when: str, server: dict) -> None:  # type: ignore[type-arg]
    mock.load(server)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), mock.base, str(tmp_path), when], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "READY"
        time.sleep(0.3)  # well inside the wait / the download
        if when == "download":
            assert any(p.name.endswith(".mesbackup-partial") for p in tmp_path.iterdir())
        sent = time.time()
        os.kill(child.pid, signal.SIGINT)
        line = child.stdout.readline().split()
        child.wait(timeout=10)
    finally:
        child.kill()
    assert line and line[0] == "INTERRUPTED", line
    latency = float(line[1]) - sent
    assert latency < 0.5, f"KeyboardInterrupt took {latency:.3f} s"
    assert child.returncode == 130
    assert list(tmp_path.iterdir()) == []
