#!/usr/bin/env bash
# End to end against a real ClickHouse engine (chdb-core: ClickHouse 26.x in-process); the steps are
# tests/e2e/test_end_to_end.py, run by pytest in the chdb venv with the `mesbackup` wheel installed:
#  1. a source database named like an MES database (E2EMES: MergeTree tables of several column types,
#     several parts each) is backed up by the engine and zipped as an MES package
#     (tests/chdb-http/make_e2e_backup.py), rows and sum(cityHash64(*)) recorded per table;
#  2. mock-mes serves that zip as it is (scenario `"payload": {"file": ...}`);
#  3. the CLI (`mesbackup backup`) and Python (`mesbackup.Client.backup`) download it: both files
#     byte-identical to the source zip, and each sidecar's sha256 the same;
#  4. `mesbackup verify` (exit 0), Python `mesbackup.verify`, `mesbackup --json inspect` (rows and
#     parts per table equal the source's);
#  5. `mesbackup restore` into a FRESH engine (another tests/chdb-http/server.py process) under
#     another name; count() and the content hash per table, asked of the engine directly, equal
#     the source's;
#  5b. Python restore of its download through a chdb-session executor (tests/chdb-http/python_restore.py),
#     RESTORE_FAILED provoked on the engine, Python test_restore;
#  6. one byte flipped inside a data file of a copy: verify exits 11 naming that file;
#  8. `mesbackup run` (and Python's `mesbackup.run`) with [environment.test_restore]
#     (tests/e2e/test_run_test_restore.py): the chosen packages test-restored on the engine, row
#     counts matched, throwaway databases dropped; an unreachable ClickHouse and a damaged package
#     fail the step with the documented exit-code ranks; no password reaches a hook or the output.
# Every step prints `ok: ...`; anything that differs fails its test with what differed.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
suite_start=$(date +%s)

venv="$target/venv-chdb"
echo "--- chdb-core venv ($venv)"
ensure_chdb_venv "$venv" pytest jsonschema
py="$venv/bin/python"

echo "--- build mesbackup and mock-mes"
cargo build -q -p mesbackup-cli --bin mesbackup -p mock-mes --bin mock-mes
bin="$target/debug/mesbackup"
mock="$target/debug/mock-mes"

echo "--- Python package mesbackup (maturin build --release into $target/wheels-py, as 30-python does; quick when fresh)"
ensure_venv "$target/venv-py" "maturin>=1.16,<2"
(cd bindings-py && "$target/venv-py/bin/maturin" build --release -q -i "$target/venv-py/bin/python" --out "$target/wheels-py")
wheel="$(ls -t "$target"/wheels-py/mesbackup-*.whl | head -n 1)"
# Reinstalled only when the wheel changed (the venv remembers the SHA-256 of the one it holds).
wheel_sum="$(sha256sum "$wheel" | cut -d' ' -f1)"
if [ "$(cat "$venv/.mesbackup-wheel" 2>/dev/null)" != "$wheel_sum" ] || ! "$py" -c 'import mesbackup' 2>/dev/null; then
  "$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
  echo "$wheel_sum" >"$venv/.mesbackup-wheel"
fi
echo "using $(basename "$wheel") ($(date -r "$wheel" '+%F %T'))"

echo "--- pytest tests/e2e/test_end_to_end.py"
MESBACKUP_BIN="$bin" MOCK_MES="$mock" "$py" -m pytest -v -s -p no:cacheprovider tests/e2e/test_end_to_end.py

echo "--- pytest tests/e2e/test_run_test_restore.py: mesbackup run with [environment.test_restore]"
MESBACKUP_BIN="$bin" MOCK_MES="$mock" "$py" -m pytest -v -s -p no:cacheprovider tests/e2e/test_run_test_restore.py

# 7. A package whose table needs a storage policy the target lacks (the plan names the policy and
# exits 2 before anything runs, with --dry-run and without): covered by tests/e2e/test_cli_restore.py
# (60-restore) with tests/chdb-http/make_policy_backup.py; the download path adds nothing to it (the bytes are
# the same), so it is not repeated here.

echo "70-e2e: all passed in $(( $(date +%s) - suite_start )) s"
