"""The namespace, and how every result type shows itself: short repr, to_dict, _repr_html_, to_records."""

from __future__ import annotations

import datetime
import html
import importlib.util
import json
import pathlib
import re
import types
from pathlib import Path
from typing import Any

import pytest

import mesbackup
from mesbackup._display import human_size

from conftest import Mock

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "clickhouse"
PACKAGE = FIXTURES / "mesfix_stored.zip"
FAST: dict[str, Any] = {"min_poll_delay": 0.01, "max_poll_delay": 0.1, "retry_delay": 0.01, "request_timeout": 10.0}
HOSTILE = "<script>alert('x')</script>&<b>"
UTC = datetime.timezone.utc


def test_namespace_holds_only_mesbackup_names() -> None:
    def dunder(n: str) -> bool:
        return n.startswith("__") and n.endswith("__")

    # The package's own private modules (mesbackup._mesbackup, ...) are attributes once imported;
    # anything else (typing names, os, asyncio, `annotations`) must not be.
    private_modules = {
        n for n in dir(mesbackup) if n.startswith("_") and isinstance(getattr(mesbackup, n), types.ModuleType)
    }
    assert all(getattr(mesbackup, n).__name__ == f"mesbackup.{n}" for n in private_modules)
    names = {n for n in dir(mesbackup) if not dunder(n)} - private_modules
    assert names == {n for n in mesbackup.__all__ if not dunder(n)}
    assert len(mesbackup.__all__) == len(set(mesbackup.__all__))
    assert all(hasattr(mesbackup, n) for n in mesbackup.__all__)
    for stray in ("Any", "os", "asyncio", "datetime", "warnings", "annotations", "Callable", "Optional", "Union"):
        assert stray not in dir(mesbackup), stray


def test_client_is_python_over_a_private_native_core() -> None:
    from mesbackup import _mesbackup

    for cls in (mesbackup.Client, mesbackup.AsyncClient):
        assert cls.__module__ == "mesbackup._client", cls
        assert not [n for n in dir(cls) if n.endswith("_op")], cls
        assert not issubclass(cls, _mesbackup._ClientCore)
    # Siblings: neither is the other's subclass, both hold the same kind of core.
    assert not issubclass(mesbackup.AsyncClient, mesbackup.Client)
    assert not issubclass(mesbackup.Client, mesbackup.AsyncClient)
    sync = mesbackup.Client("https://mes.example.com", token="t")
    assert repr(sync) == "Client('https://mes.example.com', auth='bearer')"
    assert repr(mesbackup.AsyncClient("https://mes.example.com", no_auth=True)).startswith("AsyncClient(")
    assert not hasattr(_mesbackup, "Client")


def assert_self_contained(text: str) -> None:
    lowered = text.lower()
    for banned in ("<script", "<link", "<style", "<iframe", "javascript:", "http://", "https://", "@import"):
        assert banned not in lowered, (banned, text)


def check_result(obj: Any, type_name: str, must_show: list[str]) -> str:
    r = repr(obj)
    assert r.startswith(type_name + "(") and len(r) < 240 and "\n" not in r, r
    json.dumps(obj.to_dict())
    page = obj._repr_html_()
    assert page.startswith("<div") and "<table" in page
    assert_self_contained(page)
    for text in must_show:
        assert html.escape(text) in page, (text, page)
    return str(page)


def test_human_size() -> None:
    assert [human_size(n) for n in (0, 1023, 1536, 5 * 1024**2, 3 * 1024**4, 5000 * 1024**4)] == [
        "0 B",
        "1023 B",
        "1.5 KiB",
        "5.0 MiB",
        "3.0 TiB",
        "5000.0 TiB",
    ]


def test_package_and_backup_window_show_themselves(mock: Mock, tmp_path: Path) -> None:
    mock.load({"payload": {"size": 300_000, "seed": 3}})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    pkg = client.backup("MESCDM", tmp_path, version="11.3.0", sql_backup_finished="2020-01-01T09:40:00Z")
    page = check_result(pkg, "Package", [pkg.file_name, "MESCDM", "293.0 KiB", pkg.guid])
    assert "OK" in page
    d = pkg.to_dict()
    assert d["size"] == 300_000 and d["path"] == str(pkg.path) and d["sha256"] == pkg.sha256
    assert d["finished_at"] == pkg.finished_at.isoformat()

    window = mesbackup.backup_window(tmp_path)
    assert window is not None
    page = check_result(window, "BackupWindow", [pkg.file_name, "2020-01-01 09:40:00 UTC"])
    assert "re-run data processing from" in page
    assert "packages=1" in repr(window)

    [record] = mesbackup.to_records([pkg])
    assert isinstance(record["finished_at"], datetime.datetime) and record["database"] == "MESCDM"


