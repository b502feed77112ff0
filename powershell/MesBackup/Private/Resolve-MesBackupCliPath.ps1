function Resolve-MesBackupCliPath {
    <#
    .SYNOPSIS
    Finds the mesbackup binary: -CliPath (a file or a folder holding it), then next to the module
    (its folder or its bin subfolder), then PATH. Returns the full path or $null.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowNull()]
        [AllowEmptyString()]
        [string]$CliPath
    )
    $exeName = 'mesbackup'
    if ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT) {
        $exeName = 'mesbackup.exe'
    }

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

    $nextToModule = @(
        (Join-Path -Path $script:ModuleRoot -ChildPath $exeName),
        (Join-Path -Path (Join-Path -Path $script:ModuleRoot -ChildPath 'bin') -ChildPath $exeName)
    )
    foreach ($candidate in $nextToModule) {
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
        $where = 'next to the module ({0}) or on PATH' -f $script:ModuleRoot
        if ($CliPath) {
            $where = 'at -CliPath {0}' -f $CliPath
        }
        $record = New-MesErrorRecord -Kind 'cli_not_found' -Message ('The mesbackup binary was not found {0}.' -f $where) -TargetObject $CliPath -RecommendedAction (Get-MesRecommendedAction -Kind 'cli_not_found')
        $Cmdlet.ThrowTerminatingError($record)
    }
    return $resolved
}
