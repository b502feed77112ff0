function Invoke-MesCliCommand {
    <#
    .SYNOPSIS
    Runs a CLI command that needs no MES connection (names, check-folder, stage, verify, inspect,
    window, restore) and returns its events.

    .DESCRIPTION
    The child gets no MES credentials: Invoke-MesCli without -EnvironmentUrl removes MES_TOKEN, MES_USER
    and MES_PAT from its environment; and no ClickHouse credentials unless -ClickHouse (restore), which
    passes -ClickHouseCredential, or the session's CLICKHOUSE_USER/CLICKHOUSE_PASSWORD, on. `failed` events and a non-zero exit become ErrorRecords of the
    calling command: terminating when -Terminating or the kind is terminating, else non-terminating.
    A `failed` event about a package (verify, inspect) carries its path, which becomes the
    TargetObject. Failures of a kind in -IgnoreKind are left to the caller (they are still in the
    returned events), for example by Test-MesClickHouseBackup -Quiet.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet]$Cmdlet,

        [Parameter(Mandatory)]
        [string]$CliPath,

        [Parameter(Mandatory)]
        [string[]]$ArgumentList,

        [switch]$Terminating,

        # Each `failed` event is about one item (a package being staged): always non-terminating.
        [switch]$PerItem,

        # Exit codes that are answers rather than failures (check-folder: 20 = incomplete).
        [int[]]$SuccessExitCode = @(0),

        # Kinds of `failed` events not written as ErrorRecords (the caller answers them itself).
        [string[]]$IgnoreKind = @(),

        [string]$Activity = 'mesbackup',

        # The command talks to ClickHouse (restore): CLICKHOUSE_USER/CLICKHOUSE_PASSWORD from
        # -ClickHouseCredential or the session reach the child; other commands get neither.
        [switch]$ClickHouse,

        [AllowNull()]
        [System.Management.Automation.PSCredential]$ClickHouseCredential,

        # The TargetObject of errors whose `failed` event names no path (restore: the package).
        [AllowNull()]
        [object]$TargetObject,

        # credential set: the secret for the child's standard input; -RunAs: the account to run as.
        [AllowNull()]
        [System.Security.SecureString]$StandardInput,

        [string]$StandardInputPrefix = '',

        [AllowNull()]
        [System.Management.Automation.PSCredential]$RunAs
    )
    $state = @{}
    $failures = 0
    $events = @(Invoke-MesCli -CliPath $CliPath -ArgumentList $ArgumentList -State $state -Activity $Activity -ClickHouse:$ClickHouse -ClickHouseCredential $ClickHouseCredential -StandardInput $StandardInput -StandardInputPrefix $StandardInputPrefix -RunAs $RunAs)
    foreach ($ev in $events) {
        if ((Get-MesEventValue $ev 'event') -eq 'failed') {
            $failures = $failures + 1
            $kind = [string](Get-MesEventValue $ev 'error.kind')
            if ($IgnoreKind -contains $kind) {
                continue
            }
            $target = Get-MesEventValue $ev 'path'
            if ($null -eq $target) {
                $target = $TargetObject
            }
            $record = New-MesErrorRecord -Kind $kind -Message ([string](Get-MesEventValue $ev 'error.message')) -Guid ([string](Get-MesEventValue $ev 'error.guid')) -TargetObject $target -RecommendedAction (Get-MesRecommendedAction -Kind $kind)
            if ($PerItem) {
                $Cmdlet.WriteError($record)
            }
            elseif ($Terminating -or (Test-MesTerminatingKind -Kind $kind)) {
                $Cmdlet.ThrowTerminatingError($record)
            }
            else {
                $Cmdlet.WriteError($record)
            }
        }
    }
    if ($SuccessExitCode -notcontains $state.ExitCode -and $failures -eq 0) {
        $kind = Get-MesErrorKindFromExitCode -ExitCode $state.ExitCode
        $detail = ($state.StdErr -split "`r?`n" | Where-Object -FilterScript { $_ } | Select-Object -Last 5) -join ' '
        $record = New-MesErrorRecord -Kind $kind -Message ('mesbackup ended with exit code {0} ({1}): {2}' -f $state.ExitCode, $kind, $detail) -TargetObject $TargetObject
        $Cmdlet.ThrowTerminatingError($record)
    }
    return , $events
}
