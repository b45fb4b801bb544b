/**
 * The guest's operating system as it reports itself through the key-value pair exchange
 * integration service: Msvm_KvpExchangeComponent (SystemName = the VM GUID) holds, in
 * GuestIntrinsicExchangeItems, embedded Msvm_KvpExchangeDataItem instances (CIM-DTD 2.0 text)
 * whose Name/Data pairs include OSName and, from Windows guests, OSPlatformId (2 = Windows NT;
 * msvm-kvpexchangedataitem). The backup records "file-system" consistency for a Linux guest
 * frozen by its file-system filter (ConsistencyLevel 1 like an application-consistent Windows
 * guest); see src/engine/backup/consistency.ts.
 */
import { type CimInstance, parseInstanceXml, wqlString } from "../cim/mod";
import type { ClientContext } from "./jobs";
import type { GuestOs } from "./types";

/** Windows NT in OSPlatformId (the values of Win32_OperatingSystem / OSVERSIONINFO). */
const PLATFORM_WIN32_NT = 2;

/**
 * The guest OS from the VM's KVP exchange component; undefined when the guest publishes
 * nothing (off, no integration services) or the host cannot be asked (the class is read-only
 * information: never a reason to fail a backup).
 */
export async function guestOsOf(ctx: ClientContext, vmId: string): Promise<GuestOs | undefined> {
  let found: CimInstance[];
  try {
    found = await ctx.session.query(`SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName=${wqlString(vmId)}`);
  } catch {
    return undefined;
  }
  const items = found[0]?.["GuestIntrinsicExchangeItems"];
  return Array.isArray(items) ? guestOsFrom(items) : undefined;
}

/**
 * The guest OS from the intrinsic items (pure; guestOsOf asks the host for them). An item that cannot be read is skipped:
 * the guest writes these, and what it writes must not stop a backup. Linux when OSPlatformId is
 * given and is not Windows NT, or, without it, when OSName does not name Windows.
 */
export function guestOsFrom(items: readonly unknown[]): GuestOs | undefined {
  const pairs = new Map<string, string>();
  for (const item of items) {
    try {
      const inst = typeof item === "string" ? parseInstanceXml(item) : (item as Record<string, unknown>);
      if (typeof inst["Name"] === "string" && inst["Data"] !== null && inst["Data"] !== undefined) pairs.set(inst["Name"].toLowerCase(), String(inst["Data"]));
    } catch {
      continue;
    }
  }
  const name = pairs.get("osname");
  if (name === undefined) return undefined;
  const idText = pairs.get("osplatformid");
  const platformId = idText !== undefined && /^\d+$/.test(idText.trim()) ? Number(idText) : undefined;
  const linux = platformId !== undefined ? platformId !== PLATFORM_WIN32_NT : !/^\s*(microsoft\s+)?windows\b/i.test(name);
  return { name, platformId, linux };
}
