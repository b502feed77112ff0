function Start-MesClickHouseBackup {
    <#
    .SYNOPSIS
    Starts ClickHouse backups on the MES and returns one job per database, without waiting.

    .DESCRIPTION
    Sends the backup request (POST) for each database and returns MesBackup.Job objects carrying the
    GUID the MES gave each job. The backups run on the server; collect them later with
    Save-MesClickHouseBackup, for example in the same pipeline or from another script that kept the
    GUIDs. A backup request is never re-sent blindly: if the connection drops after it left, the CLI
    stops and says so rather than risk a second backup.

    Credentials reach the mesbackup CLI only through its process environment, never its arguments.

    .PARAMETER Database
    The database names, for example MESCDM. The four databases of a system named MES are MES, MESCDM,
    MESODS and MESDWH. Accepts pipeline input, and the Database property of piped objects.

    .PARAMETER System
    Start the backups of all four databases of this system (for example MES).

    .PARAMETER EnvironmentUrl
    The MES base URL, for example https://mes.example.com/. Defaults to $env:MES_URL.

    .PARAMETER Credential
    The MES user name and a personal access token (PAT) as the password (Basic authentication).

    .PARAMETER Token
    A bearer token as a SecureString. Without -Token or -Credential, $env:MES_TOKEN, or $env:MES_USER
    and $env:MES_PAT, are used.

    .PARAMETER CaCertificate
    A PEM file with the certificate authority to trust for the MES's TLS certificate.

    .PARAMETER AllowInsecureHttp
    Allow credentials over plain http:// (refused otherwise).

    .PARAMETER CliPath
    The mesbackup binary, or the folder that holds it. Default: next to the module, then PATH.

    .EXAMPLE
    PS> $token = Read-Host -AsSecureString -Prompt 'MES token'
    PS> Start-MesClickHouseBackup -Database MESCDM -EnvironmentUrl https://mes.example.com/ -Token $token

    Starts a backup of MESCDM and returns the job with its GUID.

    .EXAMPLE
    PS> Start-MesClickHouseBackup -System MES -Credential (Get-Credential) | Export-Csv -Path .\jobs.csv

    Starts all four databases of system MES and keeps the GUIDs; a later script collects them with
    Import-Csv .\jobs.csv | Save-MesClickHouseBackup -Path D:\Backups.

    .EXAMPLE
    PS> 'MES', 'MESCDM' | Start-MesClickHouseBackup -WhatIf

    Shows what would be started, without sending anything.

    .INPUTS
    System.String

    .OUTPUTS
    MesBackup.Job

    .LINK
    Save-MesClickHouseBackup

    .LINK
    about_MesBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', DefaultParameterSetName = 'Database')]
    [OutputType('MesBackup.Job')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName, ParameterSetName = 'Database')]
        [ValidateNotNullOrEmpty()]
        [string[]]$Database,

        [Parameter(Mandatory, ParameterSetName = 'System')]
        [ValidateNotNullOrEmpty()]
        [string]$System,

        [string]$EnvironmentUrl,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $Credential,

        [System.Security.SecureString]$Token,

        [string]$CaCertificate,

        [switch]$AllowInsecureHttp,

        [string]$CliPath
    )
    begin {
        $url = Assert-MesConnection -Cmdlet $PSCmdlet -EnvironmentUrl $EnvironmentUrl -Credential $Credential -Token $Token
        $cli = Resolve-MesCli -Cmdlet $PSCmdlet -CliPath $CliPath
        $databases = New-Object -TypeName 'System.Collections.Generic.List[string]'
    }
    process {
        if ($PSCmdlet.ParameterSetName -eq 'Database') {
            foreach ($name in $Database) {
                if ($PSCmdlet.ShouldProcess(('database {0} on {1}' -f $name, $url), 'Start ClickHouse backup')) {
                    $databases.Add($name)
                }
            }
        }
    }
    end {
        $cliOptions = @{
            Command           = 'start'
            CaCertificate     = $CaCertificate
            AllowInsecureHttp = $AllowInsecureHttp
        }
        if ($PSCmdlet.ParameterSetName -eq 'System') {
            if (-not $PSCmdlet.ShouldProcess(('all four databases of system {0} on {1}' -f $System, $url), 'Start ClickHouse backup')) {
                return
            }
            $cliOptions.System = $System
        }
        else {
            if ($databases.Count -eq 0) {
                return
            }
            $cliOptions.Operand = $databases.ToArray()
        }
        $argumentList = Get-MesCliArgumentList @cliOptions
        Invoke-MesJob -Cmdlet $PSCmdlet -Mode 'Start' -CliPath $cli -ArgumentList $argumentList -EnvironmentUrl $url -Credential $Credential -Token $Token -Activity 'Start ClickHouse backup'
    }
}
