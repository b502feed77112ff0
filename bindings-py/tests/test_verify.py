"""verify / inspect / backup_window / stage / prune on real ClickHouse backups (committed fixtures)
and on packages downloaded from the mock."""

from __future__ import annotations

import datetime
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

import mesbackup

from conftest import Mock

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "clickhouse"
PACKAGES = ["mesfix_stored.zip", "mesfix_deflated.zip"]
FAST: dict[str, Any] = {"min_poll_delay": 0.01, "max_poll_delay": 0.1, "retry_delay": 0.01, "request_timeout": 10.0}


def expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text())
    return data


@pytest.mark.parametrize("name", PACKAGES)
def test_real_engine_fixtures_verify(name: str) -> None:
    r = mesbackup.verify(FIXTURES / name)
    assert r.ok and bool(r) and r.problems == [] and r.error is None
    assert r.files_checked > 0 and r.parts_checked > 0
    assert r.sha256 is not None and len(r.sha256) == 64
    assert not r.sidecar_matched and not r.has_sidecar
    d = r.to_dict()
    assert d["ok"] is True and d["sha256"] == r.sha256 and isinstance(d["path"], str)
    json.dumps(d)
    assert mesbackup.verify(str(FIXTURES / name), raise_on_error=True).ok


@pytest.mark.parametrize("name", PACKAGES)
def test_real_engine_fixtures_inspect(name: str) -> None:
    exp = expected()
    info = mesbackup.inspect(FIXTURES / name)
    assert info.verified
    assert [d.name for d in info.databases] == [exp["database"]]
    assert info.databases[0].engine == exp["engine"]
    assert info.backup_root == exp["packages"][name]["backup_root"]
    tables = {t.name: t for t in info.tables}
    assert set(tables) == set(exp["tables"])
    for tname, t in exp["tables"].items():
        got = tables[tname]
        assert (got.engine, got.parts, got.rows) == (t["engine"], t.get("parts", 0), t.get("rows", 0)), tname
        assert got.database == exp["database"]
        if got.parts:
            assert got.bytes > 0
    assert info.rows == sum(t.get("rows", 0) for t in exp["tables"].values())
    assert info.table("MaterialHistory") is tables["MaterialHistory"]
    assert set(exp["explicit_storage_policies"]) <= set(info.storage_policies)
    assert info.disks == []
    json.dumps(info.to_dict())


def flip_byte_in_data_file(src: Path, dst: Path) -> str:
    """Copies a stored (uncompressed) package with one byte flipped inside a part's data file."""
    with zipfile.ZipFile(src) as z:
        info = next(i for i in z.infolist() if i.filename.endswith(".bin") and i.file_size > 16)
        offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(src.read_bytes())
    data[offset + info.file_size // 2] ^= 0xFF
    dst.write_bytes(bytes(data))
    return info.filename


def test_flipped_byte_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    damaged = flip_byte_in_data_file(FIXTURES / "mesfix_stored.zip", bad)
    r = mesbackup.verify(bad)
    assert not r.ok and not r
    assert any(p.file is not None and damaged.endswith(p.file) for p in r.problems), r.problems
    assert any(damaged.split("/")[-1] in p.message for p in r.problems)
    assert r.error is not None and str(bad) in r.error
    with pytest.raises(mesbackup.Integrity) as e:
        mesbackup.verify(bad, raise_on_error=True)
    assert e.value.path == bad and str(bad) in str(e.value)
    assert e.value.result is not None and e.value.kind == "integrity"
    assert not mesbackup.inspect(bad).verified


def test_truncated_fails(tmp_path: Path) -> None:
    data = (FIXTURES / "mesfix_deflated.zip").read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) * 2 // 3])
    r = mesbackup.verify(cut)
    assert not r.ok and r.problems
    assert any(p.kind in ("truncated", "corrupt", "missing") for p in r.problems), r.problems
    with pytest.raises(mesbackup.Integrity):
        mesbackup.verify(cut, raise_on_error=True)


def test_missing_file_raises_io_error(tmp_path: Path) -> None:
    with pytest.raises(mesbackup.IoError):
        mesbackup.verify(tmp_path / "nope.zip")


