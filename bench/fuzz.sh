#!/usr/bin/env bash
# Fuzzes each cargo-fuzz target (fuzz/fuzz_targets) for a fixed time, one after another, and
# prints a table: target, seconds, executions, exec/s, corpus entries, edges covered, findings
# (crash, timeout, leak and out-of-memory inputs). Run by hand, not by ./scripts/test.
#
#   bench/fuzz.sh [TARGET...]                  (default: every target)
#
#   FUZZ_SECONDS    seconds per target (default 60; the figures in fuzz/README.md use 600)
#   FUZZ_SANITIZER  none (default: core has no unsafe code; faster) or address
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz when
# missing. Each target's working corpus, log and findings live in fuzz/work/<target>/ (ignored by
# git) and grow from run to run; the committed seeds in fuzz/corpus/<target>/ are only read.
# A finding is replayed with `cargo +nightly fuzz run <target> <file>`; keep it in
# fuzz/regressions/<target>/ and add a unit test in core (see fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
SAN=${FUZZ_SANITIZER:-none}

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "bench/fuzz.sh needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//')
fi

echo "building ${#targets[@]} targets (sanitizer: $SAN)..." >&2
nice -n 10 cargo +nightly fuzz build -s "$SAN" >&2

rows=()
for t in "${targets[@]}"; do
  work="fuzz/work/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  dirs=("$work/corpus" "fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  echo "fuzzing $t for ${SECS}s..." >&2
  start=$(date +%s)
  # libFuzzer exits non-zero on a finding: the table reports it.
  nice -n 19 cargo +nightly fuzz run -s "$SAN" "$t" "${dirs[@]}" -- \
    -max_total_time="$SECS" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" > "$work/log" 2>&1 || true
  # libFuzzer's own figures: the wall time would include cargo's rebuild of the target.
  took=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$work/log" | tail -1)
  took=${took:-$(( $(date +%s) - start ))}
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -1 || true)
  # Without final stats (cut off at the time limit), the last status line's count.
  execs=${execs:-$(echo "$last" | sed -nE 's/^#([0-9]+).*/\1/p')}
  execs=${execs:-0}
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$work/log" | tail -1)
  rate=${rate:-$(( execs / (took > 0 ? took : 1) ))}
  corpus=$(echo "$last" | sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p')
  cov=$(echo "$last" | sed -nE 's/.* cov: ([0-9]+) .*/\1/p')
  # Only this run's: earlier findings stay in the folder until someone looks at them.
  findings=$(find "$work/artifacts" -type f -newermt "@$start" \( -name 'crash-*' -o -name 'timeout-*' \
    -o -name 'leak-*' -o -name 'oom-*' \) | wc -l)
  rows+=("$(printf '| %-20s | %7s | %13s | %7s | %6s | %6s | %8s |' "$t" "$took" "$execs" "$rate" "${corpus:-?}" "${cov:-?}" "$findings")")
  if [ "$findings" -gt 0 ]; then
    grep -m1 -A2 -E 'panicked at|ERROR: libFuzzer' "$work/log" >&2 || true
    echo "findings of $t in $work/artifacts/" >&2
  fi
done

echo
echo "fuzzing $(date -u +%Y-%m-%d), ${SECS}s per target, sanitizer $SAN, $(nproc) cores"
echo "| target               | seconds |    executions |  exec/s | corpus |  edges | findings |"
echo "|----------------------|---------|---------------|---------|--------|--------|----------|"
printf '%s\n' "${rows[@]}"
