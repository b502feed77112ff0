#!/usr/bin/env bash
# Notebook: runs bindings-py/examples/notebook.ipynb headless (nbclient + ipykernel) against mock-mes
# with the mesbackup wheel (back up a system with progress bars, verify, tables, the backup window
# plot, the installer folder, test-restore into a chdb session, the range to re-run, async), checks
# every cell ran without error and that the expected tables and figure are in the outputs, renders
# it to HTML (nbconvert) and screenshots that in headless Chromium; then interrupts a kernel in the
# middle of a sync and an async download and checks no partial file is left. The executed notebook,
# notebook.html and notebook.png land in tests/artifacts/ (not committed).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/venv-nb"

echo "--- chromium (apt)"
ensure_apt chromium

echo "--- notebook venv ($venv: chdb-core, nbclient, ipykernel, ipywidgets, nbconvert, matplotlib, pandas, tqdm, pytest)"
ensure_chdb_venv "$venv" nbclient ipykernel ipywidgets nbconvert matplotlib pandas tqdm pytest
py="$venv/bin/python"

echo "--- mock-mes"
cargo build -q -p mock-mes --bin mock-mes
export MOCK_MES="$target/debug/mock-mes"

echo "--- mesbackup wheel (the one 30-python built in $target/wheels-py, else built here)"
wheel="$(ls -t "$target"/wheels-py/mesbackup-*.whl 2>/dev/null | head -n 1 || true)"
if [ -z "$wheel" ]; then
  ensure_venv "$target/venv-py" "maturin>=1.16,<2"
  (cd bindings-py && "$target/venv-py/bin/maturin" build --release -q -i "$target/venv-py/bin/python" --out "$target/wheels-py")
  wheel="$(ls -t "$target"/wheels-py/mesbackup-*.whl | head -n 1)"
fi
# Reinstalled only when the wheel changed (the venv remembers the SHA-256 of the one it holds).
wheel_sum="$(sha256sum "$wheel" | cut -d' ' -f1)"
if [ "$(cat "$venv/.mesbackup-wheel" 2>/dev/null)" != "$wheel_sum" ] || ! "$py" -c 'import mesbackup' 2>/dev/null; then
  "$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
  echo "$wheel_sum" >"$venv/.mesbackup-wheel"
fi
echo "using $(basename "$wheel") ($(date -r "$wheel" '+%F %T'))"

echo "--- pytest tests/notebook"
# No user-level Jupyter config or kernels: the kernel is this venv's own python3.
export JUPYTER_CONFIG_DIR="$target/nb-jupyter-config" JUPYTER_DATA_DIR="$target/nb-jupyter-data" IPYTHONDIR="$target/nb-ipython"
"$py" -m pytest -v -p no:cacheprovider tests/notebook
echo "artifacts: $(ls tests/artifacts/notebook.*)"
