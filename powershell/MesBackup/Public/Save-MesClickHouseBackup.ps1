function Save-MesClickHouseBackup {
    <#
    .SYNOPSIS
    Waits for backups started earlier and downloads each package once it is ready.

    .DESCRIPTION
    Takes job GUIDs (or MesBackup.Job objects from Start-MesClickHouseBackup, or anything with a Guid
    property) and, for each, polls the MES until the backup is ready, then downloads it into -Path.
    The download is one-shot: the MES deletes the file as soon as it has been sent, so the package is
    streamed into a temporary file, hashed (SHA-256) as it is written, and given its name only when it
    is complete. Existing files are never overwritten; a name clash gets another name.

    Returns a MesBackup.Package per saved backup (Database, Guid, Path, Size, Sha256, Started, Ready,
    Finished, SidecarPath). A failure of one job (for example backup_not_found, timeout,
    download_lost) is a non-terminating error with the GUID as TargetObject, so the other jobs in the
    pipeline are still saved.

    With -NoWait, exactly one request is sent per job: a ready backup is saved, a pending one is
    returned as a MesBackup.Job with Status Pending (nothing is downloaded).

    .PARAMETER Guid
    The GUIDs of backup jobs. Accepts pipeline input, and the Guid property of piped objects.

    .PARAMETER Path
    The folder to save the packages into. Default: the current folder.

    .PARAMETER NoWait
    Check each job once: save it if ready, otherwise return it with Status Pending.

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

    .PARAMETER Database
    The database each backup is of (MES, MESCDM, ...), recorded in its sidecar so that retention
    (Remove-MesClickHouseBackup, mesbackup run) and Get-MesClickHouseBackupWindow group the package by
    database. Accepts the Database property of piped jobs, so Start-MesClickHouseBackup |
    Save-MesClickHouseBackup records it by itself. Downloading never starts a backup.

    .PARAMETER SqlBackupFinished
    When the SQL Server backups of this environment completed (a DateTime; one without a time zone
    counts as local time). Passed to the tool in UTC and recorded in each package's sidecar, so that
    Get-MesClickHouseBackupWindow gives the range to re-run MES data processing over after a restore.

    .PARAMETER EnvironmentUrl
    The MES base URL. Accepts the EnvironmentUrl property of piped jobs. Defaults to $env:MES_URL.

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
    PS> Start-MesClickHouseBackup -System MES | Save-MesClickHouseBackup -Path D:\Backups

    Starts the four backups of system MES, then waits for and downloads all of them.

    .EXAMPLE
    PS> Save-MesClickHouseBackup -Guid 3f2b6c1e-0d4a-4c57-9a51-2f0e8d1b7c44 -Path D:\Backups -Timeout (New-TimeSpan -Hours 4)

    Collects one backup started earlier, waiting up to four hours.

    .EXAMPLE
    PS> Import-Csv .\jobs.csv | Save-MesClickHouseBackup -NoWait | Where-Object Status -eq 'Pending'

    Saves the jobs that are ready now and lists those still being prepared.

    .EXAMPLE
    PS> $saved = $jobs | Save-MesClickHouseBackup -ErrorAction SilentlyContinue -ErrorVariable failed
    PS> $failed | ForEach-Object { '{0}: {1}' -f $_.TargetObject, $_.FullyQualifiedErrorId }

    Saves what can be saved and lists, per GUID, the error kind of each failure.

    .INPUTS
    System.String, MesBackup.Job

    .OUTPUTS
    MesBackup.Package, MesBackup.Job

    .LINK
    Start-MesClickHouseBackup

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('MesBackup.Package', 'MesBackup.Job')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [ValidatePattern('^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$')]
        [string[]]$Guid,

        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty()]
        [string]$Path,

        [switch]$NoWait,

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

        [datetime]$SqlBackupFinished,

        [Parameter(ValueFromPipelineByPropertyName)]
        [ValidatePattern('^[A-Za-z][A-Za-z0-9_]*$')]
        [string]$Database,

        [Parameter(ValueFromPipelineByPropertyName)]
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
        if ($Force) {
            Write-MesDeprecation -Parameter 'Force' -Instead 'use -Overwrite'
        }
        $replace = $Overwrite -or $Force
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
        $outDirectory = Resolve-MesOutputFolder -Cmdlet $PSCmdlet -Path $Path
        # Jobs grouped by environment URL (piped jobs carry their own), and by whether their database
        # is known (the CLI takes one --database per GUID or none); one CLI run per group downloads
        # its jobs concurrently.
        $byUrl = [ordered]@{}
    }
    process {
        $url = Assert-MesConnection -Cmdlet $PSCmdlet -EnvironmentUrl $EnvironmentUrl -Credential $Credential -Token $Token
        foreach ($id in $Guid) {
            $action = 'Wait for and download (one-shot) into {0}' -f $outDirectory
            if ($NoWait) {
                $action = 'Download if ready (one-shot) into {0}' -f $outDirectory
            }
            if ($replace) {
                $action = $action + ', replacing a file of the same name'
            }
            if ($PSCmdlet.ShouldProcess(('backup job {0} on {1}' -f $id, $url), $action)) {
                $group = '{0}|{1}' -f [bool]$Database, $url
                if (-not $byUrl.Contains($group)) {
                    $byUrl[$group] = [pscustomobject]@{
                        Url       = $url
                        Guids     = New-Object -TypeName 'System.Collections.Generic.List[string]'
                        Databases = New-Object -TypeName 'System.Collections.Generic.List[string]'
                    }
                }
                if (-not $byUrl[$group].Guids.Contains($id)) {
                    $byUrl[$group].Guids.Add($id)
                    if ($Database) {
                        $byUrl[$group].Databases.Add($Database)
                    }
                }
            }
        }
    }
    end {
        foreach ($entry in $byUrl.Values) {
            $cliOptions = @{
                Command           = 'download'
                Operand           = $entry.Guids.ToArray()
                JobDatabase       = $entry.Databases.ToArray()
                OutDirectory      = $outDirectory
                FileName          = $FileName
                Overwrite         = $replace
                NoWait            = $NoWait
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
            if ($FileMode) {
                $cliOptions.FileMode = $FileMode
            }
            if ($DirMode) {
                $cliOptions.DirMode = $DirMode
            }
            $argumentList = Get-MesCliArgumentList @cliOptions
            Invoke-MesJob -Cmdlet $PSCmdlet -Mode 'Save' -CliPath $cli -ArgumentList $argumentList -EnvironmentUrl $entry.Url -Credential $Credential -Token $Token -Activity 'Save ClickHouse backup'
        }
    }
}
