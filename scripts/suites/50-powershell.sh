#!/usr/bin/env bash
# PowerShell module MesBackup (powershell/): what can be checked without a PowerShell runtime, and
# Pester for real wherever `pwsh` exists.
#   (a) every .ps1/.psm1/.psd1 (and the format file's script blocks) parses with a real PowerShell
#       grammar (tree-sitter-powershell); the checker first proves it rejects broken snippets;
#   (b) the module's contract with the CLI: every event and field it reads exists in
#       cli/events.schema.json; every option it can pass exists in the CLI; the real CLI, run against
#       mock-mes with command lines shaped like the module's, answers with schema-valid events of the
#       kinds the module reads. (The CLI's --json output in every scenario is validated against the
#       schema by suite 20-cli; not repeated here.) The restore commands' command lines run against a
#       real ClickHouse engine (chdb behind tests/chdb-http/server.py, started by cli_contract.py) with
#       the committed fixture tests/fixtures/clickhouse/mesfix_stored.zip: --dry-run, a real restore,
#       test-restore;
#   (c) every exported function has help (.SYNOPSIS, .DESCRIPTION, .EXAMPLE, .PARAMETER for each
#       parameter) and an approved verb (powershell/approved-verbs.txt, from Get-Verb of PowerShell 7.4);
#   (d) no secret (MES token or PAT, ClickHouse password) reaches the CLI's argument list or a stream;
#       secrets only go to the child's environment;
#   plus: the module's error-kind table matches core/src/error.rs.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
root="${MESBACKUP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"

echo "--- tools: tree-sitter-powershell and jsonschema in target/venv-ps"
ensure_venv "$root/target/venv-ps" "tree-sitter>=0.23" "tree-sitter-powershell>=0.25" jsonschema
py="$root/target/venv-ps/bin/python"
chdb_venv="${CARGO_TARGET_DIR:-$root/target}/venv-chdb"
echo "--- tools: chdb-core (a real ClickHouse engine, for the restore contract) in $chdb_venv"
ensure_chdb_venv "$chdb_venv"

passed=0; failed=0; failed_names=()
check() { # check NAME command...
  local name="$1"; shift
  echo "--- $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_names+=("$name")
    echo "FAILED: $name"
  fi
}

check "(a) PowerShell files parse (tree-sitter-powershell)" "$py" powershell/tools/pscheck.py parse
check "(c) exported functions: help, examples, approved verbs" "$py" powershell/tools/pscheck.py help
check "(d) secrets only in the child's environment" "$py" powershell/tools/pscheck.py secrets
check "error kinds match core/src/error.rs" "$py" powershell/tools/pscheck.py kinds
check "(b) events and fields the module reads exist in cli/events.schema.json" "$py" powershell/tools/pscheck.py contract
check "README vocabulary table: the module's cmdlets and parameters" "$py" tests/vocabulary/check_table.py powershell --self-test

echo "--- building mesbackup and mock-mes"
cargo build -q -p mesbackup-cli -p mock-mes
target_dir="$(cargo metadata --format-version 1 --no-deps | "$py" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
cli="$target_dir/debug/mesbackup"
mock="$target_dir/debug/mock-mes"
check "(b) the real CLI accepts the module's command lines and answers as the module expects" \
  "$py" powershell/tools/cli_contract.py "$cli" "$mock" "$chdb_venv/bin/python"
echo "    (the CLI's --json output in every scenario is validated against the schema by suite 20-cli)"

echo "--- Pester"
pester_ran=no
if command -v pwsh >/dev/null 2>&1; then
  echo "pwsh found: $(pwsh -NoProfile -Command '$PSVersionTable.PSVersion.ToString()')"
  if MESBACKUP_CLI="$cli" MOCK_MES="$mock" pwsh -NoProfile -NonInteractive -Command '
      $ErrorActionPreference = "Stop"
      if (-not (Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]"5.0.0" })) {
          Write-Host "Pester 5 is not installed: Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser"
          exit 3
      }
      Import-Module Pester -MinimumVersion 5.0
      $config = New-PesterConfiguration
      $config.Run.Path = "powershell/tests"
      $config.Run.Exit = $true
      $config.Output.Verbosity = "Detailed"
      Invoke-Pester -Configuration $config'; then
    pester_ran=yes; passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_names+=("Pester")
  fi
else
  echo "Pester did not run here: no PowerShell runtime on this machine."
  echo "  (No pwsh on PATH, and none can be installed from this machine's registries: Debian has no"
  echo "  PowerShell package, npm's 'pwsh' downloads the runtime from GitHub, PyPI's 'pwsh' only wraps"
  echo "  Windows PowerShell assemblies. Where the .NET SDK and NuGet are reachable,"
  echo "  'dotnet tool install PowerShell --version 7.6.9 --tool-path DIR' provides pwsh.)"
  echo "  The Pester tests in powershell/tests/ are NOT counted as passed."
fi

echo
if [ "$pester_ran" = yes ]; then
  echo "powershell: $passed passed, $failed failed"
else
  echo "skipped (not counted as passed): Pester, because there is no PowerShell runtime on this machine"
  echo "powershell: $passed passed, $failed failed, 1 skipped"
fi
[ $failed -eq 0 ] || { echo "failed: ${failed_names[*]}"; exit 1; }
