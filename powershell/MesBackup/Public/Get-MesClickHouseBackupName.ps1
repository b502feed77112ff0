function Get-MesClickHouseBackupName {
    <#
    .SYNOPSIS
    Lists the package file names the MES installer looks for, per database, for a system and version.

    .DESCRIPTION
    For each of the four ClickHouse databases of a system (Online, CDM, ODS, DWH) returns the database
    name and the two file names the installer searches, in its order: the system-specific name
    (<System>.Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip) first, then the generic one
    (Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip). The names come from the mesbackup CLI, so they
    are the same everywhere. Needs no MES connection.

    .PARAMETER System
    The MES system name, for example MES.

    .PARAMETER Version
    The MES version, for example 11.3.0.

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Get-MesClickHouseBackupName -System MES -Version 11.3.0

    Lists the four databases with their generic and system-specific installer names.

    .EXAMPLE
    PS> (Get-MesClickHouseBackupName -System MES -Version 11.3.0 | Where-Object Kind -eq 'CDM').SystemSpecificName

    MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip

    .INPUTS
    None

    .OUTPUTS
    MesBackup.PackageName

    .LINK
    Test-MesClickHouseBackupFolder

    .LINK
    about_MesBackup
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.PackageName')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string]$System,

        [Parameter(Mandatory, Position = 1)]
        [ValidateNotNullOrEmpty()]
        [string]$Version,

        [string]$CliPath
    )
    $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
    $argumentList = Get-MesCliArgumentList -Command 'names' -System $System -Version $Version
    $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -Terminating
    foreach ($ev in $events) {
        if ((Get-MesEventValue $ev 'event') -ne 'names') {
            continue
        }
        foreach ($entry in @(Get-MesEventValue $ev 'packages')) {
            [pscustomobject]@{
                PSTypeName         = 'MesBackup.PackageName'
                System             = Get-MesEventValue $ev 'system'
                Version            = Get-MesEventValue $ev 'version'
                Kind               = Get-MesEventValue $entry 'kind'
                Database           = Get-MesEventValue $entry 'database'
                SystemSpecificName = Get-MesEventValue $entry 'system_specific'
                GenericName        = Get-MesEventValue $entry 'generic'
            }
        }
    }
}
