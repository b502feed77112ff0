function Register-MesBackupSchedule {
    <#
    .SYNOPSIS
    Registers a Windows scheduled task that runs Invoke-MesBackupRun over a mesbackup.toml every
    day, as a service account.

    .DESCRIPTION
    Creates (or with -Force replaces) a scheduled task, by default \MesBackup\MesBackup nightly, with
    a daily trigger at -At (plus an optional random delay), whose action is

        pwsh.exe -NoProfile -NonInteractive -Command "Import-Module MesBackup; Invoke-MesBackupRun -Config '<file>' ..."

    The task's command ends with exit code 1 when any environment failed, so Task Scheduler's Last
    Run Result shows it; -MetricsFile writes Prometheus metrics for monitoring. A second start while a
    run is still going is not queued (MultipleInstances IgnoreNew), and mesbackup's own folder lock
    keeps two runs from interleaving in any case.

    The account: -Credential (a local or domain service account with "Log on as a batch job"; its
    password is handed to Task Scheduler, which stores it, and is never written anywhere else), or
    -GroupManagedServiceAccount (a gMSA such as CORP\svc-mesbackup$: no password at all).

    The MES token: the task itself gets no secret. The config names where the token is. Either
    keyring = "mesbackup/<entry>" in the config, with -MesToken or -MesCredential here: the token (or
    user:PAT) is stored in the Windows Credential Manager of the task's account, by running
    `mesbackup credential set` as that account (Set-MesBackupCredential -RunAs; the account needs the
    right to log on locally for that one start, and the Credential Manager is per user, which is why
    it must be that account's). A gMSA has no password to start a process with: use token_file, or
    store the secret from a session of the gMSA. Or token_file pointing to a file that only the
    service account (and administrators) can read, for example
        icacls C:\ProgramData\mesbackup\mes-token /inheritance:r /grant:r "CORP\svc-mesbackup:R" "Administrators:F"
    (on Windows mesbackup does not check the file's ACL itself, as it checks the mode on Unix).
    token_env / user_env + pat_env need the variables in the service account's own user
    environment (never machine-wide, where every user can read them).

    .PARAMETER Config
    The mesbackup.toml the task runs. Stored as a full path in the task.

    .PARAMETER At
    The time of day the task starts (the date part is ignored by a daily trigger).

    .PARAMETER TaskName
    The task's name. Default: MesBackup nightly.

    .PARAMETER TaskPath
    The Task Scheduler folder. Default: \MesBackup\.

    .PARAMETER Credential
    The service account the task runs as, with its password (Task Scheduler stores it).

    .PARAMETER GroupManagedServiceAccount
    A group managed service account (DOMAIN\name$) the task runs as, without a password.

    .PARAMETER MesToken
    A bearer token to store in the Credential Manager of the task's account (-Credential), for a
    config with keyring = "<KeyringService>/<KeyringEntry>".

    .PARAMETER MesCredential
    An MES user name and personal access token (as the password) to store there instead, as user:PAT.

    .PARAMETER KeyringEntry
    The keyring entry -MesToken or -MesCredential is stored under (the part after the / in the
    config's keyring). Default: MesBackup.

    .PARAMETER KeyringService
    The keyring service (the part before the /). Default: mesbackup.

    .PARAMETER RandomDelay
    A random delay added to -At each day, so that several hosts do not start at once.

    .PARAMETER ExecutionTimeLimit
    Task Scheduler stops the run after this long. Default: 23 hours.

    .PARAMETER MetricsFile
    Passed to Invoke-MesBackupRun -MetricsFile: Prometheus metrics written after each run.

    .PARAMETER Only
    Passed to Invoke-MesBackupRun -Only: run only these environments.

    .PARAMETER CliPath
    Passed to Invoke-MesBackupRun -CliPath: the mesbackup binary, when it is not next to the module
    or on the service account's PATH.

    .PARAMETER PowerShellPath
    The PowerShell that runs the task. Default: pwsh.exe (PowerShell 7); powershell.exe works too.

    .PARAMETER Force
    Replace a task of the same name.

    .EXAMPLE
    PS> Register-MesBackupSchedule -Config C:\ProgramData\mesbackup\mesbackup.toml -At 02:30 -Credential (Get-Credential CORP\svc-mesbackup) -RandomDelay (New-TimeSpan -Minutes 20)

    Runs the config every night between 02:30 and 02:50 as CORP\svc-mesbackup.

    .EXAMPLE
    PS> Register-MesBackupSchedule -Config D:\mesbackup\mesbackup.toml -At 03:00 -GroupManagedServiceAccount 'CORP\gmsa-mesbackup$' -MetricsFile D:\metrics\mesbackup.prom -WhatIf

    Shows the task it would register, with a gMSA and metrics; registers nothing.

    .EXAMPLE
    PS> Register-MesBackupSchedule -Config .\mesbackup.toml -At 01:00 -Credential $cred -Force
    PS> Start-ScheduledTask -TaskPath '\MesBackup\' -TaskName 'MesBackup nightly'

    Replaces the task and starts a run now.

    .EXAMPLE
    PS> Register-MesBackupSchedule -Config C:\ProgramData\mesbackup\mesbackup.toml -At 02:30 -Credential (Get-Credential CORP\svc-mesbackup) -MesCredential (Get-Credential svc-backup) -KeyringEntry prod

    Registers the task and stores svc-backup's PAT in CORP\svc-mesbackup's Credential Manager, for a
    config with keyring = "mesbackup/prod".

    .INPUTS
    None

    .OUTPUTS
    Microsoft.Management.Infrastructure.CimInstance#MSFT_ScheduledTask

    .LINK
    Invoke-MesBackupRun

    .LINK
    Unregister-MesBackupSchedule

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', DefaultParameterSetName = 'Credential')]
    [OutputType('Microsoft.Management.Infrastructure.CimInstance#MSFT_ScheduledTask')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string]$Config,

        [Parameter(Mandatory)]
        [datetime]$At,

        [ValidateNotNullOrEmpty()]
        [string]$TaskName = 'MesBackup nightly',

        [ValidateNotNullOrEmpty()]
        [string]$TaskPath = '\MesBackup\',

        [Parameter(Mandatory, ParameterSetName = 'Credential')]
        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $Credential,

        [Parameter(Mandatory, ParameterSetName = 'GroupManagedServiceAccount')]
        [ValidatePattern('\$$')]
        [string]$GroupManagedServiceAccount,

        [Parameter(ParameterSetName = 'Credential')]
        [System.Security.SecureString]$MesToken,

        [Parameter(ParameterSetName = 'Credential')]
        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $MesCredential = [System.Management.Automation.PSCredential]::Empty,

        [ValidateNotNullOrEmpty()]
        [string]$KeyringEntry = 'MesBackup',

        [ValidateNotNullOrEmpty()]
        [string]$KeyringService = 'mesbackup',

        [TimeSpan]$RandomDelay = [TimeSpan]::Zero,

        [TimeSpan]$ExecutionTimeLimit = (New-TimeSpan -Hours 23),

        [ValidateNotNullOrEmpty()]
        [string]$MetricsFile,

        [ValidateNotNullOrEmpty()]
        [string[]]$Only,

        [string]$CliPath,

        [ValidateNotNullOrEmpty()]
        [string]$PowerShellPath = 'pwsh.exe',

        [switch]$Force
    )
    Assert-MesScheduledTasks -Cmdlet $PSCmdlet
    $configPath = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($Config)
    if (-not (Test-Path -LiteralPath $configPath -PathType Leaf)) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message ('The config {0} does not exist (docs/config.md describes mesbackup.toml).' -f $configPath) -TargetObject $configPath
        $PSCmdlet.ThrowTerminatingError($record)
    }
    $metricsPath = $null
    if ($MetricsFile) {
        $metricsPath = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($MetricsFile)
    }
    $cliFullPath = $null
    if ($CliPath) {
        $cliFullPath = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($CliPath)
    }
    $command = Get-MesScheduleCommand -Config $configPath -MetricsFile $metricsPath -Only $Only -CliPath $cliFullPath
    $argument = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "{0}"' -f $command

    $account = $GroupManagedServiceAccount
    if ($PSCmdlet.ParameterSetName -eq 'Credential') {
        $account = $Credential.UserName
    }
    $target = '{0}{1} (as {2})' -f $TaskPath, $TaskName, $account
    $action = 'Register a daily scheduled task at {0:HH:mm}{1}: {2} {3}' -f $At, $(if ($RandomDelay -gt [TimeSpan]::Zero) { ' + up to {0}' -f $RandomDelay } else { '' }), $PowerShellPath, $argument
    if (-not $PSCmdlet.ShouldProcess($target, $action)) {
        return
    }
    $hasMesCredential = $MesCredential -ne [System.Management.Automation.PSCredential]::Empty
    if ($null -ne $MesToken -and $hasMesCredential) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'Give -MesToken or -MesCredential, not both.' -TargetObject $target
        $PSCmdlet.ThrowTerminatingError($record)
    }
    $existing = Get-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath -ErrorAction SilentlyContinue
    if ($null -ne $existing -and -not $Force) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message ('The scheduled task {0}{1} exists already: pass -Force to replace it, or Unregister-MesBackupSchedule.' -f $TaskPath, $TaskName) -TargetObject $target
        $PSCmdlet.ThrowTerminatingError($record)
    }

    $taskAction = New-ScheduledTaskAction -Execute $PowerShellPath -Argument $argument -WorkingDirectory (Split-Path -Path $configPath -Parent)
    $triggerArguments = @{
        Daily = $true
        At    = $At
    }
    if ($RandomDelay -gt [TimeSpan]::Zero) {
        $triggerArguments['RandomDelay'] = $RandomDelay
    }
    $trigger = New-ScheduledTaskTrigger @triggerArguments
    $settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -ExecutionTimeLimit $ExecutionTimeLimit -StartWhenAvailable
    $registration = @{
        TaskName    = $TaskName
        TaskPath    = $TaskPath
        Action      = $taskAction
        Trigger     = $trigger
        Settings    = $settings
        Description = ('mesbackup: nightly backup of the MES environments in {0} (Invoke-MesBackupRun). The MES token comes from the config''s token_file, token_env or keyring, never from this task.' -f $configPath)
        Force       = $true
    }
    if ($PSCmdlet.ParameterSetName -eq 'GroupManagedServiceAccount') {
        $registration['Principal'] = New-ScheduledTaskPrincipal -UserId $GroupManagedServiceAccount -LogonType Password -RunLevel Limited
        Register-ScheduledTask @registration
    }
    else {
        # Task Scheduler needs the password as plain text to store it (LogonType Password); it goes
        # straight into the registration call and nowhere else.
        Register-ScheduledTask @registration -User $Credential.UserName -Password ($Credential.GetNetworkCredential().Password) -RunLevel Limited
        # The MES secret goes into the Credential Manager of the task's account: the store is per user.
        if ($null -ne $MesToken) {
            [void](Set-MesBackupCredential -Entry $KeyringEntry -Service $KeyringService -Token $MesToken -RunAs $Credential -CliPath $CliPath -Confirm:$false)
        }
        elseif ($hasMesCredential) {
            [void](Set-MesBackupCredential -Entry $KeyringEntry -Service $KeyringService -Credential $MesCredential -RunAs $Credential -CliPath $CliPath -Confirm:$false)
        }
    }
}
