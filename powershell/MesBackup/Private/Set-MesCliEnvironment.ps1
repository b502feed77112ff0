function Set-MesCliEnvironment {
    <#
    .SYNOPSIS
    Puts the environment URL and the credentials into the child process's environment (MES_URL,
    MES_TOKEN, or MES_USER + MES_PAT), the only way secrets reach the CLI.

    .DESCRIPTION
    An explicit -Token removes inherited MES_USER/MES_PAT from the child's environment, and an explicit
    -Credential removes an inherited MES_TOKEN, so the credential the caller named is the one used.
    Without either, the child inherits the session's variables. The session's own environment is never
    changed. Returns the plain secret values so that the caller can redact them from anything it shows;
    they are never written to any stream.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory)]
        [System.Diagnostics.ProcessStartInfo]$StartInfo,

        [Parameter(Mandatory)]
        [string]$EnvironmentUrl,

        [AllowNull()]
        [System.Management.Automation.PSCredential]$Credential,

        [AllowNull()]
        [System.Security.SecureString]$Token
    )
    if ($Credential -eq [System.Management.Automation.PSCredential]::Empty) {
        $Credential = $null
    }
    $childEnvironment = $StartInfo.EnvironmentVariables
    $childEnvironment['MES_URL'] = $EnvironmentUrl
    $secrets = New-Object -TypeName 'System.Collections.Generic.List[string]'

    if ($null -ne $Token) {
        $plainToken = (New-Object -TypeName System.Net.NetworkCredential -ArgumentList @('', $Token)).Password
        $childEnvironment['MES_TOKEN'] = $plainToken
        [void]$childEnvironment.Remove('MES_USER')
        [void]$childEnvironment.Remove('MES_PAT')
        $secrets.Add($plainToken)
    }
    elseif ($null -ne $Credential) {
        $plainPat = $Credential.GetNetworkCredential().Password
        $childEnvironment['MES_USER'] = $Credential.UserName
        $childEnvironment['MES_PAT'] = $plainPat
        [void]$childEnvironment.Remove('MES_TOKEN')
        $secrets.Add($plainPat)
    }
    else {
        foreach ($name in @('MES_TOKEN', 'MES_PAT')) {
            $inherited = [System.Environment]::GetEnvironmentVariable($name)
            if ($inherited) {
                $secrets.Add($inherited)
            }
        }
    }
    return , $secrets.ToArray()
}

function Assert-MesConnection {
    <#
    .SYNOPSIS
    Resolves the environment URL (-EnvironmentUrl, else $env:MES_URL) and checks that some credential
    is available, before anything is started. Throws a terminating invalid_argument error otherwise.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet]$Cmdlet,

        [AllowNull()]
        [AllowEmptyString()]
        [string]$EnvironmentUrl,

        [AllowNull()]
        [System.Management.Automation.PSCredential]$Credential,

        [AllowNull()]
        [System.Security.SecureString]$Token
    )
    if ($Credential -eq [System.Management.Automation.PSCredential]::Empty) {
        $Credential = $null
    }
    if ($null -ne $Credential -and $null -ne $Token) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'Pass either -Credential (user name and personal access token) or -Token, not both.'
        $Cmdlet.ThrowTerminatingError($record)
    }
    if ($null -ne $Credential -and [string]::IsNullOrEmpty($Credential.UserName)) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message '-Credential has no user name: use the MES user name and its personal access token as the password.'
        $Cmdlet.ThrowTerminatingError($record)
    }
    $url = $EnvironmentUrl
    if (-not $url) {
        $url = $env:MES_URL
    }
    if (-not $url) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'No MES environment URL: pass -EnvironmentUrl https://mes.example.com/ or set $env:MES_URL.'
        $Cmdlet.ThrowTerminatingError($record)
    }
    $haveInherited = [bool]$env:MES_TOKEN -or ([bool]$env:MES_USER -and [bool]$env:MES_PAT)
    if ($null -eq $Credential -and $null -eq $Token -and -not $haveInherited) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'No credentials: pass -Token (a SecureString bearer token) or -Credential (MES user name + personal access token), or set $env:MES_TOKEN, or $env:MES_USER and $env:MES_PAT.'
        $Cmdlet.ThrowTerminatingError($record)
    }
    return $url
}
