#!/usr/bin/env bash
# Airflow: docs/schedulers/airflow/mesbackup_dag.py run for real with `airflow dags test` against
# mock-mes (tests/schedulers/test_airflow_dag.py): a healthy night, and a night where one
# environment's backups fail (the DAG run fails, the other environment's tasks succeed, and each
# server saw exactly one POST per database: a start task never runs twice).
#
# apache-airflow comes from PyPI, pinned with everything it resolved to in
# tests/schedulers/airflow-requirements.txt (Airflow's own constraints files are not reachable from
# here), into its own venv $target/venv-airflow, reused while the requirements file is unchanged.
# The mesbackup wheel is 30-python's ($target/wheels-py), built here the same way when absent.
# SQLite metadata in a temporary AIRFLOW_HOME.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/venv-airflow"
requirements="tests/schedulers/airflow-requirements.txt"
suite_start=$(date +%s)

echo "--- virtual environment ($venv: apache-airflow as pinned in $requirements)"
stamp="$venv/.mesbackup-requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x "$venv/bin/airflow" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "reused (requirements unchanged)"
else
  install_start=$(date +%s)
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
  echo "installed in $(( $(date +%s) - install_start )) s"
fi
"$venv/bin/airflow" version

echo "--- mesbackup wheel"
wheel="$(ls "$target"/wheels-py/mesbackup-*.whl 2>/dev/null | head -n 1 || true)"
if [ -z "$wheel" ]; then
  pyvenv="$target/venv-py"
  ensure_venv "$pyvenv" "maturin>=1.16,<2"
  (cd bindings-py && "$pyvenv/bin/maturin" build --release -q -i "$pyvenv/bin/python" --out "$target/wheels-py")
  wheel="$(ls "$target"/wheels-py/mesbackup-*.whl | head -n 1)"
fi
echo "$wheel"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"

echo "--- mock-mes"
cargo build -q -p mock-mes --bin mock-mes
export MOCK_MES="$target/debug/mock-mes"

echo "--- airflow dags test (tests/schedulers/test_airflow_dag.py)"
"$venv/bin/python" tests/schedulers/test_airflow_dag.py
echo "suite time: $(( $(date +%s) - suite_start )) s"
