function ConvertTo-HvbCoreTime {
    # A [datetime] as the core reads times: UTC, ISO 8601 with milliseconds. Unspecified kind counts as local.
    param([Parameter(Mandatory)] [datetime] $Value)
    $Value.ToUniversalTime().ToString('yyyy-MM-dd\THH:mm:ss.fff\Z', [System.Globalization.CultureInfo]::InvariantCulture)
}
