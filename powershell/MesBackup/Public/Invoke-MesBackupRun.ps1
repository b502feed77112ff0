function Invoke-MesBackupRun {
    <#
    .SYNOPSIS
    Runs the nightly backup of every MES environment in a mesbackup.toml (mesbackup run): before
    hooks, the four databases, verify, stage, retention, test restores, after/on_error hooks; one
    result per environment.

    .DESCRIPTION
    Runs `mesbackup run --json --config <file>` and returns one MesBackup.RunResult per environment of
    its `run_summary`, in file order: the result, the first failed step and its message, the exit
    code, each database (file, size, SHA-256, verified, staged, its test restore), each hook, retention and the backup
    window to re-run MES data processing over after a restore. docs/config.md describes the file.

    Credentials: the config names them by reference (token_env, user_env + pat_env, token_file), so
    this command takes none. The CLI runs with this session's environment (the variables the config
    names must be set in it) and nothing secret is ever put on its command line.

    Each failed environment is written as a non-terminating error (its kind as the error id, the
    environment's name as the TargetObject) after its result object; the other environments still
    run. A config that is refused (bad key, inline secret, missing variable, unreadable token file)
    and an output folder held by another run (on_locked = "exit") are terminating errors: nothing was
    sent.

    -WhatIf and -DryRun run `mesbackup run --dry-run` and return one MesBackup.RunPlan per
    environment instead: what would be backed up where, the hooks, what retention would delete now.
    Nothing is sent to any MES and nothing is deleted.

    .PARAMETER Config
    The mesbackup.toml to run.

    .PARAMETER Only
    Run only these environments (by their name in the config). An unknown name is an error that
    lists the known ones.

    .PARAMETER DryRun
    Show the plan (MesBackup.RunPlan objects) instead of running it, as -WhatIf does.

    .PARAMETER MetricsFile
    Write Prometheus text-format metrics here after the run, atomically (for node_exporter's textfile
    collector; name it *.prom).

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Invoke-MesBackupRun -Config C:\ProgramData\mesbackup\mesbackup.toml

    Backs up every environment of the config and shows one line per environment.

    .EXAMPLE
    PS> Invoke-MesBackupRun -Config .\mesbackup.toml -Only production -WhatIf

    Shows what the production environment would back up, where, and what retention would delete;
    nothing is sent.

    .EXAMPLE
    PS> $results = Invoke-MesBackupRun -Config .\mesbackup.toml -MetricsFile C:\metrics\mesbackup.prom -ErrorAction SilentlyContinue
    PS> $results | Where-Object -FilterScript { -not $_.Ok } | Select-Object -Property 'Environment', 'FailedStep', 'Message'

    Runs unattended, writes metrics, and lists the environments that failed.

    .INPUTS
    System.String

    .OUTPUTS
    MesBackup.RunResult, MesBackup.RunPlan

    .LINK
    Register-MesBackupSchedule

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('MesBackup.RunResult', 'MesBackup.RunPlan')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'Path')]
        [ValidateNotNullOrEmpty()]
        [string]$Config,

        [ValidateNotNullOrEmpty()]
        [string[]]$Only,

        [switch]$DryRun,

        [ValidateNotNullOrEmpty()]
        [string]$MetricsFile,

        [string]$CliPath
    )
    begin {
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
    }
    process {
        $configPath = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($Config)
        $builder = @{
            Command = 'run'
            Config  = $configPath
        }
        if ($Only) {
            $builder['Only'] = $Only
        }
        $selected = 'every environment'
        if ($Only) {
            $selected = 'environment(s) {0}' -f ($Only -join ', ')
        }
        $plan = $DryRun.IsPresent
        if (-not $plan) {
            if ($MetricsFile) {
                $builder['MetricsFile'] = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($MetricsFile)
            }
            if (-not $PSCmdlet.ShouldProcess(('{0} of {1}' -f $selected, $configPath), 'Back up the MES databases (hooks, verify, stage, retention)')) {
                if (-not $WhatIfPreference) {
                    return
                }
                # -WhatIf: the CLI's own plan, with nothing sent.
                $plan = $true
                $builder.Remove('MetricsFile')
            }
        }
        if ($plan) {
            $builder['DryRun'] = $true
        }
        $argumentList = Get-MesCliArgumentList @builder
        $activity = 'mesbackup run'
        if ($plan) {
            $activity = 'mesbackup run (plan)'
        }

        $state = @{}
        $events = @(Invoke-MesCli -CliPath $cli -ArgumentList $argumentList -State $state -Activity $activity -ConfigCredentials)
        $summary = $null
        $failedEvents = @()
        foreach ($ev in $events) {
            $eventName = Get-MesEventValue $ev 'event'
            switch ($eventName) {
                'run_summary' {
                    $summary = $ev
                }
                'run_plan' {
                    ConvertTo-MesRunPlan -CliEvent $ev
                }
                'failed' {
                    $failedEvents += $ev
                }
            }
        }

        if ($null -eq $summary) {
            if ($state.ExitCode -eq 0) {
                return
            }
            # Nothing ran: a refused config (exit 2), a folder held by another run (75), a
            # cancellation. The first `failed` event says why; else the exit code.
            $kind = Get-MesRunErrorKind -ExitCode $state.ExitCode
            $message = $null
            if ($failedEvents.Count -gt 0) {
                $firstFailure = $failedEvents[0]
                $kind = [string](Get-MesEventValue $firstFailure 'error.kind')
                $message = [string](Get-MesEventValue $firstFailure 'error.message')
                if ($state.ExitCode -eq $script:MesExitLocked) {
                    $kind = 'run_locked'
                }
            }
            if (-not $message) {
                $detail = ($state.StdErr -split "`r?`n" | Where-Object -FilterScript { $_ } | Select-Object -Last 5) -join ' '
                $message = 'mesbackup run ended with exit code {0} ({1}): {2}' -f $state.ExitCode, $kind, $detail
            }
            $record = New-MesErrorRecord -Kind $kind -Message $message -TargetObject $configPath -RecommendedAction (Get-MesRecommendedAction -Kind $kind)
            $PSCmdlet.ThrowTerminatingError($record)
        }

        # One result per environment; each failed one also becomes a non-terminating error.
        foreach ($result in @(ConvertTo-MesRunResult -CliEvent $summary)) {
            $result
            if ($result.Ok) {
                continue
            }
            $kind = Get-MesRunErrorKind -ExitCode $result.ExitCode
            $firstFailed = @($result.Databases | Where-Object -FilterScript { $_.ErrorKind }) | Select-Object -First 1
            if ($null -ne $firstFailed -and $result.ExitCode -ne $script:MesExitHookFailed) {
                $kind = [string]$firstFailed.ErrorKind
            }
            $message = 'environment {0}: {1} failed (exit code {2}): {3}' -f $result.Environment, $result.FailedStep, $result.ExitCode, $result.Message
            $record = New-MesErrorRecord -Kind $kind -Message $message -TargetObject $result.Environment -RecommendedAction (Get-MesRecommendedAction -Kind $kind)
            $PSCmdlet.WriteError($record)
        }
    }
}
