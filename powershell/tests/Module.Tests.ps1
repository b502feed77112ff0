#Requires -Version 7.0
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The module itself: manifest, exports, help, verbs, formats, the error-kind table and the argument
# builder. Needs no binaries.

BeforeDiscovery {
    $manifestPath = Join-Path -Path (Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'MesBackup') -ChildPath 'MesBackup.psd1'
    $exported = @((Import-PowerShellDataFile -Path $manifestPath).FunctionsToExport | ForEach-Object -Process { @{ Name = $_ } })
}

BeforeAll {
    $moduleFolder = Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'MesBackup'
    $manifestPath = Join-Path -Path $moduleFolder -ChildPath 'MesBackup.psd1'
    Import-Module -Name $manifestPath -Force
    $approved = @(Get-Content -LiteralPath (Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'approved-verbs.txt') | Where-Object -FilterScript { $_ -and -not $_.StartsWith('#') })
}

Describe 'manifest' {
    It 'is a valid module manifest for PowerShell 5.1 and 7' {
        $manifest = Test-ModuleManifest -Path $manifestPath
        $manifest.Name | Should -Be 'MesBackup'
        $manifest.PowerShellVersion | Should -Be ([version]'5.1')
    }

    It 'exports exactly the public functions' {
        $public = @(Get-ChildItem -Path (Join-Path -Path $moduleFolder -ChildPath 'Public') -Filter '*.ps1' | ForEach-Object -Process { $_.BaseName } | Sort-Object)
        $commands = @(Get-Command -Module MesBackup | ForEach-Object -Process { $_.Name } | Sort-Object)
        $commands | Should -Be $public
    }

    It 'exports the package commands that wrap verify, inspect and window' {
        foreach ($name in @('Test-MesClickHouseBackup', 'Get-MesClickHouseBackupInfo', 'Get-MesClickHouseBackupWindow')) {
            Get-Command -Name $name -Module MesBackup | Should -Not -BeNullOrEmpty
        }
    }

    It 'ships the approved verb list of Get-Verb' {
        $live = @(Get-Verb | ForEach-Object -Process { $_.Verb })
        foreach ($verb in $approved) {
            $live | Should -Contain $verb
        }
    }

    It 'loads the format views' {
        foreach ($type in @('MesBackup.Package', 'MesBackup.Job', 'MesBackup.PackageName', 'MesBackup.FolderReport', 'MesBackup.StagedPackage', 'MesBackup.VerifyResult', 'MesBackup.VerifyProblem', 'MesBackup.PackageInfo', 'MesBackup.TableInfo', 'MesBackup.BackupWindow', 'MesBackup.RestoreResult', 'MesBackup.RestorePlan', 'MesBackup.TestRestoreResult')) {
            Get-FormatData -TypeName $type | Should -Not -BeNullOrEmpty
        }
    }

    It 'has an about_MesBackup topic' {
        Test-Path -LiteralPath (Join-Path -Path $moduleFolder -ChildPath 'en-US/about_MesBackup.help.txt') | Should -BeTrue
    }
}

Describe 'command <Name>' -ForEach $exported {
    BeforeAll {
        $command = Get-Command -Name $Name -Module MesBackup
        $help = Get-Help -Name $Name -Full
    }

    It 'uses an approved verb' {
        $approved | Should -Contain $command.Verb
        (Get-Verb -Verb $command.Verb) | Should -Not -BeNullOrEmpty
    }

    It 'has a synopsis, a description and examples' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike ('*{0}*[<CommonParameters>]*' -f $Name)
        ($help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
    }

    It 'documents every parameter' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($parameter in $command.Parameters.Keys) {
            if ($common -contains $parameter) {
                continue
            }
            $entry = $help.Parameters.Parameter | Where-Object -FilterScript { $_.Name -eq $parameter }
            ($entry.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter needs help"
        }
    }

    It 'supports -WhatIf when it starts backups or writes files' {
        if ($command.Verb -in @('Start', 'Save', 'Backup', 'Copy')) {
            $command.Parameters.Keys | Should -Contain 'WhatIf'
            $command.Parameters.Keys | Should -Contain 'Confirm'
        }
    }

    It 'takes credentials only as PSCredential or SecureString' {
        if ($command.Parameters.ContainsKey('Credential')) {
            $command.Parameters['Credential'].ParameterType | Should -Be ([System.Management.Automation.PSCredential])
        }
        if ($command.Parameters.ContainsKey('Token')) {
            $command.Parameters['Token'].ParameterType | Should -Be ([System.Security.SecureString])
        }
        foreach ($parameter in $command.Parameters.Values) {
            if ($parameter.Name -match '^Pat$|Password|Secret') {
                throw ('-{0} looks like a plain-text secret parameter' -f $parameter.Name)
            }
        }
    }
}

