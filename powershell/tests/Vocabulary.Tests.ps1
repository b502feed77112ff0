#Requires -Version 7.0
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# One vocabulary: the parameter names the module shares with the CLI, Python and the npm package,
# and the old names kept one release: each still does what it did (the same command line reaches the
# CLI) and says so with a warning. A fake CLI records the command line.

BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'MesBackupTestHelpers.psm1') -Force -Global
    Import-Module -Name (Join-Path -Path (Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'MesBackup') -ChildPath 'MesBackup.psd1') -Force -Global
    $isUnix = [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Unix
    $token = ConvertTo-SecureString -String 'admin-token' -AsPlainText -Force
    $summaryEvent = '{"event":"summary","ok":true,"exit_code":0,"results":[],"backup_window":null}'
    $savedEnvironment = @{}
    foreach ($name in @('MES_URL', 'MES_TOKEN', 'MES_USER', 'MES_PAT')) {
        $savedEnvironment[$name] = [System.Environment]::GetEnvironmentVariable($name)
    }
}

AfterAll {
    foreach ($name in $savedEnvironment.Keys) {
        [System.Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name])
    }
}

BeforeEach {
    $out = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('mesbackup-ps-' + [guid]::NewGuid())
    $null = New-Item -ItemType Directory -Path $out
    foreach ($name in @('MES_URL', 'MES_TOKEN', 'MES_USER', 'MES_PAT')) {
        [System.Environment]::SetEnvironmentVariable($name, $null)
    }
}

