#Requires -Version 7.0
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Invoke-MesBackupRun over the real CLI and mock-mes (a config of two environments, one failing),
# its command line and environment with a stand-in CLI (New-FakeCli), -WhatIf/-DryRun (the plan,
# nothing sent), and Register-/Unregister-MesBackupSchedule with the ScheduledTasks cmdlets mocked
# (stand-ins are defined where that module does not exist, e.g. on Linux).

BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'MesBackupTestHelpers.psm1') -Force -Global
    Import-Module -Name (Join-Path -Path (Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'MesBackup') -ChildPath 'MesBackup.psd1') -Force -Global
    $savedEnvironment = @{}
    foreach ($name in @('MES_URL', 'MES_TOKEN', 'MES_USER', 'MES_PAT', 'NIGHTLY_MES_TOKEN')) {
        $savedEnvironment[$name] = [System.Environment]::GetEnvironmentVariable($name)
        [System.Environment]::SetEnvironmentVariable($name, $null)
    }
    $isUnix = [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Unix
    $cli = Find-TestBinary -Name 'mesbackup' -EnvironmentVariable 'MESBACKUP_CLI'
    $mockPath = Find-TestBinary -Name 'mock-mes' -EnvironmentVariable 'MOCK_MES'

    function New-RunConfig {
        param([string]$Folder, [string[]]$Environment)
        $path = Join-Path -Path $Folder -ChildPath 'mesbackup.toml'
        Set-Content -LiteralPath $path -Value ($Environment -join [Environment]::NewLine) -Encoding utf8
        return $path
    }

    function Get-RunEnvironment {
        param([string]$Name, [string]$Url, [string]$Out)
        # TOML literal strings: no escapes, so Windows paths stay as they are.
        return @(
            '[[environment]]',
            ('name = "{0}"' -f $Name),
            ('url = "{0}"' -f $Url),
            'system = "MES"',
            ("out = '{0}'" -f $Out),
            'token_env = "NIGHTLY_MES_TOKEN"',
            ''
        ) -join [Environment]::NewLine
    }
}

AfterAll {
    foreach ($name in $savedEnvironment.Keys) {
        [System.Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name])
    }
}

BeforeEach {
    $work = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('mesbackup-ps-run-' + [guid]::NewGuid())
    $null = New-Item -ItemType Directory -Path $work
}

AfterEach {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    [System.Environment]::SetEnvironmentVariable('NIGHTLY_MES_TOKEN', $null)
    [System.Environment]::SetEnvironmentVariable('MES_TOKEN', $null)
}

