#Requires -Version 7.0
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Every scenario in tests/scenarios/ through the MesBackup module against mock-mes: the same outcome,
# GUID, files and requests as the Rust runner expects. Needs the mesbackup and mock-mes binaries
# (cargo build -p mesbackup-cli -p mock-mes, or $env:MESBACKUP_CLI and $env:MOCK_MES).

BeforeDiscovery {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'MesBackupTestHelpers.psm1') -Force
    $scenarios = @(Get-ScenarioFile)
}

BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'MesBackupTestHelpers.psm1') -Force -Global
    Import-Module -Name (Join-Path -Path (Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'MesBackup') -ChildPath 'MesBackup.psd1') -Force -Global
    $cli = Find-TestBinary -Name 'mesbackup' -EnvironmentVariable 'MESBACKUP_CLI'
    $mockPath = Find-TestBinary -Name 'mock-mes' -EnvironmentVariable 'MOCK_MES'
    $PSDefaultParameterValues['*-MesClickHouse*:CliPath'] = $cli
    $mock = Start-MockMes -MockPath $mockPath
    # Scenario credentials come from the steps; none may leak in from the session.
    $savedEnvironment = @{}
    foreach ($name in @('MES_URL', 'MES_TOKEN', 'MES_USER', 'MES_PAT')) {
        $savedEnvironment[$name] = [System.Environment]::GetEnvironmentVariable($name)
        [System.Environment]::SetEnvironmentVariable($name, $null)
    }
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

Describe 'scenario <Name>' -ForEach $scenarios {
    It '<Description>' -Tag $Tags {
        $server = $Scenario.server
        Set-MockScenario -BaseUrl $mock.BaseUrl -Server $server
        $prefix = ''
        if ($server -and $server.PSObject.Properties['path_prefix']) {
            $prefix = $server.path_prefix
        }
        $outDirectory = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('mesbackup-ps-' + [guid]::NewGuid())
        $null = New-Item -ItemType Directory -Path $outDirectory
        try {
            $previousGuid = $null
            $problems = @()
            $stepNumber = 0
            foreach ($step in $Scenario.steps) {
                $stepNumber = $stepNumber + 1
                $suffix = ''
                if ($step.PSObject.Properties['env_suffix']) {
                    $suffix = $step.env_suffix
                }
                $result = Invoke-ScenarioStep -Step $step -EnvironmentUrl ($mock.BaseUrl + $prefix + $suffix) -OutDirectory $outDirectory -PreviousGuid $previousGuid
                foreach ($problem in (Compare-ScenarioStep -Step $step -Result $result -OutDirectory $outDirectory)) {
                    $problems += ('step {0} ({1}): {2}' -f $stepNumber, $step.op, $problem)
                }
                # Every error is an ErrorRecord carrying its canonical kind in the exception's data too.
                foreach ($record in $result.Errors) {
                    $record.Exception.Data['Kind'] | Should -Be (ConvertTo-ErrorKind -ErrorRecord $record)
                    $record.CategoryInfo.Category | Should -Not -Be 'NotSpecified'
                }
                if ($result.Guid) {
                    $previousGuid = $result.Guid
                }
            }
            $expectRequests = $null
            if ($Scenario.PSObject.Properties['expect_requests']) {
                $expectRequests = $Scenario.expect_requests
            }
            $log = Get-MockLog -BaseUrl $mock.BaseUrl
            $problems += @(Compare-ScenarioRequest -Expect $expectRequests -Log $log)
            $problems | Should -BeNullOrEmpty
        }
        finally {
            Remove-Item -LiteralPath $outDirectory -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}
