function ConvertTo-MesRunResult {
    <#
    .SYNOPSIS
    Turns a `run_summary` event into one MesBackup.RunResult per environment, in file order; other
    events give nothing.
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.RunResult')]
    param(
        [Parameter(Mandatory)]
        [AllowNull()]
        [object]$CliEvent
    )
    if ((Get-MesEventValue $CliEvent 'event') -ne 'run_summary') {
        return
    }
    $runFinished = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $CliEvent 'finished_at')
    $runExitCode = [int](Get-MesEventValue $CliEvent 'exit_code')
    foreach ($report in @(Get-MesEventValue $CliEvent 'environments')) {
        if ($null -eq $report) {
            continue
        }
        $databases = foreach ($db in @(Get-MesEventValue $report 'databases')) {
            if ($null -eq $db) {
                continue
            }
            $size = Get-MesEventValue $db 'size'
            # [environment.test_restore]: null when this package was not test-restored.
            $testRestore = $null
            if ($null -ne (Get-MesEventValue $db 'test_restore')) {
                $testRestore = [pscustomobject]@{
                    PSTypeName     = 'MesBackup.RunTestRestore'
                    Ok             = [bool](Get-MesEventValue $db 'test_restore.ok')
                    TargetDatabase = Get-MesEventValue $db 'test_restore.target_database'
                    TablesChecked  = Get-MesEventValue $db 'test_restore.tables_checked'
                    RowsChecked    = Get-MesEventValue $db 'test_restore.rows_checked'
                    Dropped        = Get-MesEventValue $db 'test_restore.dropped'
                    ErrorKind      = Get-MesEventValue $db 'test_restore.error.kind'
                    ErrorMessage   = Get-MesEventValue $db 'test_restore.error.message'
                    Duration       = [TimeSpan]::FromMilliseconds([double](Get-MesEventValue $db 'test_restore.elapsed_ms'))
                }
            }
            [pscustomobject]@{
                PSTypeName   = 'MesBackup.RunDatabase'
                Database     = Get-MesEventValue $db 'database'
                Outcome      = Get-MesEventValue $db 'outcome'
                Verified     = Get-MesEventValue $db 'verified'
                File         = Get-MesEventValue $db 'file'
                Size         = $(if ($null -ne $size) { [long]$size } else { $null })
                Sha256       = Get-MesEventValue $db 'sha256'
                StagedAs     = Get-MesEventValue $db 'staged_as'
                TestRestore  = $testRestore
                ErrorKind    = Get-MesEventValue $db 'error.kind'
                ErrorMessage = Get-MesEventValue $db 'error.message'
            }
        }
        $hooks = foreach ($hook in @(Get-MesEventValue $report 'hooks')) {
            if ($null -eq $hook) {
                continue
            }
            [pscustomobject]@{
                PSTypeName = 'MesBackup.RunHook'
                Phase      = Get-MesEventValue $hook 'phase'
                Program    = Get-MesEventValue $hook 'program'
                Ok         = [bool](Get-MesEventValue $hook 'ok')
                ExitCode   = Get-MesEventValue $hook 'exit_code'
                Duration   = [TimeSpan]::FromMilliseconds([double](Get-MesEventValue $hook 'duration_ms'))
                Message    = Get-MesEventValue $hook 'message'
            }
        }
        $window = $null
        if ($null -ne (Get-MesEventValue $report 'backup_window')) {
            $window = [pscustomobject]@{
                PSTypeName        = 'MesBackup.RunBackupWindow'
                Started           = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $report 'backup_window.started_at')
                Finished          = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $report 'backup_window.finished_at')
                SqlBackupFinished = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $report 'backup_window.sql_backup_finished_at')
                ReprocessFrom     = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $report 'backup_window.reprocess_from')
            }
        }
        $retention = $null
        if ($null -ne (Get-MesEventValue $report 'retention')) {
            $retention = [pscustomobject]@{
                PSTypeName  = 'MesBackup.RunRetention'
                Deleted     = [string[]]@(Get-MesEventValue $report 'retention.deleted' | Where-Object -FilterScript { $null -ne $_ })
                Kept        = [int](Get-MesEventValue $report 'retention.kept')
                KeepLast    = [int](Get-MesEventValue $report 'retention.policy.keep_last')
                KeepDaily   = [int](Get-MesEventValue $report 'retention.policy.keep_daily')
                KeepWeekly  = [int](Get-MesEventValue $report 'retention.policy.keep_weekly')
                KeepMonthly = [int](Get-MesEventValue $report 'retention.policy.keep_monthly')
            }
        }
        $result = [string](Get-MesEventValue $report 'result')
        [pscustomobject]@{
            PSTypeName        = 'MesBackup.RunResult'
            Environment       = Get-MesEventValue $report 'name'
            System            = Get-MesEventValue $report 'system'
            Out               = Get-MesEventValue $report 'out'
            Result            = $result
            Ok                = ($result -eq 'ok')
            FailedStep        = Get-MesEventValue $report 'failed_step'
            Message           = Get-MesEventValue $report 'message'
            ExitCode          = [int](Get-MesEventValue $report 'exit_code')
            SqlBackupFinished = ConvertFrom-MesCliTimestamp -Value (Get-MesEventValue $report 'sql_backup_finished_at')
            BackupWindow      = $window
            Databases         = @($databases)
            Hooks             = @($hooks)
            Retention         = $retention
            Duration          = [TimeSpan]::FromMilliseconds([double](Get-MesEventValue $report 'duration_ms'))
            RunFinished       = $runFinished
            RunExitCode       = $runExitCode
        }
    }
}

