#!/usr/bin/env bash
# Builds the npm package `mesbackup` into bindings-wasm/pkg/ (gitignored):
#   release .wasm of mesbackup-wasm, optimised for size (the workspace's release profile is tuned for
#   native speed, and profiles can only be set in the root Cargo.toml, so the size settings are
#   passed here as CARGO_PROFILE_RELEASE_* variables), then wasm-bindgen --target web, then the
#   hand-written ESM layer and types from pkg-src/. wasm-opt (Debian: binaryen) is tried when present
#   and its output kept only when it gzips smaller (binaryen 108 -Os/-Oz output gzips ~3% larger than
#   rustc's opt-level z output).
# Usage: bindings-wasm/build.sh [--dev]     (--dev: debug build, faster to compile)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
out="$here/pkg"

if [ "${1:-}" = "--dev" ]; then
  profile=debug
  cargo build -q -p mesbackup-wasm --target wasm32-unknown-unknown
else
  profile=release
  CARGO_PROFILE_RELEASE_OPT_LEVEL="${WASM_OPT_LEVEL:-z}" \
  CARGO_PROFILE_RELEASE_LTO=fat \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo build -q -p mesbackup-wasm --target wasm32-unknown-unknown --release
fi

rm -rf "$out"
mkdir -p "$out/wasm"
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$out/wasm" --out-name mesbackup_wasm \
  "$target_dir/wasm32-unknown-unknown/$profile/mesbackup_wasm.wasm"
if [ "$profile" = release ] && command -v wasm-opt >/dev/null 2>&1; then
  w="$out/wasm/mesbackup_wasm_bg.wasm"
  if wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "$w" -o "$w.opt"; then
    if [ "$(gzip -9 -c "$w.opt" | wc -c)" -lt "$(gzip -9 -c "$w" | wc -c)" ]; then mv "$w.opt" "$w"; fi
  else
    echo "wasm-opt failed; keeping the unoptimised module" >&2
  fi
  rm -f "$w.opt"
fi
cp "$here"/pkg-src/*.js "$here"/pkg-src/*.d.ts "$here"/pkg-src/package.json "$here"/pkg-src/README.md "$out/"
echo "built $out ($(wc -c < "$out/wasm/mesbackup_wasm_bg.wasm") bytes of wasm, $profile)"

# The extension (and the panel page mock-mes serves under /panel/): extension/ plus the package.
ext="$here/dist/extension"
rm -rf "$ext"
mkdir -p "$ext"
cp "$here"/extension/* "$ext/"
cp -r "$out" "$ext/mesbackup"
echo "assembled $ext"