Describe 'error kinds' {
    It 'maps every canonical kind of core/src/error.rs to a specific ErrorCategory' {
        $errorRs = Get-Content -LiteralPath (Join-Path -Path (Split-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -Parent) -ChildPath 'core/src/error.rs') -Raw
        $kinds = [regex]::Matches($errorRs, 'ErrorKind::\w+ => "(\w+)"') | ForEach-Object -Process { $_.Groups[1].Value } | Sort-Object -Unique
        $kinds.Count | Should -Be 14
        InModuleScope MesBackup -Parameters @{ Kinds = $kinds } {
            param($Kinds)
            foreach ($kind in $Kinds) {
                $record = New-MesErrorRecord -Kind $kind -Message 'm' -Guid '00000000-0000-4000-8000-000000000001'
                $record.CategoryInfo.Category | Should -Not -Be 'NotSpecified' -Because $kind
                $record.FullyQualifiedErrorId | Should -Be $kind
                $record.TargetObject | Should -Be '00000000-0000-4000-8000-000000000001'
                $record.Exception.Data['Kind'] | Should -Be $kind
            }
        }
    }

    It 'maps exit codes back to kinds' {
        InModuleScope MesBackup {
            Get-MesErrorKindFromExitCode -ExitCode 9 | Should -Be 'timeout'
            Get-MesErrorKindFromExitCode -ExitCode 130 | Should -Be 'cancelled'
            Get-MesErrorKindFromExitCode -ExitCode 1 | Should -Be 'internal'
        }
    }
}

Describe 'argument builder' {
    It 'puts operands after -- and uses the CLI duration syntax' {
        InModuleScope MesBackup {
            $list = Get-MesCliArgumentList -Command 'backup' -Operand @('-MESCDM') -OutDirectory '/tmp/x' -Timeout ([TimeSpan]::FromHours(4)) -RestartBudget 1
            $list[0] | Should -Be 'backup'
            $list | Should -Contain '--json'
            $list[$list.IndexOf('--timeout') + 1] | Should -Be '14400000ms'
            $list[$list.IndexOf('--restart-budget') + 1] | Should -Be '1'
            $list.IndexOf('--') | Should -BeLessThan $list.IndexOf('-MESCDM')
        }
    }

    It 'has no parameter that could carry a secret' {
        InModuleScope MesBackup {
            $parameters = (Get-Command -Name Get-MesCliArgumentList).Parameters.Values
            foreach ($parameter in $parameters) {
                $parameter.ParameterType | Should -Not -Be ([System.Security.SecureString])
                $parameter.ParameterType | Should -Not -Be ([System.Management.Automation.PSCredential])
                $parameter.Name | Should -Not -Match 'Token|Credential|Pat$|Password|User'
            }
        }
    }

    It 'quotes arguments for Windows PowerShell 5.1 like CommandLineToArgvW' {
        InModuleScope MesBackup {
            ConvertTo-MesWindowsCommandLine -ArgumentList @('a b', 'c"d', 'e\', '') | Should -Be '"a b" "c\"d" e\ ""'
        }
    }
}

Describe 'the CLI a release bundle ships' {
    It 'is taken from bin/<os>-<arch>/ for this platform before any other place' {
        $module = Get-Module -Name MesBackup
        $platform = & $module { Get-MesBackupCliPlatform }
        $platform.Folder | Should -Match '^(win|linux|osx)-(x64|arm64|x86)$'
        $bundle = Join-Path -Path $TestDrive -ChildPath 'MesBackup'
        $binFolder = Join-Path -Path (Join-Path -Path $bundle -ChildPath 'bin') -ChildPath $platform.Folder
        New-Item -ItemType Directory -Path $binFolder -Force | Out-Null
        $bundled = Join-Path -Path $binFolder -ChildPath $platform.ExeName
        Set-Content -LiteralPath $bundled -Value 'stand-in'
        Set-Content -LiteralPath (Join-Path -Path $bundle -ChildPath $platform.ExeName) -Value 'development copy'
        $found = & $module {
            param($root)
            $saved = $script:ModuleRoot
            $script:ModuleRoot = $root
            try {
                Resolve-MesBackupCliPath -CliPath ''
            }
            finally {
                $script:ModuleRoot = $saved
            }
        } $bundle
        $found | Should -Be (Resolve-Path -LiteralPath $bundled).ProviderPath
    }

    It 'names the platform folder it looked in when nothing is found' {
        $empty = Join-Path -Path $TestDrive -ChildPath 'empty'
        New-Item -ItemType Directory -Path $empty -Force | Out-Null
        $module = Get-Module -Name MesBackup
        $folder = (& $module { Get-MesBackupCliPlatform }).Folder
        $saved = $env:PATH
        try {
            $env:PATH = $empty
            { & $module {
                    param($root)
                    $script:ModuleRoot = $root
                    function Invoke-Probe {
                        [CmdletBinding()]
                        param()
                        Resolve-MesCli -Cmdlet $PSCmdlet -CliPath ''
                    }
                    Invoke-Probe
                } $empty } | Should -Throw -ExpectedMessage "*($folder)*bin*$folder*"
        }
        finally {
            $env:PATH = $saved
            & $module { $script:ModuleRoot = (Split-Path -Path (Get-Module -Name MesBackup).Path -Parent) }
        }
    }
}
