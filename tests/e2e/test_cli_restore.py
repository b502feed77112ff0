"""`mesbackup restore` and `test-restore` against a real engine (chdb behind tests/chdb-http/server.py).

In the order they run (later tests stand on what the earlier ones restored, through fixtures):
- restore --dry-run on the committed fixture: no problems, the RESTORE statement names both databases;
- a real-engine package whose table needs a storage policy the target lacks: the plan names the policy
  (exit 2) before anything runs, with --dry-run and without; nothing is extracted; --storage-policy
  default restores it;
- a real restore of mesfix_stored.zip under another name: row counts, and count() and
  sum(cityHash64(*)) asked of the engine directly, equal tests/fixtures/clickhouse/expected.json;
- --path-on-server: the SQL names the server's path, the files are written through the local one;
- restoring again into the now non-empty database is refused by the plan;
- a damaged package is refused (exit 11) before the target is asked anything;
- test-restore: both fixtures pass and are dropped, the damaged package fails with its name.
Every --json run's events match cli/events.schema.json.

Run by scripts/suites/60-restore.sh (MESBACKUP_BIN names the binary, the chdb venv runs pytest).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import CLICKHOUSE_FIXTURES, ROOT, assert_events_match_schema, first, json_lines, run, sql

FIXTURE = CLICKHOUSE_FIXTURES / "mesfix_stored.zip"
EXPECTED = json.loads((CLICKHOUSE_FIXTURES / "expected.json").read_text())["tables"]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_dry_run_on_the_fixture_finds_no_problem(engine: str) -> None:
    r = run("--json", "restore", str(FIXTURE), "--clickhouse", engine, "--as", "MESFIX_dry", "--dry-run")
    assert r.returncode == 0, (r.stdout, r.stderr)
    ev = json_lines(r.stdout)
    plan = first(ev, event="restore_plan")
    assert plan["plan"]["problems"] == [], plan
    assert plan["plan"]["target_database"] == "MESFIX_dry"
    assert "RESTORE DATABASE `MESFIX` AS `MESFIX_dry`" in plan["sql"], plan["sql"]
    assert_events_match_schema(ev)
    print("ok: dry run, no problems")


@pytest.fixture(scope="module")
def policy_package(work: Path) -> Path:
    """A real-engine package whose table needs the storage policy `mes_tiered`."""
    (work / "pol").mkdir()
    package = work / "mespol.zip"
    made = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests/chdb-http/make_policy_backup.py"),
            str(work / "pol"),
            str(package),
            "mes_tiered",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, f"could not make the policy package: {made.stdout}{made.stderr}"
    return package


def test_a_missing_storage_policy_is_named_before_anything_runs(engine: str, work: Path, policy_package: Path) -> None:
    allowed = work / "allowed"
    v = run("verify", str(policy_package))
    assert v.returncode == 0, (v.stdout, v.stderr)

    dry = run("restore", str(policy_package), "--clickhouse", engine, "--dry-run")
    out = dry.stdout + dry.stderr
    assert dry.returncode == 2 and "mes_tiered" in out, (
        f"restore --dry-run: expected exit 2 naming mes_tiered, got {dry.returncode}\n{out}"
    )
    print("ok: --dry-run names the missing policy (exit 2)")

    r = run("restore", str(policy_package), "--clickhouse", engine, "--server-backup-path", str(allowed))
    out = r.stdout + r.stderr
    assert r.returncode == 2, f"expected exit 2 (invalid_argument), got {r.returncode}\n{out}"
    assert "mes_tiered" in out, f"the policy is not named\n{out}"
    assert "--storage-policy" in out, f"no way out offered\n{out}"
    assert listing(allowed) == [], "something was extracted"
    print("ok: missing policy named, nothing extracted")

    r = run(
        "restore",
        str(policy_package),
        "--clickhouse",
        engine,
        "--storage-policy",
        "default",
        "--server-backup-path",
        str(allowed),
    )
    assert r.returncode == 0, f"same package with --storage-policy default: {r.stdout}{r.stderr}"
    print("ok: restored with --storage-policy default")


@pytest.fixture(scope="module")
def restored(engine: str, work: Path) -> list[dict[str, Any]]:
    """The fixture restored as MESFIX_restored: the run's events."""
    r = run(
        "--json",
        "restore",
        str(FIXTURE),
        "--clickhouse",
        engine,
        "--as",
        "MESFIX_restored",
        "--server-backup-path",
        str(work / "allowed"),
    )
    assert r.returncode == 0, (r.stdout, r.stderr)
    return json_lines(r.stdout)


