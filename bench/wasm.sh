#!/usr/bin/env bash
# Node download of one 1 GiB package through the WASM package (`mesbackup`, fileSink) vs a plain Node
# fetch -> fs pipeline of the same package from the same mock, in the same run; plus the gzip sizes
# of the two .wasm modules: the download module (wasm/, what a download loads; target <= 250 KiB)
# and the verifier module (wasm-verify/, loaded on first verify()/inspect(); reported, no target).
# Peers, all plain Node: fetch -> fs (the target's reference); + fsync (as durable as mesbackup);
# + sha256 on the way; + both (the same work mesbackup does: its sidecar needs the SHA-256).
# Targets: WASM >= 0.8x the plain pipeline's throughput; download .wasm.gz <= 250 KiB.
# Usage: bench/wasm.sh [SIZE_BYTES]   (builds what it needs; prints a markdown table)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
size="${1:-1073754169}"
rounds="${ROUNDS:-5}"

cargo build -q -p mock-mes
[ -f bindings-wasm/pkg/wasm/mesbackup_wasm_bg.wasm ] && [ -f bindings-wasm/pkg/wasm-verify/mesbackup_verify_bg.wasm ] && [ "${REBUILD:-0}" = 0 ] || bindings-wasm/build.sh >/dev/null

# Start from an empty page cache when allowed (root). On this VM, with many GiB already cached, the
# runs that hash and fsync (mesbackup, and the same work in plain Node) lost a third of their speed
# to page-cache writes while plain fetch -> fs did not: 0.57-0.72x against 1.03x after a drop.
# DROP_CACHES=0 keeps the cache as it is.
cache_note="page cache left as it was (DROP_CACHES=0, or not allowed)"
if [ "${DROP_CACHES:-1}" = 1 ] && [ -w /proc/sys/vm/drop_caches ]; then
  sync && echo 3 > /proc/sys/vm/drop_caches && cache_note="page cache dropped before the first round"
