function Get-MesClickHouseBackupWindow {
    <#
    .SYNOPSIS
    Reads the backup window of a folder of saved packages: the range to re-run MES data processing
    over after a restore.

    .DESCRIPTION
    Reads the sidecars (*.mesbackup.json) that Save-MesClickHouseBackup and
    Backup-MesClickHouseDatabase write beside each package, the way `mesbackup window` does. Returns a
    MesBackup.BackupWindow: Path, Started (the earliest backup start), Finished (the latest finish),
    SqlBackupFinished (the latest SQL Server backup completion recorded with -SqlBackupFinished, or
    $null), ReprocessFrom (where to start re-running data processing: the SQL Server completion when
    recorded and earlier, else Started) and Packages (one entry per sidecar: File, Database, Started,
    Finished). Times are local DateTime values.

    A folder without any sidecar is a terminating invalid_argument error; a folder that cannot be
    read is an io error.

    .PARAMETER Path
    The folder of packages saved by mesbackup. Accepts pipeline input, and the FullName property of
    piped objects (Get-Item).

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Get-MesClickHouseBackupWindow -Path D:\Backups\2026-11-25

    Shows when the backups of that night started and finished, and where to start re-running data
    processing after a restore.

    .EXAMPLE
    PS> Backup-MesClickHouseDatabase -System MES -Path D:\Backups -SqlBackupFinished $sqlDone
    PS> (Get-MesClickHouseBackupWindow -Path D:\Backups).ReprocessFrom

    Records when the SQL Server backups completed, then reads the time to re-run data processing from.

    .INPUTS
    System.String, System.IO.DirectoryInfo

    .OUTPUTS
    MesBackup.BackupWindow

    .LINK
    Backup-MesClickHouseDatabase

    .LINK
    about_MesBackup
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.BackupWindow')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string]$Path,

        [string]$CliPath
    )
    begin {
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
    }
    process {
        $folder = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($Path)
        $argumentList = Get-MesCliArgumentList -Command 'window' -Operand @($folder)
        $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -Activity 'ClickHouse backup window'
        foreach ($ev in $events) {
            if ((Get-MesEventValue $ev 'event') -ne 'backup_window') {
                continue
            }
            $packages = foreach ($entry in @(Get-MesEventValue $ev 'packages')) {
                if ($null -eq $entry) {
                    continue
                }
                [pscustomobject]@{
                    PSTypeName = 'MesBackup.BackupWindowPackage'
                    File       = Get-MesEventValue $entry 'file'
                    Database   = Get-MesEventValue $entry 'database'
                    Started    = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $entry 'started_at')
                    Finished   = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $entry 'finished_at')
                }
            }
            [pscustomobject]@{
                PSTypeName        = 'MesBackup.BackupWindow'
                Path              = $folder
                Started           = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $ev 'started_at')
                Finished          = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $ev 'finished_at')
                SqlBackupFinished = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $ev 'sql_backup_finished_at')
                ReprocessFrom     = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $ev 'reprocess_from')
                Packages          = @($packages)
            }
        }
    }
}
