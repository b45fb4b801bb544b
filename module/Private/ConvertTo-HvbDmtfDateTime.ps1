function ConvertTo-HvbDmtfDateTime {
    <#
    .SYNOPSIS
        A CIM datetime value as the DMTF text the core expects (yyyymmddHHMMSS.mmmmmmsUUU).
    .DESCRIPTION
        The CIM cmdlets hand datetime properties over as [datetime] (a timestamp) or [timespan]
        (an interval); the core's seam carries the DMTF text WMI itself uses, which is what the
        edge-js transport passes on. A timestamp is written in UTC (offset +000); an interval as
        ddddddddHHMMSS.mmmmmm:000.
    .PARAMETER Value
        A [datetime] or a [timespan].
    .EXAMPLE
        PS C:\> ConvertTo-HvbDmtfDateTime -Value ([datetime]::new(2026, 1, 2, 3, 4, 5, [System.DateTimeKind]::Utc))
        20260102030405.000000+000
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [object] $Value)

    $invariant = [System.Globalization.CultureInfo]::InvariantCulture
    if ($Value -is [timespan]) {
        $micro = [long](($Value.Ticks % [timespan]::TicksPerSecond) / 10)
        return ('{0:D8}{1:D2}{2:D2}{3:D2}.{4:D6}:000' -f $Value.Days, $Value.Hours, $Value.Minutes, $Value.Seconds, $micro)
    }
    $utc = ([datetime]$Value).ToUniversalTime()
    $micro = [long](($utc.Ticks % [timespan]::TicksPerSecond) / 10)
    $utc.ToString('yyyyMMddHHmmss', $invariant) + '.' + $micro.ToString('D6', $invariant) + '+000'
}
