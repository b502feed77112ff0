function Get-MesEventValue {
    <#
    .SYNOPSIS
    Reads one field of a CLI event by a dotted path ('guid', 'package.size', 'error.kind'); $null when
    absent. Every field the module reads goes through here with a literal path, so that the suite can
    check each path against cli/events.schema.json.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)]
        [AllowNull()]
        [object]$CliEvent,

        [Parameter(Mandatory, Position = 1)]
        [string]$Path
    )
    $value = $CliEvent
    foreach ($part in $Path.Split('.')) {
        if ($null -eq $value) {
            return $null
        }
        $property = $value.PSObject.Properties[$part]
        if ($null -eq $property) {
            return $null
        }
        $value = $property.Value
    }
    return $value
}

function Protect-MesText {
    <#
    .SYNOPSIS
    Replaces every secret value in a text by '***' before the text reaches any stream. The CLI never
    prints secrets (its own tests check that); this is a second line of defence.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowNull()]
        [AllowEmptyString()]
        [string]$Text,

        [AllowNull()]
        [string[]]$Secret
    )
    if ([string]::IsNullOrEmpty($Text) -or $null -eq $Secret) {
        return $Text
    }
    $result = $Text
    foreach ($value in $Secret) {
        if ($value -and $value.Length -ge 4) {
            $result = $result.Replace($value, '***')
        }
    }
    return $result
}

function ConvertTo-MesWindowsCommandLine {
    <#
    .SYNOPSIS
    Quotes arguments for ProcessStartInfo.Arguments where ProcessStartInfo.ArgumentList does not exist
    (Windows PowerShell 5.1 on .NET Framework), following the CommandLineToArgvW rules.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [string[]]$ArgumentList
    )
    $parts = foreach ($argument in $ArgumentList) {
        if ($argument.Length -gt 0 -and $argument -notmatch '[\s"]') {
            $argument
        }
        else {
            $escaped = [regex]::Replace($argument, '(\\*)"', '$1$1\"')
            $escaped = [regex]::Replace($escaped, '(\\+)$', '$1$1')
            '"' + $escaped + '"'
        }
    }
    return ($parts -join ' ')
}

