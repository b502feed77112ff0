"""The Python surface: asyncio (gather, cancellation), errors and secrets, naming helpers."""

from __future__ import annotations

import asyncio
import datetime
import json
import pickle
import time
from pathlib import Path
from typing import Any

import pytest

import mesbackup
from mesbackup import _mesbackup

from conftest import Mock

FAST = {"min_poll_delay": 0.01, "max_poll_delay": 0.1, "retry_delay": 0.01, "request_timeout": 10.0}
SECRET_TOKEN = "s3cr3t-T0ken-only-in-tests"
SECRET_PAT = "pässwörd-✓-ü-secret-pat"


def listing(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


# ---- errors ------------------------------------------------------------------------------------


def test_exception_classes_match_core_error_kinds() -> None:
    assert list(mesbackup.ERROR_CLASSES) == list(_mesbackup.ERROR_KINDS)
    assert len(set(_mesbackup.ERROR_KINDS)) == 14
    for code, cls in mesbackup.ERROR_CLASSES.items():
        assert issubclass(cls, mesbackup.MesBackupError)
        assert cls.code == code
        e = cls("msg", kind=code, guid="g")
        assert (e.kind, e.guid, e.message, str(e)) == (code, "g", "msg", "msg")
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is cls and back.kind == code and back.guid == "g"
    assert issubclass(mesbackup.InvalidArgument, ValueError)
    assert issubclass(mesbackup.Timeout, TimeoutError)
    assert issubclass(mesbackup.NetworkError, ConnectionError)
    assert issubclass(mesbackup.IoError, OSError)


def test_errors_carry_kind_guid_and_message(mock: Mock, tmp_path: Path) -> None:
    mock.load({"pending_polls": 1000})
    client = mesbackup.Client(mock.base, token="admin-token", timeout=0.3, **FAST)
    with pytest.raises(mesbackup.Timeout) as info:
        client.backup("MESCDM", tmp_path)
    assert info.value.kind == "timeout"
    assert info.value.guid == "00000000-0000-4000-8000-000000000001"
    assert info.value.guid in info.value.message
    mock.load({})
    with pytest.raises(mesbackup.InvalidDatabase):
        client.backup("NOPE", tmp_path)
    with pytest.raises(mesbackup.InvalidArgument):
        client.backup("bad/name", tmp_path)
    with pytest.raises(mesbackup.BackupNotFound):
        client.download("00000000-0000-4000-8000-00000000abcd", tmp_path)
    with pytest.raises(mesbackup.Forbidden):
        mesbackup.Client(mock.base, token="viewer-token", **FAST).start("MES")
    assert listing(tmp_path) == []


def test_no_secret_in_messages_or_reprs(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    bearer = mesbackup.Client(mock.base, token=SECRET_TOKEN, **FAST)
    basic = mesbackup.Client(mock.base, user="admin", pat=SECRET_PAT, **FAST)
    texts: list[str] = [
        repr(bearer),
        repr(basic),
        str(bearer),
        repr(mesbackup.AsyncClient(mock.base, token=SECRET_TOKEN)),
    ]
    assert repr(bearer) == f"Client('{mock.base}', auth='bearer')"
    assert basic.auth_scheme == "basic"
    for client in (bearer, basic):
        with pytest.raises(mesbackup.Unauthorized) as info:
            client.backup("MES", tmp_path)
        texts += [str(info.value), repr(info.value), info.value.message]
    for bad in (
        lambda: mesbackup.Client(mock.base, token=SECRET_TOKEN + " x"),
        lambda: mesbackup.Client(mock.base, token=SECRET_TOKEN, pat=SECRET_PAT),
        lambda: mesbackup.Client(mock.base, user="a:b", pat=SECRET_PAT),
        lambda: mesbackup.Client(f"http://admin:{SECRET_PAT}@example.com", token=SECRET_TOKEN),
        lambda: mesbackup.Client("http://mes.example.com", token=SECRET_TOKEN),  # clear text refused
    ):
        with pytest.raises(mesbackup.InvalidArgument) as info:
            bad()
        texts += [str(info.value), repr(info.value)]
    for text in texts:
        assert SECRET_TOKEN not in text and SECRET_PAT not in text, text
        assert "s3cr3t" not in text and "pässwörd" not in text, text


def test_a_secret_echoed_across_the_quote_boundary_never_shows_in_part(mock: Mock, tmp_path: Path) -> None:
    # The 200-character quote of the server's answer ends inside the token: redacting only what is
    # printed would leave its first 8 characters. Faults answer before authentication.
    token = "Zq7kP9xW4mR2vT8nL5cJ"
    mock.load({"faults": [{"method": "POST", "nth": "all", "status": 500, "body": "x" * 192 + token + " here"}]})
    client = mesbackup.Client(mock.base, token=token, **FAST)
    with pytest.raises(mesbackup.ServerError) as info:
        client.backup("MESCDM", tmp_path)
    text = f"{info.value.message} {info.value!r} {info.value!s}"
    assert "xxxxxxxx<redacte" in text, text
    pieces = [token[i : i + 6] for i in range(len(token) - 5)]
    assert not [p for p in pieces if p in text], text


def test_download_limits_are_checked_and_applied(mock: Mock, tmp_path: Path) -> None:
    for bad in (
        {"speed_limit": -1},
        {"speed_limit": True},
        {"speed_limit": 1.5},
        {"max_size": 0},
        {"speed_time": 0},
        {"download_timeout": -3},
    ):
        with pytest.raises(mesbackup.InvalidArgument):
            mesbackup.Client(mock.base, token="admin-token", **bad)
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", max_size=1000, **FAST)
    with pytest.raises(mesbackup.DownloadLost) as info:
        client.backup("MESCDM", tmp_path)
    assert "max_size" in info.value.message and "before any byte" in info.value.message
    assert info.value.guid == "00000000-0000-4000-8000-000000000001"
    assert listing(tmp_path) == []
    # Disabled low-speed rule and a generous timeout: a normal backup is saved.
    client = mesbackup.Client(mock.base, token="admin-token", speed_limit=0, download_timeout=60, **FAST)
    assert client.backup("MESCDM", tmp_path).size == 65536


def test_environment_variables(mock: Mock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mock.load({})
    with pytest.raises(mesbackup.InvalidArgument, match="MES_URL"):
        mesbackup.Client()
    monkeypatch.setenv("MES_URL", mock.base)
    monkeypatch.setenv("MES_USER", "jörg")
    monkeypatch.setenv("MES_PAT", "pässwörd-✓-ü")
    client = mesbackup.Client(**FAST)
    assert client.env_url == mock.base and client.auth_scheme == "basic"
    assert client.start("MES").guid == "00000000-0000-4000-8000-000000000001"
    monkeypatch.setenv("MES_TOKEN", "admin-token")
    with pytest.raises(mesbackup.InvalidArgument):
        mesbackup.Client()  # token and user+pat at once: ambiguous
    assert mesbackup.Client(token="admin-token").auth_scheme == "bearer"  # arguments win over the environment


# ---- results -----------------------------------------------------------------------------------


def test_package_object_and_progress(mock: Mock, tmp_path: Path) -> None:
    mock.load(
        {
            "pending_polls": 2,
            "payload": {"size": 3_000_000, "seed": 3},
            "download": {"drip": {"chunk": 1_000_000, "interval_ms": 300}},
        }
    )
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    calls: list[tuple[int, int | None, str]] = []
    pkg = client.backup("MESODS", tmp_path, version="11.3.0", progress=lambda d, t, p: calls.append((d, t, p)))
    assert pkg.file_name == "MES.Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip"
    assert pkg.path == tmp_path / pkg.file_name and pkg.path.stat().st_size == pkg.size == 3_000_000
    assert pkg.sidecar == tmp_path / (pkg.file_name + mesbackup.SIDECAR_SUFFIX)
    sidecar = json.loads(pkg.sidecar.read_text())
    assert sidecar["sha256"] == pkg.sha256 and sidecar["guid"] == pkg.guid and sidecar["database"] == "MESODS"
    assert pkg.database == "MESODS" and pkg.notes == []
    assert pkg.started_at is not None and pkg.ready_at is not None
    assert pkg.started_at.tzinfo == datetime.timezone.utc
    assert pkg.started_at <= pkg.ready_at <= pkg.finished_at
    assert sidecar["started_at"].startswith(pkg.started_at.strftime("%Y-%m-%dT%H:%M:%S"))
    phases = [p for _, _, p in calls]
    assert phases[0] == "starting" and "waiting" in phases and "downloading" in phases and phases[-1] == "finished"
    assert calls[-1] == (3_000_000, 3_000_000, "finished")
    assert any(0 < d < 3_000_000 for d, _, _ in calls), calls
    assert "MESODS" in repr(pkg)


def test_missing_out_dir_is_created_and_stale_partials_are_reported(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    out = tmp_path / "new" / "nested"
    pkg = client.backup("MES", out)
    assert pkg.path.parent == out and pkg.path.is_file()
    # A temporary file left by a killed run: removed, and the lost download is a warning.
    stale = out / (".MESCDM.zip.1a2b3c4d" + mesbackup.PARTIAL_SUFFIX)
    stale.write_bytes(b"x" * 1000)
    with pytest.warns(RuntimeWarning, match="MESCDM.zip.*one-shot download was lost"):
        client.backup("MESODS", out)
    assert not stale.exists()
    # A file where the folder should be: a clear IoError, nothing started on the server.
    blocker = tmp_path / "file"
    blocker.write_text("")
    posts = len(mock.log())
    with pytest.raises(mesbackup.IoError, match="cannot create the output folder"):
        client.backup("MES", blocker / "sub")
    assert len(mock.log()) == posts


def test_start_then_download_if_ready(mock: Mock, tmp_path: Path) -> None:
    mock.load({"pending_polls": 1})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    job = client.start("MESDWH")
    assert isinstance(job, mesbackup.Job) and str(job) == job.guid
    assert client.download_if_ready(job, tmp_path) is None
    pkg = client.download_if_ready(job.guid, tmp_path)
    assert pkg is not None and pkg.file_name == "MESDWH.zip" and pkg.database is None
    counts = [(r["method"], r["status"]) for r in mock.log()]
    assert counts == [("POST", 202), ("GET", 202), ("GET", 200)]


def test_a_download_by_guid_records_the_database_and_sql_backup_time(mock: Mock, tmp_path: Path) -> None:
    # A scheduler's download task knows only the GUID: the database it names (or the Job's) goes
    # into the sidecar, so retention and backup_window group the package by database.
    mock.load({"download": {"reset_at": 3000}})
    # Even a client allowed to restart lost backups: a download is never the one to POST.
    client = mesbackup.Client(mock.base, token="admin-token", restart_budget=1, **FAST)
    sql = datetime.datetime(2026, 11, 25, 3, 0, tzinfo=datetime.timezone.utc)
    first = client.start("MESCDM")
    # The first GET is cut: the download is lost, and giving a database must not make it POST again.
    with pytest.raises(mesbackup.DownloadLost):
        client.download(first.guid, tmp_path / "lost", database="MESCDM")
    assert [r["method"] for r in mock.log()].count("POST") == 1, "a download with a database POSTed"
    pkg = client.download(client.start("MESCDM").guid, tmp_path, database="MESCDM", sql_backup_finished=sql)
    sidecar = json.loads(pkg.sidecar.read_text())
    assert sidecar["database"] == "MESCDM" and pkg.database == "MESCDM", sidecar
    assert sidecar["sql_backup_finished_at"].startswith("2026-11-25T03:00:00"), sidecar
    pkg = client.download(client.start("MESODS"), tmp_path / "job")
    assert json.loads(pkg.sidecar.read_text())["database"] == "MESODS", "a Job's database is recorded"
    sent = len(mock.log())
    with pytest.raises(mesbackup.InvalidArgument, match="SQL Server backup completion time"):
        client.download("00000000-0000-4000-8000-000000000009", tmp_path, sql_backup_finished="yesterday")
    assert len(mock.log()) == sent, "a refused download sent something"


def test_backup_system_raises_first_failure_with_results(mock: Mock, tmp_path: Path) -> None:
    mock.load({"faults": [{"method": "POST", "nth": 2, "status": 500}]})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    with pytest.raises(mesbackup.ServerError) as info:
        client.backup_system("MES", tmp_path)
    results = info.value.results
    assert results is not None and len(results) == 4
    assert sum(isinstance(r, mesbackup.Package) for r in results) == 3


def test_backup_system_with_sql_backup_time_and_overwrite(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    sql = datetime.datetime(2026, 11, 25, 3, 0, tzinfo=datetime.timezone.utc)
    first = client.backup_system("MES", tmp_path, version="11.3.0", sql_backup_finished=sql)
    for pkg in first:
        assert json.loads(pkg.sidecar.read_text())["sql_backup_finished_at"].startswith("2026-11-25T03:00:00")
    # The same installer names again: replaced with overwrite=True, not saved under other names.
    again = client.backup_system("MES", tmp_path, version="11.3.0", overwrite=True)
    assert [p.file_name for p in again] == [p.file_name for p in first]
    assert len(listing(tmp_path)) == 8
    window = mesbackup.backup_window(tmp_path)
    assert window is not None and window.sql_backup_finished_at is None


# ---- asyncio -----------------------------------------------------------------------------------


def test_async_gather_of_four_databases(mock: Mock, tmp_path: Path) -> None:
    mock.load({"pending_polls": 2, "payload": {"size": 262144, "seed": 1}})

    async def main() -> list[mesbackup.Package]:
        client = mesbackup.AsyncClient(mock.base, token="admin-token", **FAST)
        return await asyncio.gather(*(client.backup(db, tmp_path) for db in mesbackup.system_databases("MES")))

    packages = asyncio.run(main())
    assert [p.file_name for p in packages] == ["MES.zip", "MESCDM.zip", "MESODS.zip", "MESDWH.zip"]
    assert len(listing(tmp_path)) == 8
    log = mock.log()
    assert sum(r["method"] == "POST" for r in log) == 4
    assert sum(r["status"] == 200 for r in log) == 4
    # Concurrent: all four POSTs arrive before any package is downloaded.
    first_200 = min(i for i, r in enumerate(log) if r["status"] == 200)
    assert sum(r["method"] == "POST" for r in log[:first_200]) == 4


def test_async_backup_system_start_and_errors(mock: Mock, tmp_path: Path) -> None:
    mock.load({})

    async def main() -> tuple[list[Any], mesbackup.Job, mesbackup.Package | None]:
        client = mesbackup.AsyncClient(mock.base, token="admin-token", **FAST)
        pkgs = await client.backup_system("MES", tmp_path, version="11.3.0")
        job = await client.start("MESCDM")
        maybe = await client.download_if_ready(job, tmp_path)
        with pytest.raises(mesbackup.BackupNotFound):
            await client.download(job, tmp_path)
        return pkgs, job, maybe

    pkgs, job, maybe = asyncio.run(main())
    assert len(pkgs) == 4 and maybe is not None and maybe.guid == job.guid
    assert mesbackup.check_folder(tmp_path, "MES", "11.3.0").complete


def test_async_cancel_mid_download_leaves_no_file(mock: Mock, tmp_path: Path) -> None:
    mock.load({"payload": {"size": 4_000_000, "seed": 2}, "download": {"drip": {"chunk": 65536, "interval_ms": 50}}})

    async def main() -> float:
        client = mesbackup.AsyncClient(mock.base, token="admin-token", **FAST)
        downloading = asyncio.Event()

        def progress(done: int, total: int | None, phase: str) -> None:
            if done > 0:
                downloading.set()

        task = asyncio.ensure_future(client.backup("MES", tmp_path, progress=progress))
        await asyncio.wait_for(downloading.wait(), 10)
        assert any(p.name.endswith(mesbackup.PARTIAL_SUFFIX) for p in tmp_path.iterdir())
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - t0

    elapsed = asyncio.run(main())
    assert elapsed < 1.0
    assert listing(tmp_path) == []  # the temporary file is gone by the time the task ends
    get = [r for r in mock.log() if r["method"] == "GET"][-1]
    assert get["status"] == 200 and get["body_complete"] is False


def test_async_cancel_while_waiting(mock: Mock, tmp_path: Path) -> None:
    mock.load({"pending_polls": 10_000})

    async def main() -> None:
        client = mesbackup.AsyncClient(mock.base, token="admin-token", **FAST)
        task = asyncio.ensure_future(client.backup("MES", tmp_path))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert listing(tmp_path) == []


# ---- naming ------------------------------------------------------------------------------------


def test_naming_helpers(tmp_path: Path) -> None:
    assert mesbackup.installer_package_name("CDM", "11.3.0") == "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    assert (
        mesbackup.installer_package_name("Online", "11.3.0", "MES") == "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"
    )
    assert mesbackup.installer_name_for_database("MESDWH", "11.3") == "MES.Cmf.ClickHouse.FullBackup.DWH.11.3.zip"
    assert (
        mesbackup.installer_name_for_database("MESDWH", "11.3", generic_names=True)
        == "Cmf.ClickHouse.FullBackup.DWH.11.3.zip"
    )
    with pytest.raises(mesbackup.InvalidArgument):
        mesbackup.installer_package_name("cdm", "11.3.0")
    with pytest.raises(mesbackup.InvalidArgument, match="11.3.0"):
        mesbackup.installer_package_name("CDM", "v11.3.0")
    p = mesbackup.parse_package_name("MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip")
    assert (p.system, p.kind, p.version) == ("MES", "CDM", "11.3.0")
    check = mesbackup.explain_package_name("Cmf.ClickHouse.FullBackup.CDM.11.3.0 (1).zip")
    assert not check and check.reason == "extra_suffix" and check.expected == "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    with pytest.raises(mesbackup.InvalidArgument):
        mesbackup.parse_package_name("backup.zip")
    assert mesbackup.explain_package_name("Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip").valid
    for name in (
        "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.ods.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.DWH.11.2.0.zip",
    ):
        (tmp_path / name).write_bytes(b"")
    report = mesbackup.check_folder(tmp_path, "MES", "11.3.0")
    assert not report.complete and report.missing == ["ODS", "DWH"]
    assert [n["reason"] for n in report.near_misses] == ["wrong_case"]
    assert [i["reason"] for i in report.ignored] == ["other_version"]
    assert report.kinds[0]["chosen"] == "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"
    assert report.to_dict()["complete"] is False
    with pytest.raises(mesbackup.IoError):
        mesbackup.check_folder(tmp_path / "missing", "MES", "11.3.0")
