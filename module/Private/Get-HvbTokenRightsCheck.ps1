function Get-HvbTokenRightsCheck {
    <#
    .SYNOPSIS
        The "Rights (this account's token)" check: is the account, as it runs now, an elevated
        member of Administrators or a member of Hyper-V Administrators?
    .DESCRIPTION
        Hyper-V's WMI namespace answers these two groups. The token is what counts, not the
        group list of the account: an administrator in a window that is not elevated has the
        Administrators group only as a deny-only SID, and IsInRole says no. The core's "Rights"
        check proves the same by a harmless method call; this one says which group is missing.
        Returns $null where there is no Windows token to look at (not Windows, or a lab host).
    .EXAMPLE
        PS C:\> Get-HvbTokenRightsCheck
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.HostCheck')]
    param()

    try {
        $identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    } catch {
        # Not Windows: no token to look at; the core's Rights check still runs.
        $PSCmdlet.WriteVerbose("No Windows token here ($($_.Exception.Message)): the account's groups are not checked.")
        return $null
    }
    $principal = [System.Security.Principal.WindowsPrincipal]::new($identity)
    $administrators = [System.Security.Principal.SecurityIdentifier]::new('S-1-5-32-544')
    $hyperVAdministrators = [System.Security.Principal.SecurityIdentifier]::new('S-1-5-32-578')
    $groups = @()
    if ($principal.IsInRole($administrators)) { $groups += 'Administrators (elevated)' }
    if ($principal.IsInRole($hyperVAdministrators)) { $groups += 'Hyper-V Administrators' }
    $passed = $groups.Count -gt 0
    $detail = "$($identity.Name) is a member of $($groups -join ' and ')"
    $remedy = ''
    if (-not $passed) {
        $detail = "$($identity.Name) is neither an elevated member of Administrators nor a member of Hyper-V Administrators"
        $remedy = 'Run PowerShell as administrator, or add the account to Hyper-V Administrators (Add-LocalGroupMember -SID S-1-5-32-578) and log on again'
    }
    [pscustomobject]@{ PSTypeName = 'HyperVBackup.HostCheck'; Name = "Rights (this account's token)"; Passed = $passed; Detail = $detail; Remedy = $remedy }
}
