#!/usr/bin/env bash
# Windows: `mesbackup.exe` (x86_64-pc-windows-gnu, mingw-w64) run under Wine against mock-mes on
# loopback: every scenario file through the .exe (the CLI's scenario runner with
# MESBACKUP_LAUNCHER=wine), then tests/windows/test_windows_cli.py: `--out` spelled with a drive
# letter and backslashes, Windows device names from the server, a package held open by another
# program during commit, the hard-link commit and its fallback on a FAT volume (fusefat), Ctrl-C mid-download,
# `credential set` into the Windows Credential Manager (Wine's CredWriteW/CredReadW) and a `run` with
# `keyring = ...` that authenticates with it, verify (same report as the
# Linux build) and demo. The .exe built here is the one 80-release ships.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
suite_start=$(date +%s)

echo "--- Wine, mingw-w64, the Windows target"
ensure_apt wine64 mingw-w64 fusefat dosfstools fuse
ensure_rust_target x86_64-pc-windows-gnu
ensure_venv "$target/venv-cli" jsonschema pytest

echo "--- build mesbackup.exe (release), mock-mes and the Linux mesbackup (to compare with)"
cargo build -q --release --target x86_64-pc-windows-gnu -p mesbackup-cli
cargo build -q -p mock-mes --bin mock-mes -p mesbackup-cli --bin mesbackup
exe="$target/x86_64-pc-windows-gnu/release/mesbackup.exe"

echo "--- the suite's own Wine prefix ($target/wine-prefix)"
export WINEPREFIX="$target/wine-prefix" WINEDEBUG=-all
# Debian 12's Wine 8.0 lacks bcryptprimitives.dll (Windows 10+ has it), which every Rust 1.78+ .exe
# imports; a test-only shim forwards its one function to RtlGenRandom. It is never shipped.
helpers="$target/windows-test"
mkdir -p "$helpers"
build_helper() { # build_helper OUT SOURCE... : rebuilt only when a source is newer
  local out="$1"; shift
  local s; for s in "$@"; do [ "$out" -nt "$s" ] || { x86_64-w64-mingw32-gcc -O2 -o "$out" "$@" ${extra_flags:-}; return; }; done
}
extra_flags="-shared -ladvapi32" build_helper "$helpers/bcryptprimitives.dll" tests/windows/bcryptprimitives_shim.c tests/windows/bcryptprimitives_shim.def
extra_flags="-municode" build_helper "$helpers/hold_open.exe" tests/windows/hold_open.c
[ -f "$WINEPREFIX/system.reg" ] || wineboot -i >/dev/null 2>&1
cp "$helpers/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
echo "wine $(wine --version): differences from Windows that matter here —"
echo "  * the files live on a Linux file system (Z: is /): no NTFS ACLs, 8.3 names or alternate data"
echo "    streams; --file-mode/--dir-mode are Unix-only and not checked through the .exe;"
echo "  * share modes between Wine processes ARE enforced (wineserver): the held-open commit test is real;"
echo "  * Ctrl-C is SIGINT turned into CTRL_C_EVENT by Wine; Ctrl-Break and closing the console window"
echo "    (CTRL_BREAK/CTRL_CLOSE) have no Unix signal and are NOT exercised here;"
echo "  * bcryptprimitives.dll is the test shim above, not Windows' own."
wine "$exe" --version

echo "--- every scenario file through mesbackup.exe under Wine"
MESBACKUP_LAUNCHER=wine MESBACKUP_CLI="$exe" cargo test -q -p mesbackup-cli --test scenarios

echo "--- Windows behaviours (tests/windows)"
MESBACKUP_EXE="$exe" WINE=wine HOLD_OPEN_EXE="$helpers/hold_open.exe" MOCK_MES="$target/debug/mock-mes" \
  MESBACKUP_BIN="$target/debug/mesbackup" \
  "$target/venv-cli/bin/python" -m pytest -v -p no:cacheprovider tests/windows
wineserver -k 2>/dev/null || true

echo "25-windows: all passed in $(( $(date +%s) - suite_start )) s"
