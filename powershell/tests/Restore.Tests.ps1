#Requires -Version 7.0
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Restore-MesClickHouseDatabase and Test-MesClickHouseRestore with a stand-in CLI (New-FakeCli) that
# prints the events `mesbackup restore` / `test-restore` print (their shapes are checked against the
# real CLI and a real engine by powershell/tools/cli_contract.py): the command line, ClickHouse
# credentials only in the child's environment, the objects, -WhatIf, and the errors.

BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'MesBackupTestHelpers.psm1') -Force -Global
    Import-Module -Name (Join-Path -Path (Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'MesBackup') -ChildPath 'MesBackup.psd1') -Force -Global
    $savedEnvironment = @{}
    foreach ($name in @('MES_URL', 'MES_TOKEN', 'MES_USER', 'MES_PAT', 'CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD')) {
        $savedEnvironment[$name] = [System.Environment]::GetEnvironmentVariable($name)
        [System.Environment]::SetEnvironmentVariable($name, $null)
    }
    $isUnix = [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Unix
    $url = 'http://ch.example:8123/'
}

AfterAll {
    foreach ($name in $savedEnvironment.Keys) {
        [System.Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name])
    }
}

BeforeEach {
    $out = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('mesbackup-ps-restore-' + [guid]::NewGuid())
    $null = New-Item -ItemType Directory -Path $out
    $package = Join-Path -Path $out -ChildPath 'MESFIX.zip'
    Set-Content -LiteralPath $package -Value 'not read by the fake CLI'
    $serverPath = Join-Path -Path $out -ChildPath 'allowed'
    $null = New-Item -ItemType Directory -Path $serverPath
    $jsonPath = $package | ConvertTo-Json
    $tables = '[{"table":"EmptyTable","expected_rows":0,"rows":0,"ok":true},{"table":"MaterialHistory","expected_rows":2121,"rows":2121,"ok":true}]'
    $planOk = '{"event":"restore_plan","path":' + $jsonPath + ',"dry_run":false,"plan":{"source_database":"MESFIX","target_database":"MESFIX_x","problems":[],"notes":[],"settings":[],"tables":[["EmptyTable",0],["MaterialHistory",2121]]},"sql":"RESTORE DATABASE `MESFIX` AS `MESFIX_x` FROM File(''x'') ASYNC"}'
    $planProblem = '{"event":"restore_plan","path":' + $jsonPath + ',"dry_run":true,"plan":{"source_database":"MESFIX","target_database":"MESFIX_x","problems":[{"kind":"non_empty_target","name":"MESFIX_x","message":"database ''MESFIX_x'' already exists on the target with 5 table(s)"}],"notes":[],"settings":[["storage_policy","default"]],"tables":[["EmptyTable",0]]},"sql":"RESTORE DATABASE `MESFIX` AS `MESFIX_x` FROM File(''<server-backup-path>/<unique>'') ASYNC"}'
    $failedPlan = '{"event":"failed","error":{"kind":"invalid_argument","message":"the restore would fail: database ''MESFIX_x'' already exists on the target with 5 table(s)"}}'
    $progress = @(
        ('{"event":"restore_progress","path":' + $jsonPath + ',"step":"extracted","dir":"/x","files":97,"bytes":125826}'),
        ('{"event":"restore_progress","path":' + $jsonPath + ',"step":"started","operation_id":"op-1"}'),
        ('{"event":"restore_progress","path":' + $jsonPath + ',"step":"restoring","operation_id":"op-1","status":"RESTORING","error":"","num_files":128,"files_read":6,"total_size":107364,"bytes_read":1476}')
    )
    $restored = '{"event":"restored","path":' + $jsonPath + ',"database":"MESFIX","target_database":"MESFIX_x","operation_id":"op-1","tables":' + $tables + ',"rows":2121,"ok":true,"elapsed_ms":288}'
}

AfterEach {
    Remove-Item -LiteralPath $out -Recurse -Force -ErrorAction SilentlyContinue
    foreach ($name in @('MES_TOKEN', 'CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD')) {
        [System.Environment]::SetEnvironmentVariable($name, $null)
    }
}

