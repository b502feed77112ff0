# Helpers for the MesBackup Pester tests: find the binaries, run mock-mes, run a scenario step through
# the module, and compare results with the scenario's expectations (the same rules as
# tests/runner-rust/src/lib.rs).
Set-StrictMode -Version 3.0

$script:RepoRoot = Split-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -Parent

function Get-TestRepoRoot {
    [CmdletBinding()]
    [OutputType([string])]
    param()
    return $script:RepoRoot
}

function Find-TestBinary {
    <#
    .SYNOPSIS
    A binary built by cargo: the environment variable if set, else target/debug or target/release.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string]$Name,

        [Parameter(Mandatory)]
        [string]$EnvironmentVariable
    )
    $fromEnv = [System.Environment]::GetEnvironmentVariable($EnvironmentVariable)
    if ($fromEnv) {
        return $fromEnv
    }
    $exe = $Name
    if ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT) {
        $exe = $Name + '.exe'
    }
    $targetDir = $env:CARGO_TARGET_DIR
    if (-not $targetDir) {
        $targetDir = Join-Path -Path $script:RepoRoot -ChildPath 'target'
    }
    foreach ($buildProfile in @('debug', 'release')) {
        $candidate = Join-Path -Path (Join-Path -Path $targetDir -ChildPath $buildProfile) -ChildPath $exe
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            return $candidate
        }
    }
    throw ('{0} not found: build it (cargo build -p ...) or set ${1}' -f $Name, $EnvironmentVariable)
}

function Start-MockMes {
    <#
    .SYNOPSIS
    Starts mock-mes on a free loopback port; returns @{ Process; BaseUrl }.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string]$MockPath
    )
    $startInfo = New-Object -TypeName System.Diagnostics.ProcessStartInfo
    $startInfo.FileName = $MockPath
    $startInfo.UseShellExecute = $false
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.ArgumentList.Add('--listen')
    $startInfo.ArgumentList.Add('127.0.0.1:0')
    $process = [System.Diagnostics.Process]::Start($startInfo)
    $baseUrl = $process.StandardOutput.ReadLine()
    if (-not $baseUrl -or $baseUrl -notmatch '^http://') {
        $process.Kill()
        throw ('mock-mes did not print its base URL (got {0})' -f $baseUrl)
    }
    return @{
        Process = $process
        BaseUrl = $baseUrl.Trim()
    }
}

function Stop-MockMes {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [hashtable]$Mock
    )
    if (-not $Mock.Process.HasExited) {
        $Mock.Process.Kill()
        $Mock.Process.WaitForExit()
    }
    $Mock.Process.Dispose()
}

function Set-MockScenario {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string]$BaseUrl,

        [Parameter(Mandatory)]
        [AllowNull()]
        [object]$Server
    )
    $body = '{}'
    if ($null -ne $Server) {
        $body = $Server | ConvertTo-Json -Depth 20 -Compress
    }
    $bytes = [System.Text.Encoding]::UTF8.GetBytes($body)
    $null = Invoke-RestMethod -Method Put -Uri ($BaseUrl + '/_mock/scenario') -Body $bytes -ContentType 'application/json; charset=utf-8'
}

function Get-MockLog {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string]$BaseUrl
    )
    $response = Invoke-WebRequest -Uri ($BaseUrl + '/_mock/log') -UseBasicParsing
    return , @($response.Content | ConvertFrom-Json)
}

function Get-ScenarioFile {
    <#
    .SYNOPSIS
    Every scenario as @{ Name; Description; Tags; Scenario }, for Pester's -ForEach.
    #>
    [CmdletBinding()]
    param()
    $folder = Join-Path -Path (Join-Path -Path $script:RepoRoot -ChildPath 'tests') -ChildPath 'scenarios'
    foreach ($file in Get-ChildItem -Path $folder -Filter '*.json' -File | Sort-Object -Property Name) {
        $scenario = Get-Content -LiteralPath $file.FullName -Raw -Encoding utf8 | ConvertFrom-Json
        $tags = @()
        if ($scenario.PSObject.Properties['tags']) {
            $tags = @($scenario.tags)
        }
        @{
            Name        = $file.BaseName
            Description = $scenario.description
            Tags        = $tags
            Scenario    = $scenario
        }
    }
}