function Format-MesEventMessage {
    <#
    .SYNOPSIS
    One readable line per CLI event, for -Verbose.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [object]$CliEvent,

        [AllowNull()]
        [string]$Line
    )
    $eventName = Get-MesEventValue $CliEvent 'event'
    $guid = Get-MesEventValue $CliEvent 'guid'
    switch ($eventName) {
        'started' {
            return ('started: backup of {0} accepted by the MES as job {1}' -f (Get-MesEventValue $CliEvent 'database'), $guid)
        }
        'pending' {
            $waited = [TimeSpan]::FromMilliseconds([double](Get-MesEventValue $CliEvent 'waited_ms'))
            $next = [TimeSpan]::FromMilliseconds([double](Get-MesEventValue $CliEvent 'next_poll_in_ms'))
            return ('pending: job {0} still being prepared (check {1}, waited {2:hh\:mm\:ss}, next check in {3:N1} s)' -f $guid, (Get-MesEventValue $CliEvent 'polls'), $waited, $next.TotalSeconds)
        }
        'retrying' {
            return ('retrying: job {0}: {1} (failure {2}, next try in {3} ms)' -f $guid, (Get-MesEventValue $CliEvent 'reason'), (Get-MesEventValue $CliEvent 'failures'), (Get-MesEventValue $CliEvent 'delay_ms'))
        }
        'ready' {
            return ('ready: job {0} is downloading as {1} ({2} bytes announced)' -f $guid, (Get-MesEventValue $CliEvent 'file_name'), (Get-MesEventValue $CliEvent 'size'))
        }
        'progress' {
            return ('progress: job {0}: {1} of {2} bytes' -f $guid, (Get-MesEventValue $CliEvent 'bytes'), (Get-MesEventValue $CliEvent 'total'))
        }
        'saved' {
            return ('saved: job {0}: {1} ({2} bytes, SHA-256 {3})' -f (Get-MesEventValue $CliEvent 'package.guid'), (Get-MesEventValue $CliEvent 'package.location'), (Get-MesEventValue $CliEvent 'package.size'), (Get-MesEventValue $CliEvent 'package.sha256'))
        }
        'failed' {
            return ('failed: job {0} {1}: {2}: {3}' -f (Get-MesEventValue $CliEvent 'error.guid'), (Get-MesEventValue $CliEvent 'database'), (Get-MesEventValue $CliEvent 'error.kind'), (Get-MesEventValue $CliEvent 'error.message'))
        }
        'summary' {
            $window = ''
            if ($null -ne (Get-MesEventValue $CliEvent 'backup_window')) {
                $window = '; backup window {0} to {1} (re-run MES data processing over it after a restore)' -f (Get-MesEventValue $CliEvent 'backup_window.started_at'), (Get-MesEventValue $CliEvent 'backup_window.finished_at')
            }
            return ('summary: exit code {0}{1}' -f (Get-MesEventValue $CliEvent 'exit_code'), $window)
        }
        'restore_plan' {
            $problems = @(Get-MesEventValue $CliEvent 'plan.problems' | Where-Object -FilterScript { $null -ne $_ })
            return ('restore_plan: {0} as {1}, {2} problem(s){3}: {4}' -f (Get-MesEventValue $CliEvent 'plan.source_database'), (Get-MesEventValue $CliEvent 'plan.target_database'), $problems.Count, $(if (Get-MesEventValue $CliEvent 'dry_run') { ' (dry run)' } else { '' }), (Get-MesEventValue $CliEvent 'sql'))
        }
        'restored' {
            return ('restored: {0} as {1}: {2} row(s), ok {3}' -f (Get-MesEventValue $CliEvent 'database'), (Get-MesEventValue $CliEvent 'target_database'), (Get-MesEventValue $CliEvent 'rows'), (Get-MesEventValue $CliEvent 'ok'))
        }
        'test_restore' {
            return ('test_restore: {0}: ok {1}' -f (Get-MesEventValue $CliEvent 'path'), (Get-MesEventValue $CliEvent 'ok'))
        }
        default {
            return ('{0}: {1}' -f $eventName, $Line)
        }
    }
}