Describe 'Restore-MesClickHouseDatabase' -Skip:(-not $isUnix) {
    It 'builds the restore command line, passes the ClickHouse credential in the environment only, returns a RestoreResult' {
        $env:MES_TOKEN = 'mes-token-not-for-restore'
        $fake = New-FakeCli -Folder $out -EventLine (@($planOk) + $progress + @($restored))
        $credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList @('chuser', (ConvertTo-SecureString -String 'ch-pw-1234' -AsPlainText -Force))
        $result = Restore-MesClickHouseDatabase -Path $package -ClickHouseUrl $url -ClickHouseCredential $credential -DatabaseName 'MESFIX_x' -ServerBackupPath $serverPath -Timeout (New-TimeSpan -Minutes 10) -CliPath $fake.Path -Confirm:$false
        Get-Content -LiteralPath $fake.ArgvFile | Should -Be @('restore', '--json', '--timeout', '600000ms', '--clickhouse', $url, '--as', 'MESFIX_x', '--server-backup-path', $serverPath, '--', $package)
        $environment = Get-Content -LiteralPath $fake.EnvFile
        $environment | Should -Contain 'CLICKHOUSE_USER=chuser'
        $environment | Should -Contain 'CLICKHOUSE_PASSWORD=ch-pw-1234'
        @($environment | Where-Object { $_ -like 'MES_TOKEN=*' }).Count | Should -Be 0
        $result.PSObject.TypeNames | Should -Contain 'MesBackup.RestoreResult'
        $result.Ok | Should -BeTrue
        $result.Database | Should -Be 'MESFIX'
        $result.TargetDatabase | Should -Be 'MESFIX_x'
        $result.OperationId | Should -Be 'op-1'
        $result.Rows | Should -Be 2121
        @($result.Tables).Count | Should -Be 2
        $result.Tables[1].Table | Should -Be 'MaterialHistory'
        $result.Tables[1].ExpectedRows | Should -Be 2121
        $result.Tables[1].Rows | Should -Be 2121
        ($result | ConvertTo-Json -Depth 5) | Should -Not -BeLike '*ch-pw-1234*'
        $env:CLICKHOUSE_PASSWORD | Should -BeNullOrEmpty
    }

    It 'without -ClickHouseCredential the session''s CLICKHOUSE_USER and CLICKHOUSE_PASSWORD are inherited' {
        $env:CLICKHOUSE_USER = 'sessionuser'
        $env:CLICKHOUSE_PASSWORD = 'session-pw-5678'
        $fake = New-FakeCli -Folder $out -EventLine @($planOk, $restored)
        $null = Restore-MesClickHouseDatabase -Path $package -ClickHouseUrl $url -ServerBackupPath $serverPath -CliPath $fake.Path -Confirm:$false
        $environment = Get-Content -LiteralPath $fake.EnvFile
        $environment | Should -Contain 'CLICKHOUSE_USER=sessionuser'
        $environment | Should -Contain 'CLICKHOUSE_PASSWORD=session-pw-5678'
    }

    It '-WhatIf runs --dry-run, returns the plan and names its problems as non-terminating errors' {
        $fake = New-FakeCli -Folder $out -EventLine @($planProblem, $failedPlan) -ExitCode 2
        $plan = Restore-MesClickHouseDatabase -Path $package -ClickHouseUrl $url -DatabaseName 'MESFIX_x' -CliPath $fake.Path -WhatIf -ErrorVariable problems -ErrorAction SilentlyContinue
        Get-Content -LiteralPath $fake.ArgvFile | Should -Contain '--dry-run'
        $plan.PSObject.TypeNames | Should -Contain 'MesBackup.RestorePlan'
        $plan.Ok | Should -BeFalse
        $plan.Problems[0].Kind | Should -Be 'non_empty_target'
        $plan.Problems[0].Name | Should -Be 'MESFIX_x'
        $plan.Settings['storage_policy'] | Should -Be 'default'
        $plan.Tables[0].Table | Should -Be 'EmptyTable'
        $problems.Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -Be 'invalid_argument,Restore-MesClickHouseDatabase'
        $problems[0].TargetObject | Should -Be $package
    }

    It 'a plan problem without -WhatIf is a terminating invalid_argument error about the package' {
        $fake = New-FakeCli -Folder $out -EventLine @($planProblem, $failedPlan) -ExitCode 2
        $caught = $null
        try {
            $null = Restore-MesClickHouseDatabase -Path $package -ClickHouseUrl $url -DatabaseName 'MESFIX_x' -ServerBackupPath $serverPath -CliPath $fake.Path -Confirm:$false
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -Be 'invalid_argument,Restore-MesClickHouseDatabase'
        $caught.TargetObject | Should -Be $package
    }

    It 'refuses a URL with credentials in it and a restore without -ServerBackupPath' {
        { Restore-MesClickHouseDatabase -Path $package -ClickHouseUrl 'http://u:secret@ch.example:8123/' -ServerBackupPath $serverPath -CliPath $out -Confirm:$false } |
            Should -Throw -ErrorId 'invalid_argument,Restore-MesClickHouseDatabase'
        $fake = New-FakeCli -Folder $out -EventLine @($planOk)
        { Restore-MesClickHouseDatabase -Path $package -ClickHouseUrl $url -CliPath $fake.Path -Confirm:$false } |
            Should -Throw -ErrorId 'invalid_argument,Restore-MesClickHouseDatabase'
    }

    It 'commands that talk to no ClickHouse get no CLICKHOUSE_* credentials' {
        $env:CLICKHOUSE_USER = 'sessionuser'
        $env:CLICKHOUSE_PASSWORD = 'session-pw-5678'
        $fake = New-FakeCli -Folder $out -EventLine @('{"event":"names","system":"MES","version":"11.3.0","packages":[]}')
        $null = Get-MesClickHouseBackupName -System 'MES' -Version '11.3.0' -CliPath $fake.Path
        @(Get-Content -LiteralPath $fake.EnvFile | Where-Object { $_ -like 'CLICKHOUSE_*' }).Count | Should -Be 0
    }
}

Describe 'Test-MesClickHouseRestore' -Skip:(-not $isUnix) {
    It 'returns one TestRestoreResult per package; a failed package is a result, not an error' {
        $missing = Join-Path -Path $out -ChildPath 'missing.zip'
        $okLine = '{"event":"test_restore","path":' + $jsonPath + ',"ok":true,"verified":true,"verify_ms":3,"database":"MESFIX","target_database":"psc_MESFIX","restore_ms":266,"dropped":true,"tables_checked":2,"rows_checked":2121,"tables":' + $tables + ',"elapsed_ms":288}'
        $badLine = '{"event":"test_restore","path":' + ($missing | ConvertTo-Json) + ',"ok":false,"verified":false,"error":{"kind":"io","message":"cannot open missing.zip"},"elapsed_ms":0}'
        $fake = New-FakeCli -Folder $out -EventLine (@($progress) + @($okLine, $badLine)) -ExitCode 12
        $results = @(Get-Item -LiteralPath $package | Test-MesClickHouseRestore -ClickHouseUrl $url -ServerBackupPath $serverPath -Prefix 'psc_' -Keep -CliPath $fake.Path -ErrorVariable errors)
        $argv = Get-Content -LiteralPath $fake.ArgvFile
        $argv | Should -Be @('test-restore', '--json', '--clickhouse', $url, '--server-backup-path', $serverPath, '--prefix', 'psc_', '--keep', '--', $package)
        $errors.Count | Should -Be 0
        $results.Count | Should -Be 2
        $results[0].PSObject.TypeNames | Should -Contain 'MesBackup.TestRestoreResult'
        $results[0].Ok | Should -BeTrue
        $results[0].TargetDatabase | Should -Be 'psc_MESFIX'
        $results[0].TablesChecked | Should -Be 2
        $results[0].RowsChecked | Should -Be 2121
        $results[0].Dropped | Should -BeTrue
        $results[0].Error | Should -BeNullOrEmpty
        $results[1].Ok | Should -BeFalse
        $results[1].Path | Should -Be $missing
        $results[1].Error.Kind | Should -Be 'io'
        $results[1].TargetDatabase | Should -BeNullOrEmpty
    }

    It 'a non-zero exit without a result for a package is an error' {
        $fake = New-FakeCli -Folder $out -EventLine @() -ExitCode 13
        { Test-MesClickHouseRestore -Path $package -ClickHouseUrl $url -ServerBackupPath $serverPath -CliPath $fake.Path } |
            Should -Throw -ErrorId 'network,Test-MesClickHouseRestore'
    }
}
