#!/usr/bin/env bash
# WebAssembly: the npm package `mesbackup` (bindings-wasm) in Node and headless Chromium.
# Installs what it needs (cheaply when present): the wasm32 target, wasm-bindgen-cli 0.2.130,
# Debian's chromium + chromium-driver, the test tools (puppeteer-core, typescript, biome) in bindings-wasm/tests.
# Ends with biome (lint and format check of the JavaScript/TypeScript, bindings-wasm/biome.jsonc).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

echo "--- tools"
ensure_rust_target wasm32-unknown-unknown
ensure_cargo_bin wasm-bindgen wasm-bindgen-cli 0.2.130
ensure_apt chromium chromium-driver fusefat dosfstools fuse
command -v node >/dev/null || ensure_apt nodejs npm
(cd bindings-wasm/tests && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --silent; else npm install --no-audit --no-fund --silent; fi)

echo "--- build: mock-mes, the package (release, size-optimised), the extension"
cargo build -q -p mock-mes
export MOCK_MES_BIN="$target_dir/debug/mock-mes"
cargo build -q -p mesbackup-wasm   # the crate must also build on the native host
bindings-wasm/build.sh

echo "--- wasm-bindgen-test (core and the wasm clock, in Node)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown -p mesbackup-wasm

echo "--- types: tsc --noEmit on a typed example"
bindings-wasm/tests/node_modules/.bin/tsc -p bindings-wasm/examples/tsconfig.json

echo "--- README vocabulary table: every JavaScript spelling in the shipped index.d.ts / node.d.ts"
python3 tests/vocabulary/check_table.py javascript --self-test --package bindings-wasm/pkg \
  --tsc bindings-wasm/tests/node_modules/.bin/tsc

echo "--- node runner: every scenario"
node --test --test-reporter=dot bindings-wasm/tests/scenarios.test.mjs

echo "--- node runner: verify/inspect (ClickHouse fixtures, a damaged copy, a mock download + sidecar)"
node --test --test-reporter=dot bindings-wasm/tests/verify.test.mjs
node --test --test-reporter=dot bindings-wasm/tests/transport.test.mjs
node --test --test-reporter=dot bindings-wasm/tests/sinks.test.mjs
node --test --test-reporter=dot bindings-wasm/tests/file_modes.test.mjs
node --test --test-reporter=dot bindings-wasm/tests/vocabulary.test.mjs
wasm_file=bindings-wasm/pkg/wasm/mesbackup_wasm_bg.wasm
echo "download .wasm: $(wc -c < "$wasm_file") bytes, gzip -9 $(gzip -9 -c "$wasm_file" | wc -c) bytes (bench target <= 250 KiB)"
verify_file=bindings-wasm/pkg/wasm-verify/mesbackup_verify_bg.wasm
echo "verifier .wasm (loaded on first verify/inspect): $(wc -c < "$verify_file") bytes, gzip -9 $(gzip -9 -c "$verify_file" | wc -c) bytes"

echo "--- npm pack, install the tarball into a fresh folder, back up from Node"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"; [ -n "${mock_pid:-}" ] && kill "$mock_pid" 2>/dev/null || true' EXIT
(cd bindings-wasm/pkg && npm pack --silent --pack-destination "$tmp" >/dev/null)
mkdir -p "$tmp/app/out"
(cd "$tmp/app" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "$tmp"/mesbackup-*.tgz)
"$MOCK_MES_BIN" --listen 127.0.0.1:0 > "$tmp/mock.out" &
mock_pid=$!
for _ in $(seq 50); do [ -s "$tmp/mock.out" ] && break; sleep 0.1; done
base="$(head -1 "$tmp/mock.out")"
cat > "$tmp/app/backup.mjs" <<'JS'
import { Client, toolVersion } from 'mesbackup';
import { fileSink } from 'mesbackup/node';
const client = new Client({ envUrl: process.argv[2], token: 'admin-token', minPollDelayMs: 50 });
const saved = await client.backup('MESCDM', { sink: fileSink('out'), fileName: 'MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip' });
console.log(toolVersion(), saved.fileName, saved.size, saved.sha256);
JS
(cd "$tmp/app" && node backup.mjs "$base")
ls "$tmp/app/out" | grep -qx 'MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.mesbackup.json'
kill "$mock_pid"; mock_pid=

echo "--- extension manifest: only the permissions the panel needs (activeTab, not tabs; hosts optional)"
node -e '
  const m = JSON.parse(require("fs").readFileSync("bindings-wasm/extension/manifest.json", "utf8"));
  const want = ["activeTab", "storage", "webRequest"];
  const got = [...m.permissions].sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) { console.error(`permissions ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`); process.exit(1); }
  if (m.host_permissions) { console.error("host_permissions must stay optional (optional_host_permissions)"); process.exit(1); }
'
echo "--- browser: the panel in headless Chromium against mock-mes"
node --test --test-reporter=spec bindings-wasm/tests/browser.test.mjs
echo "screenshot: tests/artifacts/wasm-panel.png"

echo "--- biome check: lint and format of the JavaScript/TypeScript (bindings-wasm/biome.jsonc; --write rewrites)"
(cd bindings-wasm && tests/node_modules/.bin/biome --version && tests/node_modules/.bin/biome check --error-on-warnings .)
