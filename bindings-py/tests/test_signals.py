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


EXIT_RIGHT_AFTER = """
import asyncio, sys
import mesbackup

base, out, how = sys.argv[1], sys.argv[2], sys.argv[3]


async def main() -> None:
    client = mesbackup.AsyncClient(base, token="admin-token", min_poll_delay=0.01, max_poll_delay=0.02)
    if how == "complete":
        await client.backup("MESCDM", out)
        return
    started = asyncio.Event()
    task = asyncio.create_task(client.backup("MESCDM", out, progress=lambda done, *_: done and started.set()))
    await started.wait()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


asyncio.run(main())
sys.exit(7)
"""


@pytest.mark.parametrize("how", ["complete", "cancel"])
def test_exiting_right_after_an_async_backup_is_an_ordinary_exit(mock: Mock, tmp_path: Path, how: str) -> None:
    # A tokio thread that hands the last result to asyncio must be out of Python before the
    # interpreter finalizes; a thread still attaching then makes CPython abort (SIGABRT, not the
    # program's exit code). The window is narrow, so the exit is taken several times.
    mock.load({"payload": {"size": 200_000, "seed": 9}, "download": {"drip": {"chunk": 16384, "interval_ms": 5}}})
    codes = []
    for i in range(12):
        out = tmp_path / str(i)
        out.mkdir()
        child = subprocess.run(
            [sys.executable, "-c", EXIT_RIGHT_AFTER, mock.base, str(out), how],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Fatal Python error" not in child.stderr, child.stderr
        codes.append(child.returncode)
        saved = [p.name for p in out.iterdir()]
        if how == "complete":
            assert any(name.endswith(".zip") for name in saved), saved
        else:
            assert not any(name.endswith(".mesbackup-partial") for name in saved), saved
    assert codes == [7] * 12
