#!/usr/bin/env bash
# Python benchmark: one run, one table, against the loopback mock-mes (release builds).
#   1. download of the same 2 GiB package: the Python package (`mesbackup.Client.backup`, whole
#      process: interpreter start, import, POST, wait, download with SHA-256, fsync, rename, sidecar)
#      vs the CLI (`mesbackup backup`, whole process) vs `curl -o` (the GET alone);
#      target: Python >= 0.95x the CLI's throughput. Falls back to curl as the reference when the CLI
#      cannot be built, and says so.
#   2. peak RSS of the Python process for a 256 MiB and a 2 GiB package (flat: the same).
# Usage: bench/python.sh      (not part of ./scripts/test: it writes ~13 GiB and takes a few minutes)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib.sh
target="${CARGO_TARGET_DIR:-$root/target}"
command -v curl >/dev/null || { echo "bench needs curl"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench needs GNU time (/usr/bin/time; apt-get install time)"; exit 1; }

echo "building release binaries and the wheel…" >&2
cargo build -q --release -p mock-mes
mock="$target/release/mock-mes"
cli="$target/release/mesbackup"
if ! cargo build -q --release -p mesbackup-cli 2>/dev/null || [ ! -x "$cli" ]; then
  echo "the CLI does not build: Python is compared with curl only" >&2
  cli=""
fi
venv="$target/venv-py"
ensure_venv "$venv" "maturin>=1.16,<2"
py="$venv/bin/python"
rm -rf "$target/wheels-py-bench"
(cd bindings-py && "$venv/bin/maturin" build --release -q -i "$py" --out "$target/wheels-py-bench")
"$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$target"/wheels-py-bench/mesbackup-*.whl

work="$target/bench-py"
rm -rf "$work"; mkdir -p "$work"
"$mock" --listen 127.0.0.1:0 > "$work/mock.out" &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/mock.out" ] && break; sleep 0.05; done
url="$(head -1 "$work/mock.out")"
export MES_URL="$url" MES_TOKEN=admin-token

cat > "$work/backup.py" <<'PY'
import sys
import mesbackup
client = mesbackup.Client(min_poll_delay=0.01, max_poll_delay=0.1)   # MES_URL, MES_TOKEN
pkg = client.backup("MES", sys.argv[1])
assert pkg.size == int(sys.argv[2]), pkg
PY

scenario() { curl -sf -X PUT "$url/_mock/scenario" -H 'Content-Type: application/json' -d "$1" >/dev/null; }
now() { date +%s.%N; }
# timed OUTFILE cmd...: runs cmd under GNU time; prints "seconds max_rss_kib"
timed() { local f="$1"; shift; /usr/bin/time -f "%e %M" -o "$f" "$@" >/dev/null 2>"$f.err" || { cat "$f.err" >&2; exit 1; }; cat "$f"; }
min() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == "" || a < b) print a; else print b }'; }

mib=$((1024 * 1024))
size_2g=$((2048 * mib))
size_256m=$((256 * mib))
scn_2g="{\"payload\":{\"size\":$size_2g,\"seed\":1}}"

