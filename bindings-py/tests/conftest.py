"""Shared fixtures: the mock MES server (one per test session) and helpers to talk to it.

The mock binary is found through $MOCK_MES, else under $CARGO_TARGET_DIR (or <repo>/target) in
release/ then debug/. scripts/suites/30-python.sh builds it and sets MOCK_MES.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "tests" / "scenarios"


def mock_binary() -> Path:
    explicit = os.environ.get("MOCK_MES")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    for profile in ("release", "debug"):
        candidate = target / profile / "mock-mes"
        if candidate.exists():
            return candidate
    pytest.exit(f"mock-mes binary not found (set MOCK_MES, or build it: cargo build -p mock-mes); looked in {target}")


class Mock:
    def __init__(self, base: str, proc: subprocess.Popen[str]) -> None:
        self.base = base
        self.proc = proc

    def load(self, server: Any) -> None:
        req = urllib.request.Request(
            self.base + "/_mock/scenario",
            data=json.dumps(server if server is not None else {}).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200, r.read()

    def log(self) -> list[Any]:
        with urllib.request.urlopen(self.base + "/_mock/log", timeout=10) as r:
            log: list[Any] = json.loads(r.read())
            return log


@pytest.fixture(scope="session")
def mock() -> Iterator[Mock]:
    proc = subprocess.Popen([str(mock_binary()), "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    assert base.startswith("http://"), f"mock-mes printed {base!r}"
    try:
        yield Mock(base, proc)
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(autouse=True)
def no_mes_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests pass credentials explicitly: the MES_* variables of the developer's shell must not leak in."""
    for name in ("MES_URL", "MES_TOKEN", "MES_USER", "MES_PAT"):
        monkeypatch.delenv(name, raising=False)