function ConvertTo-MesRunPlan {
    <#
    .SYNOPSIS
    Turns a `run_plan` event (run --dry-run) into one MesBackup.RunPlan per environment: what would
    be backed up where, the hooks, and what retention would delete now. Other events give nothing.
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.RunPlan')]
    param(
        [Parameter(Mandatory)]
        [AllowNull()]
        [object]$CliEvent
    )
    if ((Get-MesEventValue $CliEvent 'event') -ne 'run_plan') {
        return
    }
    foreach ($plan in @(Get-MesEventValue $CliEvent 'environments')) {
        if ($null -eq $plan) {
            continue
        }
        $databases = foreach ($db in @(Get-MesEventValue $plan 'databases')) {
            if ($null -eq $db) {
                continue
            }
            [pscustomobject]@{
                PSTypeName = 'MesBackup.RunPlannedDatabase'
                Database   = Get-MesEventValue $db 'database'
                FileName   = Get-MesEventValue $db 'file_name'
            }
        }
        $before = foreach ($argv in @(Get-MesEventValue $plan 'hooks.before')) {
            if ($null -ne $argv) {
                @($argv) -join ' '
            }
        }
        $after = foreach ($argv in @(Get-MesEventValue $plan 'hooks.after')) {
            if ($null -ne $argv) {
                @($argv) -join ' '
            }
        }
        $onError = foreach ($argv in @(Get-MesEventValue $plan 'hooks.on_error')) {
            if ($null -ne $argv) {
                @($argv) -join ' '
            }
        }
        $wouldDelete = @()
        $wouldKeep = @()
        if ($null -ne (Get-MesEventValue $plan 'retention')) {
            foreach ($entry in @(Get-MesEventValue $plan 'retention.entries')) {
                if ($null -eq $entry) {
                    continue
                }
                if (Get-MesEventValue $entry 'keep') {
                    $wouldKeep += [string](Get-MesEventValue $entry 'package')
                }
                else {
                    $wouldDelete += [string](Get-MesEventValue $entry 'package')
                }
            }
        }
        [pscustomobject]@{
            PSTypeName   = 'MesBackup.RunPlan'
            Environment  = Get-MesEventValue $plan 'name'
            Url          = Get-MesEventValue $plan 'url'
            System       = Get-MesEventValue $plan 'system'
            Out          = Get-MesEventValue $plan 'out'
            StageInto    = Get-MesEventValue $plan 'stage_into'
            Verify       = [bool](Get-MesEventValue $plan 'verify')
            Databases    = @($databases)
            BeforeHooks  = [string[]]@($before)
            AfterHooks   = [string[]]@($after)
            OnErrorHooks = [string[]]@($onError)
            HasRetention = ($null -ne (Get-MesEventValue $plan 'retention'))
            # [environment.test_restore]: the ClickHouse server and the kinds tested (null: none).
            TestRestoreOn        = Get-MesEventValue $plan 'test_restore.clickhouse_url'
            TestRestoreDatabases = [string[]]@(Get-MesEventValue $plan 'test_restore.databases' | Where-Object -FilterScript { $null -ne $_ })
            WouldDelete  = [string[]]$wouldDelete
            WouldKeep    = [string[]]$wouldKeep
        }
    }
}
