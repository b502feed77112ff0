#!/usr/bin/env bash
# Restore against a real engine: a thin HTTP front (tests/chdb-http/server.py) over a chdb session
# (real ClickHouse 26.x in-process). restore --dry-run on the committed fixture (no problems); a
# real-engine package whose table needs a storage policy the target lacks (the plan names it,
# nothing runs); a real restore of mesfix_stored.zip under another name with row counts equal to
# tests/fixtures/clickhouse/expected.json.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"

venv="${CARGO_TARGET_DIR:-$root/target}/venv-chdb"
echo "--- chdb-core venv ($venv)"
ensure_chdb_venv "$venv" jsonschema pytest
py="$venv/bin/python"
validate() { # validate FILE...: every line is an event of cli/events.schema.json
  "$py" - "$@" <<'PY'
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open("cli/events.schema.json")))
for f in sys.argv[1:]:
    for line in open(f):
        v.validate(json.loads(line))
PY
}

echo "--- build mesbackup"
cargo build -q -p mesbackup-cli
bin="${CARGO_TARGET_DIR:-$root/target}/debug/mesbackup"

work=$(mktemp -d "${TMPDIR:-/tmp}/mesbackup-restore.XXXXXX")
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/front" "$work/allowed"

echo "--- start the chdb HTTP front"
"$py" tests/chdb-http/server.py --dir "$work/front" --allowed-path "$work/allowed" >"$work/front.out" 2>"$work/front.err" &
server_pid=$!
for _ in $(seq 1 100); do grep -q '^PORT ' "$work/front.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^PORT //p' "$work/front.out")
[ -n "$port" ] || { cat "$work/front.err"; echo "front did not start"; exit 1; }
url="http://127.0.0.1:$port/"
fixture=tests/fixtures/clickhouse/mesfix_stored.zip

echo "--- dry run on the fixture: no problems"
"$bin" --json restore "$fixture" --clickhouse "$url" --as MESFIX_dry --dry-run >"$work/dry.json"
"$py" - "$work/dry.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
plan = [e for e in ev if e["event"] == "restore_plan"][0]
assert plan["plan"]["problems"] == [], plan
assert plan["plan"]["target_database"] == "MESFIX_dry"
assert "RESTORE DATABASE `MESFIX` AS `MESFIX_dry`" in plan["sql"], plan["sql"]
print("ok: dry run, no problems")
PY

echo "--- a package needing a storage policy the target lacks: named before anything runs"
mkdir -p "$work/pol"
"$py" tests/chdb-http/make_policy_backup.py "$work/pol" "$work/mespol.zip" mes_tiered >/dev/null
"$bin" verify "$work/mespol.zip" >/dev/null
set +e
"$bin" restore "$work/mespol.zip" --clickhouse "$url" --dry-run >"$work/pol-dry.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "mes_tiered" "$work/pol-dry.out" \
  || { cat "$work/pol-dry.out"; echo "restore --dry-run: expected exit 2 naming mes_tiered, got $rc"; exit 1; }
echo "ok: --dry-run names the missing policy (exit 2)"
set +e
"$bin" restore "$work/mespol.zip" --clickhouse "$url" --server-backup-path "$work/allowed" >"$work/pol.out" 2>&1
rc=$?
set -e
cat "$work/pol.out"
[ "$rc" -eq 2 ] || { echo "expected exit 2 (invalid_argument), got $rc"; exit 1; }
grep -q "mes_tiered" "$work/pol.out" || { echo "the policy is not named"; exit 1; }
grep -q -- "--storage-policy" "$work/pol.out" || { echo "no way out offered"; exit 1; }
[ -z "$(ls -A "$work/allowed")" ] || { echo "something was extracted"; exit 1; }
echo "ok: missing policy named, nothing extracted"
echo "--- same package with --storage-policy default: restores"
"$bin" restore "$work/mespol.zip" --clickhouse "$url" --storage-policy default --server-backup-path "$work/allowed"

echo "--- real restore of the fixture under another name"
"$bin" --json restore "$fixture" --clickhouse "$url" --as MESFIX_restored --server-backup-path "$work/allowed" >"$work/restore.json"
"$py" - "$work/restore.json" tests/fixtures/clickhouse/expected.json "$url" <<'PY'
import json, sys, urllib.request
ev = [json.loads(l) for l in open(sys.argv[1])]
done = [e for e in ev if e["event"] == "restored"]
assert done and done[0]["ok"], ev
got = {t["table"]: t["rows"] for t in done[0]["tables"]}
exp = json.load(open(sys.argv[2]))["tables"]
want = {k: v["rows"] for k, v in exp.items() if "rows" in v}
assert got == want, (got, want)
# Independently of the CLI: count() and the content hash straight from the engine.
def q(sql):
    r = urllib.request.urlopen(urllib.request.Request(sys.argv[3] + "?default_format=JSONEachRow", data=sql.encode()))
    return [json.loads(l) for l in r.read().decode().splitlines() if l.strip()]
