"""Restore safety through the `mesbackup` binary, against a real ClickHouse engine (chdb behind
tests/chdb-http/server.py) and against fronts that misbehave (tests/chdb-http/hostile_front.py).

What is pinned here (issue "Safe with other people's data"):
- a package whose entries try to leave the extraction folder is never OK for verify or inspect, is
  refused by restore and test-restore, and nothing is written outside (nor anywhere, for restore);
- restore refuses an existing target unless --into-existing; test-restore restores into a fresh
  `<prefix><db>_<random>`, refuses an empty prefix, and leaves databases it did not create alone;
- the ClickHouse password never follows a redirect; a server that never answers ends at --timeout;
  plain http off this machine needs --allow-insecure-http; credentials in the URL are refused unechoed;
- extracted files are private (0600 in 0700 folders) under umask 022, or exactly the chosen modes.

Run by scripts/suites/60-restore.sh: MESBACKUP_BIN names the binary, the chdb venv runs pytest;
the engine, `run` and the other helpers are in conftest.py.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, databases, events, run, sql, start

sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "hostile"))
import make_hostile

FIXTURE = ROOT / "tests" / "fixtures" / "clickhouse" / "mesfix_stored.zip"
PASSWORD = "Pa55-w0rd-that-must-never-show"


@pytest.fixture(scope="module")
def hostile(work: Path) -> dict[str, dict[str, object]]:
    escape = work / "escape"
    escape.mkdir()
    subprocess.run(
        [sys.executable, str(ROOT / "tests/fixtures/hostile/make_hostile.py"), str(work / "hostile"), str(escape)],
        check=True,
        capture_output=True,
    )
    listing = json.loads((work / "hostile" / "cases.json").read_text())
    return {c["case"]: c for c in listing}


def everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("case", make_hostile.CASE_NAMES)
def test_a_hostile_package_is_never_ok_and_never_extracted(
    case: str, hostile: dict[str, dict[str, object]], work: Path, engine: str
) -> None:
    c = hostile[case]
    package = str(c["file"])
    v = run("--json", "verify", package)
    assert v.returncode == 11, (v.stdout, v.stderr)
    kinds = [p["kind"] for e in events(v.stdout) if e["event"] == "verified" for p in e["report"]["problems"]]  # type: ignore[index]
    assert c["problem"] in kinds, kinds
    assert run("inspect", package).returncode == 11

    allowed = work / f"allowed-{case}"
    allowed.mkdir()
    r = run(
        "restore",
        package,
        "--clickhouse",
        engine,
        "--as",
        "HOSTILE_" + case.replace("-", "_"),
        "--server-backup-path",
        str(allowed),
    )
    assert r.returncode == 11, (r.stdout, r.stderr)
    assert "not restoring from a damaged package" in r.stderr, r.stderr
    t = run("--json", "test-restore", package, "--clickhouse", engine, "--server-backup-path", str(allowed))
    assert t.returncode == 11, (t.stdout, t.stderr)
    assert [e["ok"] for e in events(t.stdout) if e["event"] == "test_restore"] == [False]

    assert everything_under(allowed) == [], "nothing is extracted from a package that does not verify"
    for canary in c["canaries"]:  # type: ignore[union-attr]
        target = Path(str(canary).replace("<server-backup-path>", str(allowed)))
        assert not target.exists(), f"{case}: {target} was written"
    assert not [p for p in work.rglob("pwned*")], f"{case}: an escaping file was written"
    assert not any(d.startswith("HOSTILE_") for d in databases(engine))


def test_restore_refuses_an_existing_target_unless_into_existing(engine: str, work: Path) -> None:
    sql(engine, "CREATE DATABASE MESFIX_existing")
    allowed = work / "allowed"
    r = run(
        "restore", str(FIXTURE), "--clickhouse", engine, "--as", "MESFIX_existing", "--server-backup-path", str(allowed)
    )
    assert r.returncode == 2 and "existing_target" in r.stdout + r.stderr and "--into-existing" in r.stderr, r
    assert sql(engine, "SELECT count() AS c FROM system.tables WHERE database = 'MESFIX_existing'") == [
        {"c": "0"}
    ] or sql(engine, "SELECT count() AS c FROM system.tables WHERE database = 'MESFIX_existing'") == [{"c": 0}]
    r = run(
        "restore",
        str(FIXTURE),
        "--clickhouse",
        engine,
        "--as",
        "MESFIX_existing",
        "--into-existing",
        "--server-backup-path",
        str(allowed),
    )
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert everything_under(allowed) == []


def test_test_restore_leaves_databases_it_did_not_create(engine: str, work: Path) -> None:
    # An empty production database, and somebody's database under the old fixed throwaway name.
    for name in ("MESFIX", "mesbackup_testrestore_MESFIX"):
        sql(engine, f"CREATE DATABASE IF NOT EXISTS `{name}`")
    before = databases(engine)
    t = run(
        "--json",
        "test-restore",
        str(FIXTURE),
        str(FIXTURE),
        "--clickhouse",
        engine,
        "--server-backup-path",
        str(work / "allowed"),
    )
    assert t.returncode == 0, (t.stdout, t.stderr)
    results = [e for e in events(t.stdout) if e["event"] == "test_restore"]
    names = [str(r["target_database"]) for r in results]
    assert all(re.fullmatch(r"mesbackup_testrestore_MESFIX_[0-9a-f]{8}", n) for n in names), names
    assert len(set(names)) == 2, "a fresh name per package and run"
    assert all(r["ok"] and r["dropped"] for r in results), results
    assert databases(engine) == before, "both pre-existing databases survive; the throwaways are gone"

    empty = run(
        "test-restore",
        str(FIXTURE),
        "--prefix",
        "",
        "--clickhouse",
        engine,
        "--server-backup-path",
        str(work / "allowed"),
    )
    assert empty.returncode == 2 and "--prefix" in empty.stdout, (empty.stdout, empty.stderr)
    assert databases(engine) == before


def test_the_password_never_follows_a_redirect(work: Path) -> None:
    log = work / "other-host.log"
    other, other_port = start([str(ROOT / "tests/chdb-http/hostile_front.py"), "record", str(log)], work)
    redirect, port = start(
        [str(ROOT / "tests/chdb-http/hostile_front.py"), "redirect", f"http://localhost:{other_port}"], work
    )
    try:
        r = run(
            "restore",
            str(FIXTURE),
            "--clickhouse",
            f"http://127.0.0.1:{port}/",
            "--dry-run",
            env={"CLICKHOUSE_USER": "default", "CLICKHOUSE_PASSWORD": PASSWORD},
        )
    finally:
        other.kill()
        redirect.kill()
    assert r.returncode == 8, (r.stdout, r.stderr)
    assert "redirect" in r.stderr and "never follows" in r.stderr, r.stderr
    assert not log.exists() or log.read_text() == "", f"the other host was contacted: {log.read_text()}"
    assert PASSWORD not in r.stdout + r.stderr


def test_a_clickhouse_that_never_answers_ends_at_the_timeout(work: Path) -> None:
    silent, port = start([str(ROOT / "tests/chdb-http/hostile_front.py"), "silent"], work)
    try:
        started = time.monotonic()
        r = run(
            "restore",
            str(FIXTURE),
            "--clickhouse",
            f"http://127.0.0.1:{port}/",
            "--dry-run",
            "--timeout",
            "3s",
            timeout=60,
        )
        elapsed = time.monotonic() - started
    finally:
        silent.kill()
    assert r.returncode == 9, (r.stdout, r.stderr)
    assert "--timeout" in r.stderr, r.stderr
    assert elapsed < 30, f"took {elapsed:.1f} s"


def test_plain_http_off_this_machine_needs_consent_and_url_credentials_are_refused() -> None:
    r = run(
        "restore",
        str(FIXTURE),
        "--clickhouse",
        "http://clickhouse.invalid:8123",
        "--dry-run",
        env={"CLICKHOUSE_PASSWORD": PASSWORD},
    )
    assert r.returncode == 2 and "--allow-insecure-http" in r.stderr, r.stderr
    r = run(
        "restore",
        str(FIXTURE),
        "--clickhouse",
        "http://clickhouse.invalid:8123",
        "--dry-run",
        "--allow-insecure-http",
        env={"CLICKHOUSE_PASSWORD": PASSWORD},
    )
    assert r.returncode == 13, (r.stdout, r.stderr)  # consented, then the host does not resolve
    for url in (f"http://admin:{PASSWORD}@127.0.0.1:8123", f"http://127.0.0.1:8123/?user=admin&password={PASSWORD}"):
        r = run("restore", str(FIXTURE), "--clickhouse", url, "--dry-run")
        assert r.returncode == 2, (r.stdout, r.stderr)
        assert PASSWORD not in r.stdout + r.stderr


@pytest.mark.parametrize(
    "modes, file_mode, dir_mode", [((), 0o600, 0o700), (("--file-mode", "0640", "--dir-mode", "0750"), 0o640, 0o750)]
)
def test_extracted_files_are_private_or_exactly_as_chosen(
    engine: str, work: Path, modes: tuple[str, ...], file_mode: int, dir_mode: int
) -> None:
    allowed = work / f"allowed-modes-{file_mode:o}"
    allowed.mkdir()
    old = os.umask(0o022)
    try:
        # The server is told another path, so RESTORE fails after the extraction and the folder is
        # kept for whoever investigates: its modes can be read.
        r = run(
            "restore",
            str(FIXTURE),
            "--clickhouse",
            engine,
            "--as",
            f"MESFIX_modes_{file_mode:o}",
            "--server-backup-path",
            str(allowed),
            "--path-on-server",
            str(work / "not-there"),
            *modes,
        )
    finally:
        os.umask(old)
    assert r.returncode == 7, (r.stdout, r.stderr)
    kept = [p for p in allowed.iterdir()]
    assert len(kept) == 1 and "left in" in r.stderr, (kept, r.stderr)
    assert stat.S_IMODE(kept[0].stat().st_mode) == dir_mode
    files = [p for p in kept[0].rglob("*")]
    assert files, "the extraction is there"
    for p in files:
        want = dir_mode if p.is_dir() else file_mode
        assert stat.S_IMODE(p.stat().st_mode) == want, (p, oct(p.stat().st_mode))
