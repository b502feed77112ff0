"""progress=True: tqdm.auto bars (one per database of a system backup); the callback form stays."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
import tqdm.auto
import tqdm.std

import mesbackup

from conftest import Mock

FAST: dict[str, Any] = {"min_poll_delay": 0.01, "max_poll_delay": 0.1, "retry_delay": 0.01, "request_timeout": 10.0}


class Recorded(tqdm.std.tqdm):  # type: ignore[misc]
    """A real tqdm bar that remembers itself (and whether it was closed)."""

    made: ClassVar[list[Recorded]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.was_closed = False
        Recorded.made.append(self)

    def close(self) -> None:
        self.was_closed = True
        super().close()


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[Recorded]:
    Recorded.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", Recorded)
    return Recorded.made


def test_one_bar_for_a_backup(
    mock: Mock, tmp_path: Path, bars: list[Recorded], capfd: pytest.CaptureFixture[str]
) -> None:
    mock.load({"payload": {"size": 250_000, "seed": 1}})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    pkg = client.backup("MESCDM", tmp_path, progress=True)
    [bar] = bars
    assert (bar.n, bar.total, bar.was_closed) == (250_000, 250_000, True)
    assert "finished" in bar.postfix
    err = capfd.readouterr().err
    assert "download" in err and "244k" in err.lower() and pkg.size == 250_000


def test_one_bar_per_database_of_a_system(mock: Mock, tmp_path: Path, bars: list[Recorded]) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    packages = client.backup_system("MES", tmp_path, progress=True)
    assert sorted(b.desc for b in bars) == sorted(mesbackup.system_databases("MES"))
    sizes = {p.database: p.size for p in packages}
    for b in bars:
        assert b.n == b.total == sizes[b.desc] and b.was_closed, b


def test_async_bars(mock: Mock, tmp_path: Path, bars: list[Recorded]) -> None:
    mock.load({})
    client = mesbackup.AsyncClient(mock.base, token="admin-token", **FAST)

    async def main() -> list[Any]:
        one = await client.backup("MESCDM", tmp_path / "one", progress=True)
        return [one, *(await client.backup_system("MES", tmp_path / "all", progress=True))]

    packages = asyncio.run(main())
    assert [b.desc for b in bars[:1]] == ["download"] and bars[0].n == packages[0].size
    assert sorted(b.desc for b in bars[1:]) == sorted(mesbackup.system_databases("MES"))
    assert all(b.was_closed for b in bars)


def test_bars_close_when_the_job_fails(mock: Mock, tmp_path: Path, bars: list[Recorded]) -> None:
    mock.load({"faults": [{"method": "POST", "nth": "all", "status": 403}]})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    with pytest.raises(mesbackup.MesBackupError):
        client.backup("MESCDM", tmp_path, progress=True)
    assert bars and all(b.was_closed for b in bars)


def test_without_tqdm_progress_true_says_what_to_install(
    mock: Mock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mock.load({})
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # `from tqdm.auto import ...` raises ImportError
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    with pytest.raises(ImportError, match=r"pip install tqdm .*mesbackup\[progress\]"):
        client.backup("MESCDM", tmp_path / "out", progress=True)
    with pytest.raises(ImportError, match="needs tqdm"):
        asyncio.run(
            mesbackup.AsyncClient(mock.base, token="admin-token", **FAST).backup("MESCDM", tmp_path, progress=True)
        )
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_callbacks_and_false_still_work(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    seen: list[tuple[int, int | None, str]] = []
    client.backup("MESCDM", tmp_path, progress=lambda d, t, p: seen.append((d, t, p)))
    assert seen and seen[-1][2] == "finished" and seen[-1][0] == seen[-1][1]
    assert client.backup("MESODS", tmp_path, progress=False).size > 0