def test_backup_window_plot(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    client.backup("MESCDM", tmp_path)
    client.backup("MESODS", tmp_path)
    window = mesbackup.backup_window(tmp_path)
    assert window is not None
    if importlib.util.find_spec("matplotlib") is None:
        # This venv has no matplotlib (the notebook suite draws the plot): the error names the extra.
        with pytest.raises(ImportError, match=r"mesbackup\[plot\]"):
            window.plot()
        return
    import matplotlib

    matplotlib.use("Agg")
    ax = window.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == [p.database for p in window.packages]
    assert len(ax.collections) == 2  # one bar per package


def test_verify_and_inspect_show_themselves() -> None:
    v = mesbackup.verify(PACKAGE)
    check_result(v, "VerifyResult", ["mesfix_stored.zip", "OK"])
    info = mesbackup.inspect(PACKAGE)
    page = check_result(info, "PackageInfo", ["MESFIX", "MaterialHistory"])
    assert "verified=True" in repr(info)
    assert page.count("<tr") >= len(info.tables)
    records = mesbackup.to_records(info.tables)
    assert {r["name"] for r in records} == {t.name for t in info.tables}


def test_a_damaged_package_is_highlighted(tmp_path: Path) -> None:
    cut = tmp_path / "cut.zip"
    data = PACKAGE.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    v = mesbackup.verify(cut)
    page = check_result(v, "VerifyResult", ["cut.zip", "problem"])
    assert "#ffebe9" in page  # problem rows tinted
    assert "ok=False" in repr(v)


def test_folder_report_and_prune_plan(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    client.backup("MESCDM", tmp_path, version="11.3.0")
    (tmp_path / "Cmf.Custom.CDM.11.3.0.zip").write_bytes(b"x")  # misnamed for a system-specific folder?
    report = mesbackup.check_folder(tmp_path, "MES", "11.3.0")
    page = check_result(report, "FolderReport", ["MES", "11.3.0", "problem"])
    assert not report and "(created empty)" in page
    for k in report.kinds:
        if k["chosen"]:
            assert html.escape(k["chosen"]) in page

    for i in range(2):
        client.backup("MESODS", tmp_path, file_name=f"ods{i}.zip")
    plan = mesbackup.plan_prune(tmp_path, 1)
    page = check_result(plan, "PrunePlan", ["ods0.zip", "ods1.zip", "delete", "keep"])
    assert "to_delete=1" in repr(plan)


def test_restore_results_show_themselves(tmp_path: Path) -> None:
    from test_restore import FakeClickHouse

    r = mesbackup.restore(PACKAGE, executor=FakeClickHouse(), target="MESFIX_check", server_backup_path=tmp_path)
    check_result(r, "RestoreResult", ["MESFIX", "MESFIX_check", "MaterialHistory"])
    backups = tmp_path / "b"
    backups.mkdir()
    [ok] = mesbackup.test_restore(PACKAGE, executor=FakeClickHouse(), server_backup_path=backups)
    check_result(ok, "TestRestoreResult", ["mesfix_stored.zip", "OK"])
    [bad] = mesbackup.test_restore(PACKAGE, executor=FakeClickHouse(policies=["tiered"]), server_backup_path=backups)
    page = check_result(bad, "TestRestoreResult", ["problem", "invalid_argument"])
    assert "error='invalid_argument'" in repr(bad)
    [rec_ok, rec_bad] = mesbackup.to_records([ok, bad])
    assert rec_ok["ok"] is True and rec_bad["error"]["kind"] == "invalid_argument"
    assert "invalid_argument" in page


def test_hostile_names_are_escaped() -> None:
    when = datetime.datetime(2020, 1, 1, tzinfo=UTC)
    problem = mesbackup.Problem(HOSTILE, HOSTILE, HOSTILE, {})
    v = mesbackup.VerifyResult(
        path=pathlib.Path(f"/x/{HOSTILE}.zip"),
        ok=False,
        problems=[problem],
        sha256=None,
        sidecar_matched=False,
        has_sidecar=False,
        size=1,
        files_checked=0,
        part_files_checked=0,
        parts_checked=0,
        notes=[HOSTILE],
        error=HOSTILE,
    )
    window = mesbackup.BackupWindow(
        when, when, None, when, [mesbackup.WindowPackage(HOSTILE + ".zip", HOSTILE, when, when)]
    )
    table = mesbackup.TableCheck(HOSTILE, 1, 2, False)
    restored = mesbackup.RestoreResult(HOSTILE, HOSTILE, False, None, [table], 2, 5, False)
    entry = mesbackup.PruneEntry(pathlib.Path(HOSTILE), pathlib.Path(HOSTILE + ".json"), HOSTILE, when, 1, False)
    plan = mesbackup.PrunePlan(1, [entry], [])
    for obj in (v, window, restored, plan):
        page = obj._repr_html_()
        assert "<script>" not in page and "<b>" not in page, page
        assert html.escape(HOSTILE) in page
        assert_self_contained(page)
        assert HOSTILE not in re.sub(r"<[a-z/][^>]*>", "", page)  # only escaped text between tags
    assert repr(HOSTILE) in repr(restored)


def test_to_records_rows() -> None:
    err = mesbackup.Timeout("too slow", kind="timeout")
    when = datetime.datetime(2020, 1, 1, tzinfo=UTC)
    entry = mesbackup.PruneEntry(pathlib.Path("/a.zip"), pathlib.Path("/a.zip.json"), "MES", when, 10, True)
    rows = mesbackup.to_records([entry, err, {"x": 1}])
    assert rows[0] == {
        "package": "/a.zip",
        "sidecar": "/a.zip.json",
        "database": "MES",
        "finished_at": when,
        "size": 10,
        "keep": True,
    }
    assert rows[1] == {"error": "timeout", "message": str(err)}
    assert rows[2] == {"x": 1}
    with pytest.raises(TypeError, match="not a mesbackup result"):
        mesbackup.to_records([object()])
