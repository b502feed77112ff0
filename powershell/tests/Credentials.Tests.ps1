#Requires -Version 7.0
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Credential handling: secrets reach the CLI only through the child's environment, never its
# arguments, never a stream, an error or an output object; an explicit credential wins over the
# session's variables, and the session's environment is never changed.

BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'MesBackupTestHelpers.psm1') -Force -Global
    Import-Module -Name (Join-Path -Path (Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'MesBackup') -ChildPath 'MesBackup.psd1') -Force -Global
    $cli = Find-TestBinary -Name 'mesbackup' -EnvironmentVariable 'MESBACKUP_CLI'
    $mock = Start-MockMes -MockPath (Find-TestBinary -Name 'mock-mes' -EnvironmentVariable 'MOCK_MES')
    $savedEnvironment = @{}
    foreach ($name in @('MES_URL', 'MES_TOKEN', 'MES_USER', 'MES_PAT')) {
        $savedEnvironment[$name] = [System.Environment]::GetEnvironmentVariable($name)
        [System.Environment]::SetEnvironmentVariable($name, $null)
    }
    $isUnix = [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Unix
    $startedEvent = '{"event":"started","database":"MESCDM","guid":"00000000-0000-4000-8000-000000000001","at_ms":1700000000000}'
    $summaryEvent = '{"event":"summary","ok":true,"exit_code":0,"results":[{"database":"MESCDM","guid":"00000000-0000-4000-8000-000000000001","outcome":"started"}],"backup_window":null}'
}

AfterAll {
    if ($mock) {
        Stop-MockMes -Mock $mock
    }
    foreach ($name in $savedEnvironment.Keys) {
        [System.Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name])
    }
}

BeforeEach {
    $out = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('mesbackup-ps-' + [guid]::NewGuid())
    $null = New-Item -ItemType Directory -Path $out
    Set-MockScenario -BaseUrl $mock.BaseUrl -Server ([pscustomobject]@{ pending_polls = 1 })
    foreach ($name in @('MES_URL', 'MES_TOKEN', 'MES_USER', 'MES_PAT')) {
        [System.Environment]::SetEnvironmentVariable($name, $null)
    }
}

