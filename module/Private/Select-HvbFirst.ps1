function Select-HvbFirst {
    # The first pipeline object (Select-Object -First 1 is a Utility cmdlet).
    begin { $first = $null; $seen = $false }
    process { if (-not $seen) { $first = $_; $seen = $true } }
    end { $first }
}
