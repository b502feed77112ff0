function ConvertTo-MesVerifyResult {
    <#
    .SYNOPSIS
    A `verified` event of `mesbackup verify` as a MesBackup.VerifyResult (with MesBackup.VerifyProblem
    objects in Problems).

    .DESCRIPTION
    SidecarMatched is $null when no sidecar <package>.mesbackup.json lies beside the package (nothing
    to compare), otherwise whether the CLI found the package's SHA-256 equal to the sidecar's (it
    reports a sha256_mismatch problem when not).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [object]$CliEvent
    )
    $ev = $CliEvent
    $packagePath = [string](Get-MesEventValue $ev 'path')
    $problems = foreach ($problem in @(Get-MesEventValue $ev 'report.problems')) {
        if ($null -eq $problem) {
            continue
        }
        $subject = Get-MesEventValue $problem 'file'
        if ($null -eq $subject) {
            $subject = Get-MesEventValue $problem 'entry'
        }
        [pscustomobject]@{
            PSTypeName = 'MesBackup.VerifyProblem'
            Kind       = Get-MesEventValue $problem 'kind'
            Subject    = $subject
            Expected   = Get-MesEventValue $problem 'expected'
            Actual     = Get-MesEventValue $problem 'actual'
            Detail     = Get-MesEventValue $problem 'detail'
        }
    }
    $problems = @($problems)
    $sidecarPath = $packagePath + '.mesbackup.json'
    $sidecarMatched = $null
    if (Test-Path -LiteralPath $sidecarPath -PathType Leaf) {
        $mismatches = @($problems | Where-Object -FilterScript { $_.Kind -eq 'sha256_mismatch' })
        $sidecarMatched = $mismatches.Count -eq 0
    }
    else {
        $sidecarPath = $null
    }
    [pscustomobject]@{
        PSTypeName        = 'MesBackup.VerifyResult'
        Path              = $packagePath
        Ok                = [bool](Get-MesEventValue $ev 'report.ok')
        Sha256            = Get-MesEventValue $ev 'report.sha256'
        SidecarMatched    = $sidecarMatched
        SidecarPath       = $sidecarPath
        Problems          = $problems
        Bytes             = [long](Get-MesEventValue $ev 'report.bytes')
        Entries           = [long](Get-MesEventValue $ev 'report.entries')
        FilesChecked      = [long](Get-MesEventValue $ev 'report.files_checked')
        PartFilesChecked  = [long](Get-MesEventValue $ev 'report.part_files_checked')
        PartsChecked      = [long](Get-MesEventValue $ev 'report.parts_checked')
        BackupRoot        = Get-MesEventValue $ev 'report.backup_root'
        ManifestTimestamp = Get-MesEventValue $ev 'report.manifest.timestamp'
        ManifestUuid      = Get-MesEventValue $ev 'report.manifest.uuid'
        Notes             = [string[]]@(Get-MesEventValue $ev 'report.notes' | Where-Object -FilterScript { $null -ne $_ })
    }
}