function Invoke-MesCli {
    <#
    .SYNOPSIS
    Runs mesbackup with --json, writes its events to the pipeline as objects, and turns them into
    Write-Progress, Write-Verbose and Write-Warning along the way.

    .DESCRIPTION
    Credentials and the environment URL go into the child's environment (Set-MesCliEnvironment), MES
    credentials only with -EnvironmentUrl (or, for run, -ConfigCredentials: the session's variables
    that the config names), ClickHouse credentials only with -ClickHouse;
    the argument list comes from Get-MesCliArgumentList. When the pipeline is stopped (Ctrl-C), the
    child's standard input is closed (the CLI's cue to cancel cleanly), and the child is killed if it
    has not ended two seconds later. After the child ends, $State holds ExitCode, StdErr (redacted)
    and Events (the number of events read).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string]$CliPath,

        [Parameter(Mandatory)]
        [string[]]$ArgumentList,

        [AllowNull()]
        [AllowEmptyString()]
        [string]$EnvironmentUrl,

        [AllowNull()]
        [System.Management.Automation.PSCredential]$Credential,

        [AllowNull()]
        [System.Security.SecureString]$Token,

        # The command talks to ClickHouse (restore, test-restore): CLICKHOUSE_USER/CLICKHOUSE_PASSWORD
        # from -ClickHouseCredential or the session.
        [switch]$ClickHouse,

        [AllowNull()]
        [System.Management.Automation.PSCredential]$ClickHouseCredential,

        # run: the config names its credential variables; the child inherits the session's.
        [switch]$ConfigCredentials,

        # credential set: written to the child's standard input, which is then closed (the CLI reads
        # the secret from there, never from its arguments).
        [AllowNull()]
        [System.Security.SecureString]$StandardInput,

        # Written before -StandardInput, not secret (credential set: "<MES user>:" before the PAT).
        [string]$StandardInputPrefix = '',

        # Windows: start the child as this account, with its profile loaded (the OS credential store
        # is per user: Set-MesBackupCredential -RunAs stores a secret for a service account).
        [AllowNull()]
        [System.Management.Automation.PSCredential]$RunAs,

        [Parameter(Mandatory)]
        [hashtable]$State,

        [string]$Activity = 'mesbackup'
    )
    $utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
    $startInfo = New-Object -TypeName System.Diagnostics.ProcessStartInfo
    $startInfo.FileName = $CliPath
    $startInfo.UseShellExecute = $false
    $startInfo.CreateNoWindow = $true
    $startInfo.RedirectStandardInput = $true
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.StandardOutputEncoding = $utf8
    $startInfo.StandardErrorEncoding = $utf8
    $startInfo.WorkingDirectory = (Get-Location -PSProvider FileSystem).ProviderPath
    if ($null -ne $startInfo.PSObject.Properties['ArgumentList']) {
        foreach ($argument in $ArgumentList) {
            $startInfo.ArgumentList.Add($argument)
        }
    }
    else {
        $startInfo.Arguments = ConvertTo-MesWindowsCommandLine -ArgumentList $ArgumentList
    }

    if ($null -ne $RunAs) {
        # DOMAIN\user or user (user@domain works as the user name alone); the password stays a SecureString.
        $accountParts = $RunAs.UserName.Split([char]'\', 2)
        if ($accountParts.Count -eq 2) {
            $startInfo.Domain = $accountParts[0]
            $startInfo.UserName = $accountParts[1]
        }
        else {
            $startInfo.UserName = $RunAs.UserName
        }
        $startInfo.Password = $RunAs.Password
        $startInfo.LoadUserProfile = $true
        $startInfo.WorkingDirectory = [System.IO.Path]::GetTempPath()
    }

    # Commands that talk to no MES (no -EnvironmentUrl) get no MES credentials, commands that talk to
    # no ClickHouse (no -ClickHouse) no ClickHouse credentials.
    $secrets = Set-MesCliEnvironment -StartInfo $startInfo -EnvironmentUrl $EnvironmentUrl -Credential $Credential -Token $Token -ClickHouse:$ClickHouse -ClickHouseCredential $ClickHouseCredential -ConfigCredentials:$ConfigCredentials

    Write-Verbose -Message ('running: {0} {1}' -f $CliPath, ($ArgumentList -join ' '))
    $State.ExitCode = $null
    $State.StdErr = ''
    $State.Events = 0

    $process = New-Object -TypeName System.Diagnostics.Process
    $process.StartInfo = $startInfo
    try {
        [void]$process.Start()
    }
    catch {
        $process.Dispose()
        throw
    }
    if ($null -ne $StandardInput) {
        Write-MesCliSecretInput -Writer $process.StandardInput -Prefix $StandardInputPrefix -SecureInput $StandardInput
    }
    # Secrets are no longer needed in the start info once the child runs.
    [void]$startInfo.EnvironmentVariables.Remove('MES_TOKEN')
    [void]$startInfo.EnvironmentVariables.Remove('MES_PAT')
    [void]$startInfo.EnvironmentVariables.Remove('CLICKHOUSE_PASSWORD')

    $stderrTask = $process.StandardError.ReadToEndAsync()
    $progressIds = @{}
    $bytesPerMiB = 1048576.0
    $databases = @{}
    $unfinished = @{}
    $completed = $false
    try {
        while ($true) {
            $lineTask = $process.StandardOutput.ReadLineAsync()
            # Short waits, so that Ctrl-C stops the pipeline promptly even while the MES is working.
            while (-not $lineTask.Wait(200)) {
            }
            $line = $lineTask.Result
            if ($null -eq $line) {
                break
            }
            if ([string]::IsNullOrWhiteSpace($line)) {
                continue
            }
            $line = Protect-MesText -Text $line -Secret $secrets
            try {
                $ev = $line | ConvertFrom-Json -ErrorAction Stop
            }
            catch {
                Write-Verbose -Message ('mesbackup (not an event): {0}' -f $line)
                continue
            }
            $State.Events = $State.Events + 1
            Write-Verbose -Message (Format-MesEventMessage -CliEvent $ev -Line $line)

            $eventName = Get-MesEventValue $ev 'event'
            $guid = Get-MesEventValue $ev 'guid'
            if ($guid -and -not $progressIds.ContainsKey($guid)) {
                $progressIds[$guid] = 100 + $progressIds.Count
            }
            $eventDatabase = Get-MesEventValue $ev 'database'
            if ($guid -and $eventDatabase -and -not $databases.ContainsKey($guid)) {
                $databases[$guid] = $eventDatabase
            }
            switch ($eventName) {
                'started' {
                    $databases[$guid] = Get-MesEventValue $ev 'database'
                    $unfinished[$guid] = $databases[$guid]
                    Write-Progress -Id $progressIds[$guid] -Activity ('{0}: {1}' -f $Activity, $databases[$guid]) -Status ('Backup started on the MES as job {0}' -f $guid)
                }
                'pending' {
                    $waited = [TimeSpan]::FromMilliseconds([double](Get-MesEventValue $ev 'waited_ms'))
                    $label = $guid
                    if ($databases.ContainsKey($guid)) {
                        $label = $databases[$guid]
                    }
                    Write-Progress -Id $progressIds[$guid] -Activity ('{0}: {1}' -f $Activity, $label) -Status ('The MES is preparing the backup ({0:hh\:mm\:ss} so far, check {1})' -f $waited, (Get-MesEventValue $ev 'polls'))
                }
                'ready' {
                    $label = $guid
                    if ($databases.ContainsKey($guid)) {
                        $label = $databases[$guid]
                    }
                    Write-Progress -Id $progressIds[$guid] -Activity ('{0}: {1}' -f $Activity, $label) -Status ('Downloading {0}' -f (Get-MesEventValue $ev 'file_name')) -PercentComplete 0
                }
                'progress' {
                    $bytes = [double](Get-MesEventValue $ev 'bytes')
                    $total = Get-MesEventValue $ev 'total'
                    $label = $guid
                    if ($databases.ContainsKey($guid)) {
                        $label = $databases[$guid]
                    }
                    $status = '{0:N1} MiB' -f ($bytes / $bytesPerMiB)
                    $percent = -1
                    if ($null -ne $total -and [double]$total -gt 0) {
                        $percent = [int][Math]::Min(100, [Math]::Floor(100 * $bytes / [double]$total))
                        $status = '{0:N1} of {1:N1} MiB' -f ($bytes / $bytesPerMiB), ([double]$total / $bytesPerMiB)
                    }
                    Write-Progress -Id $progressIds[$guid] -Activity ('{0}: {1}' -f $Activity, $label) -Status $status -PercentComplete $percent
                }
                'warning' {
                    $message = Get-MesEventValue $ev 'message'
                    if ($guid) {
                        $message = 'job {0}: {1}' -f $guid, $message
                    }
                    Write-Warning -Message $message
                }
                'stale_partial_removed' {
                    Write-Warning -Message (Get-MesEventValue $ev 'message')
                }
                'restarting' {
                    Write-Warning -Message ('The one-shot download of job {0} was lost ({1}); starting a new backup (restart {2} of {3}).' -f (Get-MesEventValue $ev 'lost_guid'), (Get-MesEventValue $ev 'reason'), (Get-MesEventValue $ev 'restarts_used'), (Get-MesEventValue $ev 'restart_budget'))
                }
                'saved' {
                    $savedGuid = Get-MesEventValue $ev 'package.guid'
                    if ($savedGuid) {
                        $unfinished.Remove($savedGuid)
                    }
                    if ($savedGuid -and $progressIds.ContainsKey($savedGuid)) {
                        Write-Progress -Id $progressIds[$savedGuid] -Activity $Activity -Completed
                    }
                }
                'restore_progress' {
                    $restorePath = [string](Get-MesEventValue $ev 'path')
                    $key = 'restore:' + $restorePath
                    if (-not $progressIds.ContainsKey($key)) {
                        $progressIds[$key] = 100 + $progressIds.Count
                    }
                    $restoreActivity = '{0}: {1}' -f $Activity, [System.IO.Path]::GetFileName($restorePath)
                    switch ([string](Get-MesEventValue $ev 'step')) {
                        'extracted' {
                            Write-Progress -Id $progressIds[$key] -Activity $restoreActivity -Status ('Extracted {0} files ({1:N1} MiB) for the server' -f (Get-MesEventValue $ev 'files'), ([double](Get-MesEventValue $ev 'bytes') / $bytesPerMiB))
                        }
                        'started' {
                            Write-Progress -Id $progressIds[$key] -Activity $restoreActivity -Status ('RESTORE started on the server (operation {0})' -f (Get-MesEventValue $ev 'operation_id')) -PercentComplete 0
                        }
                        default {
                            $filesRead = [double](Get-MesEventValue $ev 'files_read')
                            $numFiles = [double](Get-MesEventValue $ev 'num_files')
                            $percent = -1
                            if ($numFiles -gt 0) {
                                $percent = [int][Math]::Min(100, [Math]::Floor(100 * $filesRead / $numFiles))
                            }
                            Write-Progress -Id $progressIds[$key] -Activity $restoreActivity -Status ('{0}: {1} of {2} files' -f (Get-MesEventValue $ev 'status'), $filesRead, $numFiles) -PercentComplete $percent
                        }
                    }
                }
                'restored' {
                    $key = 'restore:' + [string](Get-MesEventValue $ev 'path')
                    if ($progressIds.ContainsKey($key)) {
                        Write-Progress -Id $progressIds[$key] -Activity $Activity -Completed
                    }
                }
                'test_restore' {
                    $key = 'restore:' + [string](Get-MesEventValue $ev 'path')
                    if ($progressIds.ContainsKey($key)) {
                        Write-Progress -Id $progressIds[$key] -Activity $Activity -Completed
                    }
                }
                'failed' {
                    $failedGuid = Get-MesEventValue $ev 'error.guid'
                    if ($failedGuid) {
                        $unfinished.Remove($failedGuid)
                    }
                    if ($failedGuid -and $progressIds.ContainsKey($failedGuid)) {
                        Write-Progress -Id $progressIds[$failedGuid] -Activity $Activity -Completed
                    }
                }
            }
            Write-Output -InputObject $ev
        }
        $process.WaitForExit()
        $completed = $true
        $State.ExitCode = $process.ExitCode
        $State.StdErr = Protect-MesText -Text $stderrTask.Result -Secret $secrets
        foreach ($stderrLine in ($State.StdErr -split "`r?`n")) {
            if ($stderrLine) {
                Write-Verbose -Message ('mesbackup stderr: {0}' -f $stderrLine)
            }
        }
    }
    finally {
        if (-not $completed -and -not $process.HasExited) {
            # Stopped (Ctrl-C, a terminating error downstream): ask the CLI to cancel cleanly (SIGINT
            # on Linux and macOS: it removes its temporary file and reports the GUID), then insist.
            if ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Unix) {
                try {
                    & kill -s INT $process.Id 2>$null
                }
                catch {
                    Write-Debug -Message 'could not send SIGINT to mesbackup'
                }
            }
            try {
                $process.StandardInput.Close()
            }
            catch {
                Write-Debug -Message 'standard input of mesbackup already closed'
            }
            if (-not $process.WaitForExit(5000)) {
                try {
                    $process.Kill()
                }
                catch {
                    Write-Debug -Message 'mesbackup ended before it could be stopped'
                }
            }
            foreach ($startedGuid in $unfinished.Keys) {
                Write-Warning -Message ('Stopped. Job {0} ({1}) may still finish on the MES: Save-MesClickHouseBackup -Guid {0}' -f $startedGuid, $unfinished[$startedGuid])
            }
        }
        foreach ($id in $progressIds.Values) {
            Write-Progress -Id $id -Activity $Activity -Completed
        }
        $process.Dispose()
    }
}
