function Get-MesClickHouseBackupInfo {
    <#
    .SYNOPSIS
    Shows what a saved ClickHouse backup package holds: databases, tables with engine, parts, rows and
    bytes, and the storage policies and disks the target server needs at restore.

    .DESCRIPTION
    Reads the package with `mesbackup inspect`, which also verifies it in the same pass. Returns a
    MesBackup.PackageInfo per package: Path, Verified, Timestamp, Uuid, Databases, Tables (one
    MesBackup.TableInfo per table: Database, Name, Kind, Engine, EngineName, OrderBy, PartitionBy,
    PrimaryKey, StoragePolicy, Disk, RequiredPolicy, Parts, Rows, Bytes), TableCount, Parts, Rows,
    Bytes, StoragePolicies, Disks and Notes.

    A package that fails verification is still described (Verified is $false), and a non-terminating
    error with FullyQualifiedErrorId "integrity,Get-MesClickHouseBackupInfo" and the package's path
    as TargetObject is written. A package that cannot be read writes an "io" error the same way.

    .PARAMETER Path
    The package files (zip). Accepts pipeline input, and the Path or FullName property of piped
    objects (MesBackup.Package, Get-ChildItem).

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Get-MesClickHouseBackupInfo -Path D:\Backups\MESCDM.zip

    Shows the databases, table and row counts, and the storage policies and disks of one package.

    .EXAMPLE
    PS> (Get-MesClickHouseBackupInfo -Path D:\Backups\MESCDM.zip).Tables | Sort-Object -Property Rows -Descending | Format-Table

    Lists the tables of a package, the largest first, with engine, parts, rows and bytes.

    .EXAMPLE
    PS> Get-ChildItem -Path 'D:\CustomPackages' -Filter '*.zip' | Get-MesClickHouseBackupInfo | Select-Object -Property 'Path', 'StoragePolicies', 'Disks'

    Shows which storage policies and disks the target ClickHouse needs for each staged package.

    .INPUTS
    System.String, System.IO.FileInfo, MesBackup.Package

    .OUTPUTS
    MesBackup.PackageInfo

    .LINK
    Test-MesClickHouseBackup

    .LINK
    about_MesBackup
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.PackageInfo')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [string]$CliPath
    )
    begin {
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
    }
    process {
        foreach ($item in $Path) {
            $package = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($item)
            $argumentList = Get-MesCliArgumentList -Command 'inspect' -Operand @($package)
            # Exit code 11 (not verified) comes with a `failed` event: a non-terminating error.
            $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -Activity 'Inspect ClickHouse backup'
            foreach ($ev in $events) {
                if ((Get-MesEventValue $ev 'event') -ne 'inspected') {
                    continue
                }
                $tables = New-Object -TypeName 'System.Collections.Generic.List[object]'
                $databases = foreach ($database in @(Get-MesEventValue $ev 'inspection.databases')) {
                    if ($null -eq $database) {
                        continue
                    }
                    $databaseTables = foreach ($table in @(Get-MesEventValue $database 'tables')) {
                        if ($null -eq $table) {
                            continue
                        }
                        [pscustomobject]@{
                            PSTypeName     = 'MesBackup.TableInfo'
                            Database       = Get-MesEventValue $table 'database'
                            Name           = Get-MesEventValue $table 'name'
                            Kind           = Get-MesEventValue $table 'kind'
                            Engine         = Get-MesEventValue $table 'engine'
                            EngineName     = Get-MesEventValue $table 'engine_name'
                            OrderBy        = Get-MesEventValue $table 'order_by'
                            PartitionBy    = Get-MesEventValue $table 'partition_by'
                            PrimaryKey     = Get-MesEventValue $table 'primary_key'
                            StoragePolicy  = Get-MesEventValue $table 'storage_policy'
                            Disk           = Get-MesEventValue $table 'disk'
                            RequiredPolicy = Get-MesEventValue $table 'required_policy'
                            Uuid           = Get-MesEventValue $table 'uuid'
                            Parts          = [long](Get-MesEventValue $table 'parts')
                            Rows           = [long](Get-MesEventValue $table 'rows')
                            Bytes          = [long](Get-MesEventValue $table 'bytes')
                        }
                    }
                    $databaseTables = @($databaseTables)
                    foreach ($table in $databaseTables) {
                        $tables.Add($table)
                    }
                    [pscustomobject]@{
                        PSTypeName = 'MesBackup.DatabaseInfo'
                        Name       = Get-MesEventValue $database 'name'
                        Engine     = Get-MesEventValue $database 'engine'
                        Uuid       = Get-MesEventValue $database 'uuid'
                        Tables     = $databaseTables
                        Parts      = [long](Get-MesEventValue $database 'parts')
                        Rows       = [long](Get-MesEventValue $database 'rows')
                        Bytes      = [long](Get-MesEventValue $database 'bytes')
                    }
                }
                [pscustomobject]@{
                    PSTypeName      = 'MesBackup.PackageInfo'
                    Path            = [string](Get-MesEventValue $ev 'path')
                    Verified        = [bool](Get-MesEventValue $ev 'verified')
                    Timestamp       = Get-MesEventValue $ev 'inspection.timestamp'
                    Uuid            = Get-MesEventValue $ev 'inspection.uuid'
                    BackupRoot      = Get-MesEventValue $ev 'inspection.backup_root'
                    Databases       = @($databases)
                    Tables          = $tables.ToArray()
                    TableCount      = [long](Get-MesEventValue $ev 'inspection.tables')
                    Parts           = [long](Get-MesEventValue $ev 'inspection.parts')
                    Rows            = [long](Get-MesEventValue $ev 'inspection.rows')
                    Bytes           = [long](Get-MesEventValue $ev 'inspection.bytes')
                    StoragePolicies = [string[]]@(Get-MesEventValue $ev 'inspection.storage_policies' | Where-Object -FilterScript { $null -ne $_ })
                    Disks           = [string[]]@(Get-MesEventValue $ev 'inspection.disks' | Where-Object -FilterScript { $null -ne $_ })
                    Notes           = [string[]]@(Get-MesEventValue $ev 'inspection.notes' | Where-Object -FilterScript { $null -ne $_ })
                }
            }
        }
    }
}
