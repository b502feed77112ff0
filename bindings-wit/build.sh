#!/usr/bin/env bash
# Builds the component: the crate for wasm32-unknown-unknown (size-optimised release), then
# `wasm-tools component new` wraps the core module, whose wit-bindgen section carries world `core`.
# Not wasm32-wasip2: Rust's std there links WASI stdio, environment and exit (its panic and print
# paths), 13 imports a pure core has no use for; from wasm32-unknown-unknown the component imports
# nothing, so any host instantiates it without providing WASI.
# opt-level 3, not s or z: verify runs 2.7x faster in Node for 10 % more bytes (bench/component.sh:
# 1.17 vs 1.07 MB raw). Output: $CARGO_TARGET_DIR/wit/mesbackup.wasm (default target/). Profiles live in the root
# Cargo.toml, so the size settings come as CARGO_PROFILE_RELEASE_* (as bindings-wasm/build.sh does).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
CARGO_PROFILE_RELEASE_OPT_LEVEL="${WIT_OPT_LEVEL:-3}" \
CARGO_PROFILE_RELEASE_LTO=fat \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_DEBUG=false \
CARGO_PROFILE_RELEASE_STRIP=true \
  cargo build -q -p mesbackup-wit --target wasm32-unknown-unknown --release
mkdir -p "$target_dir/wit"
wasm-tools component new "$target_dir/wasm32-unknown-unknown/release/mesbackup_wit.wasm" -o "$target_dir/wit/mesbackup.wasm"
wasm-tools validate "$target_dir/wit/mesbackup.wasm"
echo "$target_dir/wit/mesbackup.wasm"
