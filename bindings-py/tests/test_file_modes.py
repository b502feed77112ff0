"""Everything the library writes is private by default and set exactly (not through the umask):
files 0600, folders it creates 0700; ``file_mode`` / ``dir_mode`` give exactly the modes asked for.
Run under umask 022, the usual one, which would otherwise leave 0644 / 0755."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import mesbackup

from conftest import Mock


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def modes_under(root: Path) -> list[tuple[str, int, bool]]:
    return sorted((str(p.relative_to(root)), stat.S_IMODE(p.lstat().st_mode), p.is_dir()) for p in root.rglob("*"))


def assert_modes(root: Path, file_mode: int, dir_mode: int) -> None:
    found = modes_under(root)
    assert found
    for name, mode, is_dir in found:
        want = dir_mode if is_dir else file_mode
        assert mode == want, f"{name}: {mode:o}, expected {want:o}; all: {found}"


def client(mock: Mock, **kw: str) -> mesbackup.Client:
    return mesbackup.Client(mock.base, token="admin-token", min_poll_delay=0.01, max_poll_delay=0.1, **kw)


def test_backup_download_stage_and_kept_files_are_private_by_default(
    mock: Mock, tmp_path: Path, umask_022: None
) -> None:
    mock.load({"payload": {"size": 30_000, "seed": 1}})
    c = client(mock)
    assert (c.file_mode, c.dir_mode) == ("0600", "0700")
    out = tmp_path / "new" / "backups"
    c.backup("MESCDM", out)
    c.download(c.start("MESODS"), out)
    mock.load({"ready_body": {"content_type": "text/html", "body": "<html>502</html>"}})
    with pytest.raises(mesbackup.UnexpectedResponse):
        c.backup("MESDWH", out)
    assert len(list(out.iterdir())) == 5
    assert any(p.name.endswith(".not-a-package.html") for p in out.iterdir())
    assert_modes(tmp_path, 0o600, 0o700)

    into = tmp_path / "installer"
    into.mkdir(mode=0o755)
    os.chmod(into, 0o755)
    mesbackup.stage(out / "MESCDM.zip", into, "MES", "11.3.0")
    assert stat.S_IMODE(into.stat().st_mode) == 0o755, "an existing folder keeps its mode"
    assert_modes(into, 0o600, 0o700)


def test_file_mode_and_dir_mode_are_applied_exactly(mock: Mock, tmp_path: Path, umask_022: None) -> None:
    mock.load({"payload": {"size": 30_000, "seed": 1}})
    os.umask(0o077)  # the modes asked for are set, not filtered by the umask
    out = tmp_path / "group" / "backups"
    pkgs = client(mock, file_mode="0640", dir_mode="0750").backup_system("MES", out)
    assert len(pkgs) == 4
    aclient = mesbackup.AsyncClient(
        mock.base, token="admin-token", min_poll_delay=0.01, file_mode="0640", dir_mode="0750"
    )
    assert (aclient.file_mode, aclient.dir_mode) == ("0640", "0750")
    asyncio.run(aclient.backup("MESCDM", tmp_path / "async", file_name="again.zip"))
    assert_modes(tmp_path, 0o640, 0o750)

    into = tmp_path / "installer"
    into.mkdir()
    mesbackup.stage(out / "MESODS.zip", into, "MES", "11.3.0", move=True, file_mode="0644")
    assert_modes(into, 0o644, 0o700)


@pytest.mark.parametrize("kw", [{"file_mode": "0666"}, {"file_mode": "rw-r-----"}, {"dir_mode": "0777"}])
def test_a_mode_that_would_expose_or_lose_data_is_refused(mock: Mock, kw: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(mesbackup.InvalidArgument, match="^(file|dir)_mode "):
        client(mock, **kw)
