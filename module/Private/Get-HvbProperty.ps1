function Get-HvbProperty {
    # $Object.$Name when the property exists, else $Default (works under Set-StrictMode).
    param($Object, [string] $Name, $Default)
    if ($null -ne $Object -and $null -ne $Object.PSObject.Properties[$Name]) { return $Object.$Name }
    $Default
}
