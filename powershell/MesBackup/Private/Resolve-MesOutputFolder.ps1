function Resolve-MesOutputFolder {
    <#
    .SYNOPSIS
    The full file-system path of a folder (default: the current location). PowerShell paths (relative,
    ~, PSDrives) are resolved here because the CLI does not know them. With -MustExist a missing folder
    is a terminating invalid_argument error; otherwise the CLI creates it (as `mesbackup --out` does).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet]$Cmdlet,

        [AllowNull()]
        [AllowEmptyString()]
        [string]$Path,

        [switch]$MustExist
    )
    if (-not $Path) {
        return (Get-Location -PSProvider FileSystem).ProviderPath
    }
    $full = $Cmdlet.GetUnresolvedProviderPathFromPSPath($Path)
    if ($MustExist -and -not (Test-Path -LiteralPath $full -PathType Container)) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message ('The folder {0} does not exist. Create it first (New-Item -ItemType Directory).' -f $full) -TargetObject $Path
        $Cmdlet.ThrowTerminatingError($record)
    }
    return $full
}
