function ConvertTo-MesRestoreProblem {
    <#
    .SYNOPSIS
    The problems of a restore plan (restore_plan's plan.problems, test_restore's problems) as
    MesBackup.RestoreProblem objects: Kind (missing_policy, missing_disk, non_empty_target,
    name_clash, ...), Name (the policy, disk or database), Tables, Message.
    #>
    [CmdletBinding()]
    param(
        [AllowNull()]
        [object[]]$Problem
    )
    foreach ($item in @($Problem)) {
        if ($null -eq $item) {
            continue
        }
        [pscustomobject]@{
            PSTypeName = 'MesBackup.RestoreProblem'
            Kind       = [string](Get-MesEventValue $item 'kind')
            Name       = [string](Get-MesEventValue $item 'name')
            Tables     = [string[]]@(Get-MesEventValue $item 'tables' | Where-Object -FilterScript { $null -ne $_ })
            Message    = [string](Get-MesEventValue $item 'message')
        }
    }
}

function ConvertTo-MesRestoreTable {
    <#
    .SYNOPSIS
    The per-table row-count comparison of a restore (restored's and test_restore's tables) as
    MesBackup.RestoreTable objects: Table, ExpectedRows (in the package), Rows (on the server, $null
    when it could not be counted), Ok.
    #>
    [CmdletBinding()]
    param(
        [AllowNull()]
        [object[]]$Table
    )
    foreach ($item in @($Table)) {
        if ($null -eq $item) {
            continue
        }
        $rows = Get-MesEventValue $item 'rows'
        if ($null -ne $rows) {
            $rows = [long]$rows
        }
        [pscustomobject]@{
            PSTypeName   = 'MesBackup.RestoreTable'
            Table        = [string](Get-MesEventValue $item 'table')
            ExpectedRows = [long](Get-MesEventValue $item 'expected_rows')
            Rows         = $rows
            Ok           = [bool](Get-MesEventValue $item 'ok')
        }
    }
}

function ConvertTo-MesRestorePlan {
    <#
    .SYNOPSIS
    A `restore_plan` event of `mesbackup restore` as a MesBackup.RestorePlan (what
    Restore-MesClickHouseDatabase -WhatIf shows).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [object]$CliEvent
    )
    if ((Get-MesEventValue $CliEvent 'event') -ne 'restore_plan') {
        return
    }
    $problems = @(ConvertTo-MesRestoreProblem -Problem @(Get-MesEventValue $CliEvent 'plan.problems'))
    # [name, value] pairs: a function's output unrolls one array level, so a single pair may come
    # back flat; put it back into a list of pairs.
    $pairs = @(Get-MesEventValue $CliEvent 'plan.tables')
    if ($pairs.Count -eq 2 -and $pairs[0] -is [string]) {
        $pairs = @(, $pairs)
    }
    $tables = foreach ($pair in $pairs) {
        if ($null -eq $pair) {
            continue
        }
        [pscustomobject]@{
            PSTypeName   = 'MesBackup.RestoreTable'
            Table        = [string]$pair[0]
            ExpectedRows = [long]$pair[1]
            Rows         = $null
            Ok           = $null
        }
    }
    $settings = [ordered]@{}
    $settingPairs = @(Get-MesEventValue $CliEvent 'plan.settings')
    if ($settingPairs.Count -eq 2 -and $settingPairs[0] -is [string]) {
        $settingPairs = @(, $settingPairs)
    }
    foreach ($setting in $settingPairs) {
        if ($null -ne $setting) {
            $settings[[string]$setting[0]] = [string]$setting[1]
        }
    }
    [pscustomobject]@{
        PSTypeName     = 'MesBackup.RestorePlan'
        Path           = [string](Get-MesEventValue $CliEvent 'path')
        Database       = [string](Get-MesEventValue $CliEvent 'plan.source_database')
        TargetDatabase = [string](Get-MesEventValue $CliEvent 'plan.target_database')
        Ok             = $problems.Count -eq 0
        Problems       = $problems
        Tables         = @($tables)
        Settings       = $settings
        Notes          = [string[]]@(Get-MesEventValue $CliEvent 'plan.notes' | Where-Object -FilterScript { $null -ne $_ })
        Sql            = [string](Get-MesEventValue $CliEvent 'sql')
        DryRun         = [bool](Get-MesEventValue $CliEvent 'dry_run')
    }
}

