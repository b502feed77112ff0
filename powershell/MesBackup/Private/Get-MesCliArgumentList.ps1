function Get-MesCliArgumentList {
    <#
    .SYNOPSIS
    The one place that builds the mesbackup command line.

    .DESCRIPTION
    Every public command describes what it wants with these parameters and gets back the argument
    list for the CLI. By design this function has no parameter that could carry a secret: credentials
    and the environment URL reach the CLI only through the child process's environment
    (Set-MesCliEnvironment). scripts/suites/50-powershell.sh checks that statically.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory)]
        [ValidateSet('backup', 'start', 'download', 'names', 'check-folder', 'stage', 'verify', 'inspect', 'window', 'restore', 'test-restore', 'run', 'credential-set', 'credential-delete', 'credential-test')]
        [string]$Command,

        # Positional operands: database names (backup, start), GUIDs (download),
        # a folder (check-folder, window) or package paths (stage, verify, inspect, restore, test-restore).
        [string[]]$Operand,

        # -Version: the MES version of the installer names (backup: save under them; names,
        # check-folder, stage: which names). The system-specific names unless -GenericNames.
        [string]$System,
        [string]$Version,
        [switch]$GenericNames,
        [string]$OutDirectory,
        [string]$FileName,
        # download: the database of each GUID operand, in the same order (recorded in the sidecars).
        [string[]]$JobDatabase,
        [switch]$Overwrite,
        [string]$Into,
        [switch]$Move,
        [switch]$NoWait,
        # Every duration goes to the CLI with its unit (whole milliseconds): backup's deadline, and
        # restore's and test-restore's whole-restore timeout alike.
        [Nullable[TimeSpan]]$Timeout,
        [Nullable[TimeSpan]]$MinPollDelay,
        [Nullable[TimeSpan]]$MaxPollDelay,
        [Nullable[TimeSpan]]$RetryDelay,
        [Nullable[TimeSpan]]$RequestTimeout,
        [Nullable[TimeSpan]]$StallTimeout,
        [Nullable[long]]$SpeedLimit,
        [Nullable[TimeSpan]]$SpeedTime,
        [Nullable[TimeSpan]]$DownloadTimeout,
        [Nullable[long]]$MaxSize,
        [Nullable[int]]$RestartBudget,
        [Nullable[datetime]]$SqlBackupFinished,
        [string]$CaCertificate,
        [switch]$AllowInsecureHttp,
        # Octal permission bits of the files written and the folders created (Unix; Windows: ACLs).
        [string]$FileMode,
        [string]$DirMode,

        # restore and test-restore: ClickHouse's HTTP URL (never with credentials in it: those go to
        # CLICKHOUSE_USER / CLICKHOUSE_PASSWORD in the child's environment), the target name (--as),
        # and the options of both commands.
        [string]$ClickHouseUrl,
        [string]$DatabaseName,
        [string]$StoragePolicy,
        [string]$ServerBackupPath,
        [string]$PathOnServer,
        [switch]$DryRun,
        [switch]$IntoExisting,
        [string]$Prefix,
        [switch]$Keep,

        # run: the mesbackup.toml (which names its credentials by reference: environment variable
        # names or a token file, never the secret), the environments to run (--only, repeated), and
        # the Prometheus textfile to write. -DryRun above gives run's --dry-run as well.
        [string]$Config,
        [string[]]$Only,
        [string]$MetricsFile,

        # credential-set, credential-delete, credential-test: the OS credential store entry (`mesbackup
        # credential set|delete|test --service S --entry E`). The secret itself goes to the child's
        # standard input (Invoke-MesCli -StandardInput), never here.
        [string]$KeyringService,
        [string]$KeyringEntry
    )
    $list = New-Object -TypeName 'System.Collections.Generic.List[string]'
    if ($Command -like 'credential-*') {
        $list.Add('credential')
        $list.Add($Command.Substring('credential-'.Length))
        $list.Add('--service')
        $list.Add($KeyringService)
        $list.Add('--entry')
        $list.Add($KeyringEntry)
    }
    else {
        $list.Add($Command)
    }
    $list.Add('--json')

    if ($System) {
        $list.Add('--system')
        $list.Add($System)
    }
    if ($Version) {
        $list.Add('--version')
        $list.Add($Version)
    }
    if ($GenericNames) {
        $list.Add('--generic-names')
    }
    if ($OutDirectory) {
        $list.Add('--out')
        $list.Add($OutDirectory)
    }
    if ($FileName) {
        $list.Add('--file-name')
        $list.Add($FileName)
    }
    foreach ($name in @($JobDatabase | Where-Object -FilterScript { $_ })) {
        $list.Add('--database')
        $list.Add($name)
    }
    if ($Overwrite) {
        $list.Add('--overwrite')
    }
    if ($Into) {
        $list.Add('--into')
        $list.Add($Into)
    }
    if ($Move) {
        $list.Add('--move')
    }
    if ($NoWait) {
        $list.Add('--no-wait')
    }
    if ($null -ne $Timeout) {
        $list.Add('--timeout')
        $list.Add((ConvertTo-MesCliDuration -Duration $Timeout.Value))
    }
    if ($null -ne $MinPollDelay) {
        $list.Add('--min-poll-delay')
        $list.Add((ConvertTo-MesCliDuration -Duration $MinPollDelay.Value))
    }
    if ($null -ne $MaxPollDelay) {
        $list.Add('--max-poll-delay')
        $list.Add((ConvertTo-MesCliDuration -Duration $MaxPollDelay.Value))
    }
    if ($null -ne $RetryDelay) {
        $list.Add('--retry-delay')
        $list.Add((ConvertTo-MesCliDuration -Duration $RetryDelay.Value))
    }
    if ($null -ne $RequestTimeout) {
        $list.Add('--request-timeout')
        $list.Add((ConvertTo-MesCliDuration -Duration $RequestTimeout.Value))
    }
    if ($null -ne $StallTimeout) {
        $list.Add('--stall-timeout')
        $list.Add((ConvertTo-MesCliDuration -Duration $StallTimeout.Value))
    }
    if ($null -ne $SpeedLimit) {
        $list.Add('--speed-limit')
        $list.Add([string]$SpeedLimit.Value)
    }
    if ($null -ne $SpeedTime) {
        $list.Add('--speed-time')
        $list.Add((ConvertTo-MesCliDuration -Duration $SpeedTime.Value))
    }
    if ($null -ne $DownloadTimeout) {
        $list.Add('--download-timeout')
        $list.Add((ConvertTo-MesCliDuration -Duration $DownloadTimeout.Value))
    }
    if ($null -ne $MaxSize) {
        $list.Add('--max-size')
        $list.Add([string]$MaxSize.Value)
    }
    if ($null -ne $RestartBudget) {
        $list.Add('--restart-budget')
        $list.Add([string]$RestartBudget.Value)
    }
    if ($null -ne $SqlBackupFinished) {
        $list.Add('--sql-backup-finished')
        $list.Add((ConvertTo-MesCliTimestamp -Time $SqlBackupFinished.Value))
    }
    if ($CaCertificate) {
        $list.Add('--ca-cert')
        $list.Add($CaCertificate)
    }
    if ($AllowInsecureHttp) {
        $list.Add('--allow-insecure-http')
    }
    if ($FileMode) {
        $list.Add('--file-mode')
        $list.Add($FileMode)
    }
    if ($DirMode) {
        $list.Add('--dir-mode')
        $list.Add($DirMode)
    }
    if ($ClickHouseUrl) {
        $list.Add('--clickhouse')
        $list.Add($ClickHouseUrl)
    }
    if ($DatabaseName) {
        $list.Add('--as')
        $list.Add($DatabaseName)
    }
    if ($StoragePolicy) {
        $list.Add('--storage-policy')
        $list.Add($StoragePolicy)
    }
    if ($ServerBackupPath) {
        $list.Add('--server-backup-path')
        $list.Add($ServerBackupPath)
    }
    if ($PathOnServer) {
        $list.Add('--path-on-server')
        $list.Add($PathOnServer)
    }
    if ($DryRun) {
        $list.Add('--dry-run')
    }
    if ($IntoExisting) {
        $list.Add('--into-existing')
    }
    if ($Prefix) {
        $list.Add('--prefix')
        $list.Add($Prefix)
    }
    if ($Keep) {
        $list.Add('--keep')
    }
    if ($Config) {
        $list.Add('--config')
        $list.Add($Config)
    }
    foreach ($name in @($Only | Where-Object -FilterScript { $_ })) {
        $list.Add('--only')
        $list.Add($name)
    }
    if ($MetricsFile) {
        $list.Add('--metrics-file')
        $list.Add($MetricsFile)
    }

    if ($Operand -and $Operand.Count -gt 0) {
        # Operands after `--`, so that a database name or path starting with '-' is never an option.
        $list.Add('--')
        foreach ($item in $Operand) {
            $list.Add($item)
        }
    }
    return , $list.ToArray()
}