AfterEach {
    Remove-Item -LiteralPath $out -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'what the CLI process receives' -Skip:(-not $isUnix) {
    It '-Token: MES_TOKEN and MES_URL in the environment, nothing secret in the arguments' {
        $fake = New-FakeCli -Folder $out -EventLine @($startedEvent, $summaryEvent)
        $secret = 'tok-' + [guid]::NewGuid()
        $null = Start-MesClickHouseBackup -Database 'MESCDM' -EnvironmentUrl 'https://mes.example.com/' -Token (ConvertTo-SecureString -String $secret -AsPlainText -Force) -CliPath $fake.Path
        $argv = Get-Content -LiteralPath $fake.ArgvFile
        $environment = Get-Content -LiteralPath $fake.EnvFile
        ($argv -join ' ') | Should -Not -BeLike "*$secret*"
        ($argv -join ' ') | Should -Not -BeLike '*mes.example.com*'
        $argv | Should -Be @('start', '--json', '--', 'MESCDM')
        $environment | Should -Contain "MES_TOKEN=$secret"
        $environment | Should -Contain 'MES_URL=https://mes.example.com/'
    }

    It '-Credential: MES_USER and MES_PAT, and an inherited MES_TOKEN is removed' {
        $env:MES_TOKEN = 'session-token-should-not-be-used'
        $fake = New-FakeCli -Folder $out -EventLine @($startedEvent, $summaryEvent)
        $credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList @('svc-backup', (ConvertTo-SecureString -String 'pat-12345' -AsPlainText -Force))
        $null = Start-MesClickHouseBackup -Database 'MESCDM' -EnvironmentUrl 'https://mes.example.com/' -Credential $credential -CliPath $fake.Path
        $environment = Get-Content -LiteralPath $fake.EnvFile
        $environment | Should -Contain 'MES_USER=svc-backup'
        $environment | Should -Contain 'MES_PAT=pat-12345'
        @($environment | Where-Object { $_ -like 'MES_TOKEN=*' }).Count | Should -Be 0
        (Get-Content -LiteralPath $fake.ArgvFile) -join ' ' | Should -Not -BeLike '*pat-12345*'
        $env:MES_TOKEN | Should -Be 'session-token-should-not-be-used'
    }

    It '-Token removes an inherited MES_USER and MES_PAT' {
        $env:MES_USER = 'someone'
        $env:MES_PAT = 'session-pat'
        $fake = New-FakeCli -Folder $out -EventLine @($startedEvent, $summaryEvent)
        $null = Start-MesClickHouseBackup -Database 'MESCDM' -EnvironmentUrl 'https://mes.example.com/' -Token (ConvertTo-SecureString -String 'tok-abcdef' -AsPlainText -Force) -CliPath $fake.Path
        $environment = Get-Content -LiteralPath $fake.EnvFile
        @($environment | Where-Object { $_ -like 'MES_USER=*' -or $_ -like 'MES_PAT=*' }).Count | Should -Be 0
        $env:MES_USER | Should -Be 'someone'
    }

    It 'without -Token or -Credential the session variables are inherited' {
        $env:MES_URL = 'https://from-env.example.com/'
        $env:MES_TOKEN = 'inherited-token'
        $fake = New-FakeCli -Folder $out -EventLine @($startedEvent, $summaryEvent)
        $null = Start-MesClickHouseBackup -Database 'MESCDM' -CliPath $fake.Path
        $environment = Get-Content -LiteralPath $fake.EnvFile
        $environment | Should -Contain 'MES_TOKEN=inherited-token'
        $environment | Should -Contain 'MES_URL=https://from-env.example.com/'
    }

    It 'commands that talk to no MES get no credentials' {
        $env:MES_TOKEN = 'inherited-token'
        $fake = New-FakeCli -Folder $out -EventLine @('{"event":"names","system":"MES","version":"11.3.0","packages":[]}')
        $null = Get-MesClickHouseBackupName -System 'MES' -Version '11.3.0' -CliPath $fake.Path
        @(Get-Content -LiteralPath $fake.EnvFile | Where-Object { $_ -like 'MES_TOKEN=*' }).Count | Should -Be 0
    }

    It 'a secret echoed by the CLI is redacted before it reaches any stream' {
        $line = '{"event":"warning","guid":null,"message":"server said tok-leaky-0001"}'
        $fake = New-FakeCli -Folder $out -EventLine @($line, $summaryEvent)
        $all = Start-MesClickHouseBackup -Database 'MESCDM' -EnvironmentUrl 'https://mes.example.com/' -Token (ConvertTo-SecureString -String 'tok-leaky-0001' -AsPlainText -Force) -CliPath $fake.Path -Verbose *>&1 | Out-String
        $all | Should -Not -BeLike '*tok-leaky-0001*'
        $all | Should -BeLike '*server said `*`*`**'
    }
}

Describe 'secrets never appear in output, streams or errors' {
    BeforeAll {
        $PSDefaultParameterValues['*-MesClickHouse*:CliPath'] = $cli
    }

    AfterAll {
        $PSDefaultParameterValues.Remove('*-MesClickHouse*:CliPath')
    }

    It 'with a valid token, in every stream and in the objects' {
        $token = ConvertTo-SecureString -String 'admin-token' -AsPlainText -Force
        $everything = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out -EnvironmentUrl $mock.BaseUrl -Token $token -Verbose -Debug *>&1
        ($everything | Out-String) | Should -Not -BeLike '*admin-token*'
        ($everything | ConvertTo-Json -Depth 5) | Should -Not -BeLike '*admin-token*'
        $log = Get-MockLog -BaseUrl $mock.BaseUrl
        $log[0].auth | Should -Be 'bearer'
        $log[0].user | Should -Be 'admin'
    }

    It 'with a wrong personal access token, in the error record' {
        $credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList @('admin', (ConvertTo-SecureString -String 'wrong-pat-secret-42' -AsPlainText -Force))
        $caught = $null
        try {
            $null = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out -EnvironmentUrl $mock.BaseUrl -Credential $credential -Verbose 4>$null
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        ($caught | Format-List -Property * -Force | Out-String) | Should -Not -BeLike '*wrong-pat-secret-42*'
        ($caught.Exception | Format-List -Property * -Force | Out-String) | Should -Not -BeLike '*wrong-pat-secret-42*'
        (Get-MockLog -BaseUrl $mock.BaseUrl)[0].auth | Should -Be 'basic'
    }

    It 'a non-ASCII user and PAT work through -Credential' {
        $credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList @('jörg', (ConvertTo-SecureString -String 'pässwörd-✓-ü' -AsPlainText -Force))
        $package = Backup-MesClickHouseDatabase -Database 'MESCDM' -Path $out -EnvironmentUrl $mock.BaseUrl -Credential $credential
        $package.Database | Should -Be 'MESCDM'
        (Get-MockLog -BaseUrl $mock.BaseUrl)[0].user | Should -Be 'jörg'
    }

    It '-Credential and -Token together are refused before anything runs' {
        $credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList @('admin', (ConvertTo-SecureString -String 'admin-pat' -AsPlainText -Force))
        $token = ConvertTo-SecureString -String 'admin-token' -AsPlainText -Force
        { Start-MesClickHouseBackup -Database 'MESCDM' -EnvironmentUrl $mock.BaseUrl -Credential $credential -Token $token } |
            Should -Throw -ErrorId 'invalid_argument,Start-MesClickHouseBackup'
        @(Get-MockLog -BaseUrl $mock.BaseUrl).Count | Should -Be 0
    }

    It 'no credential at all is refused before anything runs' {
        { Start-MesClickHouseBackup -Database 'MESCDM' -EnvironmentUrl $mock.BaseUrl } |
            Should -Throw -ErrorId 'invalid_argument,Start-MesClickHouseBackup'
        @(Get-MockLog -BaseUrl $mock.BaseUrl).Count | Should -Be 0
    }

    It 'the session environment is unchanged after a run' {
        $before = @(Get-ChildItem -Path Env: | Where-Object { $_.Name -like 'MES_*' } | ForEach-Object { '{0}={1}' -f $_.Name, $_.Value })
        $token = ConvertTo-SecureString -String 'admin-token' -AsPlainText -Force
        $null = Start-MesClickHouseBackup -Database 'MESCDM' -EnvironmentUrl $mock.BaseUrl -Token $token
        $after = @(Get-ChildItem -Path Env: | Where-Object { $_.Name -like 'MES_*' } | ForEach-Object { '{0}={1}' -f $_.Name, $_.Value })
        ($after -join ';') | Should -Be ($before -join ';')
    }
}