def test_downloaded_package_matches_its_sidecar(mock: Mock, tmp_path: Path) -> None:
    mock.load({"payload": {"size": 200_000, "seed": 5}})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    sql = datetime.datetime(2020, 1, 1, 9, 40, tzinfo=datetime.timezone.utc)
    pkg = client.backup("MESCDM", tmp_path, version="11.3.0", sql_backup_finished=sql)
    r = mesbackup.verify(pkg.path)
    assert r.ok, r.problems
    assert r.sidecar_matched and r.has_sidecar and r.sha256 == pkg.sha256
    assert mesbackup.inspect(pkg.path).verified

    # a tampered sidecar hash is caught
    side = json.loads(pkg.sidecar.read_text())
    side["sha256"] = "0" * 64
    pkg.sidecar.write_text(json.dumps(side))
    r2 = mesbackup.verify(pkg.path)
    assert not r2.ok and not r2.sidecar_matched
    assert [p.kind for p in r2.problems] == ["sha256_mismatch"]


def test_backup_window_over_a_folder(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    assert mesbackup.backup_window(tmp_path) is None  # no sidecars
    sql = "2020-01-01T10:40:00+01:00"
    a = client.backup("MESCDM", tmp_path, sql_backup_finished=sql)
    b = client.backup("MESODS", tmp_path)
    w = mesbackup.backup_window(tmp_path)
    assert w is not None
    assert a.started_at is not None and b.started_at is not None
    assert w.started_at == min(a.started_at, b.started_at).replace(microsecond=w.started_at.microsecond)
    assert w.started_at <= w.finished_at
    assert w.finished_at >= max(a.finished_at, b.finished_at).replace(microsecond=0)
    assert w.sql_backup_finished_at == datetime.datetime(2020, 1, 1, 9, 40, tzinfo=datetime.timezone.utc)
    assert w.reprocess_from == w.sql_backup_finished_at
    assert sorted(p.database or "" for p in w.packages) == ["MESCDM", "MESODS"]
    assert w.to_dict()["reprocess_from"].startswith("2020-01-01T09:40:00")
    with pytest.raises(mesbackup.IoError):
        mesbackup.backup_window(tmp_path / "missing")


def test_naive_sql_backup_time_is_refused(mock: Mock, tmp_path: Path) -> None:
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    with pytest.raises(mesbackup.InvalidArgument):
        client.backup("MESCDM", tmp_path, sql_backup_finished=datetime.datetime(2020, 1, 1))
    with pytest.raises(mesbackup.InvalidArgument):
        client.backup("MESCDM", tmp_path, sql_backup_finished="yesterday")


def test_stage_into_installer_folder(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    out, installer = tmp_path / "out", tmp_path / "installer"
    out.mkdir()
    installer.mkdir()
    pkg = client.backup("MESCDM", out)
    staged = mesbackup.stage(pkg.path, installer, "MES", "11.3.0", generic_names=True)
    assert staged.file_name == "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    assert staged.path == installer / staged.file_name and staged.path.exists()
    assert staged.kind == "CDM" and staged.mode == "copy" and not staged.replaced
    assert staged.sha256 == pkg.sha256 and staged.size == pkg.size
    assert pkg.path.exists()
    assert mesbackup.verify(staged.path).sidecar_matched
    with pytest.raises(mesbackup.IoError):
        mesbackup.stage(pkg.path, installer, "MES", "11.3.0", generic_names=True)
    again = mesbackup.stage(pkg.path, installer, "MES", "11.3.0", generic_names=True, overwrite=True)
    assert again.replaced
    # The system-specific name, which the installer prefers, is the default.
    specific = mesbackup.stage(pkg.path, installer, "MES", "11.3.0", move=True)
    assert specific.file_name == "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip" and specific.mode == "move"
    with pytest.deprecated_call():
        assert specific.moved
    assert specific.to_dict()["mode"] == "move" and "moved" not in specific.to_dict()
    assert not pkg.path.exists()
    assert mesbackup.check_folder(installer, "MES", "11.3.0").kinds is not None


def test_plan_prune_and_prune(mock: Mock, tmp_path: Path) -> None:
    mock.load({})
    client = mesbackup.Client(mock.base, token="admin-token", **FAST)
    pkgs = [client.backup("MESCDM", tmp_path, file_name=f"cdm{i}.zip") for i in range(3)]
    plan = mesbackup.plan_prune(tmp_path, 1)
    assert len(plan.entries) == 3 and len(plan.to_delete) == 2 and plan.deleted == []
    assert all(p.path.exists() for p in pkgs)
    done = mesbackup.prune(tmp_path, 1)
    assert sorted(done.deleted) == sorted([e.package for e in plan.to_delete] + [e.sidecar for e in plan.to_delete])
    assert sum(p.path.exists() for p in pkgs) == 1
    with pytest.raises(mesbackup.InvalidArgument):
        mesbackup.plan_prune(tmp_path, 0)
