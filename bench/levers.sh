#!/usr/bin/env bash
# The file sink's levers, one at a time, without the network (`sink-levers`, see its doc comment):
# how the package file is written (plain + fsync, + early writeback, the shipped write-behind with
# cache drop, O_DIRECT), where SHA-256 runs (inline with the receive copy, or its own thread), and
# the write size. Interleaved rounds, page cache dropped before each run (when allowed), medians;
# throughput as a ratio against `plain` (write + one fsync, what curl -o + fsync does) in the same run.
#   bench/levers.sh                          (1 and 4 GiB, 3 rounds)
#   LEVERS_MIB="1024" LEVERS_ROUNDS=1 bench/levers.sh   (a quick look)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build -q --release -p mesbackup-bench --bin sink-levers
lab="$target/release/sink-levers"
dir="$target/bench-levers"; mkdir -p "$dir"
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
can_drop=no; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null && can_drop=yes

# name | arguments after DIR SIZE
variants=(
  "plain (write, fsync)|plain"
  "writeback (+ sync_file_range every 16 MiB)|writeback"
  "shipped (write-behind + DONTNEED)|shipped"
  "direct (O_DIRECT, aligned)|direct"
  "shipped, SHA-256 on its own thread|shipped --hash thread"
  "shipped, 256 KiB writes|shipped --chunk 256"
  "shipped, 4 MiB writes|shipped --chunk 4096"
  "plain, no SHA-256 (the copy alone)|plain --hash none"
)
declare -A secs_of cache_of
sizes=(${LEVERS_MIB:-1024 4088})
for size in "${sizes[@]}"; do
  for round in $(seq "${LEVERS_ROUNDS:-3}"); do
    n=${#variants[@]}
    for i in $(seq 0 $((n - 1))); do
      v="${variants[$(( (i + round) % n ))]}"; name="${v%%|*}"; args="${v#*|}"
      drop_caches
      # shellcheck disable=SC2086
      read -r _ _ _ secs _ cached < <("$lab" "$dir" "$size" $args)
      secs_of["$name/$size"]+="$secs "; cache_of["$name/$size"]+="$cached "
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
range() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{printf "%.2f-%.2f", lo, hi}'; }

printf '\nsink levers (%s, %s cores, %s, folder %s, page cache dropped before each run: %s, %s rounds)\n\n' \
  "$(uname -m)" "$(nproc)" "$(date -u +%F)" "$dir" "$can_drop" "${LEVERS_ROUNDS:-3}"
printf '| %-48s | %-6s | %-26s | %-11s | %-12s |\n' "variant" "MiB" "MiB/s (median; range s)" "vs plain" "cache left"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..50})" "--------" "$(printf -- '-%.0s' {1..28})" "-------------" "--------------"
for size in "${sizes[@]}"; do
  base=$(echo "${secs_of[plain (write, fsync)/$size]}" | median)
  for v in "${variants[@]}"; do
    name="${v%%|*}"
    med=$(echo "${secs_of[$name/$size]}" | median); rng=$(echo "${secs_of[$name/$size]}" | range)
    cache=$(echo "${cache_of[$name/$size]}" | median)
    printf '| %-48s | %-6s | %-26s | %-11s | %-12s |\n' "$name" "$size" \
      "$(awk -v s="$size" -v t="$med" 'BEGIN{printf "%.0f", s/t}') ($rng)" \
      "$(awk -v b="$base" -v t="$med" 'BEGIN{printf "%.2fx", b/t}')" "$cache MiB"
  done
done