function Get-OptionalProperty {
    [CmdletBinding()]
    param(
        [AllowNull()]
        [object]$Object,

        [Parameter(Mandatory)]
        [string]$Name
    )
    if ($null -eq $Object) {
        return $null
    }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) {
        return $null
    }
    return $property.Value
}

function ConvertTo-ErrorKind {
    <#
    .SYNOPSIS
    The canonical kind of an ErrorRecord written by the module (its error id, before the comma).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.ErrorRecord]$ErrorRecord
    )
    return ($ErrorRecord.FullyQualifiedErrorId -split ',')[0]
}

function Invoke-ScenarioStep {
    <#
    .SYNOPSIS
    Runs one scenario step through the MesBackup module; returns @{ Outcome; Guid; Message; Output; Errors }.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [object]$Step,

        [Parameter(Mandatory)]
        [string]$EnvironmentUrl,

        [Parameter(Mandatory)]
        [string]$OutDirectory,

        [AllowNull()]
        [string]$PreviousGuid
    )
    $common = @{
        EnvironmentUrl = $EnvironmentUrl
    }
    $auth = Get-OptionalProperty -Object $Step -Name 'auth'
    $token = Get-OptionalProperty -Object $auth -Name 'token'
    $user = Get-OptionalProperty -Object $auth -Name 'user'
    if ($token) {
        $common.Token = ConvertTo-SecureString -String $token -AsPlainText -Force
    }
    elseif ($user) {
        $pat = ConvertTo-SecureString -String (Get-OptionalProperty -Object $auth -Name 'pat') -AsPlainText -Force
        $common.Credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList @($user, $pat)
    }

    $waitOptions = @{}
    $options = Get-OptionalProperty -Object $Step -Name 'options'
    $timeoutMs = Get-OptionalProperty -Object $options -Name 'timeout_ms'
    if ($null -ne $timeoutMs) {
        $waitOptions.Timeout = [TimeSpan]::FromMilliseconds($timeoutMs)
    }
    $maxPollMs = Get-OptionalProperty -Object $options -Name 'max_poll_ms'
    if ($null -ne $maxPollMs) {
        $waitOptions.MaxPollDelay = [TimeSpan]::FromMilliseconds([Math]::Max(100, $maxPollMs))
    }
    $stallMs = Get-OptionalProperty -Object $options -Name 'stall_timeout_ms'
    if ($null -ne $stallMs) {
        $waitOptions.StallTimeout = [TimeSpan]::FromMilliseconds($stallMs)
    }
    $speedLimit = Get-OptionalProperty -Object $options -Name 'speed_limit'
    if ($null -ne $speedLimit) {
        $waitOptions.SpeedLimit = [long]$speedLimit
    }
    $speedTimeMs = Get-OptionalProperty -Object $options -Name 'speed_time_ms'
    if ($null -ne $speedTimeMs) {
        $waitOptions.SpeedTime = [TimeSpan]::FromMilliseconds($speedTimeMs)
    }
    $downloadTimeoutMs = Get-OptionalProperty -Object $options -Name 'download_timeout_ms'
    if ($null -ne $downloadTimeoutMs) {
        $waitOptions.DownloadTimeout = [TimeSpan]::FromMilliseconds($downloadTimeoutMs)
    }
    $maxSize = Get-OptionalProperty -Object $options -Name 'max_size'
    if ($null -ne $maxSize) {
        $waitOptions.MaxSize = [long]$maxSize
    }
    $fileName = Get-OptionalProperty -Object $options -Name 'file_name'
    if ($fileName) {
        $waitOptions.FileName = $fileName
    }
    if (Get-OptionalProperty -Object $options -Name 'overwrite') {
        $waitOptions.Force = $true
    }
    $restartBudget = Get-OptionalProperty -Object $options -Name 'restart_budget'

    $guid = Get-OptionalProperty -Object $Step -Name 'guid'
    if ($guid -eq '$guid') {
        $guid = $PreviousGuid
    }

    $existingFiles = Get-OptionalProperty -Object $Step -Name 'existing_files'
    if ($null -ne $existingFiles) {
        foreach ($entry in $existingFiles.PSObject.Properties) {
            # No byte-order mark, no newline: the file holds exactly the scenario's text.
            [System.IO.File]::WriteAllText((Join-Path -Path $OutDirectory -ChildPath $entry.Name), [string]$entry.Value)
        }
    }
    $readOnly = Set-ScenarioFolderMode -Step $Step -OutDirectory $OutDirectory

    $output = @()
    $stepErrors = @()
    $terminating = $null
    try {
        switch ($Step.op) {
            'backup' {
                $backupOptions = $waitOptions.Clone()
                if ($null -ne $restartBudget) {
                    $backupOptions.RestartBudget = [int]$restartBudget
                }
                $output = @(Backup-MesClickHouseDatabase -Database $Step.database -Path $OutDirectory @common @backupOptions -ErrorAction SilentlyContinue -ErrorVariable stepErrors)
            }
            'backup_system' {
                $backupOptions = $waitOptions.Clone()
                if ($null -ne $restartBudget) {
                    $backupOptions.RestartBudget = [int]$restartBudget
                }
                $output = @(Backup-MesClickHouseDatabase -System $Step.system -Path $OutDirectory @common @backupOptions -ErrorAction SilentlyContinue -ErrorVariable stepErrors)
            }
            'start' {
                $output = @(Start-MesClickHouseBackup -Database $Step.database @common -ErrorAction SilentlyContinue -ErrorVariable stepErrors)
            }
            'download' {
                $output = @(Save-MesClickHouseBackup -Guid $guid -Path $OutDirectory @common @waitOptions -ErrorAction SilentlyContinue -ErrorVariable stepErrors)
            }
            'download_if_ready' {
                $output = @(Save-MesClickHouseBackup -Guid $guid -Path $OutDirectory -NoWait @common @waitOptions -ErrorAction SilentlyContinue -ErrorVariable stepErrors)
            }
            default {
                throw ('unknown scenario op {0}' -f $Step.op)
            }
        }
    }
    catch {
        $terminating = $_
    }
    finally {
        if ($readOnly) {
            $null = & chattr -i $OutDirectory
        }
    }

    $allErrors = @($stepErrors | Where-Object -FilterScript { $_ -is [System.Management.Automation.ErrorRecord] })
    if ($null -ne $terminating) {
        $allErrors = @($allErrors) + @($terminating)
    }
    $result = @{
        Outcome = 'ok'
        Guid    = $null
        Message = $null
        Output  = $output
        Errors  = $allErrors
    }
    if ($allErrors.Count -gt 0) {
        $first = $allErrors[0]
        $result.Outcome = ConvertTo-ErrorKind -ErrorRecord $first
        $result.Message = $first.Exception.Message
        $result.Guid = $first.Exception.Data['Guid']
        if (-not $result.Guid -and $first.TargetObject -is [string] -and $first.TargetObject -match '^[0-9a-fA-F-]{36}$') {
            $result.Guid = $first.TargetObject
        }
    }
    elseif ($output.Count -gt 0) {
        $result.Guid = $output[0].Guid
        $pending = @($output | Where-Object -FilterScript { $_.PSObject.TypeNames -contains 'MesBackup.Job' -and $_.Status -eq 'Pending' })
        if ($Step.op -eq 'download_if_ready' -and $pending.Count -gt 0) {
            $result.Outcome = 'pending'
        }
    }
    return $result
}

