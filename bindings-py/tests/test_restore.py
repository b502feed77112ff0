"""mesbackup.restore / test_restore with a Python SQL executor.

The flow (verify, plan, extract, RESTORE, follow, row counts) is the Rust one; here the executor is a
scripted stand-in for ClickHouse so each path of the translation can be forced: plan problems,
RESTORE_FAILED, a row-count mismatch, executor errors and interrupts. The same functions run
against a real engine (a chdb session as executor) in scripts/suites/70-e2e.sh.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

import mesbackup

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "clickhouse"
PACKAGE = FIXTURES / "mesfix_stored.zip"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text())
ROWS = {t: v["rows"] for t, v in EXPECTED["tables"].items() if "rows" in v}


class FakeClickHouse:
    """Answers the statements the restore flow sends, like ClickHouse's JSONEachRow would."""

    def __init__(
        self,
        *,
        policies: list[str] | None = None,
        databases: dict[str, int] | None = None,
        fail_restore: str | None = None,
        rows: dict[str, int] | None = None,
        server_view: tuple[str, Path] | None = None,
    ) -> None:
        #: (the server's path, the local folder it is): a server in a container sees another path.
        self.server_view = server_view
        self.policies = policies if policies is not None else ["default"]
        self.databases = databases if databases is not None else {"default": 0, "system": 90}
        self.fail_restore = fail_restore
        self.rows = dict(ROWS if rows is None else rows)
        self.sql: list[str] = []
        self.restored_from: Path | None = None
        self.polls = 0
        #: UUID of every database, as system.databases shows it.
        self.uuids: dict[str, str] = {d: str(uuid.uuid4()) for d in self.databases}

    def __call__(self, sql: str) -> Any:
        self.sql.append(sql)
        if sql.startswith("SELECT policy_name"):
            return [{"policy_name": p, "volume_name": "default", "disks": ["default"]} for p in self.policies]
        if sql == "SELECT name FROM system.disks":
            return "\n".join(json.dumps({"name": "default"}) for _ in [0]) + "\n"
        if sql == "SELECT name FROM system.databases":
            return [{"name": d} for d in self.databases]
        if sql.startswith("SELECT database, count()"):
            return b"".join(
                json.dumps({"database": d, "tables": str(n)}).encode() + b"\n" for d, n in self.databases.items()
            )
        m = re.match(r"SELECT toString\(uuid\) AS uuid FROM system.databases WHERE name = '(\w+)'", sql)
        if m:
            return [{"uuid": self.uuids[m.group(1)]}] if m.group(1) in self.uuids else []
        m = re.match(r"RESTORE DATABASE `(\w+)`(?: AS `(\w+)`)? FROM File\('([^']+)'\)", sql)
        if m:
            target = m.group(2) or m.group(1)
            if "create_database = 'create'" in sql and target in self.databases:
                raise RuntimeError(f"Code: 82. DB::Exception: Database {target} already exists")
            self.databases.setdefault(target, len(self.rows))
            self.uuids.setdefault(target, str(uuid.uuid4()))
            self.restored_from = Path(m.group(3))
            if self.server_view is not None:
                prefix, local = self.server_view
                assert m.group(3).startswith(prefix + "/"), m.group(3)
                self.restored_from = local / m.group(3)[len(prefix) + 1 :]
            assert (self.restored_from / ".backup").is_file(), "the backup was not extracted before RESTORE"
            return [{"id": "op-1", "status": "RESTORING"}]
        if sql.startswith("SELECT * FROM system.backups"):
            self.polls += 1
            if self.polls < 2:
                return [
                    {
                        "id": "op-1",
                        "status": "RESTORING",
                        "error": "",
                        "num_files": "97",
                        "files_read": "10",
                        "total_size": "1000",
                        "bytes_read": "100",
                    }
                ]
            if self.fail_restore:
                return [
                    {
                        "id": "op-1",
                        "status": "RESTORE_FAILED",
                        "error": self.fail_restore,
                        "num_files": "97",
                        "files_read": "50",
                        "total_size": "1000",
                        "bytes_read": "500",
                    }
                ]
            return [
                {
                    "id": "op-1",
                    "status": "RESTORED",
                    "error": "",
                    "num_files": "97",
                    "files_read": "97",
                    "total_size": "1000",
                    "bytes_read": "1000",
                }
            ]
        m = re.match(r"SELECT count\(\) AS c FROM `(\w+)`\.`(\w+)`", sql)
        if m:
            return [{"c": str(self.rows[m.group(2)])}]
        m = re.match(r"DROP DATABASE `(\w+)` SYNC$", sql)
        if m:
            assert m.group(1) in self.databases, f"DROP of a database that does not exist: {sql}"
            del self.databases[m.group(1)]
            del self.uuids[m.group(1)]
            return None
        raise AssertionError(f"unexpected SQL: {sql}")