Describe 'Invoke-MesBackupRun against mock-mes' {
    BeforeAll {
        $healthy = Start-MockMes -MockPath $mockPath
        $broken = Start-MockMes -MockPath $mockPath
    }
    AfterAll {
        Stop-MockMes -Mock $healthy
        Stop-MockMes -Mock $broken
    }
    BeforeEach {
        Set-MockScenario -BaseUrl $healthy.BaseUrl -Server @{}
        Set-MockScenario -BaseUrl $broken.BaseUrl -Server @{ faults = @(@{ method = 'POST'; nth = 'all'; status = 500; body = 'ClickHouse is down' }) }
        $config = New-RunConfig -Folder $work -Environment @(
            (Get-RunEnvironment -Name 'production' -Url $healthy.BaseUrl -Out (Join-Path -Path $work -ChildPath 'production')),
            (Get-RunEnvironment -Name 'training' -Url $broken.BaseUrl -Out (Join-Path -Path $work -ChildPath 'training'))
        )
    }

    It 'returns one RunResult per environment and a non-terminating error for the failed one' {
        $env:NIGHTLY_MES_TOKEN = 'admin-token'
        $metrics = Join-Path -Path $work -ChildPath 'mesbackup.prom'
        $results = @(Invoke-MesBackupRun -Config $config -MetricsFile $metrics -CliPath $cli -Confirm:$false -ErrorVariable runErrors -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 2
        $results[0].PSObject.TypeNames | Should -Contain 'MesBackup.RunResult'
        $results[0].Environment | Should -Be 'production'
        $results[0].Ok | Should -BeTrue
        @($results[0].Databases | Where-Object -FilterScript { $_.Outcome -eq 'saved' }).Count | Should -Be 4
        foreach ($db in $results[0].Databases) {
            Test-Path -LiteralPath $db.File -PathType Leaf | Should -BeTrue
            $db.Verified | Should -BeTrue
        }
        $results[1].Environment | Should -Be 'training'
        $results[1].Ok | Should -BeFalse
        $results[1].FailedStep | Should -Be 'backup'
        $results[1].ExitCode | Should -Be 7
        @($runErrors).Count | Should -Be 1
        $runErrors[0].FullyQualifiedErrorId | Should -BeLike 'server_error,*'
        $runErrors[0].TargetObject | Should -Be 'training'
        Test-Path -LiteralPath $metrics -PathType Leaf | Should -BeTrue
        (Get-Content -LiteralPath $metrics -Raw) | Should -Match 'mesbackup_environment_success\{environment="production"\} 1'
    }

    It '-WhatIf runs --dry-run, returns the plan and sends nothing' {
        $env:NIGHTLY_MES_TOKEN = 'admin-token'
        $plans = @(Invoke-MesBackupRun -Config $config -CliPath $cli -WhatIf)
        $plans.Count | Should -Be 2
        $plans[0].PSObject.TypeNames | Should -Contain 'MesBackup.RunPlan'
        $plans[0].Environment | Should -Be 'production'
        @($plans[0].Databases).Count | Should -Be 4
        $plans[0].HasRetention | Should -BeFalse
        @(Get-MockLog -BaseUrl $healthy.BaseUrl).Count | Should -Be 0
        @(Get-MockLog -BaseUrl $broken.BaseUrl).Count | Should -Be 0
        Test-Path -LiteralPath (Join-Path -Path $work -ChildPath 'production') | Should -BeFalse
    }

    It '-DryRun -Only shows the plan of the named environment only' {
        $env:NIGHTLY_MES_TOKEN = 'admin-token'
        $plans = @(Invoke-MesBackupRun -Config $config -Only 'training' -DryRun -CliPath $cli)
        $plans.Count | Should -Be 1
        $plans[0].Environment | Should -Be 'training'
        @(Get-MockLog -BaseUrl $broken.BaseUrl).Count | Should -Be 0
    }

    It 'a missing credential variable is a terminating invalid_argument and nothing is sent' {
        { Invoke-MesBackupRun -Config $config -CliPath $cli -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'invalid_argument,Invoke-MesBackupRun'
        @(Get-MockLog -BaseUrl $healthy.BaseUrl).Count | Should -Be 0
    }
}

Describe 'Invoke-MesBackupRun command line' -Skip:(-not $isUnix) {
    It 'passes --config, --only and --metrics-file, and the session''s variables, never a secret on argv' {
        $env:MES_TOKEN = 'inherited-token-4711'
        $summary = '{"event":"run_summary","ok":true,"exit_code":0,"finished_at":"2026-12-05T02:40:00.000Z","duration_ms":1000,"environments":[]}'
        $fake = New-FakeCli -Folder $work -EventLine @($summary)
        $config = New-RunConfig -Folder $work -Environment @('')
        $metrics = Join-Path -Path $work -ChildPath 'm.prom'
        $null = Invoke-MesBackupRun -Config $config -Only 'production', 'training' -MetricsFile $metrics -CliPath $fake.Path -Confirm:$false
        Get-Content -LiteralPath $fake.ArgvFile | Should -Be @('run', '--json', '--config', $config, '--only', 'production', '--only', 'training', '--metrics-file', $metrics)
        Get-Content -LiteralPath $fake.EnvFile | Should -Contain 'MES_TOKEN=inherited-token-4711'
        (Get-Content -LiteralPath $fake.ArgvFile -Raw) | Should -Not -Match 'inherited-token'
    }

    It 'a hook failure (exit code 21) is a hook_failed error' {
        $summary = '{"event":"run_summary","ok":false,"exit_code":21,"finished_at":"2026-12-05T02:40:00.000Z","duration_ms":1000,"environments":[{"name":"production","system":"MES","out":"/b","result":"failed","failed_step":"before_hook","message":"before hook sqlcmd exited with 1","exit_code":21,"sql_backup_finished_at":null,"backup_window":null,"databases":[],"hooks":[{"phase":"before","program":"sqlcmd","ok":false,"exit_code":1,"duration_ms":20}],"retention":null,"duration_ms":30}]}'
        $fake = New-FakeCli -Folder $work -EventLine @($summary) -ExitCode 21
        $config = New-RunConfig -Folder $work -Environment @('')
        $result = Invoke-MesBackupRun -Config $config -CliPath $fake.Path -Confirm:$false -ErrorVariable runErrors -ErrorAction SilentlyContinue
        $result.FailedStep | Should -Be 'before_hook'
        $result.Hooks[0].Program | Should -Be 'sqlcmd'
        $result.Hooks[0].Ok | Should -BeFalse
        $runErrors[0].FullyQualifiedErrorId | Should -BeLike 'hook_failed,*'
    }

    It 'a folder held by another run (exit code 75) is a terminating run_locked error' {
        $failed = '{"event":"failed","error":{"kind":"io","message":"another mesbackup run holds /b/.mesbackup-run.lock"}}'
        $fake = New-FakeCli -Folder $work -EventLine @($failed) -ExitCode 75
        $config = New-RunConfig -Folder $work -Environment @('')
        { Invoke-MesBackupRun -Config $config -CliPath $fake.Path -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'run_locked,Invoke-MesBackupRun'
    }
}

Describe 'Register-MesBackupSchedule' {
    BeforeAll {
        # Stand-ins where the ScheduledTasks module does not exist, so that Pester can mock them.
        # Each has the parameters the module passes, which the mocks' filters read.
        $standIns = @{
            'New-ScheduledTaskAction'      = { [CmdletBinding()] param($Execute, $Argument, $WorkingDirectory) }
            'New-ScheduledTaskTrigger'     = { [CmdletBinding()] param([switch]$Daily, $At, $RandomDelay) }
            'New-ScheduledTaskSettingsSet' = { [CmdletBinding()] param($MultipleInstances, $ExecutionTimeLimit, [switch]$StartWhenAvailable) }
            'New-ScheduledTaskPrincipal'   = { [CmdletBinding()] param($UserId, $LogonType, $RunLevel) }
            'Register-ScheduledTask'       = { [CmdletBinding()] param($TaskName, $TaskPath, $Action, $Trigger, $Settings, $Principal, $Description, $User, $Password, $RunLevel, [switch]$Force) }
            'Get-ScheduledTask'            = { [CmdletBinding()] param($TaskName, $TaskPath) }
            'Unregister-ScheduledTask'     = { [CmdletBinding(SupportsShouldProcess)] param($TaskName, $TaskPath) }
        }
        foreach ($name in $standIns.Keys) {
            if (-not (Get-Command -Name $name -ErrorAction SilentlyContinue)) {
                $null = New-Item -Path ('function:global:{0}' -f $name) -Value $standIns[$name]
            }
        }
    }
    BeforeEach {
        Mock -ModuleName MesBackup -CommandName New-ScheduledTaskAction -MockWith { [pscustomobject]@{ Execute = $Execute; Arguments = $Argument } }
        Mock -ModuleName MesBackup -CommandName New-ScheduledTaskTrigger -MockWith { [pscustomobject]@{ At = $At; RandomDelay = $RandomDelay } }
        Mock -ModuleName MesBackup -CommandName New-ScheduledTaskSettingsSet -MockWith { [pscustomobject]@{ MultipleInstances = $MultipleInstances } }
        Mock -ModuleName MesBackup -CommandName New-ScheduledTaskPrincipal -MockWith { [pscustomobject]@{ UserId = $UserId } }
        Mock -ModuleName MesBackup -CommandName Get-ScheduledTask -MockWith { $null }
        Mock -ModuleName MesBackup -CommandName Register-ScheduledTask -MockWith { [pscustomobject]@{ TaskName = $TaskName } }
        $config = Join-Path -Path $work -ChildPath "O'Brien mesbackup.toml"
        Set-Content -LiteralPath $config -Value ''
        $credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList @('CORP\svc-mesbackup', (ConvertTo-SecureString -String 'svc-pw-4711' -AsPlainText -Force))
    }

    It 'registers a daily task running Invoke-MesBackupRun as the service account' {
        $task = Register-MesBackupSchedule -Config $config -At '02:30' -Credential $credential -RandomDelay (New-TimeSpan -Minutes 20) -Confirm:$false
        $task.TaskName | Should -Be 'MesBackup nightly'
        Should -Invoke -ModuleName MesBackup -CommandName New-ScheduledTaskAction -Times 1 -ParameterFilter {
            $Execute -eq 'pwsh.exe' -and $Argument -like '*Import-Module MesBackup*Invoke-MesBackupRun -Config ''*O''''Brien mesbackup.toml''*' -and $Argument -notlike '*svc-pw-4711*'
        }
        Should -Invoke -ModuleName MesBackup -CommandName New-ScheduledTaskTrigger -Times 1 -ParameterFilter { $Daily -and $RandomDelay -eq (New-TimeSpan -Minutes 20) }
        Should -Invoke -ModuleName MesBackup -CommandName Register-ScheduledTask -Times 1 -ParameterFilter { $User -eq 'CORP\svc-mesbackup' -and $Password -eq 'svc-pw-4711' }
    }

    It 'registers a gMSA without a password' {
        $null = Register-MesBackupSchedule -Config $config -At '03:00' -GroupManagedServiceAccount 'CORP\gmsa-mesbackup$' -Confirm:$false
        Should -Invoke -ModuleName MesBackup -CommandName New-ScheduledTaskPrincipal -Times 1 -ParameterFilter { $UserId -eq 'CORP\gmsa-mesbackup$' -and $LogonType -eq 'Password' }
        Should -Invoke -ModuleName MesBackup -CommandName Register-ScheduledTask -Times 1 -ParameterFilter { $null -eq $Password }
    }

    It '-WhatIf registers nothing' {
        Register-MesBackupSchedule -Config $config -At '02:30' -Credential $credential -WhatIf
        Should -Invoke -ModuleName MesBackup -CommandName Register-ScheduledTask -Times 0
    }

    It 'refuses to replace an existing task without -Force' {
        Mock -ModuleName MesBackup -CommandName Get-ScheduledTask -MockWith { [pscustomobject]@{ TaskName = 'MesBackup nightly' } }
        { Register-MesBackupSchedule -Config $config -At '02:30' -Credential $credential -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'invalid_argument,Register-MesBackupSchedule'
        Should -Invoke -ModuleName MesBackup -CommandName Register-ScheduledTask -Times 0
    }

    It 'Unregister-MesBackupSchedule removes the task' {
        Mock -ModuleName MesBackup -CommandName Get-ScheduledTask -MockWith { [pscustomobject]@{ TaskName = 'MesBackup nightly' } }
        Mock -ModuleName MesBackup -CommandName Unregister-ScheduledTask -MockWith { $null }
        Unregister-MesBackupSchedule -Confirm:$false
        Should -Invoke -ModuleName MesBackup -CommandName Unregister-ScheduledTask -Times 1 -ParameterFilter { $TaskName -eq 'MesBackup nightly' -and $TaskPath -eq '\MesBackup\' }
    }
}
