function ConvertTo-HvbCommandLine {
    # Quotes words for ProcessStartInfo.Arguments as the Windows C runtime splits them
    # (Windows PowerShell 5.1 has no ProcessStartInfo.ArgumentList).
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [AllowEmptyString()] [string[]] $ArgumentList)

    $parts = foreach ($word in $ArgumentList) {
        if ($word.Length -gt 0 -and $word -notmatch '[\s"]') { $word; continue }
        $builder = [System.Text.StringBuilder]::new('"')
        $backslashes = 0
        foreach ($char in $word.ToCharArray()) {
            if ($char -eq '\') { $backslashes++; continue }
            if ($char -eq '"') {
                [void]$builder.Append([char]'\', 2 * $backslashes + 1)
            } elseif ($backslashes -gt 0) {
                [void]$builder.Append([char]'\', $backslashes)
            }
            $backslashes = 0
            [void]$builder.Append($char)
        }
        [void]$builder.Append([char]'\', 2 * $backslashes).Append('"')
        $builder.ToString()
    }
    $parts -join ' '
}