AfterEach {
    Remove-Item -LiteralPath $out -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'credentials' {
    It 'none given is core''s one sentence, before anything runs' {
        $caught = $null
        try {
            Start-MesClickHouseBackup -Database 'MESCDM' -EnvironmentUrl 'https://mes.example.com/' -CliPath (Join-Path -Path $out -ChildPath 'none')
        }
        catch {
            $caught = $_
        }
        $caught.FullyQualifiedErrorId | Should -Be 'invalid_argument,Start-MesClickHouseBackup'
        $caught.Exception.Message | Should -BeLike 'no MES credentials: give a bearer token, or a user name and its personal access token (PAT).*PowerShell -Token*PowerShell -Credential*MES_USER and MES_PAT*'
    }
}

Describe 'old parameter names still work and warn' -Skip:(-not $isUnix) {
    It 'Backup -InstallerName keeps its generic names; -Version alone gives the system-specific ones' {
        $fake = New-FakeCli -Folder $out -EventLine @($summaryEvent)
        $null = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out -Version '11.3.0' -EnvironmentUrl 'https://mes.example.com/' -Token $token -CliPath $fake.Path -WarningVariable warnings -WarningAction SilentlyContinue
        $argv = @(Get-Content -LiteralPath $fake.ArgvFile)
        $argv | Should -Contain '--version'
        $argv | Should -Not -Contain '--generic-names'
        $warnings.Count | Should -Be 0

        $null = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out -InstallerName -Version '11.3.0' -EnvironmentUrl 'https://mes.example.com/' -Token $token -CliPath $fake.Path -WarningVariable warnings -WarningAction SilentlyContinue
        $argv = @(Get-Content -LiteralPath $fake.ArgvFile)
        $argv | Should -Contain '--generic-names'
        $argv | Should -Not -Contain '--installer-names'
        @($warnings | Where-Object { "$_" -like '-InstallerName is deprecated*-GenericNames*' }).Count | Should -Be 1

        $null = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out -InstallerName -SystemSpecific -Version '11.3.0' -EnvironmentUrl 'https://mes.example.com/' -Token $token -CliPath $fake.Path -WarningVariable warnings -WarningAction SilentlyContinue
        $argv = @(Get-Content -LiteralPath $fake.ArgvFile)
        $argv | Should -Not -Contain '--generic-names'
        $argv | Should -Not -Contain '--system-specific'
        @($warnings | Where-Object { "$_" -like '-SystemSpecific is deprecated*' }).Count | Should -Be 1
    }

    It 'Backup and Save -Force is -Overwrite' {
        $fake = New-FakeCli -Folder $out -EventLine @($summaryEvent)
        $null = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out -Force -EnvironmentUrl 'https://mes.example.com/' -Token $token -CliPath $fake.Path -WarningVariable warnings -WarningAction SilentlyContinue
        @(Get-Content -LiteralPath $fake.ArgvFile) | Should -Contain '--overwrite'
        @($warnings | Where-Object { "$_" -like '-Force is deprecated*-Overwrite*' }).Count | Should -Be 1
        $null = Save-MesClickHouseBackup -Guid '00000000-0000-4000-8000-000000000001' -Path $out -Force -EnvironmentUrl 'https://mes.example.com/' -Token $token -CliPath $fake.Path -WarningVariable warnings -WarningAction SilentlyContinue
        @(Get-Content -LiteralPath $fake.ArgvFile) | Should -Contain '--overwrite'
        @($warnings | Where-Object { "$_" -like '-Force is deprecated*' }).Count | Should -Be 1
        $null = Save-MesClickHouseBackup -Guid '00000000-0000-4000-8000-000000000001' -Path $out -Overwrite -EnvironmentUrl 'https://mes.example.com/' -Token $token -CliPath $fake.Path -WarningVariable warnings -WarningAction SilentlyContinue
        @(Get-Content -LiteralPath $fake.ArgvFile) | Should -Contain '--overwrite'
        $warnings.Count | Should -Be 0
    }

    It 'Copy-...ToInstaller: system-specific by default, -GenericNames, and -SystemSpecific / -Force still work' {
        $fake = New-FakeCli -Folder $out -EventLine @()
        $package = Join-Path -Path $out -ChildPath 'MESCDM.zip'
        Set-Content -LiteralPath $package -Value 'x'
        $null = Copy-MesClickHouseBackupToInstaller -Path $package -Destination $out -System 'MES' -Version '11.3.0' -CliPath $fake.Path -Confirm:$false
        $argv = @(Get-Content -LiteralPath $fake.ArgvFile)
        $argv | Should -Not -Contain '--generic-names'
        $argv | Should -Not -Contain '--overwrite'
        $null = Copy-MesClickHouseBackupToInstaller -Path $package -Destination $out -System 'MES' -Version '11.3.0' -GenericNames -Overwrite -CliPath $fake.Path -Confirm:$false
        $argv = @(Get-Content -LiteralPath $fake.ArgvFile)
        $argv | Should -Contain '--generic-names'
        $argv | Should -Contain '--overwrite'
        $null = Copy-MesClickHouseBackupToInstaller -Path $package -Destination $out -System 'MES' -Version '11.3.0' -SystemSpecific -Force -CliPath $fake.Path -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue
        $argv = @(Get-Content -LiteralPath $fake.ArgvFile)
        $argv | Should -Not -Contain '--generic-names'
        $argv | Should -Contain '--overwrite'
        $argv | Should -Not -Contain '--force'
        @($warnings | Where-Object { "$_" -like '-SystemSpecific is deprecated*' }).Count | Should -Be 1
        @($warnings | Where-Object { "$_" -like '-Force is deprecated*' }).Count | Should -Be 1
    }

    It 'Restore -TimeoutSeconds is -Timeout in seconds' {
        $fake = New-FakeCli -Folder $out -EventLine @()
        $package = Join-Path -Path $out -ChildPath 'MESCDM.zip'
        Set-Content -LiteralPath $package -Value 'x'
        $null = Restore-MesClickHouseDatabase -Path $package -ClickHouseUrl 'http://127.0.0.1:8123' -ServerBackupPath $out -TimeoutSeconds 90 -CliPath $fake.Path -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction SilentlyContinue
        $argv = @(Get-Content -LiteralPath $fake.ArgvFile)
        $argv[$argv.IndexOf('--timeout') + 1] | Should -Be '90000ms'
        @($warnings | Where-Object { "$_" -like '-TimeoutSeconds is deprecated*-Timeout*' }).Count | Should -Be 1
        $null = Test-MesClickHouseRestore -Path $package -ClickHouseUrl 'http://127.0.0.1:8123' -ServerBackupPath $out -Timeout (New-TimeSpan -Seconds 90) -CliPath $fake.Path -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction SilentlyContinue
        $argv = @(Get-Content -LiteralPath $fake.ArgvFile)
        $argv[$argv.IndexOf('--timeout') + 1] | Should -Be '90000ms'
        $warnings.Count | Should -Be 0
    }
}
