function Set-MesBackupCredential {
    <#
    .SYNOPSIS
    Stores the MES token or personal access token that a mesbackup.toml names with
    keyring = "service/entry", in the OS credential store (Windows Credential Manager).

    .DESCRIPTION
    Runs `mesbackup credential set --service <Service> --entry <Entry>` and writes the secret to its
    standard input: the secret never appears in a command line, a file or a stream. With -Token the
    stored secret is the bearer token; with -Credential it is "<user>:<personal access token>",
    which mesbackup sends as HTTP Basic.

    The Windows Credential Manager is per user: a nightly task reads only what was stored for the
    account it runs as. Store it for that account with -RunAs (the CLI is started as that account,
    with its profile loaded; the account needs the right to log on locally for this), or run this
    command in a PowerShell session of that account (runas /user:CORP\svc-mesbackup pwsh).
    Register-MesBackupSchedule -MesCredential / -MesToken does this for the task's account.

    The entry appears in Credential Manager as the generic credential <Entry>.<Service>.

    .PARAMETER Entry
    The entry within the service: the part after the / in keyring = "mesbackup/prod".

    .PARAMETER Service
    The keyring service: the part before the /. Default: mesbackup.

    .PARAMETER Token
    A bearer token (a session token copied from the MES GUI).

    .PARAMETER Credential
    The MES user name and personal access token (as the password).

    .PARAMETER RunAs
    Windows: store the secret for this account (the scheduled task's service account) instead of
    the current user.

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Set-MesBackupCredential -Entry prod -Credential (Get-Credential svc-backup)

    Stores svc-backup's personal access token for keyring = "mesbackup/prod", for the current user.

    .EXAMPLE
    PS> Set-MesBackupCredential -Entry prod -Token (Read-Host -AsSecureString 'MES token') -RunAs (Get-Credential CORP\svc-mesbackup)

    Stores a bearer token in the Credential Manager of CORP\svc-mesbackup, the account of the nightly task.

    .EXAMPLE
    PS> Set-MesBackupCredential -Entry qa -Credential $cred -WhatIf

    Shows what it would store where; stores nothing.

    .INPUTS
    None

    .OUTPUTS
    MesBackup.Credential

    .LINK
    Remove-MesBackupCredential

    .LINK
    Register-MesBackupSchedule

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', DefaultParameterSetName = 'Token')]
    [OutputType('MesBackup.Credential')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string]$Entry,

        [ValidateNotNullOrEmpty()]
        [string]$Service = 'mesbackup',

        [Parameter(Mandatory, ParameterSetName = 'Token')]
        [System.Security.SecureString]$Token,

        [Parameter(Mandatory, ParameterSetName = 'Credential')]
        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $Credential,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $RunAs = [System.Management.Automation.PSCredential]::Empty,

        [string]$CliPath
    )
    $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
    $account = Get-MesCredentialAccount -RunAs $RunAs -Cmdlet $PSCmdlet
    if ($PSCmdlet.ParameterSetName -eq 'Credential') {
        if ($Credential.UserName.Contains(':')) {
            $record = New-MesErrorRecord -Kind 'invalid_argument' -Message ('The MES user name {0} contains '':'', which HTTP Basic uses as separator: use the MES user name itself.' -f $Credential.UserName) -TargetObject $Entry
            $PSCmdlet.ThrowTerminatingError($record)
        }
        $secure = $Credential.Password.Copy()
        $prefix = '{0}:' -f $Credential.UserName
        $what = 'the personal access token of {0}' -f $Credential.UserName
    }
    else {
        $secure = $Token.Copy()
        $prefix = ''
        $what = 'a bearer token'
    }
    $secure.MakeReadOnly()
    $target = 'service {0}, entry {1} (Credential Manager of {2})' -f $Service, $Entry, $account
    if (-not $PSCmdlet.ShouldProcess($target, ('Store {0}' -f $what))) {
        $secure.Dispose()
        return
    }
    $argumentList = Get-MesCliArgumentList -Command 'credential-set' -KeyringService $Service -KeyringEntry $Entry
    $runAsAccount = $null
    if ($RunAs -ne [System.Management.Automation.PSCredential]::Empty) {
        $runAsAccount = $RunAs
    }
    try {
        $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -Terminating -Activity 'MES credential' -TargetObject $target -StandardInput $secure -StandardInputPrefix $prefix -RunAs $runAsAccount
    }
    finally {
        $secure.Dispose()
    }
    foreach ($ev in $events) {
        if ((Get-MesEventValue $ev 'event') -eq 'credential') {
            ConvertTo-MesCredentialResult -CliEvent $ev -Account $account
        }
    }
}