# --- 1: 2 GiB, best of 4 each, interleaved so that disk and page-cache state is shared fairly.
# `sync` before every timed run: the previous run's 2 GiB of dirty pages must not be written back
# (and charged) during the next tool's run; without it the figures swing by 2x either way.
best_py=""; best_cli=""; best_curl=""; rss_py_2g=0; rss_cli_2g=0
run_py() {
  scenario "$scn_2g"; rm -rf "$work/out"; mkdir -p "$work/out"; sync
  read -r secs rss < <(timed "$work/t" "$py" "$work/backup.py" "$work/out" "$size_2g")
  best_py=$(min "$secs" "$best_py"); [ "$rss" -gt "$rss_py_2g" ] && rss_py_2g=$rss; return 0
}
run_cli() {
  [ -n "$cli" ] || return 0
  scenario "$scn_2g"; rm -rf "$work/out"; mkdir -p "$work/out"; sync
  read -r secs rss < <(timed "$work/t" "$cli" --no-progress backup MES --out "$work/out" --min-poll-delay 10ms --max-poll-delay 100ms)
  best_cli=$(min "$secs" "$best_cli"); [ "$rss" -gt "$rss_cli_2g" ] && rss_cli_2g=$rss; return 0
}
# The order alternates: whichever tool runs first after a 2 GiB delete was measurably favoured.
for i in 1 2 3 4; do
  if [ $((i % 2)) = 1 ]; then run_py; run_cli; else run_cli; run_py; fi
  rm -rf "$work/out"
  scenario "$scn_2g"; sync
  guid="$(curl -sf -X POST -H "Authorization: Bearer $MES_TOKEN" "$url/environment/clickhouse/backup/MES")"
  t0=$(now)
  curl -sf -o "$work/curl.zip" -H "Authorization: Bearer $MES_TOKEN" "$url/environment/clickhouse/backup/$guid"
  t1=$(now)
  best_curl=$(min "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')" "$best_curl")
  rm -f "$work/curl.zip"; sync
done

# --- 2: 256 MiB (peak RSS of the Python process)
scenario "{\"payload\":{\"size\":$size_256m,\"seed\":1}}"
rm -rf "$work/out"; mkdir -p "$work/out"
read -r _ rss_py_256 < <(timed "$work/t" "$py" "$work/backup.py" "$work/out" "$size_256m")
rm -rf "$work/out"
# Baseline: the interpreter with mesbackup imported and a client made, no backup.
read -r _ rss_py_idle < <(timed "$work/t" "$py" -c "import mesbackup; mesbackup.Client()")

# --- table
mbps() { awk -v s="$1" -v t="$2" 'BEGIN{printf "%.0f MiB/s", s/1048576/t}'; }
ok() { awk "BEGIN{exit !($1)}" && echo "yes" || echo "NO"; }
kib2mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
row() { printf '| %-62s | %-30s | %-12s | %-4s |\n' "$@"; }

printf '\nmesbackup Python benchmark (%s, %s cores, loopback mock-mes, release builds, best of 4)\n\n' "$(uname -m)" "$(nproc)"
row "measure" "result" "target" "met"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..64})" "$(printf -- '-%.0s' {1..32})" "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..6})"
row "2 GiB, Python mesbackup.Client.backup (whole process)" "${best_py} s, $(mbps $size_2g "$best_py")" "" ""
if [ -n "$cli" ]; then
  row "2 GiB, CLI mesbackup backup (whole process)" "${best_cli} s, $(mbps $size_2g "$best_cli")" "" ""
fi
row "2 GiB, curl -o (GET only, no hashing, no fsync)" "${best_curl} s, $(mbps $size_2g "$best_curl")" "" ""
if [ -n "$cli" ]; then
  ratio=$(awk -v p="$best_py" -v c="$best_cli" 'BEGIN{printf "%.2f", c/p}')
  row "throughput ratio Python / CLI" "$ratio" ">= 0.95" "$(ok "$ratio >= 0.95")"
fi
ratio_curl=$(awk -v p="$best_py" -v c="$best_curl" 'BEGIN{printf "%.2f", c/p}')
row "throughput ratio Python / curl" "$ratio_curl" "(reference)" ""
row "peak RSS, Python, import + Client only" "$(kib2mib "$rss_py_idle") MiB" "" ""
row "peak RSS, Python, 256 MiB package" "$(kib2mib "$rss_py_256") MiB" "" ""
row "peak RSS, Python, 2 GiB package" "$(kib2mib "$rss_py_2g") MiB" "flat" "$(ok "$rss_py_2g <= $rss_py_256 + 8192")"
if [ -n "$cli" ]; then
  row "peak RSS, CLI, 2 GiB package" "$(kib2mib "$rss_cli_2g") MiB" "" ""
fi
