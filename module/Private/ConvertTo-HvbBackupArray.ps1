function ConvertTo-HvbBackupArray {
    # The elements of a JSON array, objects converted with ConvertTo-HvbBackupObject; always an array.
    [CmdletBinding()]
    param([AllowNull()] [object[]] $InputObject, [string] $TypeName)

    $items = [System.Collections.Generic.List[object]]::new()
    foreach ($item in @($InputObject)) {
        if ($item -is [System.Management.Automation.PSCustomObject]) {
            $items.Add((ConvertTo-HvbBackupObject -InputObject $item -TypeName $TypeName))
        } else {
            $items.Add($item)
        }
    }
    , $items.ToArray()
}
