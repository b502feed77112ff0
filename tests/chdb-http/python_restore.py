#!/usr/bin/env python3
"""Python's `mesbackup.restore` / `test_restore` against a real engine: a chdb session (ClickHouse
26.x in-process) is the SQL executor, so no server and no HTTP are involved.

    python_restore.py PACKAGE EXPECTED.json WORKDIR

1. restore PACKAGE as `<db>_py` with a chdb session executor; every table's count() and
   `toString(sum(cityHash64(*)))` equal EXPECTED.json (as made by the source engine);
2. RESTORE_FAILED on the engine: an executor that removes one extracted data file just before
   RESTORE runs (a server that lost a file) -> mesbackup.ServerError carrying ClickHouse's message;
3. test_restore: passes, the throwaway database is dropped.
Prints `ok: ...` per step; any failure raises.
"""

import json
import pathlib
import sys

from chdb import session

import mesbackup

package, expected_path, work = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
expected = json.loads(pathlib.Path(expected_path).read_text())
tables = {t: v for t, v in expected["tables"].items() if "rows" in v}
allowed = work / "allowed"
allowed.mkdir(parents=True, exist_ok=True)
config = work / "config.xml"
config.write_text(f"<clickhouse><backups><allowed_path>{allowed}/</allowed_path></backups></clickhouse>")
sess = session.Session(str(work / "data") + f"?config-file={config}")


def execute(sql: str) -> bytes:
    return sess.query(sql, "JSONEachRow").bytes()


def engine_rows(sql: str):
    return [json.loads(line) for line in execute(sql).decode().splitlines() if line.strip()]


def check_content(database: str) -> None:
    for t, v in tables.items():
        got = engine_rows(f"SELECT count() AS c, toString(sum(cityHash64(*))) AS h FROM `{database}`.`{t}`")[0]
        assert int(got["c"]) == v["rows"], (database, t, got, v)
        assert got["h"] == v["content_hash"], (database, t, got, v)


source = mesbackup.inspect(package).databases[0].name

# 1. A real restore through the Python API.
steps = []
target = f"{source}_py"
result = mesbackup.restore(package, executor=execute, target=target, server_backup_path=allowed, on_step=steps.append)
assert result.ok and result.target_database == target, result
assert {c.table: c.rows for c in result.tables} == {t: v["rows"] for t, v in tables.items()}, result.tables
check_content(target)
kinds = [s["step"] for s in steps]
assert kinds[:4] == ["verified", "planned", "extracted", "started"] and kinds[-1] == "restoring", kinds
assert steps[-1]["status"] == "RESTORED", steps[-1]
assert not any(allowed.iterdir()), "the extracted copy was not removed"
print(f"ok: Python restore through a chdb session: {len(tables)} tables, rows and content hashes equal the source")

# 2. RESTORE_FAILED, provoked on the engine.
removed = []


def losing_executor(sql: str) -> bytes:
    if sql.startswith("RESTORE DATABASE") and not removed:
        extracted = pathlib.Path(sql.split("FROM File('", 1)[1].split("'", 1)[0])
        victim = next(p for p in sorted(extracted.rglob("*.bin")) if p.stat().st_size > 0)
        victim.unlink()
        removed.append(victim)
    return execute(sql)


try:
    mesbackup.restore(package, executor=losing_executor, target=f"{source}_lost", server_backup_path=allowed)
except mesbackup.ServerError as e:
    message = str(e)
    assert "RESTORE failed on the server" in message, message
    assert removed and removed[0].name in message, (removed, message)
    assert "left in" in message, message
    print(f"ok: RESTORE_FAILED on the engine raised ServerError naming {removed[0].name}")
else:
    raise AssertionError("a restore with a missing data file did not fail")
status = engine_rows("SELECT status FROM system.backups WHERE status = 'RESTORE_FAILED'")
assert status, "system.backups has no RESTORE_FAILED entry"

# 3. test_restore through the same executor.
[r] = mesbackup.test_restore(package, executor=execute, server_backup_path=allowed, prefix="pycheck_")
assert r.ok and r.dropped and r.tables_checked == len(tables), r
names = [row["name"] for row in engine_rows("SELECT name FROM system.databases")]
assert f"pycheck_{source}" not in names, names
print(f"ok: Python test_restore: {r.rows_checked} rows checked, throwaway database dropped")
