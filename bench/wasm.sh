#!/usr/bin/env bash
# Node download of one 1 GiB package through the WASM package (`mesbackup`, fileSink) vs a plain Node
# fetch -> fs pipeline of the same package from the same mock, in the same run; plus the gzip sizes
# of the two .wasm modules: the download module (wasm/, what a download loads; target <= 250 KiB)
# and the verifier module (wasm-verify/, loaded on first verify()/inspect(); reported, no target).
# Targets: WASM >= 0.8x the plain pipeline's throughput; download .wasm.gz <= 250 KiB.
# Usage: bench/wasm.sh [SIZE_BYTES]   (builds what it needs; prints a markdown table)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
size="${1:-1073754169}"
rounds="${ROUNDS:-2}"

cargo build -q -p mock-mes
[ -f bindings-wasm/pkg/wasm/mesbackup_wasm_bg.wasm ] && [ -f bindings-wasm/pkg/wasm-verify/mesbackup_verify_bg.wasm ] && [ "${REBUILD:-0}" = 0 ] || bindings-wasm/build.sh >/dev/null

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"; [ -n "${mock_pid:-}" ] && kill "$mock_pid" 2>/dev/null || true' EXIT
"$target_dir/debug/mock-mes" --listen 127.0.0.1:0 > "$tmp/mock.out" &
mock_pid=$!
for _ in $(seq 50); do [ -s "$tmp/mock.out" ] && break; sleep 0.1; done
base="$(head -1 "$tmp/mock.out")"

cat > "$tmp/bench.mjs" <<'JS'
import { createWriteStream, mkdirSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { open } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
const [, , base, pkg, tmp, sizeArg, mode] = process.argv;
const size = Number(sizeArg);
const put = (server) => fetch(`${base}/_mock/scenario`, { method: 'PUT', body: JSON.stringify(server) });
await put({ payload: { size, seed: 7 } });
const out = join(tmp, `out-${mode}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out);
const rss = () => { try { return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024; } catch { return NaN; } };
try { writeFileSync('/proc/self/clear_refs', '5'); } catch {}
const rss0 = rss();
const auth = { authorization: 'Bearer admin-token' };
const t0 = performance.now();
if (mode === 'wasm') {
  const { Client } = await import(pathToFileURL(join(pkg, 'index.js')).href);
  const { fileSink } = await import(pathToFileURL(join(pkg, 'node.js')).href);
  const c = new Client({ envUrl: base, token: 'admin-token', pollMinMs: 10, stallTimeoutMs: 60000 });
  await c.backup('MES', { sink: fileSink(out) });
} else {
  const guid = (await (await fetch(`${base}/environment/clickhouse/backup/MES`, { method: 'POST', headers: auth })).text()).trim();
  let res;
  for (;;) {
    res = await fetch(`${base}/environment/clickhouse/backup/${guid}`, { headers: auth });
    if (res.status === 200) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const stages = [Readable.fromWeb(res.body)];
  if (mode === 'fetch+sha256') {
    const h = createHash('sha256');
    stages.push(new Transform({ transform(c, _e, cb) { h.update(c); cb(null, c); } }));
  }
  await pipeline(...stages, createWriteStream(join(out, 'MES.zip')));
  if (mode === 'fetch+fsync') {
    // As durable as mesbackup's sinks: the bytes are on disk before the download counts as done.
    const fh = await open(join(out, 'MES.zip'), 'r+');
    await fh.sync();
    await fh.close();
  }
}
const secs = (performance.now() - t0) / 1000;
const bytes = statSync(join(out, mode === 'wasm' ? 'MES.zip' : 'MES.zip')).size;
if (bytes !== size) throw new Error(`${mode}: saved ${bytes} bytes, expected ${size}`);
rmSync(out, { recursive: true, force: true });
console.log(JSON.stringify({ mode, secs, mibps: bytes / 1048576 / secs, rssGrowthMib: rss() - rss0 }));
JS

declare -A best
for r in $(seq "$rounds"); do
  for mode in fetch fetch+fsync fetch+sha256 wasm; do
    line="$(node "$tmp/bench.mjs" "$base" "$root/bindings-wasm/pkg" "$tmp" "$size" "$mode")"
    echo "round $r: $line" >&2
    mibps="$(echo "$line" | sed -E 's/.*"mibps":([0-9.]+).*/\1/')"
    rssg="$(echo "$line" | sed -E 's/.*"rssGrowthMib":([0-9.-]+).*/\1/')"
    prev="${best[$mode]:-0}"
    if awk "BEGIN{exit !($mibps > $prev)}"; then best[$mode]="$mibps"; best["$mode-rss"]="$rssg"; fi
  done
done
wasm_file=bindings-wasm/pkg/wasm/mesbackup_wasm_bg.wasm
raw=$(wc -c < "$wasm_file"); gz=$(gzip -9 -c "$wasm_file" | wc -c)
verify_file=bindings-wasm/pkg/wasm-verify/mesbackup_verify_bg.wasm
vraw=$(wc -c < "$verify_file"); vgz=$(gzip -9 -c "$verify_file" | wc -c)
echo
echo "| $(awk "BEGIN{printf \"%.2f\", $size/1073741824}") GiB download, Node $(node --version) | MiB/s (best of $rounds) | vs plain fetch->fs | vs fetch->fs+fsync | peak RSS growth |"
echo "|---|---|---|---|---|"
for mode in fetch fetch+fsync fetch+sha256 wasm; do
  label="$mode"; [ "$mode" = fetch ] && label="plain fetch -> fs"; [ "$mode" = fetch+fsync ] && label="plain fetch -> fs, then fsync (durable, like mesbackup)"; [ "$mode" = fetch+sha256 ] && label="plain fetch -> sha256 -> fs"; [ "$mode" = wasm ] && label="mesbackup (WASM) -> fileSink"
  awk -v l="$label" -v m="${best[$mode]}" -v f="${best[fetch]}" -v d="${best[fetch+fsync]}" -v r="${best[$mode-rss]}" 'BEGIN{printf "| %s | %.0f | %.2fx | %.2fx | %.0f MiB |\n", l, m, m/f, m/d, r}'
done
echo
echo "| .wasm | bytes | KiB |"
echo "|---|---|---|"
awk -v r="$raw" -v g="$gz" 'BEGIN{printf "| download module (wasm/), raw | %d | %.0f |\n| download module (wasm/), gzip -9 | %d | %.0f (target <= 250) |\n", r, r/1024, g, g/1024}'
awk -v r="$vraw" -v g="$vgz" 'BEGIN{printf "| verifier module (wasm-verify/, loaded on first verify/inspect), raw | %d | %.0f |\n| verifier module, gzip -9 | %d | %.0f (no target) |\n", r, r/1024, g, g/1024}'