fi

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
// Loading the package (ESM, .wasm compile and instantiation) is a one-time cost, not throughput:
// timed apart (importMs) and done before the download's clock, CPU and peak-RSS counters start.
let wasm = null, importMs = null;
if (mode === 'wasm') {
  const i0 = performance.now();
  const { Client } = await import(pathToFileURL(join(pkg, 'index.js')).href);
  const { fileSink } = await import(pathToFileURL(join(pkg, 'node.js')).href);
  wasm = { client: new Client({ envUrl: base, token: 'admin-token', pollMinMs: 10, stallTimeoutMs: 60000 }), fileSink };
  importMs = performance.now() - i0;
}
try { writeFileSync('/proc/self/clear_refs', '5'); } catch {}
const rss0 = rss();
const auth = { authorization: 'Bearer admin-token' };
const t0 = performance.now();
const cpu0 = process.cpuUsage();
if (mode === 'wasm') {
  await wasm.client.backup('MES', { sink: wasm.fileSink(out) });
} else {
  const guid = (await (await fetch(`${base}/environment/clickhouse/backup/MES`, { method: 'POST', headers: auth })).text()).trim();
  let res;
  for (;;) {
    res = await fetch(`${base}/environment/clickhouse/backup/${guid}`, { headers: auth });
    if (res.status === 200) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const stages = [Readable.fromWeb(res.body)];
  if (mode === 'fetch+sha256' || mode === 'fetch+sha256+fsync') {
    const h = createHash('sha256');
    stages.push(new Transform({ transform(c, _e, cb) { h.update(c); cb(null, c); } }));
  }
  await pipeline(...stages, createWriteStream(join(out, 'MES.zip')));
  if (mode === 'fetch+fsync' || mode === 'fetch+sha256+fsync') {
    // As durable as mesbackup's sinks: the bytes are on disk before the download counts as done.
    const fh = await open(join(out, 'MES.zip'), 'r+');
    await fh.sync();
    await fh.close();
  }
}
const secs = (performance.now() - t0) / 1000;
// All of this process's threads, finished workers included (getrusage), in CPU seconds per GiB.
const cpu = process.cpuUsage(cpu0);
const cpuPerGib = (cpu.user + cpu.system) / 1e6 / (size / 1073741824);
const bytes = statSync(join(out, mode === 'wasm' ? 'MES.zip' : 'MES.zip')).size;
if (bytes !== size) throw new Error(`${mode}: saved ${bytes} bytes, expected ${size}`);
rmSync(out, { recursive: true, force: true });
console.log(JSON.stringify({ mode, secs, mibps: bytes / 1048576 / secs, cpuPerGib, rssGrowthMib: rss() - rss0, importMs }));
JS

# Rounds are interleaved (every mode once per round), and each mode's figure is
# compared with the plain fetch -> fs peer of the same round: this VM's disk and CPU drift by 1.5x
# over minutes, so a ratio of two medians taken minutes apart would measure the drift. The table
# gives each mode's median MiB/s and the median (min-max) of its per-round ratios.
: > "$tmp/rounds"
modes=(fetch fetch+fsync fetch+sha256 fetch+sha256+fsync wasm)
for r in $(seq "$rounds"); do
  # Each round starts with another mode, so that none always runs right after the same neighbour.
  for i in "${!modes[@]}"; do
    mode="${modes[$(( (i + r) % ${#modes[@]} ))]}"
    # Settle the previous run's clean-up before timing the next: deleting a 1 GiB file that was
    # fsynced frees its blocks, and with ext4's online `discard` (this VM's root) the TRIM runs at
    # the next journal commit, stalling whichever run comes next by up to a third.
    sync
    line="$(node "$tmp/bench.mjs" "$base" "$root/bindings-wasm/pkg" "$tmp" "$size" "$mode")"
    echo "round $r: $line" >&2
    echo "$r $line" >> "$tmp/rounds"
  done
done
wasm_file=bindings-wasm/pkg/wasm/mesbackup_wasm_bg.wasm
raw=$(wc -c < "$wasm_file"); gz=$(gzip -9 -c "$wasm_file" | wc -c)
verify_file=bindings-wasm/pkg/wasm-verify/mesbackup_verify_bg.wasm
vraw=$(wc -c < "$verify_file"); vgz=$(gzip -9 -c "$verify_file" | wc -c)
echo
CACHE_NOTE="$cache_note" node - "$tmp/rounds" "$size" "$rounds" <<'JS'
const [file, size, rounds] = process.argv.slice(2);
const rows = require('node:fs').readFileSync(file, 'utf8').trim().split('\n').map((l) => {
  const i = l.indexOf(' ');
  return { round: l.slice(0, i), ...JSON.parse(l.slice(i + 1)) };
});
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const of = (mode) => rows.filter((r) => r.mode === mode);
const perRound = (mode, peer) => of(mode).map((r) => r.mibps / of(peer).find((p) => p.round === r.round).mibps);
const ratio = (xs) => `${median(xs).toFixed(2)}x (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
const labels = {
  fetch: 'plain fetch -> fs',
  'fetch+fsync': 'plain fetch -> fs, then fsync (durable, like mesbackup)',
  'fetch+sha256': 'plain fetch -> sha256 -> fs',
  'fetch+sha256+fsync': 'plain fetch -> sha256 -> fs, then fsync (the same work as mesbackup, in plain Node)',
  wasm: 'mesbackup (WASM) -> fileSink (hashes, durable)',
};
console.log(`| ${(size / 1073741824).toFixed(2)} GiB download, Node ${process.version}, ${rounds} rounds | MiB/s (median) | vs plain fetch->fs, same round: median (min-max) | vs fetch->fs+fsync, same round | vs fetch->sha256->fs+fsync, same round | Node CPU s per GiB (median) | peak RSS growth (median) |`);
console.log('|---|---|---|---|---|---|---|');
for (const mode of Object.keys(labels)) {
  console.log(`| ${labels[mode]} | ${median(of(mode).map((r) => r.mibps)).toFixed(0)} | ${ratio(perRound(mode, 'fetch'))} | ${ratio(perRound(mode, 'fetch+fsync'))} | ${ratio(perRound(mode, 'fetch+sha256+fsync'))} | ${median(of(mode).map((r) => r.cpuPerGib)).toFixed(2)} | ${median(of(mode).map((r) => r.rssGrowthMib)).toFixed(0)} MiB |`);
}
console.log(`\n${process.env.CACHE_NOTE}.`);
console.log(`Loading the package (import + .wasm instantiation + new Client), not in the figures above: median ${median(of('wasm').map((r) => r.importMs)).toFixed(0)} ms.`);
JS
echo
echo "| .wasm | bytes | KiB |"
echo "|---|---|---|"
awk -v r="$raw" -v g="$gz" 'BEGIN{printf "| download module (wasm/), raw | %d | %.0f |\n| download module (wasm/), gzip -9 | %d | %.0f (target <= 250) |\n", r, r/1024, g, g/1024}'
awk -v r="$vraw" -v g="$vgz" 'BEGIN{printf "| verifier module (wasm-verify/, loaded on first verify/inspect), raw | %d | %.0f |\n| verifier module, gzip -9 | %d | %.0f (no target) |\n", r, r/1024, g, g/1024}'
