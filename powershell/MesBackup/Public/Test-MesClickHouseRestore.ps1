function Test-MesClickHouseRestore {
    <#
    .SYNOPSIS
    Proves that backup packages restore: each one is verified, restored into a throwaway database,
    compared table by table with the package, and dropped.

    .DESCRIPTION
    Runs `mesbackup test-restore`, the counterpart of dbatools' Test-DbaLastBackup for the ClickHouse
    packages of an MES. For each package: verify it (zip CRCs, manifest, part checksums), plan the
    restore against the target, restore it as <Prefix><database>_<random> (default prefix
    mesbackup_testrestore_; a fresh name for every package and run, refused if it exists), compare
    every table's row count with the package, and drop the database again (unless -Keep), only while
    it is still the one this run restored (same UUID). Databases it did not create are never touched.

    Returns one MesBackup.TestRestoreResult per package as soon as the tool has finished it: Path, Ok,
    Verified, Database, TargetDatabase, TablesChecked, RowsChecked, Dropped, Tables, Problems, Error
    (Kind and Message, $null when Ok), VerifyMs, RestoreMs, ElapsedMs. A package that fails (damaged,
    a plan problem, a row count that differs, unreadable) is a result with Ok = $false and its Error,
    not an error record, and the next package is still tested. Errors of the command itself (a bad
    argument, a rejected ClickHouse credential) are ErrorRecords with the canonical kind.

    Write-Progress shows each restore (extraction, then the files the server has read). ClickHouse
    credentials reach the tool only through CLICKHOUSE_USER and CLICKHOUSE_PASSWORD in its
    environment: from -ClickHouseCredential, else inherited from the session's variables.

    .PARAMETER Path
    The package files (zip). Accepts pipeline input, and the Path or FullName property of piped
    objects, so MesBackup.Package objects and the files of Get-ChildItem can be piped.

    .PARAMETER ClickHouseUrl
    ClickHouse's HTTP interface, for example https://ch:8443 (plain http:// only on this machine, or with -AllowInsecureHttp).

    .PARAMETER ServerBackupPath
    A folder the server can read (under its backups.allowed_path), written from this machine.
    Each package's backup root is extracted there for the restore and removed afterwards.

    .PARAMETER PathOnServer
    The same folder as the ClickHouse server sees it, when the path differs there (ClickHouse in a
    container, or on another host sharing the folder). Default: the same path as -ServerBackupPath.

    .PARAMETER ClickHouseCredential
    The ClickHouse user and password. Without it, $env:CLICKHOUSE_USER and $env:CLICKHOUSE_PASSWORD
    are used if set.

    .PARAMETER Prefix
    Prefix of the throwaway database names (the tool's default: mesbackup_testrestore_); it may not
    be empty.

    .PARAMETER AllowInsecureHttp
    Allow a plain http:// ClickHouse URL to another machine: its password and the restored data then
    cross the network in clear text.

    .PARAMETER Keep
    Keep the restored databases instead of dropping them.

    .PARAMETER StoragePolicy
    Restore every table with this storage policy.

    .PARAMETER FileMode
    The Unix permission bits (octal text, for example 0640) of the extracted files. Default 0600: only
    the account that runs the command. When ClickHouse runs as another user, use 0640 with -DirMode
    0750 and give the server backup path to ClickHouse's group. On Windows this is not used: files
    inherit the ACL of the folder they are written to.

    .PARAMETER DirMode
    The Unix permission bits (octal text, for example 0750) of the extraction folders. Default 0700.

    .PARAMETER Timeout
    Each package's test, every ClickHouse statement included, ends within this long, a TimeSpan (the
    tool's default: one hour).

    .PARAMETER TimeoutSeconds
    Deprecated (kept one release, with a warning): -Timeout, a TimeSpan.

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Get-ChildItem -Path D:\Backups -Filter '*.zip' | Test-MesClickHouseRestore -ClickHouseUrl https://ch-test:8443 -ServerBackupPath /var/lib/clickhouse/backups

    Restores every package of a folder into a throwaway database on a test server, checks the row
    counts and drops the databases; one result per package.

    .EXAMPLE
    PS> Backup-MesClickHouseDatabase -System MES -Path D:\Backups | Test-MesClickHouseRestore -ClickHouseUrl https://ch-test:8443 -ServerBackupPath /srv/ch-backups -ClickHouseCredential $chCred |
    PS>     Where-Object -FilterScript { -not $_.Ok } | ForEach-Object -Process { '{0}: [{1}] {2}' -f $_.Path, $_.Error.Kind, $_.Error.Message }

    Backs up the four databases of system MES, proves each package restores, and lists the ones that
    do not, with the reason.

    .EXAMPLE
    PS> Test-MesClickHouseRestore -Path .\MESCDM.zip -ClickHouseUrl http://localhost:8123 -ServerBackupPath /srv/ch-backups -Prefix check_ -Keep -StoragePolicy default

    Restores MESCDM.zip as check_MESCDM with the default storage policy and keeps it for inspection.

    .INPUTS
    System.String, System.IO.FileInfo, MesBackup.Package

    .OUTPUTS
    MesBackup.TestRestoreResult

    .LINK
    Restore-MesClickHouseDatabase

    .LINK
    Test-MesClickHouseBackup

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('MesBackup.TestRestoreResult')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string]$ClickHouseUrl,

        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string]$ServerBackupPath,

        [ValidateNotNullOrEmpty()]
        [string]$PathOnServer,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $ClickHouseCredential,

        [ValidateNotNullOrEmpty()]
        [string]$Prefix,

        [switch]$Keep,

        [switch]$AllowInsecureHttp,

        [ValidateNotNullOrEmpty()]
        [string]$StoragePolicy,

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
        $serverPath = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($ServerBackupPath)
        # (PowerShell variables ignore case: this must not be called $timeout, which is -Timeout.)
        $restoreTimeout = $null
        if ($PSBoundParameters.ContainsKey('TimeoutSeconds')) {
            Write-MesDeprecation -Parameter 'TimeoutSeconds' -Instead ('use -Timeout (a TimeSpan), e.g. -Timeout (New-TimeSpan -Seconds {0})' -f $TimeoutSeconds)
            $restoreTimeout = [TimeSpan]::FromSeconds($TimeoutSeconds)
        }
        if ($PSBoundParameters.ContainsKey('Timeout')) {
            $restoreTimeout = $Timeout
        }
        $action = 'Restore into a throwaway database, compare row counts and drop it'
        if ($Keep) {
            $action = 'Restore into a throwaway database and compare row counts (kept)'
        }
    }
    process {
        $packages = foreach ($item in $Path) {
            $resolved = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($item)
            if ($PSCmdlet.ShouldProcess(('{0} on {1}' -f $resolved, $ClickHouseUrl), $action)) {
                $resolved
            }
        }
        $packages = @($packages)
        if ($packages.Count -eq 0) {
            return
        }
        $argumentList = Get-MesCliArgumentList -Command 'test-restore' -Operand $packages -ClickHouseUrl $ClickHouseUrl -ServerBackupPath $serverPath -PathOnServer $PathOnServer -Prefix $Prefix -Keep:$Keep -StoragePolicy $StoragePolicy -Timeout $restoreTimeout -AllowInsecureHttp:$AllowInsecureHttp -FileMode $FileMode -DirMode $DirMode
        $state = @{}
        $answered = @{}
        $commandFailures = New-Object -TypeName 'System.Collections.Generic.List[object]'
        # Streamed: each result goes down the pipeline as soon as the tool emits it.
        Invoke-MesCli -CliPath $cli -ArgumentList $argumentList -ClickHouse -ClickHouseCredential $ClickHouseCredential -State $state -Activity 'Test restore' |
            ForEach-Object -Process {
                $ev = $_
                $eventName = Get-MesEventValue $ev 'event'
                switch ($eventName) {
                    'test_restore' {
                        $answered[[string](Get-MesEventValue $ev 'path')] = $true
                        ConvertTo-MesTestRestoreResult -CliEvent $ev
                    }
                    'failed' {
                        # The command itself failed (not one package): bad arguments, credentials.
                        $commandFailures.Add($ev)
                    }
                }
            }
        foreach ($ev in $commandFailures) {
            $kind = [string](Get-MesEventValue $ev 'error.kind')
            $record = New-MesErrorRecord -Kind $kind -Message ([string](Get-MesEventValue $ev 'error.message')) -TargetObject $ClickHouseUrl -RecommendedAction (Get-MesRecommendedAction -Kind $kind)
            if (Test-MesTerminatingKind -Kind $kind) {
                $PSCmdlet.ThrowTerminatingError($record)
            }
            $PSCmdlet.WriteError($record)
        }
        # A non-zero exit with a result for every package is the answer (Ok = $false somewhere);
        # without results, the tool failed.
        $missing = @($packages | Where-Object -FilterScript { -not $answered.ContainsKey($_) })
        if ($state.ExitCode -ne 0 -and $commandFailures.Count -eq 0 -and $missing.Count -gt 0) {
            $kind = 'internal'
            if ($null -ne $state.ExitCode) {
                $kind = Get-MesErrorKindFromExitCode -ExitCode $state.ExitCode
            }
            $detail = ($state.StdErr -split "`r?`n" | Where-Object -FilterScript { $_ } | Select-Object -Last 5) -join ' '
            $record = New-MesErrorRecord -Kind $kind -Message ('mesbackup ended with exit code {0} ({1}) without a result for {2}: {3}' -f $state.ExitCode, $kind, ($missing -join ', '), $detail) -TargetObject $missing
            $PSCmdlet.ThrowTerminatingError($record)
        }
    }
}
