function ConvertFrom-MesUnixMs {
    [CmdletBinding()]
    [OutputType([Nullable[datetime]])]
    param(
        [AllowNull()]
        [object]$Milliseconds
    )
    if ($null -eq $Milliseconds) {
        return $null
    }
    return [DateTimeOffset]::FromUnixTimeMilliseconds([long]$Milliseconds).LocalDateTime
}

function ConvertTo-MesPackage {
    <#
    .SYNOPSIS
    A `saved` event as a MesBackup.Package object.
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.Package')]
    param(
        [Parameter(Mandatory)]
        [object]$CliEvent,

        [Parameter(Mandatory)]
        [string]$EnvironmentUrl
    )
    $location = Get-MesEventValue $CliEvent 'package.location'
    $sidecarName = Get-MesEventValue $CliEvent 'package.sidecar_file_name'
    $sidecarPath = $null
    if ($location -and $sidecarName) {
        $sidecarPath = Join-Path -Path (Split-Path -Path $location -Parent) -ChildPath $sidecarName
    }
    $notes = @(Get-MesEventValue $CliEvent 'package.notes')
    if ($notes.Count -eq 1 -and $null -eq $notes[0]) {
        $notes = @()
    }
    return [pscustomobject]@{
        PSTypeName     = 'MesBackup.Package'
        Database       = Get-MesEventValue $CliEvent 'package.database'
        Guid           = Get-MesEventValue $CliEvent 'package.guid'
        Path           = $location
        FileName       = Get-MesEventValue $CliEvent 'package.file_name'
        Size           = [long](Get-MesEventValue $CliEvent 'package.size')
        Sha256         = Get-MesEventValue $CliEvent 'package.sha256'
        Started        = ConvertFrom-MesUnixMs (Get-MesEventValue $CliEvent 'package.started_at_ms')
        Ready          = ConvertFrom-MesUnixMs (Get-MesEventValue $CliEvent 'package.ready_at_ms')
        Finished       = ConvertFrom-MesUnixMs (Get-MesEventValue $CliEvent 'package.finished_at_ms')
        SidecarPath    = $sidecarPath
        Notes          = [string[]]$notes
        EnvironmentUrl = $EnvironmentUrl
    }
}

function New-MesJobObject {
    <#
    .SYNOPSIS
    A MesBackup.Job: a backup running (or pending) on the MES, identified by its GUID. Save-MesClickHouseBackup
    takes these from the pipeline (Guid and EnvironmentUrl by property name).
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.Job')]
    param(
        [AllowNull()]
        [string]$Database,

        [Parameter(Mandatory)]
        [string]$Guid,

        [AllowNull()]
        [object]$StartedAtMs,

        [Parameter(Mandatory)]
        [ValidateSet('Started', 'Pending')]
        [string]$Status,

        [Parameter(Mandatory)]
        [string]$EnvironmentUrl
    )
    return [pscustomobject]@{
        PSTypeName     = 'MesBackup.Job'
        Database       = $Database
        Guid           = $Guid
        Status         = $Status
        Started        = ConvertFrom-MesUnixMs $StartedAtMs
        EnvironmentUrl = $EnvironmentUrl
    }
}

