#!/usr/bin/env bash
# Verify throughput of the WebAssembly component (bindings-wit) vs the native verifier, same file, same
# run: the native core (`verify-bench --chunk 65536`, release) against the component fed 64 KiB chunks
# from Python (wasmtime from PyPI, the suite's venv) and from Node (jco transpile). Plus the component's
# size, raw and gzip. The package is a mock one (`mock-mes payload`, deterministic), kept in $BENCH_DIR.
#
#   bench/component.sh [SIZE_BYTES] [ROUNDS]     (default 64 MiB, 3 rounds; best round shown)
#
# Node's V8 compiles wasm in tiers (a baseline first, optimised code later): each Node round verifies the
# file three times in one process and counts its fastest pass. wasmtime compiles ahead of time (Cranelift).
#
# Needs what scripts/suites/45-component.sh installs (wasm-tools, target/venv-wit, bindings-wit/tests/node_modules).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
SIZE=${1:-67108864}
ROUNDS=${2:-3}
DIR=${BENCH_DIR:-/tmp/mesbackup-bench}
target_dir="${CARGO_TARGET_DIR:-$root/target}"
py="$target_dir/venv-wit/bin/python"
mkdir -p "$DIR"
PKG="$DIR/MESCDM_$SIZE.zip"

cargo build --release -q -p mock-mes -p mesbackup-bench --bin mock-mes --bin verify-bench
component="$(bindings-wit/build.sh)"
js="$target_dir/wit/js-bench"
rm -rf "$js"
bindings-wit/tests/node_modules/.bin/jco transpile "$component" -o "$js" --name mesbackup --quiet
if [ ! -s "$PKG" ] || [ "$(stat -c %s "$PKG")" != "$SIZE" ]; then
  "$target_dir/release/mock-mes" payload --database MESCDM --size "$SIZE" --seed 1 > "$PKG.tmp"
  mv "$PKG.tmp" "$PKG"
fi
cat "$PKG" > /dev/null   # warm the page cache for every reader alike

native() { "$target_dir/release/verify-bench" "$PKG" --chunk 65536 | awk '{print $1, $6}'; }
python_host() {
  "$py" - "$component" "$PKG" <<'PY'
import sys, time
sys.path.insert(0, "bindings-wit/hosts/python")
from mesbackup_component import MesBackupComponent
comp = MesBackupComponent(sys.argv[1])  # compiled before the clock starts
start = time.perf_counter()
v = comp.call("verify", "[static]verifier.create", None)
with open(sys.argv[2], "rb") as f:
    while chunk := f.read(65536):
        comp.method("verify", "verifier", "feed", v, chunk)
r = comp.method("verify", "verifier", "finish", v).report
assert r.ok, [p.message for p in r.problems]
print(f"{time.perf_counter() - start:.4f} {r.sha256}")
PY
}
node_host() {
  node --input-type=module - "$js/mesbackup.js" "$PKG" <<'JS'
import { openSync, readSync } from 'node:fs';
const [, , mod, pkg] = process.argv;
const { verify } = await import(mod);
let best = Infinity;
let sha;
for (let pass = 0; pass < 3; pass++) {
  const start = process.hrtime.bigint();
  const v = verify.Verifier.create(undefined);
  const fd = openSync(pkg, 'r');
  const buf = Buffer.alloc(65536);
  for (;;) { const n = readSync(fd, buf, 0, 65536, null); if (n === 0) break; v.feed(buf.subarray(0, n)); }
  const { report } = v.finish();
  if (!report.ok) throw new Error(report.problems.map((p) => p.message).join('; '));
  best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  sha = report.sha256;
}
console.log(`${best.toFixed(4)} ${sha}`);
JS
}

best() { printf '%s\n' "$@" | sort -g | head -1; }
n_t=(); p_t=(); j_t=()
for r in $(seq 1 "$ROUNDS"); do
  read -r nt nsha < <(native)
  read -r pt psha < <(python_host)
  read -r jt jsha < <(node_host)
  [ "$nsha" = "$psha" ] && [ "$nsha" = "$jsha" ] || { echo "SHA-256 differ: native $nsha python $psha node $jsha" >&2; exit 1; }
  n_t+=("$nt"); p_t+=("$pt"); j_t+=("$jt")
  echo "round $r: native ${nt}s, component from Python ${pt}s, component from Node ${jt}s" >&2
done
N=$(best "${n_t[@]}"); P=$(best "${p_t[@]}"); J=$(best "${j_t[@]}")
mbps() { echo "scale=1; $SIZE / $1 / 1000000" | bc; }
echo
echo "verify of a $SIZE-byte package in 64 KiB chunks (CRC-32 + manifest + checksums.txt + SHA-256), best of $ROUNDS, $(nproc) cores"
printf '| %-58s | %8s | %8s | %12s |\n' "verifier" "seconds" "MB/s" "vs native"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" "----------" "----------" "--------------"
printf '| %-58s | %8.3f | %8s | %12s |\n' "native core (verify-bench, release)" "$N" "$(mbps "$N")" "1.00x"
printf '| %-58s | %8.3f | %8s | %11sx |\n' "component, Node $(node --version) (jco 1.35.0)" "$J" "$(mbps "$J")" "$(echo "scale=3; $N / $J" | bc)"
printf '| %-58s | %8.3f | %8s | %11sx |\n' "component, Python (wasmtime $("$py" -c 'import importlib.metadata as m; print(m.version("wasmtime"))'))" "$P" "$(mbps "$P")" "$(echo "scale=4; $N / $P" | bc)"
echo
echo "component: $(wc -c < "$component") bytes, gzip -9 $(gzip -9 -c "$component" | wc -c) bytes"
