import type { CimSession } from "../cim";
import { HvbError } from "../../errors/hvb_error";

/**
 * The CimSession over real WMI (root\virtualization\v2) on a Windows Hyper-V host, through
 * edge-js and a C# shim over Microsoft.Management.Infrastructure.
 *
 * Not built yet: it cannot be exercised on the Linux machines this project is developed on, so
 * it is written together with the Pester suite that runs on a real host. Until then this says
 * so plainly instead of failing somewhere deep.
 */
export async function openWmiSession(): Promise<CimSession> {
  throw new HvbError(
    "WmiTransportMissing",
    "The WMI transport for a real Hyper-V host is not built yet in this version: use --lab DIR (or HYPERVBACKUP_LAB) to work with a lab host",
    { category: "NotImplemented" },
  );
}