function Invoke-MesJob {
    <#
    .SYNOPSIS
    Runs one CLI command that starts and/or downloads backups, and turns its events into the calling
    command's output and errors.

    .DESCRIPTION
    -Mode Start outputs a MesBackup.Job per `started` event; -Mode Save outputs a MesBackup.Package per
    `saved` event as it arrives. The closing `summary` event is the authority on outcomes: its
    `pending` results become MesBackup.Job objects with Status Pending, and a `failed` result that no
    `failed` event reported becomes an error too.

    Every failure becomes an ErrorRecord written through the calling command ($Cmdlet). Failures of one
    backup are non-terminating. Kinds that make every other item fail the same way (invalid_argument,
    unauthorized, forbidden, cancelled) are terminating, but only once the CLI has ended, so that other
    downloads in the same run are never cut off by the module. A non-zero exit without any reported
    failure becomes an error from the exit code and the CLI's standard error.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet]$Cmdlet,

        [Parameter(Mandatory)]
        [ValidateSet('Start', 'Save')]
        [string]$Mode,

        [Parameter(Mandatory)]
        [string]$CliPath,

        [Parameter(Mandatory)]
        [string[]]$ArgumentList,

        [Parameter(Mandatory)]
        [string]$EnvironmentUrl,

        [AllowNull()]
        [System.Management.Automation.PSCredential]$Credential,

        [AllowNull()]
        [System.Security.SecureString]$Token,

        [string]$Activity = 'mesbackup'
    )
    $state = @{}
    $reported = @{}
    $deferred = New-Object -TypeName 'System.Collections.Generic.List[System.Management.Automation.ErrorRecord]'
    $summary = $null
    $cliArguments = @{
        CliPath        = $CliPath
        ArgumentList   = $ArgumentList
        EnvironmentUrl = $EnvironmentUrl
        Credential     = $Credential
        Token          = $Token
        State          = $state
        Activity       = $Activity
    }
    Invoke-MesCli @cliArguments | ForEach-Object -Process {
        $ev = $_
        $eventName = Get-MesEventValue $ev 'event'
        switch ($eventName) {
            'started' {
                if ($Mode -eq 'Start') {
                    New-MesJobObject -Database (Get-MesEventValue $ev 'database') -Guid (Get-MesEventValue $ev 'guid') -StartedAtMs (Get-MesEventValue $ev 'at_ms') -Status 'Started' -EnvironmentUrl $EnvironmentUrl
                }
            }
            'saved' {
                ConvertTo-MesPackage -CliEvent $ev -EnvironmentUrl $EnvironmentUrl
            }
            'failed' {
                $kind = [string](Get-MesEventValue $ev 'error.kind')
                $guid = [string](Get-MesEventValue $ev 'error.guid')
                $database = [string](Get-MesEventValue $ev 'database')
                $reported[('{0}|{1}' -f $guid, $database)] = $true
                $record = New-MesJobErrorRecord -Kind $kind -Message ([string](Get-MesEventValue $ev 'error.message')) -Guid $guid -Database $database
                if (Test-MesTerminatingKind -Kind $kind) {
                    $deferred.Add($record)
                }
                else {
                    $Cmdlet.WriteError($record)
                }
            }
            'summary' {
                $summary = $ev
            }
        }
    }

    if ($null -ne $summary) {
        foreach ($result in @(Get-MesEventValue $summary 'results')) {
            $outcome = Get-MesEventValue $result 'outcome'
            $guid = [string](Get-MesEventValue $result 'guid')
            $database = [string](Get-MesEventValue $result 'database')
            if ($outcome -eq 'pending') {
                New-MesJobObject -Database $database -Guid $guid -Status 'Pending' -EnvironmentUrl $EnvironmentUrl
            }
            elseif ($outcome -eq 'failed' -and -not $reported.ContainsKey(('{0}|{1}' -f $guid, $database))) {
                $kind = [string](Get-MesEventValue $result 'error.kind')
                $errorGuid = [string](Get-MesEventValue $result 'error.guid')
                $reported[('{0}|{1}' -f $guid, $database)] = $true
                $record = New-MesJobErrorRecord -Kind $kind -Message ([string](Get-MesEventValue $result 'error.message')) -Guid $errorGuid -Database $database
                if (Test-MesTerminatingKind -Kind $kind) {
                    $deferred.Add($record)
                }
                else {
                    $Cmdlet.WriteError($record)
                }
            }
        }
    }

    $exitCode = $state.ExitCode
    if ($reported.Count -eq 0 -and $exitCode -ne 0 -and $exitCode -ne $script:MesExitPending) {
        $kind = Get-MesErrorKindFromExitCode -ExitCode $exitCode
        $detail = ($state.StdErr -split "`r?`n" | Where-Object -FilterScript { $_ } | Select-Object -Last 5) -join ' '
        if (-not $detail) {
            $detail = 'no message'
        }
        $message = 'mesbackup ended with exit code {0} ({1}): {2}' -f $exitCode, $kind, $detail
        $record = New-MesErrorRecord -Kind $kind -Message $message -RecommendedAction (Get-MesRecommendedAction -Kind $kind)
        if (Test-MesTerminatingKind -Kind $kind) {
            $deferred.Add($record)
        }
        else {
            $Cmdlet.WriteError($record)
        }
    }
    if ($deferred.Count -gt 0) {
        for ($i = 0; $i -lt $deferred.Count - 1; $i++) {
            $Cmdlet.WriteError($deferred[$i])
        }
        $Cmdlet.ThrowTerminatingError($deferred[$deferred.Count - 1])
    }
}

function New-MesJobErrorRecord {
    <#
    .SYNOPSIS
    The ErrorRecord of a failed job: TargetObject is its GUID, else its database name.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)]
        [string]$Kind,

        [Parameter(Mandatory)]
        [AllowEmptyString()]
        [string]$Message,

        [AllowNull()]
        [AllowEmptyString()]
        [string]$Guid,

        [AllowNull()]
        [AllowEmptyString()]
        [string]$Database
    )
    $target = $null
    if (-not $Guid -and $Database) {
        $target = $Database
    }
    if (-not $Message) {
        $Message = 'mesbackup reported {0} without a message' -f $Kind
    }
    return New-MesErrorRecord -Kind $Kind -Message $Message -Guid $Guid -TargetObject $target -RecommendedAction (Get-MesRecommendedAction -Kind $Kind -Guid $Guid)
}
