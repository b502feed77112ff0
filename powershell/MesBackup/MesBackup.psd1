@{
    RootModule           = 'MesBackup.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5d0f3c56-8f0e-4b7e-9a43-6f1f2f0c9b21'
    Author               = 'mesbackup contributors'
    CompanyName          = 'mesbackup'
    Copyright            = '(c) mesbackup contributors'
    Description          = 'Back up the ClickHouse databases of a Critical Manufacturing MES through its Web API: start, wait, download (one-shot), name and stage packages for the installer, verify and inspect saved packages, restore them into ClickHouse and prove they restore. Wraps the mesbackup CLI and its --json events.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Core', 'Desktop')
    FormatsToProcess     = @('MesBackup.Format.ps1xml')
    FunctionsToExport    = @(
        'Backup-MesClickHouseDatabase',
        'Copy-MesClickHouseBackupToInstaller',
        'Get-MesClickHouseBackupInfo',
        'Get-MesClickHouseBackupName',
        'Get-MesClickHouseBackupWindow',
        'Invoke-MesBackupRun',
        'Register-MesBackupSchedule',
        'Restore-MesClickHouseDatabase',
        'Remove-MesBackupCredential',
        'Save-MesClickHouseBackup',
        'Set-MesBackupCredential',
        'Start-MesClickHouseBackup',
        'Test-MesClickHouseBackup',
        'Test-MesClickHouseBackupFolder',
        'Test-MesClickHouseRestore',
        'Unregister-MesBackupSchedule'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            ProjectUri = 'https://github.com/mesbackup/mesbackup'
            LicenseUri = 'https://github.com/mesbackup/mesbackup/blob/main/LICENSE'
            Tags       = @('MES', 'CriticalManufacturing', 'ClickHouse', 'Backup', 'Restore', 'PSEdition_Core', 'PSEdition_Desktop')
        }
    }
}
