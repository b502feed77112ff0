function Test-MesClickHouseBackupFolder {
    <#
    .SYNOPSIS
    Predicts which backup package the MES installer would restore for each database from a custom
    packages folder, and finds the files it would silently ignore.

    .DESCRIPTION
    Reads the file names in -Path the way the MES installer does for one system and version: for each
    database kind (Online, CDM, ODS, DWH) the system-specific name first, then the generic name. Reports
    what would be chosen, which databases are missing (the installer would create them empty), files
    for another system or version, and near misses: files that were probably meant as packages but
    would be ignored (wrong case, " (1)" suffixes, .zip.zip, a renamed file), each with the reason and,
    when it can be inferred, the exact name to rename it to. Near misses are also written as warnings.

    Returns a MesBackup.FolderReport; with -Quiet, only $true when all four databases would be restored.

    .PARAMETER Path
    The MES custom installation packages folder.

    .PARAMETER System
    The MES system name, for example MES.

    .PARAMETER Version
    The MES version being installed, for example 11.3.0.

    .PARAMETER Quiet
    Return only $true (every database would be restored) or $false.

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Test-MesClickHouseBackupFolder -Path \\installer\CustomPackages -System MES -Version 11.3.0

    Shows, per database, the package the installer would pick, and what is missing or misnamed.

    .EXAMPLE
    PS> if (-not (Test-MesClickHouseBackupFolder -Path D:\CustomPackages -System MES -Version 11.3.0 -Quiet)) { throw 'Packages incomplete' }

    Stops a deployment script when a database would be created empty.

    .EXAMPLE
    PS> $report = Test-MesClickHouseBackupFolder -Path D:\CustomPackages -System MES -Version 11.3.0
    PS> $report.NearMisses | Format-Table -Property 'File', 'Reason', 'Expected'

    Lists the misnamed files with the name each should have.

    .INPUTS
    System.String

    .OUTPUTS
    MesBackup.FolderReport, System.Boolean

    .LINK
    Copy-MesClickHouseBackupToInstaller

    .LINK
    about_MesBackup
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.FolderReport', [bool])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string]$Path,

        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string]$System,

        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string]$Version,

        [switch]$Quiet,

        [string]$CliPath
    )
    begin {
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
    }
    process {
        $folder = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($Path)
        $argumentList = Get-MesCliArgumentList -Command 'check-folder' -Operand @($folder) -System $System -Version $Version
        # Exit code 20 is an answer (incomplete, or near misses), not a failure.
        $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -SuccessExitCode @(0, 20)
        foreach ($ev in $events) {
            if ((Get-MesEventValue $ev 'event') -ne 'folder_report') {
                continue
            }
            $kinds = foreach ($entry in @(Get-MesEventValue $ev 'report.kinds')) {
                [pscustomobject]@{
                    PSTypeName     = 'MesBackup.FolderKind'
                    Kind           = Get-MesEventValue $entry 'kind'
                    Chosen         = Get-MesEventValue $entry 'chosen'
                    SystemSpecific = [bool](Get-MesEventValue $entry 'system_specific')
                    Shadowed       = Get-MesEventValue $entry 'also_present_but_shadowed'
                    ExpectedNames  = [string[]]@(Get-MesEventValue $entry 'expected_names')
                }
            }
            $nearMisses = foreach ($entry in @(Get-MesEventValue $ev 'report.near_misses')) {
                $nearMiss = [pscustomobject]@{
                    PSTypeName = 'MesBackup.NearMiss'
                    File       = Get-MesEventValue $entry 'file'
                    Reason     = Get-MesEventValue $entry 'reason'
                    Message    = Get-MesEventValue $entry 'message'
                    Expected   = Get-MesEventValue $entry 'expected'
                }
                if (-not $Quiet) {
                    Write-Warning -Message ('{0}: {1}' -f $nearMiss.File, $nearMiss.Message)
                }
                $nearMiss
            }
            $ignored = foreach ($entry in @(Get-MesEventValue $ev 'report.ignored')) {
                [pscustomobject]@{
                    PSTypeName = 'MesBackup.IgnoredFile'
                    File       = Get-MesEventValue $entry 'file'
                    Reason     = Get-MesEventValue $entry 'reason'
                    Message    = Get-MesEventValue $entry 'message'
                }
            }
            $missing = [string[]]@(Get-MesEventValue $ev 'report.missing' | Where-Object -FilterScript { $null -ne $_ })
            if ($Quiet) {
                $missing.Count -eq 0
                continue
            }
            [pscustomobject]@{
                PSTypeName = 'MesBackup.FolderReport'
                Path       = $folder
                System     = Get-MesEventValue $ev 'report.system'
                Version    = Get-MesEventValue $ev 'report.version'
                Complete   = [bool](Get-MesEventValue $ev 'complete')
                Missing    = $missing
                Kinds      = @($kinds)
                NearMisses = @($nearMisses)
                Ignored    = @($ignored)
            }
        }
    }
}