function ConvertTo-MesCliDuration {
    <#
    .SYNOPSIS
    A TimeSpan as the CLI's duration syntax (whole milliseconds, e.g. "1500ms").
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [TimeSpan]$Duration
    )
    $ms = [long][Math]::Ceiling($Duration.TotalMilliseconds)
    return ('{0}ms' -f $ms)
}

function ConvertTo-MesCliTimestamp {
    <#
    .SYNOPSIS
    A DateTime as the CLI's time syntax: RFC 3339 in UTC with milliseconds (2026-11-25T09:40:00.000Z).
    A DateTime of unspecified kind counts as local time, as PowerShell's own casts do.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [datetime]$Time
    )
    $utc = $Time.ToUniversalTime()
    return $utc.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", [System.Globalization.CultureInfo]::InvariantCulture)
}

function ConvertFrom-MesCliTimestamp {
    <#
    .SYNOPSIS
    An RFC 3339 time from a CLI event as a local DateTime; $null stays $null. PowerShell 7's
    ConvertFrom-Json already turns such strings into DateTime, Windows PowerShell 5.1 does not.
    #>
    [CmdletBinding()]
    param(
        [AllowNull()]
        [object]$Value
    )
    if ($null -eq $Value) {
        return $null
    }
    if ($Value -is [datetime]) {
        return $Value.ToLocalTime()
    }
    if ($Value -is [DateTimeOffset]) {
        return $Value.LocalDateTime
    }
    $parsed = [DateTimeOffset]::Parse([string]$Value, [System.Globalization.CultureInfo]::InvariantCulture)
    return $parsed.LocalDateTime
}
