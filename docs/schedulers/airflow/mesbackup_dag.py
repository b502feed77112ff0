"""mesbackup nightly: one Airflow DAG for every environment of a mesbackup.toml (Airflow 3).

Per environment a task group; per database two tasks, then the environment's verify and stage:

    <env>.start_<DB>  ->  <env>.download_<DB>  ->  <env>.verify  ->  <env>.stage

- ``start_<DB>`` sends the one POST that starts the server's backup and pushes its GUID to XCom.
  It has ``retries=0``: a retried POST could start a second backup on the server.
- ``download_<DB>`` waits for that GUID (the server answers 202/204 while it prepares the backup)
  and saves the package, with its sidecar (which records the database, as ``run`` does), under the
  config's file name. Its retries are safe: it never POSTs. A download that broke half-way has already been deleted by the server (the download
  is one-shot), so a retry then fails clearly (``backup_not_found``) instead of saving something
  else; the next night starts a new backup.
- ``verify`` checks every package of the environment (``verify = false`` in the config skips it).
- ``stage`` copies the verified packages into ``stage_into`` under the installer's names (only
  for environments with ``stage_into`` and ``version``).

Credentials are resolved by mesbackup itself, as the config names them (``token_env``,
``user_env`` + ``pat_env``, ``token_file``), in the worker that runs the task: set those variables
in the workers' environment (or mount the token file); no secret goes through Airflow's metadata
database, XCom or this file. The config's path comes from the environment variable
``MESBACKUP_CONFIG``, else the Airflow Variable ``mesbackup_config``.

Not done here (``mesbackup run`` does them; see README.md beside this file): the config's hooks,
retention, test restores and metrics. The DAG's dag_id is ``mesbackup`` (``MESBACKUP_DAG_ID`` changes it).
"""

from __future__ import annotations

import datetime
import os
import re
from typing import Any

from airflow.sdk import DAG, TaskGroup, Variable, task  # type: ignore[import-not-found,unused-ignore]

import mesbackup

DAG_ID = os.environ.get("MESBACKUP_DAG_ID", "mesbackup")


def config_path() -> str:
    """The mesbackup.toml to back up: ``$MESBACKUP_CONFIG``, else the Variable ``mesbackup_config``."""
    path = os.environ.get("MESBACKUP_CONFIG") or Variable.get("mesbackup_config", default=None)
    if not path:
        raise RuntimeError(
            "mesbackup DAG: no config; set the environment variable MESBACKUP_CONFIG or the Airflow Variable "
            "mesbackup_config to the path of a mesbackup.toml (docs/config.md)"
        )
    return str(path)


def group_id(name: str) -> str:
    """An environment's name as a task group id (letters, digits, ``_``, ``-``, ``.``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _client(name: str) -> mesbackup.Client:
    return mesbackup.Client.for_environment(config_path(), name)


def _environment(name: str) -> mesbackup.EnvironmentConfig:
    return mesbackup.RunConfig.load(config_path()).environment(name)


@task(retries=0)
def start(environment: str, database: str) -> str:
    """POST only: starts the server's backup of ``database`` and returns its GUID (XCom)."""
    job = _client(environment).start(database)
    print(f"{environment}/{database}: backup started on the server, GUID {job.guid}")
    return job.guid


@task(retries=2, retry_delay=datetime.timedelta(minutes=5))
def download(environment: str, database: str, guid: str) -> dict[str, Any]:
    """Waits for the backup ``guid`` and saves it (never POSTs: retries are safe)."""
    env = _environment(environment)
    file_name = next((d.file_name for d in env.databases if d.database == database), None)
    # Installer-named packages replace the previous night's, as `mesbackup run` does.
    pkg = _client(environment).download(
        guid, env.out, file_name=file_name, overwrite=env.version is not None, database=database
    )
    print(f"{environment}/{database}: saved {pkg.path} ({pkg.size} bytes, sha256 {pkg.sha256})")
    return {
        "database": database,
        "path": str(pkg.path),
        "size": pkg.size,
        "sha256": pkg.sha256,
        "guid": pkg.guid,
        "started_at": None if pkg.started_at is None else pkg.started_at.isoformat(),
        "finished_at": pkg.finished_at.isoformat(),
    }


@task(retries=0)
def verify(environment: str, packages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verifies every saved package (``verify = false`` in the config: only logs that it is off)."""
    env = _environment(environment)
    if not env.verify:
        print(f"{environment}: verify = false in the config; packages not verified")
        return packages
    for p in packages:
        result = mesbackup.verify(p["path"], raise_on_error=True)
        print(f"{environment}/{p['database']}: verified {result.path} ({result.files_checked} files checked)")
    return packages


@task(retries=0)
def stage(environment: str, packages: list[dict[str, Any]]) -> list[str]:
    """Copies the verified packages into ``stage_into`` under the installer's names."""
    env = _environment(environment)
    assert env.stage_into is not None and env.version is not None
    staged = []
    for p in packages:
        s = mesbackup.stage(
            p["path"],
            env.stage_into,
            env.system,
            env.version,
            generic_names=env.generic_names,
            overwrite=True,
            file_mode=env.file_mode,
        )
        print(f"{environment}/{p['database']}: staged as {s.path}")
        staged.append(str(s.path))
    return staged


def build_dag(path: str) -> DAG:
    config = mesbackup.RunConfig.load(path)
    with DAG(
        dag_id=DAG_ID,
        description=f"mesbackup: the ClickHouse databases of every environment of {path}",
        schedule=os.environ.get("MESBACKUP_SCHEDULE", "0 2 * * *"),
        start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
        catchup=False,
        max_active_runs=1,
        max_active_tasks=max(4, 4 * config.concurrency),
        tags=["mesbackup"],
    ) as dag:
        for env in config.environments:
            with TaskGroup(group_id=group_id(env.name)):
                saved = []
                for db in env.databases:
                    guid = start.override(task_id=f"start_{db.database}")(env.name, db.database)
                    saved.append(download.override(task_id=f"download_{db.database}")(env.name, db.database, guid))
                verified = verify(env.name, saved)
                if env.stages:
                    stage(env.name, verified)
    return dag


dag = build_dag(config_path())