function Set-ScenarioFolderMode {
    <#
    .SYNOPSIS
    "out_dir": "read_only": makes the output folder take no new file (chattr +i: the suites run as
    root, where permissions do not stop writes). Throws with the reason when it cannot; returns
    whether the caller must undo it (chattr -i).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)]
        [object]$Step,

        [Parameter(Mandatory)]
        [string]$OutDirectory
    )
    $mode = Get-OptionalProperty -Object $Step -Name 'out_dir'
    if ($null -eq $mode) {
        return $false
    }
    if ($mode -ne 'read_only') {
        throw ('unknown out_dir {0} (only read_only)' -f $mode)
    }
    if (-not $IsLinux -or -not (Get-Command -Name 'chattr' -ErrorAction SilentlyContinue)) {
        throw ('cannot make {0} read-only: chattr +i needs Linux with e2fsprogs' -f $OutDirectory)
    }
    $message = & chattr +i $OutDirectory 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw ('cannot make {0} read-only with chattr +i (needs root and a file system with attributes): {1}' -f $OutDirectory, $message)
    }
    return $true
}

function Compare-ScenarioStep {
    <#
    .SYNOPSIS
    The differences between a step's result and output folder and its expectations (empty: passed).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory)]
        [object]$Step,

        [Parameter(Mandatory)]
        [hashtable]$Result,

        [Parameter(Mandatory)]
        [string]$OutDirectory
    )
    $problems = New-Object -TypeName 'System.Collections.Generic.List[string]'
    $expect = $Step.expect
    if ($Result.Outcome -ne $expect.outcome) {
        $problems.Add(('outcome: expected {0}, got {1} ({2})' -f $expect.outcome, $Result.Outcome, $Result.Message))
    }
    $expectedGuid = Get-OptionalProperty -Object $expect -Name 'guid'
    if ($expectedGuid -and $Result.Guid -ne $expectedGuid) {
        $problems.Add(('guid: expected {0}, got {1}' -f $expectedGuid, $Result.Guid))
    }
    foreach ($part in @(Get-OptionalProperty -Object $expect -Name 'message_contains')) {
        if ($null -ne $part -and -not ("$($Result.Message)".Contains([string]$part))) {
            $problems.Add(('message: expected it to contain {0}, got {1}' -f $part, $Result.Message))
        }
    }
    $files = Get-OptionalProperty -Object $expect -Name 'files'
    if ($null -ne $files) {
        $expectedNames = @($files.PSObject.Properties | ForEach-Object -Process { $_.Name } | Sort-Object)
        $actual = @(Get-ChildItem -LiteralPath $OutDirectory -Force -File)
        $actualNames = @($actual | ForEach-Object -Process { $_.Name } | Sort-Object)
        if (($expectedNames -join '|') -ne ($actualNames -join '|')) {
            $problems.Add(('files: expected [{0}], got [{1}]' -f ($expectedNames -join ', '), ($actualNames -join ', ')))
        }
        foreach ($property in $files.PSObject.Properties) {
            $path = Join-Path -Path $OutDirectory -ChildPath $property.Name
            if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
                continue
            }
            $size = Get-OptionalProperty -Object $property.Value -Name 'size'
            if ($null -ne $size -and (Get-Item -LiteralPath $path).Length -ne $size) {
                $problems.Add(('{0}: size expected {1}, got {2}' -f $property.Name, $size, (Get-Item -LiteralPath $path).Length))
            }
            $sha = Get-OptionalProperty -Object $property.Value -Name 'sha256'
            if ($sha) {
                $actualSha = (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant()
                if ($actualSha -ne $sha) {
                    $problems.Add(('{0}: sha256 expected {1}, got {2}' -f $property.Name, $sha, $actualSha))
                }
            }
        }
    }
    return , $problems.ToArray()
}

