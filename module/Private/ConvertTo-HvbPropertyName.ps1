function ConvertTo-HvbPropertyName {
    # The core's camelCase name in PowerShell casing: vmName -> VMName, vmId -> VMId, time -> Time.
    param([Parameter(Mandatory)] [string] $Name)
    if ($Name -cmatch '^vm(?=[A-Z]|$)') { return 'VM' + $Name.Substring(2) }
    $Name.Substring(0, 1).ToUpperInvariant() + $Name.Substring(1)
}
