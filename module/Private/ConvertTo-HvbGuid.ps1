function ConvertTo-HvbGuid {
    # A GUID string as [guid]; anything else unchanged.
    param([AllowNull()] $Value)
    $guid = [guid]::Empty
    if ($Value -is [string] -and [guid]::TryParse($Value, [ref] $guid)) { return $guid }
    $Value
}
