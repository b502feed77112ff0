"""Not a test module: type-checked with `mypy --strict` by test_typing.py to prove the stubs are
precise enough for real code (sync, asyncio, errors, naming). Never executed."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from typing import List, Optional

import mesbackup


def sync_usage(out: Path) -> List[str]:
    client = mesbackup.Client("https://mes.example.com", token="t", timeout=datetime.timedelta(hours=4), restart_budget=1)
    pkg: mesbackup.Package = client.backup("MESCDM", out, installer_name="11.3.0", progress=lambda d, t, p: None)
    size: int = pkg.size
    path: Path = pkg.path
    started: Optional[datetime.datetime] = pkg.started_at
    finished: datetime.datetime = pkg.finished_at
    job: mesbackup.Job = client.start("MES")
    maybe: Optional[mesbackup.Package] = client.download_if_ready(job, out)
    again: mesbackup.Package = client.download(job.guid, out, file_name="x.zip", overwrite=True)
    _ = (size, path, started, finished, maybe, again, pkg.sidecar, pkg.notes)
    try:
        client.backup_system("MES", out)
    except mesbackup.Timeout as e:
        resume: Optional[str] = e.guid
        kind: str = e.kind
        _ = (resume, kind)
    except mesbackup.MesBackupError as e:
        print(e.message)
    report: mesbackup.FolderReport = mesbackup.check_folder(out, "MES", "11.3.0")
    chosen: Optional[str] = report.kinds[0]["chosen"]
    check: mesbackup.NameCheck = mesbackup.explain_package_name("x.zip")
    expected: Optional[str] = check.expected
    name: str = mesbackup.installer_package_name("CDM", "11.3.0", "MES")
    _ = (chosen, expected)
    return [name, *mesbackup.system_databases("MES"), *report.missing]


async def async_usage(out: Path) -> List[mesbackup.Package]:
    client = mesbackup.AsyncClient(token="t", max_poll_delay=60)
    first: mesbackup.Package = await client.backup("MES", out)
    job: mesbackup.Job = await client.start("MESCDM")
    maybe: Optional[mesbackup.Package] = await client.download_if_ready(job, out)
    _ = maybe
    rest = await asyncio.gather(client.backup("MESODS", out), client.download(job, out))
    return [first, *rest]
