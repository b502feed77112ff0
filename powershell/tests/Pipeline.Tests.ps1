#Requires -Version 7.0
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Pipelines, -WhatIf, terminating and non-terminating errors, progress and verbose output, against
# mock-mes through the real mesbackup binary.

BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'MesBackupTestHelpers.psm1') -Force -Global
    Import-Module -Name (Join-Path -Path (Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'MesBackup') -ChildPath 'MesBackup.psd1') -Force -Global
    $cli = Find-TestBinary -Name 'mesbackup' -EnvironmentVariable 'MESBACKUP_CLI'
    $mock = Start-MockMes -MockPath (Find-TestBinary -Name 'mock-mes' -EnvironmentVariable 'MOCK_MES')
    $PSDefaultParameterValues['*-MesClickHouse*:CliPath'] = $cli
    $savedEnvironment = @{}
    foreach ($name in @('MES_URL', 'MES_TOKEN', 'MES_USER', 'MES_PAT')) {
        $savedEnvironment[$name] = [System.Environment]::GetEnvironmentVariable($name)
        [System.Environment]::SetEnvironmentVariable($name, $null)
    }
    $token = ConvertTo-SecureString -String 'admin-token' -AsPlainText -Force
    $connection = @{
        EnvironmentUrl = $mock.BaseUrl
        Token          = $token
    }
    $unknownGuid = '11111111-2222-4333-8444-555555555555'
}

AfterAll {
    if ($mock) {
        Stop-MockMes -Mock $mock
    }
    $PSDefaultParameterValues.Remove('*-MesClickHouse*:CliPath')
    foreach ($name in $savedEnvironment.Keys) {
        [System.Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name])
    }
}

BeforeEach {
    $out = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('mesbackup-ps-' + [guid]::NewGuid())
    $null = New-Item -ItemType Directory -Path $out
    Set-MockScenario -BaseUrl $mock.BaseUrl -Server ([pscustomobject]@{ pending_polls = 1 })
}