def test_restore_runs_the_plan_and_compares_rows(tmp_path: Path) -> None:
    ch = FakeClickHouse()
    steps: list[dict[str, Any]] = []
    r = mesbackup.restore(
        PACKAGE, executor=ch, target="MESFIX_check", server_backup_path=tmp_path, on_step=steps.append
    )
    assert r and r.ok and not r.dry_run
    assert (r.database, r.target_database, r.operation_id) == ("MESFIX", "MESFIX_check", "op-1")
    assert {t.table: t.rows for t in r.tables} == ROWS
    assert r.rows == sum(ROWS.values())
    assert [s["step"] for s in steps] == ["verified", "planned", "extracted", "started", "restoring", "restoring"]
    assert steps[-1]["status"] == "RESTORED" and steps[-1]["operation_id"] == "op-1"
    assert "RESTORE DATABASE `MESFIX` AS `MESFIX_check`" in steps[1]["sql"]
    # The extracted copy is removed once the restore succeeded.
    assert ch.restored_from is not None and not ch.restored_from.exists()
    assert list(tmp_path.iterdir()) == []


def test_dry_run_runs_nothing(tmp_path: Path) -> None:
    ch = FakeClickHouse()
    r = mesbackup.restore(PACKAGE, executor=ch, dry_run=True)
    assert r.dry_run and r.operation_id is None and r.tables == []
    assert not any(s.startswith("RESTORE") for s in ch.sql)


def test_missing_policy_is_named_before_anything_runs(tmp_path: Path) -> None:
    ch = FakeClickHouse(policies=["tiered"])
    with pytest.raises(mesbackup.InvalidArgument) as e:
        mesbackup.restore(PACKAGE, executor=ch, target="X", server_backup_path=tmp_path)
    assert "default" in str(e.value) and "storage" in str(e.value).lower()
    assert not any(s.startswith("RESTORE") for s in ch.sql)
    assert list(tmp_path.iterdir()) == []


def test_non_empty_target_is_refused(tmp_path: Path) -> None:
    ch = FakeClickHouse(databases={"default": 0, "MESFIX": 4})
    with pytest.raises(mesbackup.InvalidArgument, match="MESFIX"):
        mesbackup.restore(PACKAGE, executor=ch, server_backup_path=tmp_path)


def test_restore_failed_raises_server_error_with_clickhouse_message(tmp_path: Path) -> None:
    ch = FakeClickHouse(fail_restore="Code: 107. DB::Exception: File not found: data/x/all_1_1_0/data.bin")
    with pytest.raises(mesbackup.ServerError) as e:
        mesbackup.restore(PACKAGE, executor=ch, target="X", server_backup_path=tmp_path)
    assert "RESTORE failed" in str(e.value) and "File not found" in str(e.value)
    # Kept for whoever investigates, and named in the message.
    assert ch.restored_from is not None and ch.restored_from.exists()
    assert str(ch.restored_from) in str(e.value)


def test_row_count_mismatch_raises_integrity_with_the_result(tmp_path: Path) -> None:
    rows = dict(ROWS)
    table = next(t for t, n in rows.items() if n > 0)
    rows[table] -= 1
    with pytest.raises(mesbackup.Integrity) as e:
        mesbackup.restore(PACKAGE, executor=FakeClickHouse(rows=rows), target="X", server_backup_path=tmp_path)
    assert table in str(e.value)
    result = e.value.result
    assert isinstance(result, mesbackup.RestoreResult) and not result.ok
    assert [t.table for t in result.tables if not t.ok] == [table]


