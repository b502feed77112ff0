#!/usr/bin/env bash
# Restore against a real engine: a thin HTTP front (tests/chdb-http/server.py) over a chdb session
# (real ClickHouse 26.x in-process), driven by pytest through the `mesbackup` binary:
# - tests/e2e/test_cli_restore.py: restore --dry-run on the committed fixture (no problems); a
#   real-engine package whose table needs a storage policy the target lacks (the plan names it,
#   nothing runs); a real restore of mesfix_stored.zip under another name with row counts and content
#   hashes equal to tests/fixtures/clickhouse/expected.json; --path-on-server; a non-empty target and
#   a damaged package refused; test-restore; every --json event checked against cli/events.schema.json;
# - tests/e2e/test_restore_safety.py: hostile packages, existing databases, redirects, a silent
#   server, plain http, URL credentials, extracted file modes.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"

venv="${CARGO_TARGET_DIR:-$root/target}/venv-chdb"
echo "--- chdb-core venv ($venv)"
ensure_chdb_venv "$venv" jsonschema pytest
py="$venv/bin/python"

echo "--- build mesbackup"
cargo build -q -p mesbackup-cli
bin="${CARGO_TARGET_DIR:-$root/target}/debug/mesbackup"

echo "--- pytest tests/e2e/test_cli_restore.py: dry run, storage policy, real restore, --path-on-server,"
echo "    non-empty target, damaged package, test-restore, event schema"
MESBACKUP_BIN="$bin" "$py" -m pytest -v -s -p no:cacheprovider tests/e2e/test_cli_restore.py
echo "--- pytest tests/e2e/test_restore_safety.py: hostile packages, existing databases, redirects,"
echo "    a silent server, plain http, URL credentials, extracted file modes"
MESBACKUP_BIN="$bin" "$py" -m pytest -q -p no:cacheprovider tests/e2e/test_restore_safety.py
echo "60-restore: all passed"
