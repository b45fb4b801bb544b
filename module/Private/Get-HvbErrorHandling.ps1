function Get-HvbErrorHandling {
    # 'Throw' with -EnableException, otherwise 'Write'.
    param([bool] $EnableException)
    if ($EnableException) { return 'Throw' }
    'Write'
}
