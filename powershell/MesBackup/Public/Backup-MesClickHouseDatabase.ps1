function Backup-MesClickHouseDatabase {
    <#
    .SYNOPSIS
    Backs up MES ClickHouse databases: starts each backup, waits for it, and downloads the package.

    .DESCRIPTION
    Start-MesClickHouseBackup and Save-MesClickHouseBackup in one command, for one or more databases,
    or for all four databases of a system with -System (run concurrently). Each package is saved into
    -Path, under the name the server proposes (reduced to a safe file name) or, with -Version, under
    the name the MES installer looks for: <System>.Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip,
    which the installer prefers, or Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip with -GenericNames. A JSON sidecar
    beside each package records the GUID, SHA-256 and the backup window.

    Run the ClickHouse backups after the SQL Server backups of the same environment, once the Work
    Queue Lag counter (System/Database/Kafka) shows 0 messages.

    A failure of one database is a non-terminating error (its kind is the FullyQualifiedErrorId, its
    GUID the TargetObject), so the others are still saved; credential and argument errors stop the
    command.

    .PARAMETER Database
    The database names, for example MESCDM. Accepts pipeline input.

    .PARAMETER System
    Back up all four databases of this system (for example MES: MES, MESCDM, MESODS, MESDWH).

    .PARAMETER Path
    The folder to save the packages into. Default: the current folder.

    .PARAMETER Version
    Save under the installer's package names for this MES version, for example 11.3.0: the
    system-specific names (<System>.Cmf.…), which the installer prefers, unless -GenericNames.

    .PARAMETER GenericNames
    With -Version: the generic installer names (Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip).

    .PARAMETER InstallerName
    Deprecated (kept one release, with a warning): -Version alone saves under the installer names.
    Without -SystemSpecific it keeps its old meaning, the generic names.

    .PARAMETER SystemSpecific
    Deprecated (kept one release, with a warning): the system-specific names are the default.

    .PARAMETER Timeout
    How long to wait for each backup to become ready: a TimeSpan of at least 100 ms, for example
    (New-TimeSpan -Hours 4); a plain number would be ticks and is refused. Default: the CLI's (24 hours).

    .PARAMETER MaxPollDelay
    The longest pause between two status requests.

    .PARAMETER MinPollDelay
    The shortest pause between two status requests (the pause grows with the time already waited),
    a TimeSpan. Default: the CLI's (one second).

    .PARAMETER RetryDelay
    The first pause after a transient failure (503, connection refused), doubling each time, a
    TimeSpan. Default: the CLI's (one second).

    .PARAMETER RequestTimeout
    How long one answer's status line and headers may take, a TimeSpan. Default: the CLI's (two
    minutes).

    .PARAMETER StallTimeout
    A download that receives nothing for this long is abandoned (and so lost: the MES deletes the
    one-shot file). Default: the CLI's (two minutes).

    .PARAMETER SpeedLimit
    Abandon a download that averages fewer bytes per second than this over -SpeedTime (as curl's
    --speed-limit; the download is then lost, as any broken one-shot download). A number of bytes,
    for example 1KB (PowerShell's KB is 1024). 0 disables the rule. Default: the CLI's (1 KiB/s).

    .PARAMETER SpeedTime
    The window over which -SpeedLimit is averaged, a TimeSpan. Default: the CLI's (two minutes).

    .PARAMETER DownloadTimeout
    Abandon a download still arriving this long after it started, a TimeSpan. Default: no limit.

    .PARAMETER MaxSize
    The largest package accepted, in bytes, for example 500GB. A larger Content-Length is refused
    before anything is written; a package sent without one is abandoned once it passes the cap.
    Default: the CLI's (1 TiB).

    .PARAMETER FileName
    Save the package under this name instead of the server's; only with a single backup.

    .PARAMETER Overwrite
    Replace an existing file of the same name. Without it an existing file is never overwritten:
    the package gets another name (said in its Notes).

    .PARAMETER Force
    Deprecated (kept one release, with a warning): -Overwrite.

    .PARAMETER FileMode
    The Unix permission bits (octal text, for example 0640) of every file written: packages, sidecars
    and temporary files. Default 0600: only the account that runs the backup. 0640 lets its group
    read them. Set exactly, whatever the umask. On Windows this is not used: files inherit the ACL of
    the folder they are written to.

    .PARAMETER DirMode
    The Unix permission bits (octal text, for example 0750) of the folders the tool creates (a
    missing -Path and its missing parents; an existing folder keeps its permissions). Default 0700.
    On Windows this is not used: folders inherit their parent's ACL.

    .PARAMETER RestartBudget
    How many new backups may be started after a one-shot download is lost mid-transfer. Default 0:
    never start a backup you did not ask for.

    .PARAMETER SqlBackupFinished
    When the SQL Server backups of this environment completed (a DateTime; one without a time zone
    counts as local time). Passed to the tool in UTC and recorded in each package's sidecar, so that
    Get-MesClickHouseBackupWindow gives the range to re-run MES data processing over after a restore.

    .PARAMETER EnvironmentUrl
    The MES base URL. Defaults to $env:MES_URL.

    .PARAMETER Credential
    The MES user name and a personal access token (PAT) as the password.

    .PARAMETER Token
    A bearer token as a SecureString.

    .PARAMETER CaCertificate
    A PEM file with the certificate authority to trust for the MES's TLS certificate.

    .PARAMETER AllowInsecureHttp
    Allow credentials over plain http://.

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Backup-MesClickHouseDatabase -System MES -Path D:\Backups -EnvironmentUrl https://mes.example.com/ -Credential (Get-Credential)

    Backs up the four databases of system MES into D:\Backups.

    .EXAMPLE
    PS> $env:MES_URL = 'https://mes.example.com/'
    PS> Backup-MesClickHouseDatabase -Database MESCDM -Token (Read-Host -AsSecureString) | Format-List

    Backs up one database and shows every property of the saved package.

    .EXAMPLE
    PS> Backup-MesClickHouseDatabase -System MES -Version 11.3.0 -Path \\installer\CustomPackages -WhatIf

    Shows what would be backed up, and under which kind of names, without starting anything.

    .EXAMPLE
    PS> Backup-MesClickHouseDatabase -System MES -Path D:\Backups -Timeout (New-TimeSpan -Hours 4) -RestartBudget 1 -Verbose

    A nightly run: waits up to four hours, allows one new backup if a download breaks, and shows the
    CLI's events.

    .INPUTS
    System.String

    .OUTPUTS
    MesBackup.Package

    .LINK
    Copy-MesClickHouseBackupToInstaller

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', DefaultParameterSetName = 'Database')]
    [OutputType('MesBackup.Package')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName, ParameterSetName = 'Database')]
        [ValidateNotNullOrEmpty()]
        [string[]]$Database,

        [Parameter(Mandatory, ParameterSetName = 'System')]
        [ValidateNotNullOrEmpty()]
        [string]$System,

        [ValidateNotNullOrEmpty()]
        [string]$Path,

        [ValidatePattern('^\d+(\.\d+){1,3}$')]
        [string]$Version,

        [switch]$GenericNames,

        [Parameter(DontShow)]
        [switch]$InstallerName,

        [Parameter(DontShow)]
        [switch]$SystemSpecific,

        [ValidateScript({ $_ -ge [TimeSpan]::FromMilliseconds(100) })]
        [TimeSpan]$Timeout,

        [ValidateScript({ $_ -ge [TimeSpan]::FromMilliseconds(100) })]
        [TimeSpan]$MaxPollDelay,

        [ValidateScript({ $_ -ge [TimeSpan]::FromMilliseconds(1) })]
        [TimeSpan]$MinPollDelay,

        [ValidateScript({ $_ -ge [TimeSpan]::FromMilliseconds(1) })]
        [TimeSpan]$RetryDelay,

        [ValidateScript({ $_ -ge [TimeSpan]::FromMilliseconds(100) })]
        [TimeSpan]$RequestTimeout,

        [ValidateScript({ $_ -ge [TimeSpan]::FromMilliseconds(100) })]
        [TimeSpan]$StallTimeout,

        [ValidateRange(0, [long]::MaxValue)]
        [long]$SpeedLimit,

        [ValidateScript({ $_ -ge [TimeSpan]::FromMilliseconds(100) })]
        [TimeSpan]$SpeedTime,

        [ValidateScript({ $_ -ge [TimeSpan]::FromMilliseconds(100) })]
        [TimeSpan]$DownloadTimeout,

        [ValidateRange(1, [long]::MaxValue)]
        [long]$MaxSize,

        [ValidateNotNullOrEmpty()]
        [string]$FileName,

        [switch]$Overwrite,

        [Parameter(DontShow)]
        [switch]$Force,

        [ValidateNotNullOrEmpty()]
        [string]$FileMode,

        [ValidateNotNullOrEmpty()]
        [string]$DirMode,

        [ValidateRange(0, 100)]
        [int]$RestartBudget,

        [datetime]$SqlBackupFinished,

        [string]$EnvironmentUrl,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $Credential,

        [System.Security.SecureString]$Token,

        [string]$CaCertificate,

        [switch]$AllowInsecureHttp,

        [string]$CliPath
    )
    begin {
        if ($InstallerName) {
            $keep = ''
            if (-not $SystemSpecific -and -not $GenericNames) {
                $keep = '; add -GenericNames for the generic names it chose so far'
            }
            Write-MesDeprecation -Parameter 'InstallerName' -Instead ('-Version alone saves under the installer names, system-specific by default' + $keep)
        }
        if ($SystemSpecific) {
            Write-MesDeprecation -Parameter 'SystemSpecific' -Instead 'the system-specific names are the default (-GenericNames for the others)'
        }
        if ($Force) {
            Write-MesDeprecation -Parameter 'Force' -Instead 'use -Overwrite'
        }
        if (($InstallerName -or $GenericNames -or $SystemSpecific) -and -not $Version) {
            $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'Installer names need -Version (the MES version, for example 11.3.0).'
            $PSCmdlet.ThrowTerminatingError($record)
        }
        if ($SystemSpecific -and $GenericNames) {
            $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'Pass -GenericNames or the deprecated -SystemSpecific, not both.'
            $PSCmdlet.ThrowTerminatingError($record)
        }
        # The old spelling keeps its old default (generic names) for its last release.
        $useGenericNames = $GenericNames -or ($InstallerName -and -not $SystemSpecific)
        $replace = $Overwrite -or $Force
        $url = Assert-MesConnection -Cmdlet $PSCmdlet -EnvironmentUrl $EnvironmentUrl -Credential $Credential -Token $Token
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
        $outDirectory = Resolve-MesOutputFolder -Cmdlet $PSCmdlet -Path $Path
        $databases = New-Object -TypeName 'System.Collections.Generic.List[string]'
        $action = 'Back up (start, wait, download) into {0}' -f $outDirectory
        if ($replace) {
            $action = $action + ', replacing a file of the same name'
        }
    }
    process {
        if ($PSCmdlet.ParameterSetName -eq 'Database') {
            foreach ($name in $Database) {
                if ($PSCmdlet.ShouldProcess(('database {0} on {1}' -f $name, $url), $action)) {
                    $databases.Add($name)
                }
            }
        }
    }
    end {
        $cliOptions = @{
            Command           = 'backup'
            OutDirectory      = $outDirectory
            FileName          = $FileName
            Overwrite         = $replace
            Version           = $Version
            GenericNames      = $useGenericNames
            CaCertificate     = $CaCertificate
            AllowInsecureHttp = $AllowInsecureHttp
        }
        if ($PSBoundParameters.ContainsKey('Timeout')) {
            $cliOptions.Timeout = $Timeout
        }
        if ($PSBoundParameters.ContainsKey('MaxPollDelay')) {
            $cliOptions.MaxPollDelay = $MaxPollDelay
        }
        if ($PSBoundParameters.ContainsKey('StallTimeout')) {
            $cliOptions.StallTimeout = $StallTimeout
        }
        foreach ($limitName in @('MinPollDelay', 'RetryDelay', 'RequestTimeout', 'SpeedLimit', 'SpeedTime', 'DownloadTimeout', 'MaxSize')) {
            if ($PSBoundParameters.ContainsKey($limitName)) {
                $cliOptions[$limitName] = $PSBoundParameters[$limitName]
            }
        }
        if ($PSBoundParameters.ContainsKey('SqlBackupFinished')) {
            $cliOptions.SqlBackupFinished = $SqlBackupFinished
        }
        if ($PSBoundParameters.ContainsKey('RestartBudget')) {
            $cliOptions.RestartBudget = $RestartBudget
        }
        if ($FileMode) {
            $cliOptions.FileMode = $FileMode
        }
        if ($DirMode) {
            $cliOptions.DirMode = $DirMode
        }
        if ($PSCmdlet.ParameterSetName -eq 'System') {
            if (-not $PSCmdlet.ShouldProcess(('all four databases of system {0} on {1}' -f $System, $url), $action)) {
                return
            }
            $cliOptions.System = $System
        }
        else {
            if ($databases.Count -eq 0) {
                return
            }
            $cliOptions.Operand = $databases.ToArray()
        }
        $argumentList = Get-MesCliArgumentList @cliOptions
        Invoke-MesJob -Cmdlet $PSCmdlet -Mode 'Save' -CliPath $cli -ArgumentList $argumentList -EnvironmentUrl $url -Credential $Credential -Token $Token -Activity 'Back up ClickHouse'
    }
}
