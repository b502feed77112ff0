function Restore-MesClickHouseDatabase {
    <#
    .SYNOPSIS
    Restores a ClickHouse backup package into a ClickHouse server: verify, plan against the target,
    RESTORE DATABASE ... ASYNC, follow it, compare every table's row count with the package.

    .DESCRIPTION
    Runs `mesbackup restore`. The package is verified first; then the target is asked for its storage
    policies, disks and databases, and the plan names what would fail (a missing storage policy or
    disk, a non-empty target database, a name clash) before anything runs. Then the backup root is
    extracted into -ServerBackupPath (a folder the server can read, under its
    backups.allowed_path; -PathOnServer when the server sees it elsewhere), RESTORE DATABASE ... ASYNC runs,
    system.backups is followed (Write-Progress shows the files read), and each table's row count is
    compared with the package.

    Returns a MesBackup.RestoreResult (Path, Database, TargetDatabase, OperationId, Tables with
    Table, ExpectedRows, Rows and Ok, Rows, Ok, ElapsedMs).

    The command creates a database, so it asks for confirmation (ConfirmImpact High); use
    -Confirm:$false in scripts. With -WhatIf it runs `mesbackup restore --dry-run`: nothing is
    extracted or run, and it returns the plan as a MesBackup.RestorePlan (Database, TargetDatabase,
    Ok, Problems, Tables, Settings, Notes, Sql), writing each plan's problems as a non-terminating
    "invalid_argument,Restore-MesClickHouseDatabase" error.

    Errors carry the canonical kind as their error id and the package's path as TargetObject: a plan
    problem is "invalid_argument" (terminating: nothing ran), a damaged package or row counts that
    differ from the package "integrity", a timeout "timeout", a rejected ClickHouse credential
    "unauthorized".

    ClickHouse credentials reach the tool only through CLICKHOUSE_USER and CLICKHOUSE_PASSWORD in its
    environment: from -ClickHouseCredential, else inherited from the session's $env:CLICKHOUSE_USER
    and $env:CLICKHOUSE_PASSWORD. A URL with credentials in it (http://user:pass@host) is refused.

    .PARAMETER Path
    The package file (zip). Accepts pipeline input, and the Path or FullName property of piped
    objects (MesBackup.Package, files of Get-ChildItem).

    .PARAMETER ClickHouseUrl
    ClickHouse's HTTP interface, for example https://ch:8443 (plain http:// only on this machine, or with -AllowInsecureHttp).

    .PARAMETER ClickHouseCredential
    The ClickHouse user and password. Without it, $env:CLICKHOUSE_USER and $env:CLICKHOUSE_PASSWORD
    are used if set.

    .PARAMETER DatabaseName
    Restore under this database name instead of the package's.

    .PARAMETER StoragePolicy
    Restore every table with this storage policy (for a target without the package's policies).

    .PARAMETER IntoExisting
    Restore into a database that already exists on the target and is empty. Without it an existing
    target database is refused (a problem of the plan); with it a non-empty one still is. A restore
    never drops anything.

    .PARAMETER AllowInsecureHttp
    Allow a plain http:// ClickHouse URL to another machine: its password and the restored data then
    cross the network in clear text. https:// and http:// on this machine need no switch.

    .PARAMETER ServerBackupPath
    A folder the server can read (under its backups.allowed_path), written from this machine.
    Required unless -WhatIf. The extracted files are private to this user (0600 in 0700 folders) and
    are removed afterwards; an entry of the package that would leave the folder is refused.

    .PARAMETER PathOnServer
    The same folder as the ClickHouse server sees it, when the path differs there (ClickHouse in a
    container, or on another host sharing the folder). Default: the same path as -ServerBackupPath.

    .PARAMETER FileMode
    The Unix permission bits (octal text, for example 0640) of the extracted files. Default 0600: only
    the account that runs the command. When ClickHouse runs as another user, use 0640 with -DirMode
    0750 and give the server backup path to ClickHouse's group. On Windows this is not used: files
    inherit the ACL of the folder they are written to.

    .PARAMETER DirMode
    The Unix permission bits (octal text, for example 0750) of the extraction folders. Default 0700.

    .PARAMETER Timeout
    The whole restore, every ClickHouse statement included, ends within this long, a TimeSpan (the
    tool's default: one hour); a server that accepts and never answers cannot hold it longer.

    .PARAMETER TimeoutSeconds
    Deprecated (kept one release, with a warning): -Timeout, a TimeSpan.

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Restore-MesClickHouseDatabase -Path D:\Backups\MESCDM.zip -ClickHouseUrl https://ch:8443 -DatabaseName MESCDM_check -WhatIf

    Shows the plan (source and target database, tables and their rows, settings, the RESTORE statement)
    and names any problem the target has, without restoring anything.

    .EXAMPLE
    PS> $cred = Get-Credential -UserName default -Message 'ClickHouse password'
    PS> Restore-MesClickHouseDatabase -Path D:\Backups\MESCDM.zip -ClickHouseUrl https://ch:8443 -ClickHouseCredential $cred -DatabaseName MESCDM_check -ServerBackupPath /var/lib/clickhouse/backups -Confirm:$false

    Restores the package as MESCDM_check and returns the row-count comparison of every table.

    .EXAMPLE
    PS> $result = Restore-MesClickHouseDatabase -Path .\MESDWH.zip -ClickHouseUrl https://ch:8443 -ServerBackupPath /srv/ch-backups -StoragePolicy default -Timeout (New-TimeSpan -Hours 4)
    PS> $result.Tables | Where-Object -FilterScript { -not $_.Ok }

    Restores onto a server without the package's storage policies, waiting up to four hours, and lists
    the tables whose row count differs from the package.

    .INPUTS
    System.String, System.IO.FileInfo, MesBackup.Package

    .OUTPUTS
    MesBackup.RestoreResult, MesBackup.RestorePlan

    .LINK
    Test-MesClickHouseRestore

    .LINK
    Get-MesClickHouseBackupInfo

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('MesBackup.RestoreResult', 'MesBackup.RestorePlan')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string]$Path,

        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string]$ClickHouseUrl,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $ClickHouseCredential,

        [Alias('As')]
        [ValidateNotNullOrEmpty()]
        [string]$DatabaseName,

        [ValidateNotNullOrEmpty()]
        [string]$StoragePolicy,

        [switch]$IntoExisting,

        [switch]$AllowInsecureHttp,

        [ValidateNotNullOrEmpty()]
        [string]$ServerBackupPath,

        [ValidateNotNullOrEmpty()]
        [string]$PathOnServer,

        [ValidateNotNullOrEmpty()]
        [string]$FileMode,

        [ValidateNotNullOrEmpty()]
        [string]$DirMode,

        [ValidateScript({ $_ -ge [TimeSpan]::FromMilliseconds(100) })]
        [TimeSpan]$Timeout,

        [Parameter(DontShow)]
        [ValidateRange(1, 2147483647)]
        [int]$TimeoutSeconds,

        [string]$CliPath
    )
    begin {
        Assert-MesClickHouseUrl -Cmdlet $PSCmdlet -ClickHouseUrl $ClickHouseUrl
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
        $serverPath = $null
        if ($ServerBackupPath) {
            $serverPath = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($ServerBackupPath)
        }
        # (PowerShell variables ignore case: this must not be called $timeout, which is -Timeout.)
        $restoreTimeout = $null
        if ($PSBoundParameters.ContainsKey('TimeoutSeconds')) {
            Write-MesDeprecation -Parameter 'TimeoutSeconds' -Instead ('use -Timeout (a TimeSpan), e.g. -Timeout (New-TimeSpan -Seconds {0})' -f $TimeoutSeconds)
            $restoreTimeout = [TimeSpan]::FromSeconds($TimeoutSeconds)
        }
        if ($PSBoundParameters.ContainsKey('Timeout')) {
            $restoreTimeout = $Timeout
        }
    }
    process {
        $package = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($Path)
        $targetName = $DatabaseName
        if (-not $targetName) {
            $targetName = 'the database of the package'
        }
        $builder = @{
            Command        = 'restore'
            Operand        = @($package)
            ClickHouseUrl  = $ClickHouseUrl
            DatabaseName   = $DatabaseName
            StoragePolicy  = $StoragePolicy
            PathOnServer   = $PathOnServer
            Timeout        = $restoreTimeout
            IntoExisting   = $IntoExisting
            AllowInsecureHttp = $AllowInsecureHttp
            FileMode       = $FileMode
            DirMode        = $DirMode
        }
        if ($PSCmdlet.ShouldProcess(('{0} on {1}' -f $targetName, $ClickHouseUrl), ('Restore ClickHouse database from {0} (creates the database)' -f $package))) {
            if (-not $serverPath) {
                $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'Restore needs -ServerBackupPath: a folder the ClickHouse server can read (under its backups.allowed_path; add -PathOnServer when the server sees it under another path). -WhatIf shows the plan without it.' -TargetObject $package
                $PSCmdlet.ThrowTerminatingError($record)
            }
            $builder['ServerBackupPath'] = $serverPath
            $argumentList = Get-MesCliArgumentList @builder
            # A plan problem (invalid_argument) or a rejected credential is terminating: nothing ran.
            # A damaged package or different row counts (integrity) is not.
            $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -ClickHouse -ClickHouseCredential $ClickHouseCredential -TargetObject $package -Activity 'Restore ClickHouse database'
            foreach ($ev in $events) {
                ConvertTo-MesRestoreResult -CliEvent $ev
            }
        }
        elseif ($WhatIfPreference) {
            $builder['DryRun'] = $true
            if ($serverPath) {
                $builder['ServerBackupPath'] = $serverPath
            }
            $argumentList = Get-MesCliArgumentList @builder
            # Each plan's problems are an answer here: non-terminating, so that every piped package
            # gets its plan shown.
            $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -ClickHouse -ClickHouseCredential $ClickHouseCredential -TargetObject $package -PerItem -Activity 'Restore ClickHouse database (plan)'
            foreach ($ev in $events) {
                ConvertTo-MesRestorePlan -CliEvent $ev
            }
        }
    }
}
