#!/usr/bin/env bash
# CLI benchmark: one run, one table, against the loopback mock-mes (release builds).
#   1. durable download at 1 and 4 GiB: mesbackup vs curl -o, curl -o + fsync, dd oflag=direct (the disk),
#      five interleaved rounds, medians and ranges, page cache left behind (target >= 1.1x curl+fsync)
#   2. peak RSS of mesbackup for 256 MiB, 1 and 4 GiB (target <= 32 MiB, and flat)
#   3. four databases concurrently vs the slowest single one (target <= 1.1x), with backups the mock
#      takes 3 s to prepare (as a real MES does) and 64 MiB each
#   4. start-up time of `mesbackup --version` (target <= 5 ms; mean of 200 runs)
# Usage: bench/cli.sh   (not part of ./scripts/test: it writes ~100 GiB and takes several minutes)
#        BENCH_GIB="1" BENCH_ROUNDS=1 bench/cli.sh   (a quick look)
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
size_256m=$((256 * mib))

# --- 1: durable download at 1 and 4 GiB, five interleaved rounds (the order rotates each round), each
# contender starting from a synced disk and (when allowed) a dropped page cache:
#   mesbackup     SHA-256 + zip probe while writing, fsync, rename, sidecar
#   curl          curl -o FILE (not durable: the bytes may still be only in the page cache)
#   curl+fsync    curl -o FILE, then `sync FILE` (fsync of that file): the fair, durable peer
#   dd-direct     dd of zeros with oflag=direct conv=fsync, same size, same folder: the disk's own limit
# After each: how much of the file is left in the page cache (fincore), and mesbackup's peak RSS.
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
can_drop=no; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null && can_drop=yes
cached_mib() { fincore -b -n -o RES "$1" 2>/dev/null | awk '{printf "%.0f", $1/1048576}'; }
rss_max=0
declare -A secs_of cache_of
contender() { # contender NAME SIZE ROUND: one timed run; records seconds and the cache left
  local name="$1" size="$2" round="$3" t0 t1 secs file
  scenario "{\"payload\":{\"size\":$size,\"seed\":1}}"
  rm -rf "$work/out"; mkdir -p "$work/out"
  case "$name" in
    mesbackup)
      drop_caches
      read -r secs rss < <(timed "$work/t" "$mesbackup" backup MES --out "$work/out" "${fast[@]}")
      [ "$rss" -gt "$rss_max" ] && rss_max=$rss
      file="$(ls "$work"/out/*.zip)" ;;
    curl|curl+fsync)
      guid="$(curl -sf -X POST -H "Authorization: Bearer $MES_TOKEN" "$url/environment/clickhouse/backup/MES")"
      drop_caches
      file="$work/out/curl.zip"
      t0=$(now)
      curl -sf -o "$file" -H "Authorization: Bearer $MES_TOKEN" "$url/environment/clickhouse/backup/$guid"
      [ "$name" = curl+fsync ] && sync "$file"
      t1=$(now)
      secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') ;;
    dd-direct)
      drop_caches
      file="$work/out/dd.bin"
      t0=$(now)
      dd if=/dev/zero of="$file" bs=8M count=$((size / (8 * mib))) oflag=direct conv=fsync status=none
      t1=$(now)
      secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') ;;
  esac
  secs_of["$name/$size"]+="$secs "
  cache_of["$name/$size"]+="$(cached_mib "$file") "
  rm -rf "$work/out"
}
contenders=(mesbackup curl curl+fsync dd-direct)
# "4 GiB" is 4088 MiB: mock-mes serves zip32 packages (under 4 GiB), and dd writes whole 8 MiB blocks.
sizes=(); for g in ${BENCH_GIB:-1 4}; do s=$((g * 1024 * mib)); [ "$g" -ge 4 ] && s=$((s - 8 * mib)); sizes+=($s); done
for size in "${sizes[@]}"; do
  for round in $(seq "${BENCH_ROUNDS:-5}"); do
    for i in 0 1 2 3; do contender "${contenders[$(( (i + round) % 4 ))]}" "$size" "$round"; done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
range() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{printf "%s-%s", lo, hi}'; }

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
four_ratio=$(awk -v f="$four" -v s="$slowest" 'BEGIN{printf "%.2f", f/s}')
rss_256_mib=$(awk -v k="$rss_256" 'BEGIN{printf "%.1f", k/1024}')
rss_max_mib=$(awk -v k="$rss_max" 'BEGIN{printf "%.1f", k/1024}')

printf '\nmesbackup CLI benchmark (%s, %s cores, loopback mock-mes, release builds, %s; page cache dropped before each run: %s)\n\n' \
  "$(uname -m)" "$(nproc)" "$(date -u +%F)" "$can_drop"
printf '| %-58s | %-44s | %-10s | %-4s |\n' "measure" "result" "target" "met"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..6})"
for size in "${sizes[@]}"; do
  gib=$(( (size + 512 * mib) / 1024 / mib ))
  for name in "${contenders[@]}"; do
    med=$(echo "${secs_of[$name/$size]}" | median); rng=$(echo "${secs_of[$name/$size]}" | range)
    cache=$(echo "${cache_of[$name/$size]}" | median)
    printf '| %-58s | %-44s | %-10s | %-4s |\n' "$gib GiB, $name (median; range)" \
      "$(mbps "$size" "$med"), $rng s, cache ${cache} MiB" "" ""
  done
  mb=$(echo "${secs_of[mesbackup/$size]}" | median)
  for peer in curl+fsync curl dd-direct; do
    p=$(echo "${secs_of[$peer/$size]}" | median)
    r=$(awk -v m="$mb" -v c="$p" 'BEGIN{printf "%.2f", c/m}')
    target=""; met=""
    [ "$peer" = curl+fsync ] && { target=">= 1.1"; met="$(ok "$r >= 1.1")"; }
    printf '| %-58s | %-44s | %-10s | %-4s |\n' "$gib GiB, throughput mesbackup / $peer" "$r" "$target" "$met"
  done
  c=$(echo "${cache_of[mesbackup/$size]}" | median)
  printf '| %-58s | %-44s | %-10s | %-4s |\n' "$gib GiB, package left in the page cache (mesbackup)" "$c MiB" "<= 64 MiB" "$(ok "$c <= 64")"
done
printf '| %-58s | %-44s | %-10s | %-4s |\n' "peak RSS, 256 MiB package" "$rss_256_mib MiB" "<= 32 MiB" "$(ok "$rss_256_mib <= 32")"
printf '| %-58s | %-44s | %-10s | %-4s |\n' "peak RSS, 1 and 4 GiB packages (max)" "$rss_max_mib MiB" "<= 32 MiB" "$(ok "$rss_max_mib <= 32")"
printf '| %-58s | %-44s | %-10s | %-4s |\n' "four databases at once (3 s prep, 64 MiB each)" "${four} s" "" ""
printf '| %-58s | %-44s | %-10s | %-4s |\n' "slowest single database alone" "${slowest} s" "" ""
printf '| %-58s | %-44s | %-10s | %-4s |\n' "four at once / slowest single" "$four_ratio" "<= 1.1" "$(ok "$four_ratio <= 1.1")"
printf '| %-58s | %-44s | %-10s | %-4s |\n' "start-up, mesbackup --version (mean of 200)" "$startup_ms ms" "<= 5 ms" "$(ok "$startup_ms <= 5")"
