/**
 * Embedded instances the host's classes accept. Hyper-V's classes differ between Windows
 * releases (Msvm_VirtualSystemSnapshotSettingData.GuestBackupType appeared in 1703,
 * Msvm_VirtualSystemExportSettingData.DisableDifferentialOfIgnoredStorage and
 * ExcludedVirtualHardDisks in 1709: Server 2016 has none of them), and setting a property the
 * class lacks fails the whole call with "Not found". So the client reads the class schema from
 * the host first (once per session), leaves out the optional properties the host lacks, refuses
 * clearly when a needed one is missing, and sends the instance as CIM-DTD 2.0 text typed by
 * that schema, as `GetText(TextFormat.CimDtd20)` would.
 */
import { HvbError } from "../base/mod";
import { type CimClassSchema, type CimSession, schemaProperty, toCimDtd20 } from "../cim/mod";
import type { ClientContext } from "./jobs";

const SCHEMAS = new WeakMap<CimSession, Map<string, Promise<CimClassSchema>>>();

/** The host's schema of `className`, read once per session. */
export function hostClass(ctx: Pick<ClientContext, "session">, className: string): Promise<CimClassSchema> {
  let bySession = SCHEMAS.get(ctx.session);
  if (!bySession) SCHEMAS.set(ctx.session, (bySession = new Map()));
  const key = className.toLowerCase();
  let found = bySession.get(key);
  if (!found) {
    found = ctx.session.getClass(className);
    // A failed read is not remembered: the next call asks again.
    found.catch(() => bySession!.delete(key));
    bySession.set(key, found);
  }
  return found;
}

/** True when the host's `className` has `property`. */
export async function hostHasProperty(ctx: Pick<ClientContext, "session">, className: string, property: string): Promise<boolean> {
  return schemaProperty(await hostClass(ctx, className), property) !== undefined;
}

/** Options of {@link embedForHost}. */
export interface EmbedOptions {
  /** Properties left out when the host's class lacks them (the call works without them). */
  optional?: readonly string[];
  /** For the refusal's message: what the instance is for ("a recovery checkpoint"). */
  purpose?: string;
}

/**
 * `instance` (an object with `__CLASS`) as CIM-DTD 2.0 text the host's class accepts. A property
 * the class lacks is dropped when `optional` names it and refused with `HostClassLacksProperty`
 * otherwise; values must fit the declared types (WBEM type mismatch otherwise).
 */
export async function embedForHost(ctx: Pick<ClientContext, "session">, instance: { __CLASS: string; [k: string]: unknown }, options: EmbedOptions = {}): Promise<string> {
  const schema = await hostClass(ctx, instance.__CLASS);
  const optional = new Set((options.optional ?? []).map((x) => x.toLowerCase()));
  const kept: Record<string, unknown> = { __CLASS: schema.className };
  for (const [k, v] of Object.entries(instance)) {
    if (k.startsWith("__")) continue;
    if (schemaProperty(schema, k)) {
      kept[k] = v;
      continue;
    }
    if (optional.has(k.toLowerCase())) continue;
    throw new HvbError(
      "HostClassLacksProperty",
      `This Hyper-V host's ${schema.className} has no property '${k}'${options.purpose ? `, needed for ${options.purpose}` : ""}: the host's Windows release is too old for it`,
      { category: "NotImplemented", target: `${schema.className}.${k}` },
    );
  }
  return toCimDtd20(schema, kept);
}
