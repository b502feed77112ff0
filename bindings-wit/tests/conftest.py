"""Fixtures of the component's Python host tests: the component, mock-mes, the native CLI.

scripts/suites/45-component.sh builds them and passes their paths: MESBACKUP_COMPONENT (the .wasm),
MOCK_MES (mock-mes), MESBACKUP_CLI (the native `mesbackup`, whose answers the component's must equal).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings-wit" / "hosts" / "python"))

from mesbackup_component import MesBackupComponent


def required_path(var: str) -> Path:
    value = os.environ.get(var)
    if not value or not Path(value).exists():
        pytest.exit(f"{var} must name the file to test (scripts/suites/45-component.sh sets it); got {value!r}")
    return Path(value)


@pytest.fixture(scope="session")
def comp() -> MesBackupComponent:
    return MesBackupComponent(required_path("MESBACKUP_COMPONENT"))


@pytest.fixture(scope="session")
def cli() -> Path:
    return required_path("MESBACKUP_CLI")


def cli_json(cli: Path, *args: str) -> list[dict[str, Any]]:
    """The native CLI's NDJSON events for these arguments (whatever its exit code)."""
    done = subprocess.run([str(cli), *args, "--json"], capture_output=True, text=True, check=False)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


class Mock:
    def __init__(self, base: str) -> None:
        self.base = base

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
    binary = required_path("MOCK_MES")
    proc = subprocess.Popen([str(binary), "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    assert base.startswith("http://"), f"mock-mes printed {base!r}"
    try:
        yield Mock(base)
    finally:
        proc.kill()
        proc.wait()
