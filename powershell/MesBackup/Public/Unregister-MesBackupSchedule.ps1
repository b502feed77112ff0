function Unregister-MesBackupSchedule {
    <#
    .SYNOPSIS
    Removes the scheduled task registered by Register-MesBackupSchedule.

    .DESCRIPTION
    Unregisters the task (by default \MesBackup\MesBackup nightly). The config, the token file, the
    backups and the metrics file are left as they are. Nothing happens, with a warning, when there is
    no such task.

    .PARAMETER TaskName
    The task's name. Default: MesBackup nightly.

    .PARAMETER TaskPath
    The Task Scheduler folder. Default: \MesBackup\.

    .EXAMPLE
    PS> Unregister-MesBackupSchedule -Confirm:$false

    Removes the nightly task without asking.

    .EXAMPLE
    PS> Unregister-MesBackupSchedule -TaskName 'MesBackup training' -WhatIf

    Shows which task it would remove.

    .INPUTS
    None

    .OUTPUTS
    None

    .LINK
    Register-MesBackupSchedule
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType([void])]
    param(
        [ValidateNotNullOrEmpty()]
        [string]$TaskName = 'MesBackup nightly',

        [ValidateNotNullOrEmpty()]
        [string]$TaskPath = '\MesBackup\'
    )
    Assert-MesScheduledTasks -Cmdlet $PSCmdlet
    $existing = Get-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath -ErrorAction SilentlyContinue
    if ($null -eq $existing) {
        Write-Warning -Message ('There is no scheduled task {0}{1}.' -f $TaskPath, $TaskName)
        return
    }
    if ($PSCmdlet.ShouldProcess(('{0}{1}' -f $TaskPath, $TaskName), 'Unregister the scheduled task')) {
        Unregister-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath -Confirm:$false
    }
}
