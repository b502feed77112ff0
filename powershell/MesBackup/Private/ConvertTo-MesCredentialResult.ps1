function ConvertTo-MesCredentialResult {
    <#
    .SYNOPSIS
    A MesBackup.Credential from the CLI's `credential` event (never the secret: the event has none).
    #>
    [CmdletBinding()]
    [OutputType('MesBackup.Credential')]
    param(
        [Parameter(Mandatory)]
        [object]$CliEvent,

        [string]$Account
    )
    [pscustomobject]@{
        PSTypeName = 'MesBackup.Credential'
        Action     = [string](Get-MesEventValue $CliEvent 'action')
        Service    = [string](Get-MesEventValue $CliEvent 'service')
        Entry      = [string](Get-MesEventValue $CliEvent 'entry')
        Present    = [bool](Get-MesEventValue $CliEvent 'present')
        Store      = [string](Get-MesEventValue $CliEvent 'store')
        Location   = [string](Get-MesEventValue $CliEvent 'location')
        Account    = $Account
    }
}

function Get-MesCredentialAccount {
    <#
    .SYNOPSIS
    The account whose credential store a command uses: -RunAs's user, else the current user. -RunAs
    is refused off Windows (a process cannot be started as another user there without sudo).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowNull()]
        [System.Management.Automation.PSCredential]$RunAs,

        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet]$Cmdlet
    )
    if ($null -eq $RunAs -or $RunAs -eq [System.Management.Automation.PSCredential]::Empty) {
        return [System.Environment]::UserName
    }
    if ([System.Environment]::OSVersion.Platform -ne [System.PlatformID]::Win32NT) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message '-RunAs works on Windows only: on Linux and macOS run the command as that user (sudo -u USER mesbackup credential set ...).' -TargetObject $RunAs.UserName
        $Cmdlet.ThrowTerminatingError($record)
    }
    return $RunAs.UserName
}
