function Copy-MesClickHouseBackupToInstaller {
    <#
    .SYNOPSIS
    Stages backup packages in the MES installer's custom packages folder under the names it looks for.

    .DESCRIPTION
    Copies (or, with -Move, moves) each package into -Destination under its installer name for the
    system and version: <System>.Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip, which the installer
    prefers, or Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip with -GenericNames. The database kind
    comes from the package's sidecar (written by Backup-/Save-MesClickHouseBackup) or its file name.
    Each file appears atomically under its final name, with its sidecar beside it, and an existing file
    is never replaced unless -Overwrite is given.

    Takes MesBackup.Package objects (from Backup-MesClickHouseDatabase or Save-MesClickHouseBackup) or
    files (Get-ChildItem) from the pipeline. Returns a MesBackup.StagedPackage per package. A package
    that cannot be staged is a non-terminating error; the others are still staged.

    .PARAMETER Path
    The package files. Accepts pipeline input, and the Path or FullName property of piped objects.

    .PARAMETER Destination
    The MES custom installation packages folder.

    .PARAMETER System
    The MES system name, for example MES.

    .PARAMETER Version
    The MES version being installed, for example 11.3.0.

    .PARAMETER GenericNames
    Use the generic names (Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip) instead of the
    <System>.-prefixed ones, which the installer prefers.

    .PARAMETER SystemSpecific
    Deprecated (kept one release, with a warning): the system-specific names are the default.

    .PARAMETER Move
    Move the packages instead of copying them.

    .PARAMETER Overwrite
    Replace a file of the same name in -Destination.

    .PARAMETER Force
    Deprecated (kept one release, with a warning): -Overwrite.

    .PARAMETER FileMode
    The Unix permission bits (octal text, for example 0640) of the staged packages and sidecars.
    Default 0600: only the account that stages them; 0640 lets its group (for example the
    installer's service account) read them. Set exactly, whatever the umask. On Windows this is not
    used: files inherit the ACL of -Destination.

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Backup-MesClickHouseDatabase -System MES -Path D:\Backups | Copy-MesClickHouseBackupToInstaller -Destination \\installer\CustomPackages -System MES -Version 11.3.0

    Backs up system MES and stages the four packages for the installer.

    .EXAMPLE
    PS> Get-ChildItem D:\Backups\2026-11-25\*.zip | Copy-MesClickHouseBackupToInstaller -Destination D:\CustomPackages -System MES -Version 11.3.0 -Move -WhatIf

    Shows which packages would be moved, without touching any file.

    .EXAMPLE
    PS> Copy-MesClickHouseBackupToInstaller -Path .\MESCDM.zip -Destination D:\CustomPackages -System MES -Version 11.3.0 -Overwrite -Confirm

    Replaces the staged CDM package after asking.

    .INPUTS
    System.String, MesBackup.Package, System.IO.FileInfo

    .OUTPUTS
    MesBackup.StagedPackage

    .LINK
    Test-MesClickHouseBackupFolder

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('MesBackup.StagedPackage')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [Parameter(Mandatory, Position = 1)]
        [Alias('Into')]
        [ValidateNotNullOrEmpty()]
        [string]$Destination,

        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string]$System,

        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string]$Version,

        [switch]$GenericNames,

        [Parameter(DontShow)]
        [switch]$SystemSpecific,

        [switch]$Move,

        [switch]$Overwrite,

        [Parameter(DontShow)]
        [switch]$Force,

        [ValidateNotNullOrEmpty()]
        [string]$FileMode,

        [string]$CliPath
    )
    begin {
        if ($SystemSpecific) {
            Write-MesDeprecation -Parameter 'SystemSpecific' -Instead 'the system-specific names are the default (-GenericNames for the others)'
        }
        if ($Force) {
            Write-MesDeprecation -Parameter 'Force' -Instead 'use -Overwrite'
        }
        if ($SystemSpecific -and $GenericNames) {
            $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'Pass -GenericNames or the deprecated -SystemSpecific, not both.'
            $PSCmdlet.ThrowTerminatingError($record)
        }
        $replace = $Overwrite -or $Force
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
        $target = Resolve-MesOutputFolder -Cmdlet $PSCmdlet -Path $Destination -MustExist
        $packages = New-Object -TypeName 'System.Collections.Generic.List[string]'
        $verb = 'Copy'
        if ($Move) {
            $verb = 'Move'
        }
        $naming = 'system-specific'
        if ($GenericNames) {
            $naming = 'generic'
        }
        $action = '{0} into {1} under its {2} installer name for system {3}, version {4}' -f $verb, $target, $naming, $System, $Version
        if ($replace) {
            $action = $action + ', replacing an existing file'
        }
    }
    process {
        foreach ($item in $Path) {
            $full = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($item)
            if (-not (Test-Path -LiteralPath $full -PathType Leaf)) {
                $record = New-MesErrorRecord -Kind 'invalid_argument' -Message ('No package file at {0}.' -f $full) -TargetObject $item
                $PSCmdlet.WriteError($record)
                continue
            }
            if ($PSCmdlet.ShouldProcess($full, $action)) {
                $packages.Add($full)
            }
        }
    }
    end {
        if ($packages.Count -eq 0) {
            return
        }
        $argumentList = Get-MesCliArgumentList -Command 'stage' -Operand $packages.ToArray() -Into $target -System $System -Version $Version -GenericNames:$GenericNames -Move:$Move -Overwrite:$replace -FileMode $FileMode
        $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -PerItem -Activity 'Stage ClickHouse backup'
        foreach ($ev in $events) {
            if ((Get-MesEventValue $ev 'event') -ne 'staged') {
                continue
            }
            [pscustomobject]@{
                PSTypeName  = 'MesBackup.StagedPackage'
                Kind        = Get-MesEventValue $ev 'kind'
                FileName    = Get-MesEventValue $ev 'file_name'
                Path        = Get-MesEventValue $ev 'target'
                Source      = Get-MesEventValue $ev 'source'
                Size        = [long](Get-MesEventValue $ev 'size')
                Sha256      = Get-MesEventValue $ev 'sha256'
                Mode        = Get-MesEventValue $ev 'mode'
                Replaced    = [bool](Get-MesEventValue $ev 'replaced')
                SidecarPath = Get-MesEventValue $ev 'sidecar'
            }
        }
    }
}
