#!/usr/bin/env bash
# Python: builds the `mesbackup` wheel (maturin, abi3) into a virtual environment, then runs the pytest
# suite in bindings-py/tests (every scenario against mock-mes, asyncio, Ctrl-C, errors and secrets,
# naming helpers, display of results, progress bars, a fresh-venv install of the wheel), mypy --strict
# over the package's Python, the example and stubs, stubtest of the native module, the pdoc API reference into target/doc-py, and ruff
# (lint and format check, ruff.toml) over every Python file of the project.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/venv-py"

echo "--- virtual environment ($venv: maturin, pytest, mypy, ruff)"
# ruff is pinned to a minor version: its default rules and its formatting change between them.
ensure_venv "$venv" "maturin>=1.16,<2" pytest mypy "ruff>=0.17,<0.18" tqdm pdoc
py="$venv/bin/python"

echo "--- mock-mes"
cargo build -q -p mock-mes --bin mock-mes
export MOCK_MES="$target/debug/mock-mes"

echo "--- wheel (maturin build --release)"
rm -rf "$target/wheels-py"
(cd bindings-py && "$venv/bin/maturin" build --release -q -i "$py" --out "$target/wheels-py")
wheel="$(ls "$target"/wheels-py/mesbackup-*.whl | head -n 1)"
"$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
export MESBACKUP_WHEEL="$wheel"

echo "--- pytest"
# Run from the tests folder so `import mesbackup` is the installed wheel, not the source tree.
(cd bindings-py/tests && "$py" -m pytest -q -p no:cacheprovider .)

echo "--- README vocabulary table: every Python spelling in the installed package's signatures and stubs"
"$py" tests/vocabulary/check_table.py python --self-test

echo "--- stubtest: the native module against its stub (_mesbackup.pyi)"
(cd bindings-py/tests && "$py" -m mypy.stubtest mesbackup._mesbackup)

echo "--- mypy --strict (the package's Python, example, typed usage)"
(cd bindings-py && "$py" -m mypy --strict --no-incremental python/mesbackup examples/backup_system.py tests/typed_usage.py)

echo "--- API reference (pdoc, from the docstrings and stubs of the installed package) into $target/doc-py"
rm -rf "$target/doc-py"
(cd bindings-py/tests && "$py" -m pdoc -o "$target/doc-py" mesbackup)
test -s "$target/doc-py/mesbackup.html"
echo "$target/doc-py/index.html"

echo "--- ruff check, ruff format --check (every Python file; ruff.toml; \`ruff format .\` rewrites)"
"$venv/bin/ruff" --version
"$venv/bin/ruff" check --no-cache .
"$venv/bin/ruff" format --check --no-cache .
