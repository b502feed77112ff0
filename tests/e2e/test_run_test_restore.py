"""`mesbackup run` with `[environment.test_restore]` against a real engine (chdb behind
tests/chdb-http/server.py) and mock-mes serving the committed fixture package (MESFIX: 4 tables,
4335 rows) for every database of system MESFIX.

In the order they run:
- a healthy night (CLI, --json, --metrics-file): the four packages are saved and verified; the
  Online and CDM ones (the config's `databases`) are test-restored into throwaway databases, every
  table's row count matches, both are dropped; ODS and DWH are not tested; the engine holds no
  throwaway database and the extracted folders are gone; the metrics carry the test results; the
  after hook ran and never saw ClickHouse's password, which appears in no output; every event
  matches cli/events.schema.json;
- the same through Python (`mesbackup.run`): typed `TestRestoreResult`s in the report;
- ClickHouse unreachable in one environment and a failing before hook in another: the first fails at
  step test_restore with its packages saved, the run's exit code is the hook's 21 (a test that could
  not run ranks below a hook, as stage and retention do), on_error hooks ran;
- a damaged package with verify off: the test restore's own verification fails it as integrity
  (exit 11, the rank of an unsound backup), nothing is restored;
- ClickHouse's user and password from the variables the config names reach the server (as headers,
  recorded by a front that keeps no values);
- SIGTERM while a test restore waits on a server that never answers: the run ends with 130 at step
  test_restore and nothing is left in the backup path (the server hangs at its first question,
  before anything is extracted: the cleanup of an extracted folder on cancel is not exercised).

Run by scripts/suites/70-e2e.sh (MESBACKUP_BIN, MOCK_MES; the chdb venv has the mesbackup wheel).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    BIN,
    CLICKHOUSE_FIXTURES,
    ROOT,
    MockMes,
    assert_events_match_schema,
    databases,
    json_lines,
    run,
    start,
)

FIXTURE = CLICKHOUSE_FIXTURES / "mesfix_stored.zip"
SYSTEM = "MESFIX"
ROWS = 4335
TOKEN_VAR = "E2E_RUN_MES_TOKEN"
CH_PASSWORD = "ch-e2e-s3cret-7f3a"
ENV = {TOKEN_VAR: "admin-token", "E2E_CH_USER": "default", "E2E_CH_PASSWORD": CH_PASSWORD}


def environment(
    work: Path, name: str, mock: str, clickhouse: str, *, extra: str = "", test_restore_extra: str = ""
) -> str:
    """One [[environment]] of system MESFIX with a test restore of its Online and CDM packages."""
    return f"""
