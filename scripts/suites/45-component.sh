#!/usr/bin/env bash
# The core as a WebAssembly component (wit/mesbackup.wit, bindings-wit/): builds it, checks its WIT
# against the checked-in dump and that it imports nothing, then runs two hosts over it: Python
# (wasmtime from PyPI) driving backups against mock-mes through a declared subset of the scenario
# files and verifying the real-engine and hostile fixtures, each compared with the native CLI's
# --json answer; JavaScript (jco transpile, in Node) doing the same verify and naming checks.
# Installs what it needs (cheaply when present): the wasm32 target, wasm-tools (crates.io, pinned,
# only the component/validate/print/parse features), a venv target/venv-wit (wasmtime, pytest, ruff),
# jco and biome in bindings-wit/tests (package-lock.json committed).
# No Rust host: the wasmtime crate (48.0.10 with cranelift, dependencies at opt-level 3 as in this
# workspace) took 8 min 55 s to compile cold on the 2-core machine, half a CI run; wasmtime-py embeds
# the same engine through its C API.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

echo "--- tools"
ensure_rust_target wasm32-unknown-unknown
ensure_rust_component clippy
ensure_cargo_bin wasm-tools wasm-tools 1.263.0 --no-default-features --features component,validate,print,parse
ensure_venv "$target_dir/venv-wit" "wasmtime==50.0.1" pytest "ruff>=0.17,<0.18"
py="$target_dir/venv-wit/bin/python"
command -v node >/dev/null || ensure_apt nodejs npm
(cd bindings-wit/tests && npm ci --no-audit --no-fund --silent)

echo "--- build: the component (wasm32-unknown-unknown + wasm-tools component new), mock-mes, the native CLI"
cargo build -q -p mesbackup-wit   # the crate must also build (empty) on the native host
cargo clippy -q -p mesbackup-wit --target wasm32-unknown-unknown -- -D warnings
component="$(bindings-wit/build.sh)"
cargo build -q -p mock-mes --bin mock-mes -p mesbackup-cli
export MESBACKUP_COMPONENT="$component" MOCK_MES="$target_dir/debug/mock-mes" MESBACKUP_CLI="$target_dir/debug/mesbackup"
echo "component: $(wc -c < "$component") bytes, gzip -9 $(gzip -9 -c "$component" | wc -c) bytes"

echo "--- WIT: the component's interface is the checked-in dump (an interface change is a visible diff)"
dump="$(mktemp)"
trap 'rm -f "$dump"' EXIT
wasm-tools component wit "$component" > "$dump"
if ! diff -u bindings-wit/tests/component.wit "$dump"; then
  echo "the component's WIT changed: review the diff, then: wasm-tools component wit $component > bindings-wit/tests/component.wit" >&2
  exit 1
fi
if grep -n '^ *import ' "$dump"; then
  echo "the component imports something: world core must import nothing (the host does the I/O)" >&2
  exit 1
fi
# wit/mesbackup.wit itself parses and is the package the component exports.
wasm-tools component wit wit/ > /dev/null
grep -q '^package cmf:mesbackup@0.1.0 {' "$dump"

echo "--- Python host (wasmtime $("$py" -c 'import importlib.metadata as m; print(m.version("wasmtime"))')): scenarios against mock-mes, verify, naming, job"
(cd bindings-wit/tests && "$py" -m pytest -q -p no:cacheprovider .)
"$target_dir/venv-wit/bin/ruff" check --no-cache bindings-wit
"$target_dir/venv-wit/bin/ruff" format --check --no-cache bindings-wit

echo "--- JavaScript host (jco transpile, Node $(node --version)): verify and naming"
rm -rf "$target_dir/wit/js"
bindings-wit/tests/node_modules/.bin/jco transpile "$component" -o "$target_dir/wit/js" --name mesbackup --quiet
MESBACKUP_COMPONENT_JS="$target_dir/wit/js/mesbackup.js" node --test --test-reporter=dot bindings-wit/tests/component.test.mjs

echo "--- biome check of the JavaScript (bindings-wit/biome.jsonc; --write rewrites)"
(cd bindings-wit && tests/node_modules/.bin/biome check --error-on-warnings .)
