#!/usr/bin/env bash
# Rust: core unit and property tests, client, mock-mes, the scenario runner; core builds for wasm32
# and depends on no I/O or async runtime crate; rustfmt has nothing to change; clippy finds nothing (-D warnings, natively and for
# wasm32); the polling simulation meets its targets.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
ensure_rust_target wasm32-unknown-unknown
ensure_rust_component clippy
ensure_rust_component rustfmt

echo "--- core builds for wasm32-unknown-unknown"
cargo build -q -p mesbackup-core --target wasm32-unknown-unknown

echo "--- core depends on no I/O or runtime crate"
deps=$(cargo tree -q -p mesbackup-core -e normal --prefix none | sed 's/ .*//' | sort -u)
for banned in tokio async-std mio reqwest hyper socket2 getrandom futures; do
  if echo "$deps" | grep -qx "$banned"; then echo "core depends on $banned"; exit 1; fi
done
# (comment lines may mention them)
if grep -rnE 'std::(fs|net|process|thread)|SystemTime::now|Instant::now' core/src | grep -vE '^[^:]+:[0-9]+:\s*//'; then
  echo "core must not do I/O or read a clock"; exit 1
fi

echo "--- cargo test (core, client, mock-mes, scenarios)"
cargo test -p mesbackup-core -p mesbackup-client -p mock-mes -p scenario-runner

echo "--- rustfmt: the workspace and fuzz are formatted (rustfmt.toml; \`cargo fmt --all\` rewrites)"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
echo "--- clippy, every warning an error (the workspace with its tests, and the wasm32 build of the client)"
cargo clippy -q --workspace --all-targets -- -D warnings
cargo clippy -q -p mesbackup-wasm -p mesbackup-client -p mesbackup-core --target wasm32-unknown-unknown -- -D warnings

echo "--- polling simulation"
cargo run -q --release -p mesbackup-bench --bin polling-sim
