function Remove-MesBackupCredential {
    <#
    .SYNOPSIS
    Removes the secret that a mesbackup.toml names with keyring = "service/entry" from the OS
    credential store (Windows Credential Manager).

    .DESCRIPTION
    Runs `mesbackup credential delete --service <Service> --entry <Entry>`. Removing an entry that
    does not exist is not an error: the result's Present is then $false. The store is per user:
    -RunAs removes the entry of another account (the scheduled task's service account).

    .PARAMETER Entry
    The entry within the service: the part after the / in keyring = "mesbackup/prod".

    .PARAMETER Service
    The keyring service: the part before the /. Default: mesbackup.

    .PARAMETER RunAs
    Windows: remove the entry of this account instead of the current user's.

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it.

    .EXAMPLE
    PS> Remove-MesBackupCredential -Entry prod

    Removes keyring entry mesbackup/prod of the current user (asks for confirmation).

    .EXAMPLE
    PS> Remove-MesBackupCredential -Entry prod -RunAs (Get-Credential CORP\svc-mesbackup) -Confirm:$false

    Removes the entry of the nightly task's account without asking.

    .INPUTS
    None

    .OUTPUTS
    MesBackup.Credential

    .LINK
    Set-MesBackupCredential

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('MesBackup.Credential')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string]$Entry,

        [ValidateNotNullOrEmpty()]
        [string]$Service = 'mesbackup',

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $RunAs = [System.Management.Automation.PSCredential]::Empty,

        [string]$CliPath
    )
    $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
    $account = Get-MesCredentialAccount -RunAs $RunAs -Cmdlet $PSCmdlet
    $target = 'service {0}, entry {1} (Credential Manager of {2})' -f $Service, $Entry, $account
    if (-not $PSCmdlet.ShouldProcess($target, 'Remove the stored MES secret')) {
        return
    }
    $argumentList = Get-MesCliArgumentList -Command 'credential-delete' -KeyringService $Service -KeyringEntry $Entry
    $runAsAccount = $null
    if ($RunAs -ne [System.Management.Automation.PSCredential]::Empty) {
        $runAsAccount = $RunAs
    }
    $events = Invoke-MesCliCommand -Cmdlet $PSCmdlet -CliPath $cli -ArgumentList $argumentList -Terminating -Activity 'MES credential' -TargetObject $target -RunAs $runAsAccount
    foreach ($ev in $events) {
        if ((Get-MesEventValue $ev 'event') -eq 'credential') {
            ConvertTo-MesCredentialResult -CliEvent $ev -Account $account
        }
    }
}