AfterEach {
    Remove-Item -LiteralPath $out -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'pipelines' {
    It 'Start | Save downloads every started job, as typed objects' {
        $packages = @(Start-MesClickHouseBackup -Database 'MESCDM', 'MESODS' @connection | Save-MesClickHouseBackup -Path $out @connection)
        $packages.Count | Should -Be 2
        $packages[0].PSObject.TypeNames | Should -Contain 'MesBackup.Package'
        ($packages.Database | Sort-Object) | Should -Be @('MESCDM', 'MESODS')
        foreach ($package in $packages) {
            Test-Path -LiteralPath $package.Path | Should -BeTrue
            $package.Size | Should -Be (Get-Item -LiteralPath $package.Path).Length
            $package.Sha256 | Should -Be (Get-FileHash -LiteralPath $package.Path -Algorithm SHA256).Hash.ToLowerInvariant()
            $package.Started | Should -BeOfType [datetime]
            $package.Finished | Should -BeGreaterOrEqual $package.Started
            Test-Path -LiteralPath $package.SidecarPath | Should -BeTrue
            # The piped jobs' Database reaches each sidecar (--database per GUID).
            (Get-Content -LiteralPath $package.SidecarPath -Raw | ConvertFrom-Json).database | Should -Be $package.Database
        }
        $log = Get-MockLog -BaseUrl $mock.BaseUrl
        @($log | Where-Object { $_.method -eq 'POST' }).Count | Should -Be 2
        @($log | Where-Object { $_.method -eq 'GET' -and $_.status -eq 200 }).Count | Should -Be 2
    }

    It 'Save binds Guid and EnvironmentUrl by property name (a job list kept with Export-Csv)' {
        $jobs = @(Start-MesClickHouseBackup -Database 'MESDWH' @connection)
        $csv = Join-Path -Path $out -ChildPath 'jobs.csv'
        $jobs | Export-Csv -LiteralPath $csv -NoTypeInformation
        $downloads = Join-Path -Path $out -ChildPath 'downloads'
        $packages = @(Import-Csv -LiteralPath $csv | Save-MesClickHouseBackup -Path $downloads -Token $token)
        $packages.Count | Should -Be 1
        $packages[0].Guid | Should -Be $jobs[0].Guid
    }

    It 'Save takes plain GUID strings from the pipeline' {
        $guid = (Start-MesClickHouseBackup -Database 'MESCDM' @connection).Guid
        $packages = @($guid | Save-MesClickHouseBackup -Path $out @connection)
        $packages.Guid | Should -Be $guid
    }

    It 'a failing item is a non-terminating error and the others are still saved' {
        $guid = (Start-MesClickHouseBackup -Database 'MESCDM' @connection).Guid
        $packages = @($unknownGuid, $guid | Save-MesClickHouseBackup -Path $out @connection -ErrorAction SilentlyContinue -ErrorVariable failures)
        $packages.Count | Should -Be 1
        $packages[0].Guid | Should -Be $guid
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'backup_not_found,Save-MesClickHouseBackup'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be $unknownGuid
        $failures[0].Exception.Data['Kind'] | Should -Be 'backup_not_found'
    }

    It 'Backup -System | Copy-...ToInstaller stages four packages the installer would restore' {
        $custom = Join-Path -Path $out -ChildPath 'custom'
        $null = New-Item -ItemType Directory -Path $custom
        $downloads = Join-Path -Path $out -ChildPath 'downloads'
        $staged = @(Backup-MesClickHouseDatabase -System 'MES' -Path $downloads @connection |
                Copy-MesClickHouseBackupToInstaller -Destination $custom -System 'MES' -Version '11.3.0')
        $staged.Count | Should -Be 4
        $staged[0].PSObject.TypeNames | Should -Contain 'MesBackup.StagedPackage'
        Test-MesClickHouseBackupFolder -Path $custom -System 'MES' -Version '11.3.0' -Quiet | Should -BeTrue
        $report = Test-MesClickHouseBackupFolder -Path $custom -System 'MES' -Version '11.3.0'
        $report.Complete | Should -BeTrue
        @($report.Kinds | Where-Object { $_.SystemSpecific }).Count | Should -Be 4
    }

    It 'Test-MesClickHouseBackupFolder reports near misses with the name to use' {
        $custom = Join-Path -Path $out -ChildPath 'custom'
        $null = New-Item -ItemType Directory -Path $custom
        Set-Content -LiteralPath (Join-Path -Path $custom -ChildPath 'Cmf.ClickHouse.FullBackup.CDM.11.3.0 (1).zip') -Value 'x'
        $report = Test-MesClickHouseBackupFolder -Path $custom -System 'MES' -Version '11.3.0' -WarningAction SilentlyContinue -WarningVariable warnings
        $report.Complete | Should -BeFalse
        $report.Missing | Should -Contain 'CDM'
        $report.NearMisses[0].Expected | Should -Be 'Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip'
        $warnings.Count | Should -Be 1
    }

    It 'Get-MesClickHouseBackupName lists the four installer names' {
        $names = @(Get-MesClickHouseBackupName -System 'MES' -Version '11.3.0')
        $names.Count | Should -Be 4
        ($names | Where-Object Kind -eq 'CDM').SystemSpecificName | Should -Be 'MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip'
        ($names | Where-Object Kind -eq 'Online').Database | Should -Be 'MES'
    }
}

Describe '-WhatIf' {
    It 'Backup -WhatIf starts nothing and writes nothing' {
        Backup-MesClickHouseDatabase -System 'MES' -Path $out @connection -WhatIf | Should -BeNullOrEmpty
        @(Get-MockLog -BaseUrl $mock.BaseUrl).Count | Should -Be 0
        @(Get-ChildItem -LiteralPath $out -Force).Count | Should -Be 0
    }

    It 'Start -WhatIf starts nothing' {
        'MESCDM', 'MESODS' | Start-MesClickHouseBackup @connection -WhatIf | Should -BeNullOrEmpty
        @(Get-MockLog -BaseUrl $mock.BaseUrl).Count | Should -Be 0
    }

    It 'Save -WhatIf sends no GET, so the one-shot package stays on the server' {
        $guid = (Start-MesClickHouseBackup -Database 'MESCDM' @connection).Guid
        Save-MesClickHouseBackup -Guid $guid -Path $out @connection -WhatIf | Should -BeNullOrEmpty
        @(Get-MockLog -BaseUrl $mock.BaseUrl | Where-Object { $_.method -eq 'GET' }).Count | Should -Be 0
        @(Save-MesClickHouseBackup -Guid $guid -Path $out @connection).Count | Should -Be 1
    }

    It 'Copy-...ToInstaller -Move -WhatIf moves nothing' {
        $package = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out @connection
        $custom = Join-Path -Path $out -ChildPath 'custom'
        $null = New-Item -ItemType Directory -Path $custom
        $package | Copy-MesClickHouseBackupToInstaller -Destination $custom -System 'MES' -Version '11.3.0' -Move -WhatIf | Should -BeNullOrEmpty
        Test-Path -LiteralPath $package.Path | Should -BeTrue
        @(Get-ChildItem -LiteralPath $custom -Force).Count | Should -Be 0
    }
}

Describe 'errors' {
    It 'bad arguments are terminating, with the kind as error id' {
        { Backup-MesClickHouseDatabase -Database 'MESCDM' -GenericNames @connection -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'invalid_argument,Backup-MesClickHouseDatabase'
        { Start-MesClickHouseBackup -Database 'MESCDM' -Token $token -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'invalid_argument,Start-MesClickHouseBackup'
        { Save-MesClickHouseBackup -Guid 'not-a-guid' @connection } | Should -Throw
        { Start-MesClickHouseBackup -Database 'MESCDM' @connection -CliPath (Join-Path -Path $out -ChildPath 'none') } |
            Should -Throw -ErrorId 'cli_not_found,Start-MesClickHouseBackup'
    }

    It 'a rejected credential is terminating (every other item would fail the same way)' {
        $wrong = ConvertTo-SecureString -String 'not-a-token' -AsPlainText -Force
        { Backup-MesClickHouseDatabase -System 'MES' -Path $out -EnvironmentUrl $mock.BaseUrl -Token $wrong -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'unauthorized,Backup-MesClickHouseDatabase'
    }

    It 'an unknown database is a non-terminating invalid_database with the database as target' {
        $packages = @(Backup-MesClickHouseDatabase -Database 'NOPE', 'MESCDM' -Path $out @connection -ErrorAction SilentlyContinue -ErrorVariable failures)
        $packages.Database | Should -Be 'MESCDM'
        $failures[0].FullyQualifiedErrorId | Should -Be 'invalid_database,Backup-MesClickHouseDatabase'
        $failures[0].TargetObject | Should -Be 'NOPE'
    }

    It 'a timeout carries the GUID and says how to resume' {
        Set-MockScenario -BaseUrl $mock.BaseUrl -Server ([pscustomobject]@{ pending_polls = 1000000 })
        $null = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out @connection -Timeout ([TimeSpan]::FromMilliseconds(800)) -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].FullyQualifiedErrorId | Should -Be 'timeout,Backup-MesClickHouseDatabase'
        $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $failures[0].TargetObject | Should -Be '00000000-0000-4000-8000-000000000001'
        $failures[0].ErrorDetails.RecommendedAction | Should -BeLike '*Save-MesClickHouseBackup -Guid 00000000-0000-4000-8000-000000000001*'
    }

    It 'a number is not accepted as a timeout (it would be ticks)' {
        { Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out @connection -Timeout 3600 } | Should -Throw
    }
}

Describe 'progress and verbose' {
    It '-Verbose shows the events, one readable line each' {
        $verbose = @(Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out @connection -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } |
                ForEach-Object { $_.Message })
        @($verbose | Where-Object { $_ -like 'started: backup of MESCDM*' }).Count | Should -Be 1
        @($verbose | Where-Object { $_ -like 'pending:*' }).Count | Should -BeGreaterThan 0
        @($verbose | Where-Object { $_ -like 'saved:*' }).Count | Should -Be 1
        @($verbose | Where-Object { $_ -like 'summary:*backup window*' }).Count | Should -Be 1
    }

    It 'writes progress fed by the pending and progress events, and completes it' {
        Mock -ModuleName MesBackup -CommandName Write-Progress -MockWith { $null }
        $null = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out @connection
        Should -Invoke -ModuleName MesBackup -CommandName Write-Progress -ParameterFilter { $Status -like 'The MES is preparing*' } -Scope It
        Should -Invoke -ModuleName MesBackup -CommandName Write-Progress -ParameterFilter { $PercentComplete -eq 100 } -Scope It
        Should -Invoke -ModuleName MesBackup -CommandName Write-Progress -ParameterFilter { $Completed } -Scope It
    }
}
