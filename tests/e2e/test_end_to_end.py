"""End to end against a real ClickHouse engine (chdb-core: ClickHouse 26.x in-process).

1. a source database named like an MES database (E2EMES: MergeTree tables of several column types,
   several parts each) is backed up by the engine and zipped as an MES package
   (tests/chdb-http/make_e2e_backup.py), rows and sum(cityHash64(*)) recorded per table;
2. mock-mes serves that zip as it is (scenario `"payload": {"file": ...}`); a missing file is refused;
3. the CLI (`mesbackup backup`) and Python (`mesbackup.Client.backup`) download it: both files
   byte-identical to the source zip, each sidecar's sha256 the same, each a whole download in the
   mock's log;
4. `mesbackup verify` (exit 0), Python `mesbackup.verify`, `mesbackup --json inspect` (rows, parts
   and engine per table equal the source's);
5. `mesbackup restore` into a fresh engine under another name; count() and the content hash per
   table, asked of the engine directly, equal the source's;
   5b. Python restore of its download through a chdb-session executor (tests/chdb-http/python_restore.py),
   RESTORE_FAILED provoked on the engine, Python test_restore;
6. one byte flipped inside a data file of a copy: verify exits 11 naming that file, and so does Python.

Run by scripts/suites/70-e2e.sh: MESBACKUP_BIN and MOCK_MES name the binaries; the chdb venv, with the
`mesbackup` wheel installed, runs pytest. Later steps stand on earlier ones through module fixtures.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mesbackup

from conftest import ROOT, MockMes, first, json_lines, run, sql

DB = "E2EMES"
AS = "E2EMES_restored"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


@dataclass(frozen=True)
class Source:
    zip: Path
    #: EXPECTED.json of make_e2e_backup.py: database, tables {name: engine, rows, parts, content_hash}
    expected: dict[str, Any]
    sha256: str
    size: int


@pytest.fixture(scope="module")
def source(work: Path) -> Source:
    """Step 1: the source database in chdb, BACKUP DATABASE, zipped as an MES package."""
    package, expected = work / f"{DB}.zip", work / "expected.json"
    made = subprocess.run(
        [sys.executable, str(ROOT / "tests/chdb-http/make_e2e_backup.py"), str(work / "source"), str(package)]
        + [str(expected), DB],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, f"could not make the source backup: {made.stdout}{made.stderr}"
    e = json.loads(expected.read_text())
    t = e["tables"]
    print(
        f"\nok: source {e['database']}: {len(t)} tables, {sum(v['rows'] for v in t.values())} rows, "
        f"{sum(v['parts'] for v in t.values())} parts, {e['backup_files']} backup files:",
        {k: v["rows"] for k, v in sorted(t.items())},
    )
    src = Source(package, e, sha256(package), package.stat().st_size)
    print(f"ok: package {src.size} bytes, sha256 {src.sha256}")
    return src


def test_a_missing_payload_file_is_a_scenario_error_naming_it(mock_mes: MockMes, work: Path) -> None:
    missing = work / "no-such.zip"
    status, body = mock_mes.put_scenario({"payload": {"file": str(missing)}})
    assert status == 400 and str(missing) in body, f"a missing payload.file was not refused by name: {status} {body}"
    print(f"ok: a missing payload.file is a scenario error naming it ({status} {body})")


@pytest.fixture(scope="module")
def served(mock_mes: MockMes, source: Source) -> str:
    """Step 2: mock-mes serving the source zip as it is; its base URL."""
    status, body = mock_mes.put_scenario({"system": DB, "pending_polls": 1, "payload": {"file": str(source.zip)}})
    assert status == 200, f"scenario refused: {status} {body}"
    print(f"ok: scenario loaded: system {DB}, payload.file = the source zip")
    return mock_mes.base


@dataclass(frozen=True)
class Downloads:
    cli_events: list[dict[str, Any]]
    cli_package: Path
    python_package: mesbackup.Package


@pytest.fixture(scope="module")
def downloads(served: str, work: Path) -> Downloads:
    """Step 3: the same backup downloaded through the CLI and through Python."""
    r = run("--json", "backup", DB, "--env", served, "--out", str(work / "cli"), env={"MES_TOKEN": "admin-token"})
    assert r.returncode == 0, f"mesbackup backup failed: {r.stdout}{r.stderr}"
    cli_package = work / "cli" / f"{DB}.zip"
    assert cli_package.is_file(), f"the CLI did not save {DB}.zip: {sorted(os.listdir(work / 'cli'))}"
    (work / "py").mkdir()  # Client.backup does not create its folder (the CLI does)
    package = mesbackup.Client(served, token="admin-token").backup(DB, work / "py")
    return Downloads(json_lines(r.stdout), cli_package, package)


def check_download(front: str, path: Path, sidecar: Path, source: Source) -> None:
    got = sha256(path)
    assert got == source.sha256, f"{front}: {path} has sha256 {got}, the source zip {source.sha256}"
    assert path.stat().st_size == source.size, (front, path.stat().st_size, source.size)
    side = json.loads(sidecar.read_text())
    assert side["sha256"] == source.sha256, f"{front}: sidecar sha256 {side['sha256']} != {source.sha256}"
    assert side["size"] == source.size and side["database"] == DB, (front, side)
    print(f"ok: {front}: {path.name} byte-identical to the source zip, sidecar sha256 equal")


def test_cli_and_python_downloads_are_byte_identical_to_the_source(downloads: Downloads, source: Source) -> None:
    saved = [e for e in downloads.cli_events if e["event"] == "saved"]
    assert len(saved) == 1 and saved[0]["package"]["sha256"] == source.sha256, downloads.cli_events
    cli = downloads.cli_package
    check_download("CLI", cli, cli.with_name(cli.name + mesbackup.SIDECAR_SUFFIX), source)
    pkg = downloads.python_package
    assert pkg.sha256 == source.sha256 and pkg.size == source.size and pkg.database == DB, (
        pkg.sha256,
        pkg.size,
        pkg.database,
    )
    check_download("Python", pkg.path, pkg.sidecar, source)


def test_the_mock_served_each_download_whole(downloads: Downloads, mock_mes: MockMes, source: Source) -> None:
    log = mock_mes.log()
    package_gets = [e for e in log if e["method"] == "GET" and e["status"] == 200]
    assert len(package_gets) == 2, log
    assert all(e["body_complete"] and e["body_bytes_sent"] == source.size for e in package_gets), package_gets
    print("ok: mock-mes log: two package downloads (CLI, Python), each the whole file")


def test_cli_verify_passes_both_downloads(downloads: Downloads) -> None:
    r = run("verify", str(downloads.cli_package), str(downloads.python_package.path))
    assert r.returncode == 0, f"mesbackup verify failed: {r.stdout}{r.stderr}"
    print("ok: mesbackup verify: exit 0 for both downloads")


def test_python_verify_passes_both_downloads(downloads: Downloads) -> None:
    for p in (str(downloads.cli_package), str(downloads.python_package.path)):
        r = mesbackup.verify(p)
        assert r.ok and not r.problems and r.error is None, (p, r)
        assert r.has_sidecar and r.sidecar_matched, (p, r)
        assert r.files_checked > 0 and r.part_files_checked > 0, (p, r)
    print("ok: Python mesbackup.verify: both sound, SHA-256 matches each sidecar")


def test_cli_inspect_matches_the_source(downloads: Downloads, source: Source) -> None:
    r = run("--json", "inspect", str(downloads.cli_package))
    assert r.returncode == 0, f"mesbackup inspect failed: {r.stdout}{r.stderr}"
    ins = first(json_lines(r.stdout), event="inspected")
    exp = source.expected
    assert ins["verified"], ins
    dbs = ins["inspection"]["databases"]
    assert [d["name"] for d in dbs] == [exp["database"]], dbs
    got = {t["name"]: (t["rows"], t["parts"], t["engine_name"]) for t in dbs[0]["tables"]}
    want = {k: (v["rows"], v["parts"], v["engine"]) for k, v in exp["tables"].items()}
    assert got == want, f"inspect {got} != source {want}"
    print("ok: mesbackup --json inspect: rows, parts and engine per table equal the source's")


def test_restore_into_a_fresh_engine_reproduces_the_source(
    downloads: Downloads, engine: str, work: Path, source: Source
) -> None:
    package = str(downloads.cli_package)
    dry = run("--json", "restore", package, "--clickhouse", engine, "--as", AS, "--dry-run")
    assert dry.returncode == 0, f"restore --dry-run on the fresh engine failed: {dry.stdout}{dry.stderr}"
    plan = first(json_lines(dry.stdout), event="restore_plan")
    assert plan["plan"]["problems"] == [], plan
    print("ok: restore --dry-run on the fresh engine: no problems")

    r = run(
        "--json", "restore", package, "--clickhouse", engine, "--as", AS, "--server-backup-path", str(work / "allowed")
    )
    assert r.returncode == 0, f"mesbackup restore failed: {r.stdout}{r.stderr}"
    ev = json_lines(r.stdout)
    done = [e for e in ev if e["event"] == "restored"]
    assert done and done[0]["ok"], ev
    exp = source.expected["tables"]
    got = {t["table"]: t["rows"] for t in done[0]["tables"]}
    assert got == {k: v["rows"] for k, v in exp.items()}, (got, exp)
    print("ok: mesbackup restore: restored, its own row check equals the source:", got)

    tables = {
        row["name"]: row["engine"]
        for row in sql(engine, f"SELECT name, engine FROM system.tables WHERE database = '{AS}'")
    }
    assert tables == {k: v["engine"] for k, v in exp.items()}, (tables, exp)
    for t, v in sorted(exp.items()):
        c = sql(engine, f"SELECT count() AS c, toString(sum(cityHash64(*))) AS h FROM `{AS}`.`{t}`")[0]
        assert int(c["c"]) == v["rows"] and c["h"] == v["content_hash"], (
            f"{AS}.{t}: {c['c']} rows, hash {c['h']}; the source had {v['rows']} rows, hash {v['content_hash']}"
        )
    print(
        f"ok: engine says {AS} has the source's tables, and every table's count() and "
        f"sum(cityHash64(*)) equal the source's ({len(exp)} tables)"
    )


def test_python_restore_through_a_chdb_session(downloads: Downloads, source: Source, work: Path) -> None:
    # Restores the Python download into another fresh engine (in-process in that script), compares
    # count() and sum(cityHash64(*)) with the source, provokes RESTORE_FAILED on the engine (a data
    # file removed after extraction) and runs test_restore.
    expected = work / "expected.json"  # written by the source fixture
    r = subprocess.run(
        [sys.executable, str(ROOT / "tests/chdb-http/python_restore.py"), str(downloads.python_package.path)]
        + [str(expected), str(work / "pyrestore")],
        capture_output=True,
        text=True,
        check=False,
    )
    print(r.stdout, end="")
    assert r.returncode == 0, f"Python restore through a chdb session failed: {r.stdout}{r.stderr}"


def flip_a_byte_in_the_largest_data_file(path: Path) -> str:
    """Flips one bit in the middle of the largest column data file (its bytes are the table's data)."""
    with zipfile.ZipFile(path) as z:
        info = max(
            (i for i in z.infolist() if "/data/" in i.filename and i.filename.endswith(".bin")),
            key=lambda i: i.file_size,
        )
    assert info.compress_type == zipfile.ZIP_STORED and info.file_size > 100, info
    with open(path, "r+b") as f:
        f.seek(info.header_offset)
        head = f.read(30)
        assert head[:4] == b"PK\x03\x04", head
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        at = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x01]))
    return info.filename


def test_one_flipped_byte_is_named_by_verify(downloads: Downloads, work: Path) -> None:
    (work / "damaged").mkdir()
    damaged = work / "damaged" / f"{DB}.zip"
    shutil.copyfile(downloads.cli_package, damaged)  # no sidecar: only the flipped byte can be what is wrong
    entry = flip_a_byte_in_the_largest_data_file(damaged)

    r = run("verify", str(damaged))
    out = r.stdout + r.stderr
    assert r.returncode == 11, f"verify of the damaged copy: expected exit 11 (integrity), got {r.returncode}\n{out}"
    assert f'"{entry}"' in out, f'verify did not name "{entry}"\n{out}'
    print(f"ok: one byte flipped in {entry}: mesbackup verify exit 11, names it")

    v = mesbackup.verify(str(damaged))
    assert not v.ok and entry in (v.error or ""), (v.ok, v.error, v.problems)
    print("ok: Python mesbackup.verify: not ok, names the damaged file")