def test_damaged_package_is_refused_before_the_executor_is_called(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.zip"
    b = bytearray(PACKAGE.read_bytes())
    i = b.find(b"data.bin", b.find(b"MESFIX_backup/data/"))
    b[i + len(b"data.bin") + 30] ^= 0xFF
    damaged.write_bytes(bytes(b))
    ch = FakeClickHouse()
    with pytest.raises(mesbackup.Integrity, match="MESFIX_backup/data/"):
        mesbackup.restore(damaged, executor=ch, dry_run=True)
    assert ch.sql == []


def test_executor_errors_become_server_errors(tmp_path: Path) -> None:
    def broken(sql: str) -> Any:
        raise RuntimeError("connection refused by chdb")

    with pytest.raises(mesbackup.ServerError, match="connection refused by chdb"):
        mesbackup.restore(PACKAGE, executor=broken, dry_run=True)


def test_executor_returning_nonsense_is_unexpected_response() -> None:
    with pytest.raises(mesbackup.UnexpectedResponse, match="JSONEachRow"):
        mesbackup.restore(PACKAGE, executor=lambda sql: 42, dry_run=True)
    with pytest.raises(mesbackup.UnexpectedResponse, match="not JSON"):
        mesbackup.restore(PACKAGE, executor=lambda sql: "not json", dry_run=True)


def test_keyboard_interrupt_in_the_executor_propagates(tmp_path: Path) -> None:
    ch = FakeClickHouse()

    def interrupted(sql: str) -> Any:
        if sql.startswith("SELECT * FROM system.backups"):
            raise KeyboardInterrupt
        return ch(sql)

    with pytest.raises(KeyboardInterrupt):
        mesbackup.restore(PACKAGE, executor=interrupted, target="X", server_backup_path=tmp_path)


def test_exception_in_on_step_propagates(tmp_path: Path) -> None:
    def boom(step: dict[str, Any]) -> None:
        raise ValueError("callback failed")

    with pytest.raises(ValueError, match="callback failed"):
        mesbackup.restore(PACKAGE, executor=FakeClickHouse(), dry_run=True, on_step=boom)


def test_bad_arguments_are_invalid_argument(tmp_path: Path) -> None:
    with pytest.raises(mesbackup.InvalidArgument, match="either"):
        mesbackup.restore(PACKAGE, dry_run=True)
    with pytest.raises(mesbackup.InvalidArgument, match="either"):
        mesbackup.restore(PACKAGE, executor=FakeClickHouse(), clickhouse="http://127.0.0.1:9", dry_run=True)
    with pytest.raises(mesbackup.InvalidArgument, match="server backup path"):
        mesbackup.restore(PACKAGE, executor=FakeClickHouse())
    with pytest.raises(mesbackup.InvalidArgument, match="credentials"):
        mesbackup.restore(PACKAGE, clickhouse="http://admin:hunter22@127.0.0.1:9", dry_run=True)


def test_test_restore_reports_each_package_and_drops(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.zip"
    b = bytearray(PACKAGE.read_bytes())
    i = b.find(b"data.bin", b.find(b"MESFIX_backup/data/"))
    b[i + len(b"data.bin") + 30] ^= 0xFF
    damaged.write_bytes(bytes(b))
    backups = tmp_path / "backups"
    backups.mkdir()
    ch = FakeClickHouse()
    seen: list[mesbackup.TestRestoreResult] = []
    results = mesbackup.test_restore([PACKAGE, damaged], executor=ch, server_backup_path=backups, on_result=seen.append)
    assert seen == results
    good, bad = results
    assert good.ok and good.verified and good.dropped
    assert good.target_database is not None
    assert re.fullmatch(r"mesbackup_testrestore_MESFIX_[0-9a-f]{8}", good.target_database), good.target_database
    assert good.tables_checked == len(ROWS) and good.rows_checked == sum(ROWS.values())
    assert f"DROP DATABASE `{good.target_database}` SYNC" in ch.sql
    assert good.target_database not in ch.databases
    assert not bad.ok and bad.verified is False
    assert isinstance(bad.error, mesbackup.Integrity) and "MESFIX_backup/data/" in bad.error.message
    assert bad.to_dict()["error"]["kind"] == "integrity"
    assert list(backups.iterdir()) == []


def test_test_restore_with_problems_names_them(tmp_path: Path) -> None:
    [r] = mesbackup.test_restore(PACKAGE, executor=FakeClickHouse(policies=["tiered"]), server_backup_path=tmp_path)
    assert not r.ok and isinstance(r.error, mesbackup.InvalidArgument)
    assert r.problems and r.problems[0]["name"] == "default"


def test_test_restore_is_not_collected_by_pytest(tmp_path: Path) -> None:
    # `from mesbackup import test_restore` in someone's test module must not become a test.
    (tmp_path / "test_user_module.py").write_text(
        "from mesbackup import test_restore\n\ndef test_nothing():\n    pass\n"
    )
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_nothing" in run.stdout and "::test_restore" not in run.stdout, run.stdout


def test_path_on_server_names_the_servers_view_of_the_folder(tmp_path: Path) -> None:
    # The server runs in a container: it sees tmp_path as /var/lib/clickhouse/backups.
    ch = FakeClickHouse(server_view=("/var/lib/clickhouse/backups", tmp_path))
    steps: list[dict[str, Any]] = []
    r = mesbackup.restore(
        PACKAGE,
        executor=ch,
        target="X",
        server_backup_path=tmp_path,
        path_on_server="/var/lib/clickhouse/backups/",
        on_step=steps.append,
    )
    assert r.ok
    restore_sql = next(s for s in ch.sql if s.startswith("RESTORE"))
    assert "FROM File('/var/lib/clickhouse/backups/mesbackup-restore-X-" in restore_sql, restore_sql
    planned = next(s for s in steps if s["step"] == "planned")
    assert "/var/lib/clickhouse/backups/mesbackup-restore-X-" in planned["sql"]
    extracted = next(s for s in steps if s["step"] == "extracted")
    assert extracted["dir"].startswith(str(tmp_path))


def test_test_restore_drops_only_the_database_it_restored(tmp_path: Path) -> None:
    # Somebody else's databases under the production name and the old fixed throwaway name.
    ch = FakeClickHouse(databases={"default": 0, "MESFIX": 0, "mesbackup_testrestore_MESFIX": 0})
    before = dict(ch.uuids)
    [r] = mesbackup.test_restore(PACKAGE, executor=ch, server_backup_path=tmp_path)
    assert r.ok and r.dropped, r
    assert {d: ch.uuids[d] for d in before} == before, "the databases that were there are untouched"
    drops = [s for s in ch.sql if s.startswith("DROP")]
    assert drops == [f"DROP DATABASE `{r.target_database}` SYNC"], drops

    # The throwaway database is replaced behind our back (same name, another UUID): not dropped.
    ch = FakeClickHouse()

    def swapped(sql: str) -> Any:
        if sql.startswith("SELECT count()") and ch.polls >= 2:
            target = re.match(r"SELECT count\(\) AS c FROM `(\w+)`", sql).group(1)  # type: ignore[union-attr]
            ch.uuids[target] = str(uuid.uuid4())
        return ch(sql)

    [r] = mesbackup.test_restore(PACKAGE, executor=swapped, server_backup_path=tmp_path)
    assert not r.ok and r.dropped is False, r
    assert isinstance(r.error, mesbackup.Integrity) and "not dropped" in r.error.message
    assert not any(s.startswith("DROP") for s in ch.sql)


def test_test_restore_refuses_an_empty_prefix(tmp_path: Path) -> None:
    ch = FakeClickHouse()
    [r] = mesbackup.test_restore(PACKAGE, executor=ch, server_backup_path=tmp_path, prefix="")
    assert not r.ok and isinstance(r.error, mesbackup.InvalidArgument) and "--prefix" in r.error.message
    assert not any(s.startswith(("RESTORE", "DROP")) for s in ch.sql)


def test_restore_into_an_existing_database_needs_into_existing(tmp_path: Path) -> None:
    ch = FakeClickHouse(databases={"default": 0, "MESFIX_check": 0})
    with pytest.raises(mesbackup.InvalidArgument, match="into_existing|--into-existing"):
        mesbackup.restore(PACKAGE, executor=ch, target="MESFIX_check", server_backup_path=tmp_path)
    assert not any(s.startswith("RESTORE") for s in ch.sql)
    r = mesbackup.restore(PACKAGE, executor=ch, target="MESFIX_check", server_backup_path=tmp_path, into_existing=True)
    assert r.ok
    restore_sql = next(s for s in ch.sql if s.startswith("RESTORE"))
    assert "create_database" not in restore_sql
    assert not any(s.startswith("DROP") for s in ch.sql), "a restore never drops anything"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("hostile")
    gen = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hostile" / "make_hostile.py"
    subprocess.run(
        [sys.executable, str(gen), str(out / "packages"), str(out / "escape")], check=True, capture_output=True
    )
    return json.loads((out / "packages" / "cases.json").read_text())  # type: ignore[no-any-return]


def test_hostile_packages_are_refused_and_nothing_is_written(hostile: list[dict[str, Any]], tmp_path: Path) -> None:
    for case in hostile:
        v = mesbackup.verify(case["file"])
        assert not v.ok and case["problem"] in [p.kind for p in v.problems], (case["case"], v.problems)
        unsafe = [p for p in v.problems if p.kind in ("unsafe_name", "unsafe_manifest_path")]
        assert all(isinstance(p.detail.get("reason"), str) for p in unsafe), unsafe
        ch = FakeClickHouse()
        backups = tmp_path / case["case"]
        backups.mkdir()
        with pytest.raises(mesbackup.Integrity):
            mesbackup.restore(case["file"], executor=ch, target="X", server_backup_path=backups)
        assert not any(s.startswith("RESTORE") for s in ch.sql), case["case"]
        assert list(backups.iterdir()) == [], case["case"]
        for canary in case["canaries"]:
            assert not Path(canary.replace("<server-backup-path>", str(backups))).exists(), (case["case"], canary)


def test_extracted_files_are_private_unless_chosen(tmp_path: Path) -> None:
    for modes, want_file, want_dir in (({}, 0o600, 0o700), ({"file_mode": "0640", "dir_mode": "0750"}, 0o640, 0o750)):
        backups = tmp_path / f"b{want_file:o}"
        backups.mkdir()
        old = os.umask(0o022)
        try:
            with pytest.raises(mesbackup.ServerError):
                mesbackup.restore(
                    PACKAGE,
                    executor=FakeClickHouse(fail_restore="Code: 1. Permission denied"),
                    target="X",
                    server_backup_path=backups,
                    **modes,
                )
        finally:
            os.umask(old)
        [kept] = list(backups.iterdir())
        assert stat.S_IMODE(kept.stat().st_mode) == want_dir
        for p in kept.rglob("*"):
            assert stat.S_IMODE(p.stat().st_mode) == (want_dir if p.is_dir() else want_file), p
    with pytest.raises(mesbackup.InvalidArgument, match="--file-mode"):
        mesbackup.restore(PACKAGE, executor=FakeClickHouse(), dry_run=True, file_mode="0666")


def test_a_permission_error_on_the_server_says_how_to_share_the_files(tmp_path: Path) -> None:
    ch = FakeClickHouse(fail_restore="Code: 1000. DB::Exception: Access to file denied: Permission denied")
    with pytest.raises(mesbackup.ServerError, match="--file-mode 0640 --dir-mode 0750"):
        mesbackup.restore(PACKAGE, executor=ch, target="X", server_backup_path=tmp_path)


def test_clickhouse_password_from_the_environment_is_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ClickHouse that echoes the password in its error text: the message never shows it, also
    when it came from CLICKHOUSE_PASSWORD rather than an argument."""
    import http.server
    import threading

    secret = "Env-S3cr3t-" + "".join(f"{i:02x}q" for i in range(64)) + "-tail"

    class Echo(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            # The secret straddles the 600-character cut of the quoted server text.
            body = ("." * 560 + " auth failed for key " + str(self.headers.get("X-ClickHouse-Key"))).encode()
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setenv("CLICKHOUSE_PASSWORD", secret)
    try:
        with pytest.raises(mesbackup.ServerError) as e:
            mesbackup.restore(PACKAGE, clickhouse=f"http://127.0.0.1:{srv.server_address[1]}", dry_run=True)
    finally:
        srv.shutdown()
    text = str(e.value) + repr(e.value)
    assert "<redacted>" in text or "auth failed" in text, text
    for i in range(len(secret) - 8):
        assert secret[i : i + 8] not in text, f"part of the password shown: {secret[i : i + 8]!r}"
