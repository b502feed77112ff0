"""Not a test module: type-checked with `mypy --strict` by test_typing.py to prove the stubs are
precise enough for real code (sync, asyncio, errors, naming). Never executed."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import mesbackup


def sync_usage(out: Path) -> list[str]:
    client = mesbackup.Client(
        "https://mes.example.com", token="t", timeout=datetime.timedelta(hours=4), restart_budget=1, max_size=500 << 30
    )
    pkg: mesbackup.Package = client.backup("MESCDM", out, version="11.3.0", progress=lambda d, t, p: None)
    size: int = pkg.size
    path: Path = pkg.path
    started: datetime.datetime | None = pkg.started_at
    finished: datetime.datetime = pkg.finished_at
    job: mesbackup.Job = client.start("MES")
    maybe: mesbackup.Package | None = client.download_if_ready(job, out)
    again: mesbackup.Package = client.download(job.guid, out, file_name="x.zip", overwrite=True)
    _ = (size, path, started, finished, maybe, again, pkg.sidecar, pkg.notes)
    try:
        client.backup_system("MES", out)
    except mesbackup.Timeout as e:
        resume: str | None = e.guid
        kind: str = e.kind
        _ = (resume, kind)
    except mesbackup.MesBackupError as e:
        print(e.message)
    report: mesbackup.FolderReport = mesbackup.check_folder(out, "MES", "11.3.0")
    chosen: str | None = report.kinds[0]["chosen"]
    check: mesbackup.NameCheck = mesbackup.explain_package_name("x.zip")
    expected: str | None = check.expected
    name: str = mesbackup.installer_package_name("CDM", "11.3.0", "MES")
    _ = (chosen, expected)
    return [name, *mesbackup.system_databases("MES"), *report.missing]


async def async_usage(out: Path) -> list[mesbackup.Package]:
    client = mesbackup.AsyncClient(
        token="t",
        max_poll_delay=60,
        speed_limit=1024,
        speed_time=120,
        download_timeout=datetime.timedelta(hours=6),
        max_size=1 << 40,
    )
    first: mesbackup.Package = await client.backup("MES", out)
    job: mesbackup.Job = await client.start("MESCDM")
    maybe: mesbackup.Package | None = await client.download_if_ready(job, out)
    _ = maybe
    rest = await asyncio.gather(client.backup("MESODS", out), client.download(job, out))
    return [first, *rest]


def package_files_usage(pkg: Path, out: Path) -> int:
    result: mesbackup.VerifyResult = mesbackup.verify(pkg)
    ok: bool = result.ok and result.sidecar_matched
    digest: str | None = result.sha256
    for problem in result.problems:
        file: str | None = problem.file
        _ = (problem.kind, problem.message, file)
    try:
        mesbackup.verify(str(pkg), raise_on_error=True)
    except mesbackup.Integrity as e:
        print(e.path, e.message)
    info: mesbackup.PackageInfo = mesbackup.inspect(pkg)
    rows: int = sum(t.rows for t in info.tables if t.engine == "MergeTree")
    policies: list[str] = info.storage_policies + info.disks
    window: mesbackup.BackupWindow | None = mesbackup.backup_window(out)
    if window is not None:
        since: datetime.datetime = window.reprocess_from
        sql: datetime.datetime | None = window.sql_backup_finished_at
        _ = (since, sql, window.started_at, window.finished_at)
    staged: mesbackup.StagedPackage = mesbackup.stage(pkg, out, "MES", "11.3.0", overwrite=True)
    target: Path = staged.path
    plan: mesbackup.PrunePlan = mesbackup.plan_prune(out, 3)
    gone: list[Path] = mesbackup.prune(out, 3).deleted
    client = mesbackup.Client(token="t")
    client.backup("MESCDM", out, sql_backup_finished=datetime.datetime.now(datetime.timezone.utc))
    _ = (ok, digest, policies, target, plan.to_delete, gone, result.to_dict(), info.to_dict())
    return rows + result.files_checked + result.parts_checked + int(info.verified)


def restore_usage(pkg: Path, backups: Path) -> int:
    def executor(sql: str) -> str:
        return ""

    steps: list[str] = []
    done: mesbackup.RestoreResult = mesbackup.restore(
        pkg,
        executor=executor,
        target="MESCDM_check",
        server_backup_path=backups,
        timeout=datetime.timedelta(minutes=30),
        on_step=lambda step: steps.append(str(step["step"])),
    )
    checks: list[mesbackup.TableCheck] = done.tables
    counted: int | None = checks[0].rows if checks else None
    plan_only: mesbackup.RestoreResult = mesbackup.restore(pkg, clickhouse="http://127.0.0.1:8123", dry_run=True)
    results: list[mesbackup.TestRestoreResult] = mesbackup.test_restore(
        [pkg, str(pkg)], clickhouse="http://127.0.0.1:8123", server_backup_path=backups, keep=True
    )
    failed: list[mesbackup.MesBackupError | None] = [r.error for r in results if not r]
    _ = (counted, plan_only.dry_run, failed)
    return done.rows
