function Write-MesCliSecretInput {
    <#
    .SYNOPSIS
    Writes -Prefix and the secret to the child's standard input and closes it: the way `mesbackup
    credential set` receives a secret (never its arguments, environment or a file).

    .DESCRIPTION
    Besides Set-MesCliEnvironment, the only function that turns a secret into plain text
    (scripts/suites/50-powershell.sh checks that): the plain value goes to the child's standard
    input only, and the variable is cleared at once.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.IO.StreamWriter]$Writer,

        [AllowEmptyString()]
        [string]$Prefix = '',

        [Parameter(Mandatory)]
        [System.Security.SecureString]$SecureInput
    )
    $plainInput = [System.Net.NetworkCredential]::new('', $SecureInput).Password
    try {
        $Writer.Write($Prefix + $plainInput)
    }
    finally {
        $plainInput = $null
        $Writer.Close()
    }
}
