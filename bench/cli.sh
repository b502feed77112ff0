#!/usr/bin/env bash
# CLI benchmark: one run, one table, against the loopback mock-mes (release builds).
#   1. download of a 2 GiB package: mesbackup (SHA-256 + zip probe while writing, fsync, rename,
#      sidecar) vs `curl -o` (throughput ratio, target >= 1.0)
#   2. peak RSS of mesbackup for 256 MiB and 2 GiB (target <= 32 MiB, and flat)
#   3. four databases concurrently vs the slowest single one (target <= 1.1x), with backups the mock
#      takes 3 s to prepare (as a real MES does) and 64 MiB each
#   4. start-up time of `mesbackup --version` (target <= 5 ms; mean of 200 runs)
# Usage: bench/cli.sh        (not part of ./scripts/test: it writes ~5 GiB and takes a minute or two)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
command -v curl >/dev/null || { echo "bench needs curl"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench needs GNU time (/usr/bin/time; apt-get install time)"; exit 1; }

echo "building release binaries…" >&2
cargo build -q --release -p mesbackup-cli -p mock-mes
mesbackup="$target/release/mesbackup"
mock="$target/release/mock-mes"

work="$target/bench-cli"
rm -rf "$work"; mkdir -p "$work"
"$mock" --listen 127.0.0.1:0 > "$work/mock.out" &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/mock.out" ] && break; sleep 0.05; done
url="$(head -1 "$work/mock.out")"
export MES_URL="$url" MES_TOKEN=admin-token

scenario() { curl -sf -X PUT "$url/_mock/scenario" -H 'Content-Type: application/json' -d "$1" >/dev/null; }
now() { date +%s.%N; }
# timed OUTFILE cmd...: runs cmd under GNU time; prints "seconds max_rss_kib"
timed() { local f="$1"; shift; /usr/bin/time -f "%e %M" -o "$f" "$@" >/dev/null 2>"$f.err" || { cat "$f.err" >&2; exit 1; }; cat "$f"; }
fast=(--min-poll-delay 10ms --max-poll-delay 100ms)

mib=$((1024 * 1024))
size_2g=$((2048 * mib))
size_256m=$((256 * mib))

# --- 1 + 2: 2 GiB with mesbackup and with curl, best of 3 rounds. Each round alternates which goes
# first and starts from a synced disk: otherwise the previous 2 GiB's writeback lands on whoever runs next.
best_mb=""; rss_2g=0; best_curl=""; best_curl_sync=""
run_mesbackup() {
  scenario "{\"payload\":{\"size\":$size_2g,\"seed\":1}}"
  rm -rf "$work/out"; mkdir -p "$work/out"; sync
  read -r secs rss < <(timed "$work/t" "$mesbackup" backup MES --out "$work/out" "${fast[@]}")
  [ -z "$best_mb" ] || awk -v a="$secs" -v b="$best_mb" 'BEGIN{exit !(a<b)}' && best_mb="$secs"
  [ "$rss" -gt "$rss_2g" ] && rss_2g=$rss
  rm -rf "$work/out"
}
run_curl() {
  scenario "{\"payload\":{\"size\":$size_2g,\"seed\":1}}"
  guid="$(curl -sf -X POST -H "Authorization: Bearer $MES_TOKEN" "$url/environment/clickhouse/backup/MES")"
  sync
  t0=$(now)
  curl -sf -o "$work/curl.zip" -H "Authorization: Bearer $MES_TOKEN" "$url/environment/clickhouse/backup/$guid"
  t1=$(now)
  sync "$work/curl.zip"   # what mesbackup does before the rename: make the bytes durable
  t2=$(now)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
  secs_sync=$(awk -v a="$t0" -v b="$t2" 'BEGIN{printf "%.2f", b-a}')
  [ -z "$best_curl" ] || awk -v a="$secs" -v b="$best_curl" 'BEGIN{exit !(a<b)}' && best_curl="$secs"
  [ -z "$best_curl_sync" ] || awk -v a="$secs_sync" -v b="$best_curl_sync" 'BEGIN{exit !(a<b)}' && best_curl_sync="$secs_sync"
  rm -f "$work/curl.zip"
}
for round in 1 2 3; do
  if [ $((round % 2)) = 1 ]; then run_mesbackup; run_curl; else run_curl; run_mesbackup; fi
done

# --- 2: 256 MiB
scenario "{\"payload\":{\"size\":$size_256m,\"seed\":1}}"
mkdir -p "$work/out"
read -r _ rss_256 < <(timed "$work/t" "$mesbackup" backup MES --out "$work/out" "${fast[@]}")
rm -rf "$work/out"

# --- 3: four at once vs each alone (3 s preparation, 64 MiB)
four_scn="{\"pending_ms\":3000,\"payload\":{\"size\":$((64 * mib)),\"seed\":1}}"
slowest=0
for db in MES MESCDM MESODS MESDWH; do
  scenario "$four_scn"; mkdir -p "$work/out"
  read -r secs _ < <(timed "$work/t" "$mesbackup" backup "$db" --out "$work/out" "${fast[@]}")
  rm -rf "$work/out"
  awk -v a="$secs" -v b="$slowest" 'BEGIN{exit !(a>b)}' && slowest=$secs
done
scenario "$four_scn"; mkdir -p "$work/out"
read -r four _ < <(timed "$work/t" "$mesbackup" backup --system MES --out "$work/out" "${fast[@]}")
rm -rf "$work/out"

# --- 4: start-up
"$mesbackup" --version >/dev/null
t0=$(now)
for _ in $(seq 200); do "$mesbackup" --version >/dev/null; done
t1=$(now)
startup_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)*1000/200}')

