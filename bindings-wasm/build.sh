#!/usr/bin/env bash
# Builds the npm package `mesbackup` into bindings-wasm/pkg/ (gitignored):
#   release .wasm of mesbackup-wasm (twice: the download module and the verifier module), optimised
#   for size (the workspace's release profile is tuned for native speed, and profiles can only be set
#   in the root Cargo.toml, so the size settings are passed here as CARGO_PROFILE_RELEASE_*
#   variables), then wasm-bindgen --target web, then the
#   hand-written ESM layer and types from pkg-src/. wasm-opt (Debian: binaryen) is tried when present
#   and its output kept only when it gzips smaller (binaryen 108 -Os/-Oz output gzips ~3% larger than
#   rustc's opt-level z output).
# Usage: bindings-wasm/build.sh [--dev]     (--dev: debug build, faster to compile)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
out="$here/pkg"

# Two modules (cargo features of mesbackup-wasm, see src/lib.rs): wasm/ (default features: Client,
# names, sinks; what a download loads) and wasm-verify/ (--no-default-features --features verify:
# verify()/inspect(), loaded by index.js on first use). Both builds share every dependency's
# artifacts; only the crate itself and the LTO link run twice.
profile=release
[ "${1:-}" = "--dev" ] && profile=debug
# build_module FEATURE_ARGS OUT_DIR OUT_NAME
build_module() {
  local features="$1" dir="$2" name="$3"
  # shellcheck disable=SC2086
  if [ "$profile" = debug ]; then
    cargo build -q -p mesbackup-wasm --target wasm32-unknown-unknown $features
  else
    CARGO_PROFILE_RELEASE_OPT_LEVEL="${WASM_OPT_LEVEL:-z}" \
    CARGO_PROFILE_RELEASE_LTO=fat \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    CARGO_PROFILE_RELEASE_DEBUG=false \
      cargo build -q -p mesbackup-wasm --target wasm32-unknown-unknown --release $features
  fi
  mkdir -p "$dir"
  wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$dir" --out-name "$name" \
    "$target_dir/wasm32-unknown-unknown/$profile/mesbackup_wasm.wasm"
  if [ "$profile" = release ] && command -v wasm-opt >/dev/null 2>&1; then
    local w="$dir/${name}_bg.wasm"
    if wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
      "$w" -o "$w.opt"; then
      if [ "$(gzip -9 -c "$w.opt" | wc -c)" -lt "$(gzip -9 -c "$w" | wc -c)" ]; then mv "$w.opt" "$w"; fi
    else
      echo "wasm-opt failed; keeping the unoptimised module" >&2
    fi
    rm -f "$w.opt"
  fi
}

rm -rf "$out"
build_module "" "$out/wasm" mesbackup_wasm
build_module "--no-default-features --features verify" "$out/wasm-verify" mesbackup_verify
cp "$here"/pkg-src/*.js "$here"/pkg-src/*.d.ts "$here"/pkg-src/package.json "$here"/pkg-src/README.md "$out/"
echo "built $out ($(wc -c < "$out/wasm/mesbackup_wasm_bg.wasm") bytes of wasm for downloads, $(wc -c < "$out/wasm-verify/mesbackup_verify_bg.wasm") for verify, $profile)"

# The extension (and the panel page mock-mes serves under /panel/): extension/ plus the package.
ext="$here/dist/extension"
rm -rf "$ext"
mkdir -p "$ext"
cp "$here"/extension/* "$ext/"
cp -r "$out" "$ext/mesbackup"
echo "assembled $ext"
