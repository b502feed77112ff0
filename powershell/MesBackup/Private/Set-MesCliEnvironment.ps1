function Set-MesCliEnvironment {
    <#
    .SYNOPSIS
    Puts the environment URL and the credentials into the child process's environment (MES_URL,
    MES_TOKEN, or MES_USER + MES_PAT; CLICKHOUSE_USER + CLICKHOUSE_PASSWORD), the only way secrets
    reach the CLI.

    .DESCRIPTION
    MES: with -EnvironmentUrl, an explicit -Token removes inherited MES_USER/MES_PAT from the child's
    environment, and an explicit -Credential removes an inherited MES_TOKEN, so the credential the
    caller named is the one used. Without either, the child inherits the session's variables. Without
    -EnvironmentUrl the command talks to no MES, and the child gets no MES_TOKEN, MES_USER or MES_PAT,
    unless -ConfigCredentials: `mesbackup run` reads a config that names its credentials by reference
    (token_env, user_env + pat_env, token_file), so the child inherits the session's environment
    unchanged (and no MES_URL is set: each environment's URL is in the config).

    ClickHouse: with -ClickHouse (restore, test-restore), an explicit -ClickHouseCredential sets
    CLICKHOUSE_USER and CLICKHOUSE_PASSWORD (an empty password removes an inherited one), so the
    credential the caller named is the one used; without it, the child inherits the session's
    CLICKHOUSE_USER and CLICKHOUSE_PASSWORD, as `mesbackup restore` run from a shell would. Without
    -ClickHouse the command talks to no ClickHouse, and the child gets neither variable.

    The session's own environment is never changed. Returns the plain secret values so that the
    caller can redact them from anything it shows; they are never written to any stream.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory)]
        [System.Diagnostics.ProcessStartInfo]$StartInfo,

        [AllowNull()]
        [AllowEmptyString()]
        [string]$EnvironmentUrl,

        [AllowNull()]
        [System.Management.Automation.PSCredential]$Credential,

        [AllowNull()]
        [System.Security.SecureString]$Token,

        [switch]$ClickHouse,

        [AllowNull()]
        [System.Management.Automation.PSCredential]$ClickHouseCredential,

        # run: the config names the credential variables; the child inherits them as they are.
        [switch]$ConfigCredentials
    )
    if ($Credential -eq [System.Management.Automation.PSCredential]::Empty) {
        $Credential = $null
    }
    if ($ClickHouseCredential -eq [System.Management.Automation.PSCredential]::Empty) {
        $ClickHouseCredential = $null
    }
    $childEnvironment = $StartInfo.EnvironmentVariables
    $secrets = New-Object -TypeName 'System.Collections.Generic.List[string]'

    if ($ConfigCredentials) {
        # The config names its own variables (any names); the CLI redacts their values itself. The
        # conventional ones are also redacted here.
        foreach ($name in @('MES_TOKEN', 'MES_PAT')) {
            $inherited = [System.Environment]::GetEnvironmentVariable($name)
            if ($inherited) {
                $secrets.Add($inherited)
            }
        }
    }
    elseif (-not $EnvironmentUrl) {
        # Commands that talk to no MES get no MES credentials at all.
        foreach ($name in @('MES_TOKEN', 'MES_USER', 'MES_PAT')) {
            [void]$childEnvironment.Remove($name)
        }
    }
    else {
        $childEnvironment['MES_URL'] = $EnvironmentUrl
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
    }

    if (-not $ClickHouse) {
        # Commands that talk to no ClickHouse get no ClickHouse credentials either.
        [void]$childEnvironment.Remove('CLICKHOUSE_USER')
        [void]$childEnvironment.Remove('CLICKHOUSE_PASSWORD')
    }
    elseif ($null -ne $ClickHouseCredential) {
        $plainPassword = $ClickHouseCredential.GetNetworkCredential().Password
        $childEnvironment['CLICKHOUSE_USER'] = $ClickHouseCredential.UserName
        if ($plainPassword) {
            $childEnvironment['CLICKHOUSE_PASSWORD'] = $plainPassword
            $secrets.Add($plainPassword)
        }
        else {
            [void]$childEnvironment.Remove('CLICKHOUSE_PASSWORD')
        }
    }
    else {
        $inherited = [System.Environment]::GetEnvironmentVariable('CLICKHOUSE_PASSWORD')
        if ($inherited) {
            $secrets.Add($inherited)
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
    # Nothing given anywhere, as core's rule sees it (blank variables count as unset). A half-given
    # pair or both kinds at once are left to the CLI, whose error names them.
    $anyInherited = $false
    foreach ($name in @('MES_TOKEN', 'MES_USER', 'MES_PAT')) {
        if (-not [string]::IsNullOrWhiteSpace([System.Environment]::GetEnvironmentVariable($name))) {
            $anyInherited = $true
        }
    }
    if ($null -eq $Credential -and $null -eq $Token -and -not $anyInherited) {
        # Word for word core's mes::NO_CREDENTIALS, what the CLI would say (cli_contract.py compares them).
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message 'no MES credentials: give a bearer token, or a user name and its personal access token (PAT). Looked for, in this order: a token given explicitly (CLI --token-file FILE, Python token=, JavaScript token, PowerShell -Token), a user and PAT given explicitly (Python user= and pat=, JavaScript user and pat, PowerShell -Credential), the environment variable MES_TOKEN, the environment variables MES_USER and MES_PAT. The CLI also asks on a terminal. For a test server without authentication, say so explicitly (CLI --no-auth, Python no_auth=True, JavaScript noAuth: true).'
        $Cmdlet.ThrowTerminatingError($record)
    }
    return $url
}

function Assert-MesClickHouseUrl {
    <#
    .SYNOPSIS
    Refuses a ClickHouse URL with credentials in it (http://user:password@host): the URL is passed on
    the CLI's command line, which other users of the machine can read. Throws a terminating
    invalid_argument error.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet]$Cmdlet,

        [Parameter(Mandatory)]
        [string]$ClickHouseUrl
    )
    $uri = $null
    if (-not [System.Uri]::TryCreate($ClickHouseUrl, [System.UriKind]::Absolute, [ref]$uri) -or $uri.Scheme -notin @('http', 'https')) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message '-ClickHouseUrl is not an http:// or https:// URL (ClickHouse''s HTTP interface, e.g. http://ch:8123).'
        $Cmdlet.ThrowTerminatingError($record)
    }
    if ($uri.UserInfo) {
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message '-ClickHouseUrl carries credentials (user:password@): pass them with -ClickHouseCredential, or $env:CLICKHOUSE_USER and $env:CLICKHOUSE_PASSWORD, never in the URL.'
        $Cmdlet.ThrowTerminatingError($record)
    }
    if ($uri.Query -or $uri.Fragment) {
        # ClickHouse accepts ?user=...&password=...: a query is refused whole, and never repeated.
        $record = New-MesErrorRecord -Kind 'invalid_argument' -Message '-ClickHouseUrl has a query or fragment (?... or #...), where ClickHouse also accepts user= and password=: pass only the address (scheme://host:port) and the credentials with -ClickHouseCredential.'
        $Cmdlet.ThrowTerminatingError($record)
    }
}