# --- table
mbps() { awk -v s="$1" -v t="$2" 'BEGIN{printf "%.0f MiB/s", s/1048576/t}'; }
ok() { awk "BEGIN{exit !($1)}" && echo "yes" || echo "NO"; }
ratio=$(awk -v m="$best_mb" -v c="$best_curl" 'BEGIN{printf "%.2f", c/m}')
ratio_sync=$(awk -v m="$best_mb" -v c="$best_curl_sync" 'BEGIN{printf "%.2f", c/m}')
four_ratio=$(awk -v f="$four" -v s="$slowest" 'BEGIN{printf "%.2f", f/s}')
rss_256_mib=$(awk -v k="$rss_256" 'BEGIN{printf "%.1f", k/1024}')
rss_2g_mib=$(awk -v k="$rss_2g" 'BEGIN{printf "%.1f", k/1024}')

printf '\nmesbackup CLI benchmark (%s, %s cores, loopback mock-mes, release builds)\n\n' "$(uname -m)" "$(nproc)"
printf '| %-58s | %-34s | %-10s | %-4s |\n' "measure" "result" "target" "met"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" "$(printf -- '-%.0s' {1..36})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..6})"
printf '| %-58s | %-34s | %-10s | %-4s |\n' "2 GiB download, mesbackup (SHA-256 while writing, fsync)" "${best_mb} s, $(mbps $size_2g "$best_mb")" "" ""
printf '| %-58s | %-34s | %-10s | %-4s |\n' "2 GiB download, curl -o" "${best_curl} s, $(mbps $size_2g "$best_curl")" "" ""
printf '| %-58s | %-34s | %-10s | %-4s |\n' "2 GiB download, curl -o then sync FILE (durable, like us)" "${best_curl_sync} s, $(mbps $size_2g "$best_curl_sync")" "" ""
printf '| %-58s | %-34s | %-10s | %-4s |\n' "throughput ratio mesbackup / curl -o" "$ratio" ">= 1.0" "$(ok "$ratio >= 1.0")"
printf '| %-58s | %-34s | %-10s | %-4s |\n' "throughput ratio mesbackup / (curl -o + sync)" "$ratio_sync" ">= 1.0" "$(ok "$ratio_sync >= 1.0")"
printf '| %-58s | %-34s | %-10s | %-4s |\n' "peak RSS, 256 MiB package" "$rss_256_mib MiB" "<= 32 MiB" "$(ok "$rss_256_mib <= 32")"
printf '| %-58s | %-34s | %-10s | %-4s |\n' "peak RSS, 2 GiB package" "$rss_2g_mib MiB" "<= 32 MiB" "$(ok "$rss_2g_mib <= 32")"
printf '| %-58s | %-34s | %-10s | %-4s |\n' "four databases at once (3 s prep, 64 MiB each)" "${four} s" "" ""
printf '| %-58s | %-34s | %-10s | %-4s |\n' "slowest single database alone" "${slowest} s" "" ""
printf '| %-58s | %-34s | %-10s | %-4s |\n' "four at once / slowest single" "$four_ratio" "<= 1.1" "$(ok "$four_ratio <= 1.1")"
printf '| %-58s | %-34s | %-10s | %-4s |\n' "start-up, mesbackup --version (mean of 200)" "$startup_ms ms" "<= 5 ms" "$(ok "$startup_ms <= 5")"
