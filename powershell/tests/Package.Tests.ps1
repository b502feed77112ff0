#Requires -Version 7.0
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Test-MesClickHouseBackup, Get-MesClickHouseBackupInfo, Get-MesClickHouseBackupWindow and
# -SqlBackupFinished, against packages saved from mock-mes through the real mesbackup binary.

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
    $connection = @{
        EnvironmentUrl = $mock.BaseUrl
        Token          = (ConvertTo-SecureString -String 'admin-token' -AsPlainText -Force)
    }
    $out = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('mesbackup-ps-' + [guid]::NewGuid())
    $null = New-Item -ItemType Directory -Path $out
    Set-MockScenario -BaseUrl $mock.BaseUrl -Server ([pscustomobject]@{ pending_polls = 1 })
    $sqlDone = [datetime]::new(2026, 11, 25, 9, 40, 0, [System.DateTimeKind]::Utc)
    $package = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out -SqlBackupFinished $sqlDone @connection
    $damaged = Join-Path -Path $out -ChildPath 'damaged.zip'
    $bytes = [System.IO.File]::ReadAllBytes($package.Path)
    foreach ($offset in 100..106) {
        $bytes[$offset] = 0x41
    }
    [System.IO.File]::WriteAllBytes($damaged, $bytes)
}

AfterAll {
    if ($mock) {
        Stop-MockMes -Mock $mock
    }
    Remove-Item -LiteralPath $out -Recurse -Force -ErrorAction SilentlyContinue
    $PSDefaultParameterValues.Remove('*-MesClickHouse*:CliPath')
    foreach ($name in $savedEnvironment.Keys) {
        [System.Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name])
    }
}

Describe 'Test-MesClickHouseBackup' {
    It 'verifies a saved package piped from Backup-MesClickHouseDatabase (Path property)' {
        $result = $package | Test-MesClickHouseBackup
        $result.PSObject.TypeNames | Should -Contain 'MesBackup.VerifyResult'
        $result.Ok | Should -BeTrue
        $result.Sha256 | Should -Be $package.Sha256
        $result.SidecarMatched | Should -BeTrue
        $result.FilesChecked | Should -BeGreaterThan 0
        @($result.Problems).Count | Should -Be 0
    }

    It 'takes files from Get-ChildItem (FullName) and reports a damaged package as a non-terminating integrity error' {
        $results = @(Get-ChildItem -LiteralPath $out -Filter '*.zip' | Test-MesClickHouseBackup -ErrorVariable failures -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 2
        $bad = $results | Where-Object -FilterScript { $_.Path -eq $damaged }
        $bad.Ok | Should -BeFalse
        @($bad.Problems).Count | Should -BeGreaterThan 0
        $bad.SidecarMatched | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'integrity,Test-MesClickHouseBackup'
        $failures[0].TargetObject | Should -Be $damaged
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidData'
    }

    It 'answers only $true or $false with -Quiet, without errors' {
        Test-MesClickHouseBackup -Path $package.Path -Quiet | Should -BeTrue
        $answers = @(Test-MesClickHouseBackup -Path $damaged, (Join-Path -Path $out -ChildPath 'missing.zip') -Quiet -ErrorVariable quietErrors)
        $answers | Should -Be @($false, $false)
        $quietErrors.Count | Should -Be 0
    }

    It 'reports an unreadable package as a non-terminating io error with its path' {
        $missing = Join-Path -Path $out -ChildPath 'missing.zip'
        $null = Test-MesClickHouseBackup -Path $missing -ErrorVariable ioErrors -ErrorAction SilentlyContinue
        $ioErrors[0].FullyQualifiedErrorId | Should -Be 'io,Test-MesClickHouseBackup'
        $ioErrors[0].TargetObject | Should -Be $missing
    }
}

Describe 'Get-MesClickHouseBackupInfo' {
    It 'describes the tables, storage policies and disks of a package' {
        $info = $package | Get-MesClickHouseBackupInfo
        $info.PSObject.TypeNames | Should -Contain 'MesBackup.PackageInfo'
        $info.Verified | Should -BeTrue
        $info.Databases.Name | Should -Contain 'MESCDM'
        @($info.Tables).Count | Should -Be $info.TableCount
        foreach ($table in $info.Tables) {
            $table.PSObject.TypeNames | Should -Contain 'MesBackup.TableInfo'
            $table.Engine | Should -Not -BeNullOrEmpty
            $table.Parts | Should -BeGreaterOrEqual 0
            $table.Rows | Should -BeGreaterOrEqual 0
        }
        $info.StoragePolicies | Should -Contain 'default'
    }

    It 'still describes a damaged package, with a non-terminating integrity error' {
        $info = Get-MesClickHouseBackupInfo -Path $damaged -ErrorVariable failures -ErrorAction SilentlyContinue
        $info.Verified | Should -BeFalse
        $failures[0].FullyQualifiedErrorId | Should -Be 'integrity,Get-MesClickHouseBackupInfo'
        $failures[0].TargetObject | Should -Be $damaged
    }
}

Describe 'Get-MesClickHouseBackupWindow and -SqlBackupFinished' {
    It 'reads the window and the SQL Server completion recorded in the sidecar' {
        $window = Get-MesClickHouseBackupWindow -Path $out
        $window.PSObject.TypeNames | Should -Contain 'MesBackup.BackupWindow'
        $window.Started | Should -BeOfType [datetime]
        $window.Finished | Should -BeGreaterOrEqual $window.Started
        $window.SqlBackupFinished.ToUniversalTime() | Should -Be $sqlDone
        $window.ReprocessFrom.ToUniversalTime() | Should -Be $sqlDone
    }

    It 'passes -SqlBackupFinished to the CLI as RFC 3339 UTC' {
        InModuleScope -ModuleName MesBackup -ScriptBlock {
            $list = Get-MesCliArgumentList -Command 'backup' -SqlBackupFinished ([datetime]::new(2026, 11, 25, 9, 40, 0, [System.DateTimeKind]::Utc))
            $index = [array]::IndexOf($list, '--sql-backup-finished')
            $index | Should -BeGreaterThan 0
            $list[$index + 1] | Should -Be '2026-11-25T09:40:00.000Z'
        }
    }

    It 'refuses a folder without sidecars' {
        $empty = Join-Path -Path $out -ChildPath 'empty'
        $null = New-Item -ItemType Directory -Path $empty
        { Get-MesClickHouseBackupWindow -Path $empty } | Should -Throw -ErrorId 'invalid_argument,Get-MesClickHouseBackupWindow'
    }
}
