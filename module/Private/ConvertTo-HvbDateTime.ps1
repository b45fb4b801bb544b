function ConvertTo-HvbDateTime {
    # An ISO 8601 time from the core ('2026-11-20T23:00:00.000Z') as a local [datetime]; anything else unchanged.
    param([AllowNull()] $Value)
    $parsed = [datetime]::MinValue
    if ($Value -is [string] -and [datetime]::TryParse($Value, [System.Globalization.CultureInfo]::InvariantCulture,
            [System.Globalization.DateTimeStyles]::RoundtripKind, [ref] $parsed)) {
        if ($parsed.Kind -eq [System.DateTimeKind]::Unspecified) { return $parsed }
        return $parsed.ToLocalTime()
    }
    $Value
}
