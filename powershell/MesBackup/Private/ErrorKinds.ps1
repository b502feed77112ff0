# The canonical error kinds of mesbackup (core/src/error.rs), their CLI exit codes, and the
# PowerShell ErrorCategory each one maps to. Every kind is mapped; the suite checks this table against
# core/src/error.rs so that a new kind cannot be forgotten here.
$script:MesErrorKinds = [ordered]@{
    invalid_argument    = @{ ExitCode = 2;   Category = [System.Management.Automation.ErrorCategory]::InvalidArgument;     Terminating = $true }
    unauthorized        = @{ ExitCode = 3;   Category = [System.Management.Automation.ErrorCategory]::AuthenticationError; Terminating = $true }
    forbidden           = @{ ExitCode = 4;   Category = [System.Management.Automation.ErrorCategory]::PermissionDenied;    Terminating = $true }
    invalid_database    = @{ ExitCode = 5;   Category = [System.Management.Automation.ErrorCategory]::ObjectNotFound;      Terminating = $false }
    backup_not_found    = @{ ExitCode = 6;   Category = [System.Management.Automation.ErrorCategory]::ObjectNotFound;      Terminating = $false }
    server_error        = @{ ExitCode = 7;   Category = [System.Management.Automation.ErrorCategory]::InvalidOperation;    Terminating = $false }
    unexpected_response = @{ ExitCode = 8;   Category = [System.Management.Automation.ErrorCategory]::ProtocolError;       Terminating = $false }
    timeout             = @{ ExitCode = 9;   Category = [System.Management.Automation.ErrorCategory]::OperationTimeout;    Terminating = $false }
    download_lost       = @{ ExitCode = 10;  Category = [System.Management.Automation.ErrorCategory]::ReadError;           Terminating = $false }
    integrity           = @{ ExitCode = 11;  Category = [System.Management.Automation.ErrorCategory]::InvalidData;         Terminating = $false }
    io                  = @{ ExitCode = 12;  Category = [System.Management.Automation.ErrorCategory]::WriteError;          Terminating = $false }
    network             = @{ ExitCode = 13;  Category = [System.Management.Automation.ErrorCategory]::ConnectionError;     Terminating = $false }
    cancelled           = @{ ExitCode = 130; Category = [System.Management.Automation.ErrorCategory]::OperationStopped;    Terminating = $true }
    internal            = @{ ExitCode = 1;   Category = [System.Management.Automation.ErrorCategory]::NotSpecified;        Terminating = $true }
}

# Errors the module itself raises that have no canonical kind.
$script:MesModuleErrors = @{
    cli_not_found = [System.Management.Automation.ErrorCategory]::ObjectNotFound
    # mesbackup run: a hook of the environment failed (exit code 21).
    hook_failed   = [System.Management.Automation.ErrorCategory]::InvalidResult
    # mesbackup run: another run holds an output folder and on_locked = "exit" (exit code 75).
    run_locked    = [System.Management.Automation.ErrorCategory]::ResourceBusy
    # Register-MesBackupSchedule without Windows' ScheduledTasks module.
    not_supported = [System.Management.Automation.ErrorCategory]::NotInstalled
}

# What the CLI's exit code says when it ends without a `failed` event.
$script:MesExitPending = 75
$script:MesExitInternal = 1
# mesbackup run's own exit codes.
$script:MesExitHookFailed = 21
$script:MesExitLocked = 75

function Get-MesRunErrorKind {
    <#
    .SYNOPSIS
    The error kind of a `mesbackup run` exit code (of the run or of one environment): 21 is a failed
    hook, 75 a folder held by another run, the others the canonical kinds' codes.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [int]$ExitCode
    )
    if ($ExitCode -eq $script:MesExitHookFailed) {
        return 'hook_failed'
    }
    if ($ExitCode -eq $script:MesExitLocked) {
        return 'run_locked'
    }
    return (Get-MesErrorKindFromExitCode -ExitCode $ExitCode)
}

function Get-MesErrorKindFromExitCode {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [int]$ExitCode
    )
    foreach ($entry in $script:MesErrorKinds.GetEnumerator()) {
        if ($entry.Value.ExitCode -eq $ExitCode) {
            return $entry.Key
        }
    }
    return 'internal'
}

function Test-MesTerminatingKind {
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)]
        [string]$Kind
    )
    if ($script:MesErrorKinds.Contains($Kind)) {
        return [bool]$script:MesErrorKinds[$Kind].Terminating
    }
    return $true
}

function New-MesErrorRecord {
    <#
    .SYNOPSIS
    Builds the ErrorRecord for a canonical error kind: the kind is the error id (PowerShell shows it as
    FullyQualifiedErrorId "<kind>,<Command>"), the category comes from the table above, the GUID (or
    another object the error is about) is the TargetObject, and the exception's Data carries Kind,
    Guid and ExitCode for scripts.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)]
        [string]$Kind,

        [Parameter(Mandatory)]
        [string]$Message,

        [AllowNull()]
        [string]$Guid,

        [AllowNull()]
        [object]$TargetObject,

        [AllowNull()]
        [string]$RecommendedAction
    )
    $category = [System.Management.Automation.ErrorCategory]::NotSpecified
    $exitCode = $null
    if ($script:MesErrorKinds.Contains($Kind)) {
        $category = $script:MesErrorKinds[$Kind].Category
        $exitCode = $script:MesErrorKinds[$Kind].ExitCode
    }
    elseif ($script:MesModuleErrors.ContainsKey($Kind)) {
        $category = $script:MesModuleErrors[$Kind]
    }

    $exception = [System.Exception]::new($Message)
    $exception.Data['Kind'] = $Kind
    $exception.Data['Guid'] = $Guid
    $exception.Data['ExitCode'] = $exitCode

    $target = $TargetObject
    if ($null -eq $target -and $Guid) {
        $target = $Guid
    }
    $record = [System.Management.Automation.ErrorRecord]::new($exception, $Kind, $category, $target)
    if ($RecommendedAction) {
        $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($Message)
        $record.ErrorDetails.RecommendedAction = $RecommendedAction
    }
    return $record
}

function Get-MesRecommendedAction {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string]$Kind,

        [AllowNull()]
        [string]$Guid
    )
    switch ($Kind) {
        'unauthorized' {
            return 'Check the token, or the user name and personal access token (-Credential).'
        }
        'forbidden' {
            return 'The MES user needs the SysAdministrators role.'
        }
        'invalid_database' {
            return 'Use one of the four databases of the system: <System>, <System>CDM, <System>ODS, <System>DWH (Get-MesClickHouseBackupName -System ... lists them).'
        }
        'timeout' {
            if ($Guid) {
                return "The backup may still finish on the server: Save-MesClickHouseBackup -Guid $Guid"
            }
            return 'Run again with a longer -Timeout.'
        }
        'download_lost' {
            return 'The MES deleted the one-shot file when the transfer broke; start a new backup, or allow -RestartBudget.'
        }
        'cancelled' {
            if ($Guid) {
                return "The backup may still finish on the server: Save-MesClickHouseBackup -Guid $Guid"
            }
            return $null
        }
        'hook_failed' {
            return 'The hook''s output is in the verbose stream (mesbackup stderr); Result.Hooks shows each hook''s exit code.'
        }
        'run_locked' {
            return 'Another mesbackup run still holds the folder: wait for it, or set on_locked = "wait" in the config.'
        }
        'cli_not_found' {
            return 'Put the mesbackup binary next to the module or on PATH, or pass -CliPath.'
        }
        default {
            return $null
        }
    }
}
