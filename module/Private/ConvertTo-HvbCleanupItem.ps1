function ConvertTo-HvbCleanupItem {
    # A checkpoint or reference point of a cleanup result as text: its instance id (strings are kept).
    param([AllowNull()] $Item)
    if ($Item -is [System.Management.Automation.PSCustomObject]) {
        return [string](Get-HvbProperty $Item 'instanceId' (Get-HvbProperty $Item 'name' $Item))
    }
    [string]$Item
}
