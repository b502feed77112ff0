function Get-MesBackupCliPlatform {
    <#
    .SYNOPSIS
    The platform folder of the bundled CLI for this machine (bin/<os>-<arch>/, e.g. win-x64,
    linux-x64) and the binary's file name there.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param()
    # $IsWindows exists from PowerShell 6; Windows PowerShell 5.1 only runs on Windows.
    $onWindows = [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT
    $os = 'linux'
    if ($onWindows) {
        $os = 'win'
    }
    elseif ((Get-Variable -Name IsMacOS -ValueOnly -ErrorAction SilentlyContinue) -eq $true) {
        $os = 'osx'
    }
    $arch = $null
    try {
        $arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString()
    }
    catch {
        # .NET Framework before 4.7.1 has no RuntimeInformation: Windows says it in the environment.
        $arch = $env:PROCESSOR_ARCHITECTURE
    }
    $archName = switch -Regex ($arch) {
        '^(X64|AMD64)$' {
            'x64'
        }
        '^(Arm64|ARM64)$' {
            'arm64'
        }
        '^(X86)$' {
            'x86'
        }
        default {
            "$arch".ToLowerInvariant()
        }
    }
    $exeName = 'mesbackup'
    if ($onWindows) {
        $exeName = 'mesbackup.exe'
    }
    [pscustomobject]@{
        Folder  = '{0}-{1}' -f $os, $archName
        ExeName = $exeName
    }
}

function Get-MesBackupCliCandidate {
    <#
    .SYNOPSIS
    Where the module looks for the CLI when -CliPath is not given, in order: the release bundle's
    bin/<os>-<arch>/, then the module folder and its bin/ (a development layout).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param()
    $platform = Get-MesBackupCliPlatform
    $bin = Join-Path -Path $script:ModuleRoot -ChildPath 'bin'
    @(
        (Join-Path -Path (Join-Path -Path $bin -ChildPath $platform.Folder) -ChildPath $platform.ExeName),
        (Join-Path -Path $script:ModuleRoot -ChildPath $platform.ExeName),
        (Join-Path -Path $bin -ChildPath $platform.ExeName)
    )
}

function Resolve-MesBackupCliPath {
    <#
    .SYNOPSIS
    Finds the mesbackup binary: -CliPath (a file or a folder holding it), then the module's
    bin/<os>-<arch>/ (e.g. bin/win-x64/mesbackup.exe), the module folder and its bin/, then PATH.
    Returns the full path or $null.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowNull()]
        [AllowEmptyString()]
        [string]$CliPath
    )
    $exeName = (Get-MesBackupCliPlatform).ExeName

    if ($CliPath) {
        $candidate = $CliPath
        if (Test-Path -LiteralPath $candidate -PathType Container) {
            $candidate = Join-Path -Path $candidate -ChildPath $exeName
        }
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            return (Resolve-Path -LiteralPath $candidate).ProviderPath
        }
        return $null
    }

    foreach ($candidate in (Get-MesBackupCliCandidate)) {
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            return (Resolve-Path -LiteralPath $candidate).ProviderPath
        }
    }

    $onPath = Get-Command -Name $exeName -CommandType Application -ErrorAction SilentlyContinue |
        Select-Object -First 1
    if ($onPath) {
        return $onPath.Path
    }
    return $null
}

function Resolve-MesCli {
    <#
    .SYNOPSIS
    Resolve-MesBackupCliPath, or a terminating cli_not_found error for the calling command.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet]$Cmdlet,

        [AllowNull()]
        [AllowEmptyString()]
        [string]$CliPath
    )
    $resolved = Resolve-MesBackupCliPath -CliPath $CliPath
    if (-not $resolved) {
        $platform = Get-MesBackupCliPlatform
        $where = 'for this platform ({0}): looked for {1}, then {2} on PATH' -f $platform.Folder, ((Get-MesBackupCliCandidate) -join ', '), $platform.ExeName
        if ($CliPath) {
            $where = 'at -CliPath {0}' -f $CliPath
        }
        $record = New-MesErrorRecord -Kind 'cli_not_found' -Message ('The mesbackup binary was not found {0}.' -f $where) -TargetObject $CliPath -RecommendedAction (Get-MesRecommendedAction -Kind 'cli_not_found')
        $Cmdlet.ThrowTerminatingError($record)
    }
    return $resolved
}
