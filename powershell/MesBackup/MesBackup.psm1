# MesBackup: PowerShell commands over the native `mesbackup` CLI and its `--json` NDJSON events.
# All protocol behaviour lives in the CLI (and the Rust core behind it); this module only translates:
# parameters -> CLI arguments and child-process environment, events -> objects, progress, verbose
# messages and ErrorRecords.
Set-StrictMode -Version 3.0

$script:ModuleRoot = $PSScriptRoot

foreach ($folder in @('Private', 'Public')) {
    $files = Get-ChildItem -Path (Join-Path -Path $PSScriptRoot -ChildPath $folder) -Filter '*.ps1' -File -ErrorAction SilentlyContinue
    foreach ($file in $files) {
        . $file.FullName
    }
}

# The manifest's FunctionsToExport is the authority; this keeps a plain `Import-Module .\MesBackup.psm1`
# (without the manifest) from exporting the private helpers.
$publicFunctions = @(
    Get-ChildItem -Path (Join-Path -Path $PSScriptRoot -ChildPath 'Public') -Filter '*.ps1' -File |
        ForEach-Object -Process { $_.BaseName }
)
Export-ModuleMember -Function $publicFunctions
