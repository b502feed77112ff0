"""One vocabulary: the names Python shares with the CLI, JavaScript and PowerShell, core's one rule
for credentials, and the old keywords kept one release (each still works and warns)."""

from __future__ import annotations

import asyncio
import datetime
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import mesbackup

from conftest import Mock

FAST = {"min_poll_delay": 0.01, "max_poll_delay": 0.1, "retry_delay": 0.01, "request_timeout": 10.0}
PACKAGE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "clickhouse" / "mesfix_stored.zip"

# core's mes::NO_CREDENTIALS, which every front end shows word for word (the CLI's and Node's tests
# compare with the same sentence).
NO_CREDENTIALS = (
    "no MES credentials: give a bearer token, or a user name and its personal access token (PAT). "
    "Looked for, in this order: a token given explicitly (CLI --token-file FILE, Python token=, JavaScript "
    "token, PowerShell -Token), a user and PAT given explicitly (Python user= and pat=, JavaScript user and "
    "pat, PowerShell -Credential), the environment variable MES_TOKEN, the environment variables MES_USER "
    "and MES_PAT. The CLI also asks on a terminal. For a test server without authentication, say so "
    "explicitly (CLI --no-auth, Python no_auth=True, JavaScript noAuth: true)."
)


def zips(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".zip"))


# ---- credentials: core's one rule --------------------------------------------------------------


def test_no_credentials_is_one_invalid_argument_naming_every_way(mock: Mock) -> None:
    with pytest.raises(mesbackup.InvalidArgument) as e:
        mesbackup.Client(mock.base)
    assert e.value.message == NO_CREDENTIALS
    assert e.value.kind == "invalid_argument"


def test_no_auth_must_be_said(mock: Mock) -> None:
    assert mesbackup.Client(mock.base, no_auth=True).auth_scheme == "none"
    with pytest.raises(mesbackup.InvalidArgument, match="no authentication"):
        mesbackup.Client(mock.base, token="t", no_auth=True)


def test_precedence_and_conflicts(mock: Mock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MES_TOKEN", "env-token")
    assert mesbackup.Client(mock.base).auth_scheme == "bearer"
    # An explicit user and PAT win over MES_TOKEN.
    assert mesbackup.Client(mock.base, user="u", pat="p").auth_scheme == "basic"
    monkeypatch.setenv("MES_PAT", "env-pat")
    with pytest.raises(mesbackup.InvalidArgument, match="MES_TOKEN and MES_PAT"):
        mesbackup.Client(mock.base)
    with pytest.raises(mesbackup.InvalidArgument, match="both a bearer token and a user"):
        mesbackup.Client(mock.base, token="t", pat="p")
    monkeypatch.delenv("MES_TOKEN")
    with pytest.raises(mesbackup.InvalidArgument, match="MES_USER"):
        mesbackup.Client(mock.base)
    with pytest.raises(mesbackup.InvalidArgument, match="without its personal access token"):
        mesbackup.Client(mock.base, user="u")


# ---- installer names: version=, generic_names= -------------------------------------------------


def test_version_saves_under_the_system_specific_name_unless_generic_names(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        specific = client.backup("MESCDM", tmp_path / "a", version="11.3.0")
        generic = client.backup("MESCDM", tmp_path / "b", version="11.3.0", generic_names=True)
    assert specific.file_name == "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    assert generic.file_name == "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    with pytest.raises(mesbackup.InvalidArgument, match="give version too"):
        client.backup("MESCDM", tmp_path / "c", generic_names=True)


def test_installer_name_still_works_and_warns(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    with pytest.warns(DeprecationWarning, match="installer_name= is deprecated.*version=") as caught:
        pkg = client.backup("MESCDM", tmp_path / "a", installer_name="11.3.0")
    assert pkg.file_name == "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    assert caught[0].filename == __file__, "the warning points at the caller's line"
    with pytest.warns(DeprecationWarning, match="installer_name="):
        pkgs = client.backup_system("MES", tmp_path / "b", installer_name="11.3.0")
    assert zips(tmp_path / "b") == sorted(p.file_name for p in pkgs)
    assert all(p.file_name.startswith("MES.Cmf.") for p in pkgs)
    with pytest.raises(mesbackup.InvalidArgument, match="give version only"):
        client.backup("MESCDM", tmp_path / "c", version="11.3.0", installer_name="11.3.0")


def test_async_installer_name_still_works_and_warns(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.AsyncClient(mock.base, token="admin-token", **FAST)

    async def main() -> mesbackup.Package:
        return await client.backup("MESCDM", tmp_path, installer_name="11.3.0")

    with pytest.warns(DeprecationWarning, match="installer_name=") as caught:
        pkg = asyncio.run(main())
    assert pkg.file_name == "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    assert caught[0].filename == __file__


def test_installer_name_for_database_generic_still_works_and_warns() -> None:
    generic = "Cmf.ClickHouse.FullBackup.DWH.11.3.zip"
    assert mesbackup.installer_name_for_database("MESDWH", "11.3", generic_names=True) == generic
    with pytest.warns(DeprecationWarning, match="generic= is deprecated.*generic_names="):
        assert mesbackup.installer_name_for_database("MESDWH", "11.3", generic=True) == generic


# ---- stage: overwrite=, generic_names= -----------------------------------------------------------


def test_stage_old_keywords_still_work_and_warn(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    pkg = client.backup("MESCDM", tmp_path / "out")
    installer = tmp_path / "installer"
    installer.mkdir()
    with pytest.warns(DeprecationWarning, match="system_specific= is deprecated") as caught:
        generic = mesbackup.stage(pkg.path, installer, "MES", "11.3.0", system_specific=False)
    assert generic.file_name == "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    assert caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="force= is deprecated.*overwrite="):
        again = mesbackup.stage(pkg.path, installer, "MES", "11.3.0", generic_names=True, force=True)
    assert again.replaced
    with pytest.warns(DeprecationWarning, match="system_specific="):
        specific = mesbackup.stage(pkg.path, installer, "MES", "11.3.0", system_specific=True)
    assert specific.file_name == "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    with pytest.warns(DeprecationWarning), pytest.raises(mesbackup.InvalidArgument):
        mesbackup.stage(pkg.path, installer, "MES", "11.3.0", system_specific=True, generic_names=True)


# ---- durations: seconds or timedelta, to the millisecond ---------------------------------------


@pytest.fixture
def silent_clickhouse() -> Iterator[str]:
    """Accepts connections and never answers: only the restore's timeout ends a restore against it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()
        server.close()


@pytest.mark.parametrize("timeout", [0.75, datetime.timedelta(milliseconds=750)])
def test_restore_timeout_is_seconds_or_timedelta_to_the_millisecond(
    silent_clickhouse: str, timeout: float | datetime.timedelta
) -> None:
    started = time.monotonic()
    with pytest.raises(mesbackup.Timeout, match=r"timeout \(750 ms\)"):
        mesbackup.restore(PACKAGE, clickhouse=silent_clickhouse, dry_run=True, timeout=timeout)
    assert time.monotonic() - started < 8
    with pytest.raises(mesbackup.InvalidArgument, match="positive"):
        mesbackup.restore(PACKAGE, clickhouse=silent_clickhouse, dry_run=True, timeout=0)