function Compare-ScenarioRequest {
    <#
    .SYNOPSIS
    The differences between the mock's request log and the scenario's expect_requests (empty: passed).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [AllowNull()]
        [object]$Expect,

        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [object[]]$Log
    )
    $problems = New-Object -TypeName 'System.Collections.Generic.List[string]'
    if ($null -eq $Expect) {
        return , $problems.ToArray()
    }
    $summary = ($Log | ForEach-Object -Process { '{0} {1} {2} {3}' -f $_.method, $_.path, $_.status, $_.host }) -join '; '
    $exact = Get-OptionalProperty -Object $Expect -Name 'exact'
    if ($null -ne $exact) {
        $exact = @($exact)
        if ($exact.Count -ne $Log.Count) {
            $problems.Add(('requests: expected {0} entries, got {1}: {2}' -f $exact.Count, $Log.Count, $summary))
        }
        $n = [Math]::Min($exact.Count, $Log.Count)
        for ($i = 0; $i -lt $n; $i++) {
            foreach ($field in $exact[$i].PSObject.Properties) {
                $got = Get-OptionalProperty -Object $Log[$i] -Name $field.Name
                if ("$got" -ne "$($field.Value)") {
                    $problems.Add(('request #{0} {1}: expected {2}, got {3} ({4})' -f $i, $field.Name, $field.Value, $got, $summary))
                }
            }
        }
    }
    $counts = Get-OptionalProperty -Object $Expect -Name 'counts'
    if ($null -ne $counts) {
        foreach ($entry in $counts.PSObject.Properties) {
            $got = @($Log | Where-Object -FilterScript { ('{0} {1}' -f $_.method, $_.status) -eq $entry.Name }).Count
            if ($got -ne $entry.Value) {
                $problems.Add(('requests "{0}": expected {1}, got {2} ({3})' -f $entry.Name, $entry.Value, $got, $summary))
            }
        }
    }
    $gap = Get-OptionalProperty -Object $Expect -Name 'min_gap_ms_between_gets'
    if ($null -ne $gap) {
        $times = @($Log | Where-Object -FilterScript { $_.method -eq 'GET' } | ForEach-Object -Process { [long]$_.at_ms })
        for ($i = 1; $i -lt $times.Count; $i++) {
            if ($times[$i] - $times[$i - 1] -lt $gap) {
                $problems.Add(('GETs {0} ms apart, expected at least {1} ms' -f ($times[$i] - $times[$i - 1]), $gap))
            }
        }
    }
    return , $problems.ToArray()
}