for t, v in exp.items():
    if "rows" not in v:
        continue
    c = q(f"SELECT count() AS c, toString(sum(cityHash64(*))) AS h FROM `MESFIX_restored`.`{t}`")[0]
    assert int(c["c"]) == v["rows"], (t, c)
    assert c["h"] == v["content_hash"], (t, c, v["content_hash"])
print("ok: restored, row counts and content hashes equal expected.json:", got)
PY

validate "$work/dry.json" "$work/restore.json"
echo "ok: --json events match cli/events.schema.json"

echo "--- --path-on-server: the server sees the folder under another path (a container): the SQL names that one"
ln -s "$work/allowed" "$work/mount"   # this machine writes through "mount"; the engine knows "allowed"
"$bin" --json restore "$fixture" --clickhouse "$url" --as MESFIX_viewed --server-backup-path "$work/mount" \
  --path-on-server "$work/allowed" >"$work/viewed.json"
"$py" - "$work/viewed.json" "$work/allowed" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
plan = [e for e in ev if e["event"] == "restore_plan"][0]
assert f"FROM File('{sys.argv[2]}/mesbackup-restore-MESFIX_viewed-" in plan["sql"], plan["sql"]
extracted = [e for e in ev if e.get("step") == "extracted"][0]
assert "/mount/mesbackup-restore-MESFIX_viewed-" in extracted["dir"], extracted
assert [e for e in ev if e["event"] == "restored"][0]["ok"], ev
print("ok: restored with --path-on-server (SQL names the server's path, files written through the local one)")
PY
validate "$work/viewed.json"

echo "--- restoring again into the now non-empty database is refused by the plan"
set +e
"$bin" restore "$fixture" --clickhouse "$url" --as MESFIX_restored --dry-run >"$work/again.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "non_empty_target" "$work/again.out" || { cat "$work/again.out"; echo "non-empty target not refused"; exit 1; }
echo "ok: non-empty target refused"
echo "--- a damaged package is refused before the target is asked anything"
"$py" - "$fixture" "$work/damaged.zip" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(b"MESFIX_backup/data/") ; i = b.find(b"data.bin", i)
# flip a byte inside the first data.bin's content (stored, no extra field: it starts right after the name)
b[i + len(b"data.bin") + 30] ^= 0xFF
open(sys.argv[2], "wb").write(bytes(b))
PY
set +e
"$bin" restore "$work/damaged.zip" --clickhouse "http://127.0.0.1:9/" --dry-run >"$work/damaged.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 11 ] || { cat "$work/damaged.out"; echo "expected exit 11 (integrity), got $rc"; exit 1; }
echo "ok: damaged package refused (exit 11)"

echo "--- test-restore: both fixtures pass and are dropped, the damaged package fails with its name"
set +e
"$bin" --json test-restore "$fixture" tests/fixtures/clickhouse/mesfix_deflated.zip "$work/damaged.zip" \
  --clickhouse "$url" --server-backup-path "$work/allowed" >"$work/tr.json"
rc=$?
set -e
[ "$rc" -eq 11 ] || { cat "$work/tr.json"; echo "expected exit 11, got $rc"; exit 1; }
validate "$work/tr.json"
"$py" - "$work/tr.json" "$url" <<'PY'
import json, re, sys, urllib.request
ev = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["event"] == "test_restore"]
assert [e["ok"] for e in ev] == [True, True, False], ev
for e in ev[:2]:
    assert re.fullmatch(r"mesbackup_testrestore_MESFIX_[0-9a-f]{8}", e["target_database"]), e
    assert e["dropped"] and e["tables_checked"] == 4 and e["rows_checked"] == 4335, e
assert ev[2]["error"]["kind"] == "integrity" and "MESFIX_backup/data/" in ev[2]["error"]["message"], ev[2]
r = urllib.request.urlopen(urllib.request.Request(sys.argv[2] + "?default_format=JSONEachRow", data=b"SELECT name FROM system.databases"))
names = [json.loads(l)["name"] for l in r.read().decode().splitlines() if l.strip()]
assert not [n for n in names if n.startswith("mesbackup_testrestore_")], names
print("ok: test-restore results", [(e["path"].rsplit("/", 1)[-1], e["ok"]) for e in ev])
PY
[ -z "$(ls -A "$work/allowed")" ] || { ls "$work/allowed"; echo "extracted folders left behind"; exit 1; }
echo "--- restore safety (tests/e2e/test_restore_safety.py): hostile packages, existing databases, redirects,"
echo "    a silent server, plain http, URL credentials, extracted file modes"
MESBACKUP_BIN="$bin" "$py" -m pytest -q -p no:cacheprovider tests/e2e/test_restore_safety.py
echo "60-restore: all passed"
