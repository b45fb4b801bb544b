function ConvertTo-HvbSortedRestorePoint {
    <#
    .SYNOPSIS
        Orders restore points by VM name, then newest first (Sort-Object is a Utility cmdlet).
    .PARAMETER InputObject
        HyperVBackup.RestorePoint objects.
    .EXAMPLE
        PS C:\> ConvertTo-HvbSortedRestorePoint -InputObject $points
        Returns the points of each VM newest first, the VMs in name order.
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.RestorePoint')]
    param([AllowNull()] [AllowEmptyCollection()] [object[]] $InputObject)

    $items = @(foreach ($item in @($InputObject)) { if ($null -ne $item) { $item } })
    if ($items.Count -eq 0) { return }
    $keys = [string[]]::new($items.Count)
    for ($i = 0; $i -lt $items.Count; $i++) {
        $ticks = 0L
        if ($items[$i].Time -is [datetime]) { $ticks = $items[$i].Time.ToUniversalTime().Ticks }
        # Newest first: the complement of the ticks, zero-padded so that ordinal order is numeric order.
        $keys[$i] = '{0}|{1:D19}|{2}|{3:D9}' -f ([string]$items[$i].VMName).ToUpperInvariant(), ([datetime]::MaxValue.Ticks - $ticks), $items[$i].RestorePointId, $i
    }
    # The non-generic overload, spelled out: PowerShell would otherwise pick Sort<TKey, TValue>
    # and sort a converted copy of $items, leaving $items itself in its old order.
    [System.Array]::Sort([System.Array]$keys, [System.Array]$items, [System.Collections.IComparer][System.StringComparer]::Ordinal)
    foreach ($item in $items) { $item }
}