function New-FakeCli {
    <#
    .SYNOPSIS
    A stand-in for mesbackup (Unix only) that records its arguments and the names and values of the
    MES_* and CLICKHOUSE_* variables it was given, then prints the given NDJSON lines and exits with the given code.
    Returns @{ Path; ArgvFile; EnvFile }.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string]$Folder,

        [string[]]$EventLine = @(),

        [int]$ExitCode = 0
    )
    $argvFile = Join-Path -Path $Folder -ChildPath 'argv.txt'
    $envFile = Join-Path -Path $Folder -ChildPath 'env.txt'
    $eventsFile = Join-Path -Path $Folder -ChildPath 'events.ndjson'
    Set-Content -LiteralPath $eventsFile -Value $EventLine -Encoding utf8
    $script = @(
        '#!/bin/sh',
        ('for a in "$@"; do printf ''%s\n'' "$a"; done > ''{0}''' -f $argvFile),
        ('env | grep -E ''^(MES|CLICKHOUSE)_'' > ''{0}''' -f $envFile),
        ('cat ''{0}''' -f $eventsFile),
        ('exit {0}' -f $ExitCode)
    )
    $path = Join-Path -Path $Folder -ChildPath 'mesbackup'
    Set-Content -LiteralPath $path -Value $script -Encoding ascii
    & chmod '+x' $path
    return @{
        Path     = $path
        ArgvFile = $argvFile
        EnvFile  = $envFile
    }
}

Export-ModuleMember -Function @(
    'Get-TestRepoRoot',
    'Find-TestBinary',
    'Start-MockMes',
    'Stop-MockMes',
    'Set-MockScenario',
    'Get-MockLog',
    'Get-ScenarioFile',
    'Get-OptionalProperty',
    'ConvertTo-ErrorKind',
    'Invoke-ScenarioStep',
    'Compare-ScenarioStep',
    'Compare-ScenarioRequest',
    'New-FakeCli'
)
