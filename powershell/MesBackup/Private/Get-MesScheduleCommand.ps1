function Get-MesScheduleCommand {
    <#
    .SYNOPSIS
    The PowerShell command a scheduled task runs (the text after pwsh -Command): imports the module,
    runs Invoke-MesBackupRun over the config, prints the results, and exits 1 when any environment
    failed (or none ran), so that Task Scheduler's Last Run Result shows a failed night.

    .DESCRIPTION
    Paths are single-quoted with embedded quotes doubled; the text has no double quote, so it fits in
    one "..." argument of pwsh.exe. It carries no secret: the config names its credentials.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string]$Config,

        [AllowNull()]
        [string]$MetricsFile,

        [AllowNull()]
        [string[]]$Only,

        [AllowNull()]
        [string]$CliPath
    )
    $parameters = "-Config {0}" -f (ConvertTo-MesSingleQuoted -Text $Config)
    if ($MetricsFile) {
        $parameters += " -MetricsFile {0}" -f (ConvertTo-MesSingleQuoted -Text $MetricsFile)
    }
    if ($Only) {
        $parameters += " -Only {0}" -f ((@($Only) | ForEach-Object -Process { ConvertTo-MesSingleQuoted -Text $_ }) -join ',')
    }
    if ($CliPath) {
        $parameters += " -CliPath {0}" -f (ConvertTo-MesSingleQuoted -Text $CliPath)
    }
    $command = "Import-Module MesBackup -ErrorAction Stop; `$results = @(Invoke-MesBackupRun $parameters); `$results | Format-Table -AutoSize | Out-String -Width 250; if (`$results.Count -eq 0 -or @(`$results | Where-Object -FilterScript { -not `$_.Ok }).Count -gt 0) { exit 1 }"
    if ($command.Contains('"')) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'A path for the scheduled task contains a double quote, which cannot be passed to pwsh -Command.'
        throw $record.Exception
    }
    return $command
}

function ConvertTo-MesSingleQuoted {
    <#
    .SYNOPSIS
    A string as a PowerShell single-quoted literal ('it''s').
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyString()]
        [string]$Text
    )
    return "'" + $Text.Replace("'", "''") + "'"
}

function Assert-MesScheduledTasks {
    <#
    .SYNOPSIS
    Throws a terminating not_supported error for the calling command when the ScheduledTasks module
    (Windows) is not available.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet]$Cmdlet
    )
    if ($null -eq (Get-Command -Name 'Register-ScheduledTask' -ErrorAction SilentlyContinue)) {
        $record = New-MesErrorRecord -Kind 'not_supported' -Message 'Register-ScheduledTask is not available: scheduled tasks need Windows (the ScheduledTasks module). On Linux use the systemd units in docs/schedulers/systemd/, on Kubernetes the CronJob in docs/schedulers/kubernetes/.'
        $Cmdlet.ThrowTerminatingError($record)
    }
}