function ConvertTo-MesRestoreResult {
    <#
    .SYNOPSIS
    A `restored` event of `mesbackup restore` as a MesBackup.RestoreResult.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [object]$CliEvent
    )
    if ((Get-MesEventValue $CliEvent 'event') -ne 'restored') {
        return
    }
    [pscustomobject]@{
        PSTypeName     = 'MesBackup.RestoreResult'
        Path           = [string](Get-MesEventValue $CliEvent 'path')
        Database       = [string](Get-MesEventValue $CliEvent 'database')
        TargetDatabase = [string](Get-MesEventValue $CliEvent 'target_database')
        OperationId    = [string](Get-MesEventValue $CliEvent 'operation_id')
        Tables         = @(ConvertTo-MesRestoreTable -Table @(Get-MesEventValue $CliEvent 'tables'))
        Rows           = [long](Get-MesEventValue $CliEvent 'rows')
        Ok             = [bool](Get-MesEventValue $CliEvent 'ok')
        ElapsedMs      = [long](Get-MesEventValue $CliEvent 'elapsed_ms')
    }
}

function ConvertTo-MesTestRestoreResult {
    <#
    .SYNOPSIS
    A `test_restore` event of `mesbackup test-restore` as a MesBackup.TestRestoreResult.

    .DESCRIPTION
    The fields after Ok are $null when their step did not run (a package that failed verification
    has no TargetDatabase, RestoreMs, Dropped, ...). Error is $null when Ok, else an object with the
    canonical Kind and the Message.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [object]$CliEvent
    )
    if ((Get-MesEventValue $CliEvent 'event') -ne 'test_restore') {
        return
    }
    $errorInfo = $null
    if ($null -ne (Get-MesEventValue $CliEvent 'error')) {
        $errorInfo = [pscustomobject]@{
            PSTypeName = 'MesBackup.TestRestoreError'
            Kind       = [string](Get-MesEventValue $CliEvent 'error.kind')
            Message    = [string](Get-MesEventValue $CliEvent 'error.message')
        }
    }
    $verifyMs = Get-MesEventValue $CliEvent 'verify_ms'
    $restoreMs = Get-MesEventValue $CliEvent 'restore_ms'
    $tablesChecked = Get-MesEventValue $CliEvent 'tables_checked'
    $rowsChecked = Get-MesEventValue $CliEvent 'rows_checked'
    [pscustomobject]@{
        PSTypeName     = 'MesBackup.TestRestoreResult'
        Path           = [string](Get-MesEventValue $CliEvent 'path')
        Ok             = [bool](Get-MesEventValue $CliEvent 'ok')
        Verified       = Get-MesEventValue $CliEvent 'verified'
        Database       = Get-MesEventValue $CliEvent 'database'
        TargetDatabase = Get-MesEventValue $CliEvent 'target_database'
        TablesChecked  = $(if ($null -ne $tablesChecked) { [long]$tablesChecked } else { $null })
        RowsChecked    = $(if ($null -ne $rowsChecked) { [long]$rowsChecked } else { $null })
        Dropped        = Get-MesEventValue $CliEvent 'dropped'
        Tables         = @(ConvertTo-MesRestoreTable -Table @(Get-MesEventValue $CliEvent 'tables'))
        Problems       = @(ConvertTo-MesRestoreProblem -Problem @(Get-MesEventValue $CliEvent 'problems'))
        Error          = $errorInfo
        VerifyMs       = $(if ($null -ne $verifyMs) { [long]$verifyMs } else { $null })
        RestoreMs      = $(if ($null -ne $restoreMs) { [long]$restoreMs } else { $null })
        ElapsedMs      = [long](Get-MesEventValue $CliEvent 'elapsed_ms')
    }
}