[[environment]]
name = "{name}"
url = "{mock}"
system = "{SYSTEM}"
out = "{work / name / "out"}"
token_env = "{TOKEN_VAR}"
{extra}
[environment.test_restore]
clickhouse_url = "{clickhouse}"
backup_path = "{work / "allowed"}"
databases = ["Online", "CDM"]
user_env = "E2E_CH_USER"
password_env = "E2E_CH_PASSWORD"
timeout = "5m"
{test_restore_extra}
[environment.hooks]
after = [["sh", "-c", "env > {work / name / "after.env"}"]]
on_error = [["sh", "-c", "echo $MESBACKUP_ERROR > {work / name / "on_error.txt"}"]]
"""


def write_config(work: Path, file: str, *envs: str) -> Path:
    path = work / file
    path.write_text("".join(envs))
    return path


def summary(evs: list[dict[str, Any]]) -> dict[str, Any]:
    found = [e for e in evs if e["event"] == "run_summary"]
    assert len(found) == 1, evs
    return found[0]


def by_database(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["database"]: d for d in env["databases"]}


def no_throwaway_left(engine: str, work: Path) -> None:
    left = [n for n in databases(engine) if n.startswith("mesbackup_testrestore_")]
    assert not left, f"throwaway databases left on the engine: {left}"
    assert list((work / "allowed").iterdir()) == [], "extracted folders left behind"


@pytest.fixture(scope="module")
def mock(mock_mes: MockMes) -> MockMes:
    status, body = mock_mes.put_scenario({"system": SYSTEM, "pending_polls": 1, "payload": {"file": str(FIXTURE)}})
    assert status == 200, f"scenario refused: {status} {body}"
    return mock_mes


def test_a_night_test_restores_the_chosen_packages_and_drops_them(engine: str, mock: MockMes, work: Path) -> None:
    config = write_config(work, "healthy.toml", environment(work, "site", mock.base, engine))
    metrics = work / "site.prom"
    r = run("--json", "run", "--config", str(config), "--metrics-file", str(metrics), env=ENV, timeout=300)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    evs = json_lines(r.stdout)
    assert_events_match_schema(evs)
    env = summary(evs)["environments"][0]
    assert env["result"] == "ok" and env["failed_step"] is None, env
    dbs = by_database(env)
    for db in (SYSTEM, SYSTEM + "CDM"):
        t = dbs[db]["test_restore"]
        assert t["ok"] and t["verified"] and t["dropped"], t
        assert t["database"] == SYSTEM and t["target_database"].startswith(f"mesbackup_testrestore_{SYSTEM}_"), t
        assert t["tables_checked"] == 4 and t["rows_checked"] == ROWS, t
        assert all(c["ok"] and c["rows"] == c["expected_rows"] for c in t["tables"]), t["tables"]
        assert t["path"] == dbs[db]["file"], (t["path"], dbs[db]["file"])
    for db in (SYSTEM + "ODS", SYSTEM + "DWH"):
        assert dbs[db]["outcome"] == "saved" and "test_restore" not in dbs[db], dbs[db]
    targets = {dbs[db]["test_restore"]["target_database"] for db in (SYSTEM, SYSTEM + "CDM")}
    assert len(targets) == 2, f"each package gets its own throwaway name: {targets}"
    no_throwaway_left(engine, work)
    text = metrics.read_text()
    for db in (SYSTEM, SYSTEM + "CDM"):
        assert f'mesbackup_test_restore_success{{environment="site",database="{db}"}} 1' in text, text
    assert f'mesbackup_test_restore_success{{environment="site",database="{SYSTEM}ODS"}}' not in text
    after_env = (work / "site" / "after.env").read_text()
    assert "MESBACKUP_RESULT=ok" in after_env
    assert CH_PASSWORD not in after_env and "E2E_CH_PASSWORD" not in after_env, "a hook saw ClickHouse's password"
    assert CH_PASSWORD not in r.stdout + r.stderr, "ClickHouse's password in the output"
    print(f"ok: run test-restored {sorted(targets)}: {ROWS} rows each, dropped; ODS/DWH untested; metrics, hooks")


def test_python_run_reports_typed_test_restores(engine: str, mock: MockMes, work: Path) -> None:
    import mesbackup

    config = write_config(work, "python.toml", environment(work, "py", mock.base, engine))
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    try:
        report = mesbackup.run(config)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert isinstance(report, mesbackup.RunReport) and report.ok, report
    env = report.environments[0]
    tested = {d.database: d.test_restore for d in env.databases if d.test_restore is not None}
    assert sorted(tested) == [SYSTEM, SYSTEM + "CDM"], tested
    for t in tested.values():
        assert isinstance(t, mesbackup.TestRestoreResult) and t.ok and t.dropped and t.rows_checked == ROWS, t
    plan = mesbackup.RunConfig.load(config).environment("py").test_restore
    assert plan is not None and plan["databases"] == ["Online", "CDM"] and plan["password_env"] == "E2E_CH_PASSWORD"
    no_throwaway_left(engine, work)
    print("ok: mesbackup.run: typed TestRestoreResult for", sorted(tested))


def test_an_unreachable_clickhouse_fails_the_step_and_ranks_below_a_hook(
    engine: str, mock: MockMes, work: Path
) -> None:
    # (engine: its fixture makes the backup path the config names)
    # Port 9 (discard): nothing answers there.
    unreachable = environment(work, "noch", mock.base, "http://127.0.0.1:9/")
    hook = environment(
        work,
        "hook",
        mock.base,
        "http://127.0.0.1:9/",
    ).replace("[environment.hooks]\n", '[environment.hooks]\nbefore = [["false"]]\n')
    config = write_config(work, "failing.toml", unreachable, hook)
    r = run("--json", "run", "--config", str(config), env=ENV, timeout=300)
    evs = json_lines(r.stdout)
    assert_events_match_schema(evs)
    report = summary(evs)
    noch, failed_hook = report["environments"]
    assert noch["failed_step"] == "test_restore" and noch["exit_code"] == 13, noch
    dbs = by_database(noch)
    assert all(d["outcome"] == "saved" and d["verified"] for d in dbs.values()), dbs
    assert dbs[SYSTEM]["test_restore"]["error"]["kind"] == "network", dbs[SYSTEM]
    assert dbs[SYSTEM + "CDM"]["test_restore"]["ok"] is False, "a failed test does not stop the next package's"
    assert failed_hook["failed_step"] == "before_hook" and failed_hook["exit_code"] == 21, failed_hook
    assert r.returncode == 21 == report["exit_code"], (
        f"exit {r.returncode}: the hook (21) outranks a test restore that could not run"
    )
    assert "test restore" in (work / "noch" / "on_error.txt").read_text()
    print("ok: unreachable ClickHouse: step test_restore (13), packages saved; run exit 21 (hook outranks it)")


def test_a_damaged_package_fails_its_test_restore_as_integrity(
    engine: str, mock_mes: MockMes, mock: MockMes, work: Path
) -> None:
    b = bytearray(FIXTURE.read_bytes())
    i = b.find(b"data.bin", b.find(b"MESFIX_backup/data/"))
    b[i + len(b"data.bin") + 30] ^= 0xFF  # stored, no extra field: inside the first data.bin
    damaged = work / "damaged.zip"
    damaged.write_bytes(bytes(b))
    status, body = mock_mes.put_scenario({"system": SYSTEM, "pending_polls": 1, "payload": {"file": str(damaged)}})
    assert status == 200, body
    try:
        config = write_config(
            work, "damaged.toml", environment(work, "damaged", mock.base, engine, extra="verify = false\n")
        )
        r = run("--json", "run", "--config", str(config), env=ENV, timeout=300)
    finally:
        mock_mes.put_scenario({"system": SYSTEM, "pending_polls": 1, "payload": {"file": str(FIXTURE)}})
    evs = json_lines(r.stdout)
    env = summary(evs)["environments"][0]
    t = by_database(env)[SYSTEM]["test_restore"]
    assert t["ok"] is False and t["verified"] is False and t["error"]["kind"] == "integrity", t
    assert "restore_ms" not in t, "nothing may be restored from a damaged package"
    assert env["failed_step"] == "test_restore" and env["exit_code"] == 11, env
    assert r.returncode == 11, f"exit {r.returncode}: an unsound package keeps the integrity rank\n{r.stderr}"
    no_throwaway_left(engine, work)
    print("ok: damaged package: test restore fails as integrity (exit 11), nothing restored")


def test_the_dry_run_shows_the_test_restore(engine: str, mock: MockMes, work: Path) -> None:
    config = write_config(work, "plan.toml", environment(work, "plan", mock.base, engine))
    r = run("run", "--config", str(config), "--dry-run", env=ENV)
    assert r.returncode == 0, r.stderr
    assert "test restore the new Online/CDM package(s) on " + engine in r.stdout, r.stdout
    r = run("--json", "run", "--config", str(config), "--dry-run", env=ENV)
    plan = json.loads(r.stdout.splitlines()[-1])
    assert plan["environments"][0]["test_restore"]["databases"] == ["Online", "CDM"], plan
    print("ok: --dry-run shows the test restore")


def test_the_named_clickhouse_credentials_are_sent(engine: str, mock: MockMes, work: Path) -> None:
    # (engine: its fixture makes the backup path the config names)
    log = work / "record.log"
    front, port = start([str(ROOT / "tests/chdb-http/hostile_front.py"), "record", str(log)], work)
    try:
        config = write_config(work, "record.toml", environment(work, "record", mock.base, f"http://127.0.0.1:{port}/"))
        r = run("--json", "run", "--config", str(config), env=ENV, timeout=300)
    finally:
        front.kill()
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    assert requests, f"the test restore asked ClickHouse nothing\n{r.stdout}{r.stderr}"
    assert all(q["has_user"] and q["has_password"] for q in requests), requests
    env = summary(json_lines(r.stdout))["environments"][0]
    # The front answers every statement with no rows: the target's facts are empty, the test fails
    # at its plan, and nothing is restored.
    assert env["failed_step"] == "test_restore", env
    assert CH_PASSWORD not in r.stdout + r.stderr
    print(f"ok: {len(requests)} request(s) to ClickHouse, each with the user and password from the named variables")


def test_sigterm_during_a_test_restore_stops_it_and_cleans_up(engine: str, mock: MockMes, work: Path) -> None:
    # (engine: its fixture makes the backup path this test checks)
    silent, port = start([str(ROOT / "tests/chdb-http/hostile_front.py"), "silent"], work)
    config = write_config(work, "silent.toml", environment(work, "silent", mock.base, f"http://127.0.0.1:{port}/"))
    out, err = work / "silent.out", work / "silent.err"
    try:
        with open(out, "w") as o, open(err, "w") as e:
            proc = subprocess.Popen(
                [BIN, "run", "--config", str(config)], stdout=o, stderr=e, env={**os.environ, **ENV}, text=True
            )
        deadline = time.monotonic() + 120
        while "test restore on" not in err.read_text():
            assert proc.poll() is None, f"the run ended before its test restore: {err.read_text()}"
            assert time.monotonic() < deadline, f"no test restore began: {err.read_text()}"
            time.sleep(0.1)
        time.sleep(0.5)  # inside the flow now, waiting on the silent server
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        silent.kill()
    text = out.read_text() + err.read_text()
    assert code == 130, f"exit {code}\n{text}"
    assert "test restore" in text and "cancelled" in text, text
    assert list((work / "allowed").iterdir()) == [], "extracted folders left behind"
    print("ok: SIGTERM during a test restore: exit 130, nothing left in the backup path")


def test_a_missing_backup_path_is_refused_before_anything_is_sent(mock: MockMes, work: Path) -> None:
    text = environment(work, "nopath", mock.base, "http://127.0.0.1:9/").replace(
        f'backup_path = "{work / "allowed"}"', f'backup_path = "{work / "missing"}"'
    )
    config = write_config(work, "nopath.toml", text)
    sent = len(mock.log())
    r = run("run", "--config", str(config), env=ENV)
    assert r.returncode == 2, f"exit {r.returncode}\n{r.stdout}{r.stderr}"
    assert "test_restore.backup_path" in r.stderr and str(work / "missing") in r.stderr, r.stderr
    assert len(mock.log()) == sent, "something was sent before the config was refused"
    print("ok: a missing backup_path is refused at load (exit 2), nothing sent")
