#!/usr/bin/env bash
# CLI: the client's folder operations, the CLI's unit tests, every scenario file through the real
# `mesbackup` binary, the CLI behaviour tests (secrets, folders, Ctrl-C, kill -9, demo; SIGTERM and
# SIGHUP; file modes under umask 022; two runs in different PID namespaces sharing a folder, through
# `unshare --pid --fork --mount-proc`, which fails loudly where it cannot run), and every --json output
# validated against cli/events.schema.json (Python jsonschema in a venv); `mesbackup run`'s metrics
# checked by promtool; the systemd units verified by systemd-analyze; the Kubernetes CronJob checked
# offline (tests/schedulers/check_kubernetes.py).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"

echo "--- python jsonschema for the event schema checks"
ensure_venv "$root/target/venv-cli" jsonschema
export MESBACKUP_PYTHON="$root/target/venv-cli/bin/python"
"$MESBACKUP_PYTHON" -c 'import json, sys, jsonschema; jsonschema.Draft202012Validator.check_schema(json.load(open(sys.argv[1])))' \
  cli/events.schema.json

echo "--- promtool (from Debian's prometheus package) for the run metrics check"
ensure_promtool "$root/target/promtool"
export MESBACKUP_PROMTOOL="$root/target/promtool/promtool"
"$MESBACKUP_PROMTOOL" --version | head -1

echo "--- cargo test: client folder operations"
cargo test -q -p mesbackup-client --lib folder

echo "--- cargo test: CLI (unit, scenarios through the binary, behaviour)"
cargo test -p mesbackup-cli

echo "--- README vocabulary table: every CLI spelling in mesbackup <command> --help, the old ones still accepted"
cargo build -q -p mesbackup-cli
cli_bin="$(cargo metadata --format-version 1 --no-deps | "$MESBACKUP_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/mesbackup"
"$MESBACKUP_PYTHON" tests/vocabulary/check_table.py cli --self-test --cli "$cli_bin"

echo "--- Kubernetes CronJob (docs/schedulers/kubernetes): schemas, kubectl offline, the config through the CLI"
ensure_venv "$root/target/venv-k8s" "kubernetes-validate>=1.30"
# kubectl reads the manifests offline; Debian's kubernetes-client provides it where none is installed.
command -v kubectl >/dev/null 2>&1 || ensure_apt kubernetes-client || echo "kubectl could not be installed"
"$root/target/venv-k8s/bin/python" tests/schedulers/check_kubernetes.py --cli "$cli_bin"

echo "--- bench/cli.sh parses (run it by hand: it is too slow for the suite)"
bash -n bench/cli.sh