def test_a_real_restore_has_the_expected_rows_and_content(engine: str, restored: list[dict[str, Any]]) -> None:
    done = [e for e in restored if e["event"] == "restored"]
    assert done and done[0]["ok"], restored
    got = {t["table"]: t["rows"] for t in done[0]["tables"]}
    want = {k: v["rows"] for k, v in EXPECTED.items() if "rows" in v}
    assert got == want, (got, want)
    # Independently of the CLI: count() and the content hash straight from the engine.
    for t, v in EXPECTED.items():
        if "rows" not in v:
            continue
        c = sql(engine, f"SELECT count() AS c, toString(sum(cityHash64(*))) AS h FROM `MESFIX_restored`.`{t}`")[0]
        assert int(c["c"]) == v["rows"], (t, c)
        assert c["h"] == v["content_hash"], (t, c, v["content_hash"])
    assert_events_match_schema(restored)
    print("ok: restored, row counts and content hashes equal expected.json:", got)


def test_path_on_server_names_the_servers_path_and_writes_through_the_local_one(engine: str, work: Path) -> None:
    # The server sees the folder under another path (a container): this machine writes through
    # "mount", the engine knows "allowed".
    allowed = work / "allowed"
    (work / "mount").symlink_to(allowed)
    r = run(
        "--json",
        "restore",
        str(FIXTURE),
        "--clickhouse",
        engine,
        "--as",
        "MESFIX_viewed",
        "--server-backup-path",
        str(work / "mount"),
        "--path-on-server",
        str(allowed),
    )
    assert r.returncode == 0, (r.stdout, r.stderr)
    ev = json_lines(r.stdout)
    plan = first(ev, event="restore_plan")
    assert f"FROM File('{allowed}/mesbackup-restore-MESFIX_viewed-" in plan["sql"], plan["sql"]
    extracted = first(ev, step="extracted")
    assert "/mount/mesbackup-restore-MESFIX_viewed-" in extracted["dir"], extracted
    assert first(ev, event="restored")["ok"], ev
    assert_events_match_schema(ev)
    print("ok: restored with --path-on-server (SQL names the server's path, files written through the local one)")


def test_restoring_again_into_the_non_empty_database_is_refused(engine: str, restored: list[dict[str, Any]]) -> None:
    r = run("restore", str(FIXTURE), "--clickhouse", engine, "--as", "MESFIX_restored", "--dry-run")
    out = r.stdout + r.stderr
    assert r.returncode == 2 and "non_empty_target" in out, f"non-empty target not refused\n{out}"
    print("ok: non-empty target refused")


@pytest.fixture(scope="module")
def damaged(work: Path) -> Path:
    """A copy of the fixture with one byte flipped inside the first data.bin's content."""
    b = bytearray(FIXTURE.read_bytes())
    i = b.find(b"MESFIX_backup/data/")
    i = b.find(b"data.bin", i)
    # stored, no extra field: the content starts right after the local header's name
    b[i + len(b"data.bin") + 30] ^= 0xFF
    path = work / "damaged.zip"
    path.write_bytes(bytes(b))
    return path


def test_a_damaged_package_is_refused_before_the_target_is_asked(damaged: Path) -> None:
    # Port 9 (discard): nothing answers there, so reaching the target would fail differently.
    r = run("restore", str(damaged), "--clickhouse", "http://127.0.0.1:9/", "--dry-run")
    assert r.returncode == 11, f"expected exit 11 (integrity), got {r.returncode}\n{r.stdout}{r.stderr}"
    print("ok: damaged package refused (exit 11)")


def test_test_restore_passes_the_fixtures_drops_them_and_names_the_damaged_package(
    engine: str, work: Path, damaged: Path
) -> None:
    r = run(
        "--json",
        "test-restore",
        str(FIXTURE),
        str(CLICKHOUSE_FIXTURES / "mesfix_deflated.zip"),
        str(damaged),
        "--clickhouse",
        engine,
        "--server-backup-path",
        str(work / "allowed"),
    )
    assert r.returncode == 11, f"expected exit 11, got {r.returncode}\n{r.stdout}{r.stderr}"
    all_events = json_lines(r.stdout)
    assert_events_match_schema(all_events)
    ev = [e for e in all_events if e["event"] == "test_restore"]
    assert [e["ok"] for e in ev] == [True, True, False], ev
    for e in ev[:2]:
        assert re.fullmatch(r"mesbackup_testrestore_MESFIX_[0-9a-f]{8}", e["target_database"]), e
        assert e["dropped"] and e["tables_checked"] == 4 and e["rows_checked"] == 4335, e
    assert ev[2]["error"]["kind"] == "integrity" and "MESFIX_backup/data/" in ev[2]["error"]["message"], ev[2]
    names = [str(row["name"]) for row in sql(engine, "SELECT name FROM system.databases")]
    assert not [n for n in names if n.startswith("mesbackup_testrestore_")], names
    assert listing(work / "allowed") == [], "extracted folders left behind"
    print("ok: test-restore results", [(e["path"].rsplit("/", 1)[-1], e["ok"]) for e in ev])
