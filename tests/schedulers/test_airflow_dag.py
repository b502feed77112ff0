#!/usr/bin/env python3
"""docs/schedulers/airflow/mesbackup_dag.py run for real: ``airflow dags test`` against mock-mes.

Run by scripts/suites/33-airflow.sh with the Python of the venv that has the pinned apache-airflow
and the mesbackup wheel; needs $MOCK_MES (the mock-mes binary).

1. A healthy night, two environments (one with version + stage_into): the DAG run succeeds, every
   task succeeded on its first try, each environment's four packages are saved and verified, the
   staging one's are staged under their installer names, and each mock-mes saw exactly one POST per
   database.
2. A night where one environment's server answers every backup request with 500: the DAG run fails,
   that environment's start tasks failed (once: retries=0) and its later tasks did not run, the other
   environment's tasks all succeeded, and still one POST per database reached each server.

Task states come from the DAG run's rows in the SQLite metadata database. Exit code 1 when a check
failed; the last line says how many passed and failed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DAG_FOLDER = ROOT / "docs" / "schedulers" / "airflow"
DAG_ID = "mesbackup"
TOKEN_VAR = "AIRFLOW_TEST_MES_TOKEN"
FAILING = {"faults": [{"method": "POST", "nth": "all", "status": 500, "body": "ClickHouse is down"}]}
DATABASES = ["MES", "MESCDM", "MESODS", "MESDWH"]

passed = 0
failures: list[str] = []


def check(condition: bool, message: str) -> None:
    global passed
    if condition:
        passed += 1
    else:
        failures.append(message)
        print(f"FAIL {message}", flush=True)


class Mock:
    def __init__(self, scenario: Any) -> None:
        binary = os.environ["MOCK_MES"]
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base = self.proc.stdout.readline().strip()
        assert self.base.startswith("http://"), self.base
        req = urllib.request.Request(
            self.base + "/_mock/scenario",
            data=json.dumps(scenario).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

    def posts(self) -> list[str]:
        with urllib.request.urlopen(self.base + "/_mock/log", timeout=10) as r:
            log: list[dict[str, Any]] = json.loads(r.read())
        return [e["path"] for e in log if e["method"] == "POST"]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def environment(name: str, url: str, out: Path, extra: str = "") -> str:
    return (
        f'[[environment]]\nname = "{name}"\nurl = "{url}"\nsystem = "MES"\nout = "{out}"\n'
        f'token_env = "{TOKEN_VAR}"\n{extra}\n'
    )


def airflow(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    airflow_bin = str(Path(sys.executable).parent / "airflow")
    started = time.monotonic()
    r = subprocess.run([airflow_bin, *args], check=False, env=env, capture_output=True, text=True, timeout=timeout)
    print(f"airflow {' '.join(args)}: exit {r.returncode} in {time.monotonic() - started:.1f} s", flush=True)
    return r


def task_states(db: Path, run_id: str) -> dict[str, tuple[str | None, int]]:
    """task_id -> (state, try_number) of one DAG run."""
    with sqlite3.connect(db) as c:
        rows = c.execute(
            "SELECT task_id, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ?", (DAG_ID, run_id)
        ).fetchall()
    return {task_id: (state, try_number) for task_id, state, try_number in rows}


def last_run(db: Path) -> tuple[str, str]:
    with sqlite3.connect(db) as c:
        row = c.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (DAG_ID,)
        ).fetchone()
    assert row is not None, "no DAG run recorded"
    return row[0], row[1]


def show(r: subprocess.CompletedProcess[str]) -> None:
    tail = (r.stdout + r.stderr).splitlines()[-60:]
    print("\n".join("    " + line for line in tail))


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="mesbackup-airflow-"))
    home = work / "airflow"
    db = home / "airflow.db"
    config = work / "mesbackup.toml"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{db}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "MESBACKUP_CONFIG": str(config),
        TOKEN_VAR: "admin-token",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    r = airflow(env, "db", "migrate")
    if r.returncode != 0:
        show(r)
    check(r.returncode == 0, "airflow db migrate")

    # 1. A healthy night.
    prod, qa = Mock({}), Mock({})
    installer = work / "installer"
    installer.mkdir()
    try:
        config.write_text(
            environment("prod", prod.base, work / "prod", f'version = "11.3.0"\nstage_into = "{installer}"')
            + environment("qa", qa.base, work / "qa")
        )
        r = airflow(env, "dags", "test", DAG_ID, "2026-12-01T02:00:00+00:00")
        run_id, state = last_run(db)
        if state != "success":
            show(r)
        check(state == "success", f"healthy night: DAG run {run_id} is {state}, expected success")
        check(r.returncode == 0, f"healthy night: airflow dags test exited {r.returncode}")
        states = task_states(db, run_id)
        expected = {f"{e}.{t}_{d}" for e in ("prod", "qa") for t in ("start", "download") for d in DATABASES} | {
            "prod.verify",
            "prod.stage",
            "qa.verify",
        }
        check(set(states) == expected, f"healthy night: tasks {sorted(states)} != {sorted(expected)}")
        bad = {t: s for t, s in states.items() if s != ("success", 1)}
        check(not bad, f"healthy night: every task succeeded on its first try: {bad}")
        prod_zips = sorted(p.name for p in (work / "prod").glob("*.zip"))
        names = [f"MES.Cmf.ClickHouse.FullBackup.{k}.11.3.0.zip" for k in ("CDM", "DWH", "ODS", "Online")]
        check(prod_zips == names, f"prod saved under the installer names: {prod_zips}")
        check(sorted(p.name for p in installer.glob("*.zip")) == names, "prod's packages are staged")
        check(len(list((work / "qa").glob("*.zip"))) == 4, "qa saved four packages")
        check(len(list((work / "qa").glob("*.mesbackup.json"))) == 4, "qa's packages have sidecars")
        # The download tasks know only a GUID from XCom: the database they name is in each sidecar,
        # so retention and `mesbackup window` group the packages by database as after `run`.
        recorded = sorted(
            json.loads(p.read_text()).get("database") or "" for p in (work / "qa").glob("*.mesbackup.json")
        )
        check(recorded == sorted(DATABASES), f"qa's sidecars record their databases: {recorded}")
        for m, name in ((prod, "prod"), (qa, "qa")):
            posts = m.posts()
            check(len(posts) == 4, f"healthy night: {name}'s server saw one POST per database: {posts}")
    finally:
        prod.stop()
        qa.stop()

    # 2. One environment's server fails every backup request.
    prod, qa = Mock({}), Mock(FAILING)
    try:
        config.write_text(environment("prod", prod.base, work / "prod2") + environment("qa", qa.base, work / "qa2"))
        r = airflow(env, "dags", "test", DAG_ID, "2026-12-02T02:00:00+00:00")
        run_id, state = last_run(db)
        check(state == "failed", f"failing night: DAG run {run_id} is {state}, expected failed")
        check(r.returncode != 0 or state == "failed", "failing night: the failure is reported")
        states = task_states(db, run_id)
        prod_states = {t: s for t, s in states.items() if t.startswith("prod.")}
        check(
            len(prod_states) == 9 and all(s == ("success", 1) for s in prod_states.values()),
            f"failing night: the healthy environment's tasks all succeeded: {prod_states}",
        )
        for d in DATABASES:
            check(
                states.get(f"qa.start_{d}") == ("failed", 1), f"qa.start_{d} failed once: {states.get(f'qa.start_{d}')}"
            )
            check(
                states.get(f"qa.download_{d}", (None, 0))[0] == "upstream_failed",
                f"qa.download_{d} did not run: {states.get(f'qa.download_{d}')}",
            )
        check(states.get("qa.verify", (None, 0))[0] == "upstream_failed", f"qa.verify: {states.get('qa.verify')}")
        check(len(list((work / "prod2").glob("*.zip"))) == 4, "prod saved four packages")
        check(not list((work / "qa2").glob("*.zip")), "qa saved nothing")
        check(len(prod.posts()) == 4, f"failing night: prod's server saw one POST per database: {prod.posts()}")
        qa_posts = qa.posts()
        check(
            sorted(qa_posts) == sorted(set(qa_posts)) and len(qa_posts) == 4,
            f"failing night: the failing server saw exactly one POST per database (no retry): {qa_posts}",
        )
        log_text = r.stdout + r.stderr
        check("admin-token" not in log_text, "no token in the airflow output")
    finally:
        prod.stop()
        qa.stop()

    print(f"airflow: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
