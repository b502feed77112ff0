"""What the end-to-end tests share: the `mesbackup` binary, a real ClickHouse engine per test module,
mock-mes, and small helpers to run the CLI and to ask the engine.

Run with the chdb venv's pytest (scripts/suites/60-restore.sh, 70-e2e.sh):
- MESBACKUP_BIN names the binary (default <repo>/target/debug/mesbackup);
- MOCK_MES names the mock MES server (default <repo>/target/debug/mock-mes; 70-e2e only);
- the engine is tests/chdb-http/server.py (ClickHouse's HTTP interface over a chdb session), started
  fresh for each test module that asks for it, so one module's databases never meet another's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("MESBACKUP_BIN", str(ROOT / "target" / "debug" / "mesbackup"))
MOCK_MES = os.environ.get("MOCK_MES", str(ROOT / "target" / "debug" / "mock-mes"))
CLICKHOUSE_FIXTURES = ROOT / "tests" / "fixtures" / "clickhouse"
EVENTS_SCHEMA = ROOT / "cli" / "events.schema.json"


def start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], int]:
    """Starts a Python front (its script and arguments) and waits for the `PORT <n>` line it prints."""
    out = cwd / f"front-{len(list(cwd.iterdir()))}.out"
    with open(out, "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, *args], stdout=log, stderr=subprocess.STDOUT, text=True)
    for _ in range(300):
        text = out.read_text() if out.exists() else ""
        m = re.search(r"^PORT (\d+)$", text, re.MULTILINE)
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{args[0]} did not start: {out.read_text() if out.exists() else ''}")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.removeprefix("test_").replace("_", "-"))


@pytest.fixture(scope="module")
def engine(work: Path) -> Iterator[str]:
    """A fresh engine (its data in <work>/front; BACKUP/RESTORE allowed under <work>/allowed): its URL."""
    (work / "front").mkdir()
    (work / "allowed").mkdir()
    proc, port = start(
        [
            str(ROOT / "tests/chdb-http/server.py"),
            "--dir",
            str(work / "front"),
            "--allowed-path",
            str(work / "allowed"),
        ],
        work,
    )
    yield f"http://127.0.0.1:{port}/"
    proc.kill()


def sql(url: str, query: str) -> list[dict[str, Any]]:
    """Asks the engine directly (not through mesbackup); rows as dicts."""
    req = urllib.request.Request(url + "?default_format=JSONEachRow", data=query.encode())
    body = urllib.request.urlopen(req).read().decode()
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def databases(url: str) -> list[str]:
    return sorted(str(r["name"]) for r in sql(url, "SELECT name FROM system.databases"))


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Runs the binary; the exit code is the caller's to check."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([BIN, *args], capture_output=True, text=True, check=False, env=full_env, timeout=timeout)


def events(stdout: str) -> list[dict[str, Any]]:
    """The JSON lines of stdout (other lines ignored)."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def json_lines(stdout: str) -> list[dict[str, Any]]:
    """Every line of a `--json` run's stdout as an event: a line that is not JSON fails the test."""
    return [json.loads(line) for line in stdout.splitlines()]


def first(evs: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """The first event with these field values, e.g. `first(evs, event="restore_plan")`."""
    found = [e for e in evs if all(e.get(k) == v for k, v in fields.items())]
    assert found, f"no event with {fields} among {evs}"
    return found[0]


def assert_events_match_schema(evs: list[dict[str, Any]]) -> None:
    """Every event validates against cli/events.schema.json."""
    import jsonschema  # only the restore tests validate; the chdb venv of 60-restore has it

    validator = jsonschema.Draft202012Validator(json.loads(EVENTS_SCHEMA.read_text()))
    for e in evs:
        validator.validate(e)


class MockMes:
    """A running mock-mes: `base` is its URL; `put_scenario` answers (HTTP status, body)."""

    def __init__(self, base: str, proc: subprocess.Popen[str]) -> None:
        self.base = base
        self.proc = proc

    def put_scenario(self, scenario: dict[str, Any]) -> tuple[int, str]:
        req = urllib.request.Request(self.base + "/_mock/scenario", data=json.dumps(scenario).encode(), method="PUT")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def log(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.base + "/_mock/log", timeout=30) as r:
            entries: list[dict[str, Any]] = json.loads(r.read())
            return entries


@pytest.fixture(scope="module")
def mock_mes(work: Path) -> Iterator[MockMes]:
    with open(work / "mock.err", "w") as err:
        proc = subprocess.Popen([MOCK_MES, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=err, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    if not base.startswith("http://"):
        proc.kill()
        raise RuntimeError(f"mock-mes did not start: {(work / 'mock.err').read_text()}")
    yield MockMes(base, proc)
    proc.kill()
    proc.wait()
