#!/usr/bin/env bash
# Restores and builds the PowerShell test host (build/PsHost) so build/pwsh runs without network.
# Idempotent: a second run finds the packages restored and the build up to date. Called by
# build/setup.sh; needs the .NET 10 SDK and, the first time, access to nuget.org.
set -euo pipefail

project_dir="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/PsHost"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup-dotnet: the .NET SDK (dotnet, 10.0) is not on PATH" >&2
  exit 1
fi

dotnet restore "$project_dir" -nologo -v quiet
dotnet build "$project_dir" -c Release -o "$project_dir/bin/out" --no-restore -nologo -v quiet
touch "$project_dir/bin/out/PsHost.dll"
HVB_USE_REAL_PWSH=0 "$(dirname "$project_dir")/pwsh" -NoProfile -NonInteractive -Command '"PowerShell host ready: " + $Host.Name + " " + $PSVersionTable.PSVersion'
