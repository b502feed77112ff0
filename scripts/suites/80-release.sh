#!/usr/bin/env bash
# Release artifacts: ./scripts/release builds every one into dist/ (reusing what 25-windows and
# 40-wasm built: the .exe, the npm package), then tests/release/test_release.py proves each the way its
# user installs it: the static CLI in an empty root against mock-mes, the Linux wheel from its file in a
# fresh venv through the Python scenario suite, the npm tarball in an empty project (ESM backup and
# tsc against the shipped .d.ts), the extension zip, the PowerShell module zip and .nupkg (layout,
# manifest fields, the very binaries tested), the Windows wheel inspected (not run: no Windows Python
# here), SHA256SUMS, schema-valid CycloneDX SBOMs and THIRD-PARTY-LICENSES.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
suite_start=$(date +%s)

echo "--- ./scripts/release"
./scripts/release "$root/dist"
tools="$target/venv-release"
ensure_venv "$tools" pytest

echo "--- mock-mes"
cargo build -q -p mock-mes --bin mock-mes

echo "--- every artifact, installed the way its user installs it (tests/release)"
version="$(cd dist && ls mesbackup-*-linux-x64 | sed -e 's/^mesbackup-//' -e 's/-linux-x64$//')"
DIST="$root/dist" VERSION="$version" MOCK_MES="$target/debug/mock-mes" \
  TESTED_EXE="$target/x86_64-pc-windows-gnu/release/mesbackup.exe" \
  "$tools/bin/python" -m pytest -v -p no:cacheprovider tests/release
echo "not run here: the win_amd64 wheel (no Windows Python; tags and contents checked), the module under"
echo "pwsh (no PowerShell runtime; layout, manifest and binaries checked), Python 3.9 (only 3.11 here)."

echo "80-release: all passed in $(( $(date +%s) - suite_start )) s"
