function Write-MesDeprecation {
    <#
    .SYNOPSIS
    Says that a deprecated parameter was used and what to use instead.

    .DESCRIPTION
    Old spellings are kept for one release, hidden from tab completion ([Parameter(DontShow)]), and
    still do what they did; this warning uses the same words as the CLI's stderr, Python's
    DeprecationWarning and the npm package's console.warn.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string]$Parameter,

        [Parameter(Mandatory)]
        [string]$Instead
    )
    Write-Warning -Message ('-{0} is deprecated and will be removed in the next release: {1}' -f $Parameter, $Instead)
}
