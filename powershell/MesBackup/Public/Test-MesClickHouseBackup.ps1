function Test-MesClickHouseBackup {
    <#
    .SYNOPSIS
    Verifies saved ClickHouse backup packages: zip CRCs, the backup manifest's sizes and checksums,
    each part's checksums.txt, and the SHA-256 recorded in the package's sidecar.

    .DESCRIPTION
    Reads each package once, the way `mesbackup verify` does: every zip entry's CRC-32, the sizes and
    checksums the ClickHouse backup manifest (.backup) lists, every data part's checksums.txt, and the
    SHA-256 of the whole file. When a sidecar <package>.mesbackup.json lies beside the package (as
    Save-MesClickHouseBackup and Backup-MesClickHouseDatabase write it), the package's SHA-256 must
    match the one recorded at download time.

    Returns a MesBackup.VerifyResult per package (Path, Ok, Sha256, SidecarMatched, Problems, Bytes,
    Entries, FilesChecked, PartFilesChecked, PartsChecked, ManifestTimestamp, Notes). A damaged package
    also writes a non-terminating error with FullyQualifiedErrorId
    "integrity,Test-MesClickHouseBackup" and the package's path as TargetObject; a package that cannot
    be read writes an "io" error the same way. The other packages are still verified.

    With -Quiet, returns only $true (the package is sound) or $false per package, and writes no error
    for a damaged or unreadable package.

    .PARAMETER Path
    The package files (zip). Accepts pipeline input, and the Path or FullName property of piped
    objects, so MesBackup.Package objects and the files of Get-ChildItem can be piped.

    .PARAMETER Quiet
    Return only $true or $false per package, without errors for damaged or unreadable packages.

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Test-MesClickHouseBackup -Path D:\Backups\MESCDM.zip

    Verifies one package and shows whether it is sound, its SHA-256 and whether it matches its sidecar.

    .EXAMPLE
    PS> Backup-MesClickHouseDatabase -System MES -Path D:\Backups | Test-MesClickHouseBackup

    Backs up the four databases of system MES and verifies each package right after the download.

    .EXAMPLE
    PS> Get-ChildItem -Path 'D:\Backups' -Filter '*.zip' | Test-MesClickHouseBackup -ErrorVariable damaged -ErrorAction SilentlyContinue
    PS> $damaged | ForEach-Object { '{0}: {1}' -f $_.TargetObject, $_.Exception.Message }

    Verifies every package of a folder and lists the damaged ones with the first problem found.

    .EXAMPLE
    PS> if (-not (Test-MesClickHouseBackup -Path D:\CustomPackages\MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip -Quiet)) { throw 'Damaged package' }

    Stops a deployment script before the installer restores a damaged package.

    .EXAMPLE
    PS> $result = Test-MesClickHouseBackup -Path 'D:\Backups\MESCDM.zip'
    PS> $result.Problems | Format-Table -Property 'Kind', 'Subject', 'Expected', 'Actual'

    Lists each problem found in a damaged package.

    .INPUTS
    System.String, System.IO.FileInfo, MesBackup.Package

    .OUTPUTS
    MesBackup.VerifyResult, System.Boolean

    .LINK
    Get-MesClickHouseBackupInfo

    .LINK
    about_MesBackup
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.VerifyResult', [bool])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [switch]$Quiet,

        [string]$CliPath
    )
    begin {
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
    }
    process {
        $packages = foreach ($item in $Path) {
            $PSCmdlet.GetUnresolvedProviderPathFromPSPath($item)
        }
        $packages = @($packages)
        if ($packages.Count -eq 0) {
            return
        }
        $argumentList = Get-MesCliArgumentList -Command 'verify' -Operand $packages
        $ignore = @()
        if ($Quiet) {
            $ignore = @('integrity', 'io')
        }
        # Exit codes 11 (integrity) and 12 (io) come with a `failed` event (and so a non-terminating
        # error, unless -Quiet) per package concerned.
        $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -IgnoreKind $ignore -Activity 'Verify ClickHouse backup'
        $answered = @{}
        foreach ($ev in $events) {
            $eventName = Get-MesEventValue $ev 'event'
            switch ($eventName) {
                'verified' {
                    $packagePath = [string](Get-MesEventValue $ev 'path')
                    $answered[$packagePath] = $true
                    $ok = [bool](Get-MesEventValue $ev 'report.ok')
                    if ($Quiet) {
                        Write-Output -InputObject $ok
                    }
                    else {
                        ConvertTo-MesVerifyResult -CliEvent $ev
                    }
                }
                'failed' {
                    # A package that could not be read at all has a `failed` event but no report.
                    $failedPath = [string](Get-MesEventValue $ev 'path')
                    if ($Quiet -and $failedPath -and -not $answered.ContainsKey($failedPath)) {
                        $answered[$failedPath] = $true
                        Write-Output -InputObject $false
                    }
                }
            }
        }
    }
}
