/**
 * VM groups (Windows Server 2016+, New-VMGroup): Msvm_VirtualSystemCollection and its members
 * through Msvm_CollectedVirtualSystems.
 */
import { HvbError } from "../base/mod";
import type { CimInstance } from "../cim/mod";
import { isGuid, normalizeGuid, wqlString } from "../cim/mod";
import type { ClientContext } from "./jobs";
import type { VmGroup } from "./types";
import { describeVm, isVmInstance } from "./vm_queries";

export const GROUP_CLASS = "Msvm_VirtualSystemCollection";

async function describeGroup(ctx: ClientContext, g: CimInstance): Promise<VmGroup> {
  const members = (await ctx.session.associators(g.__PATH, { assocClass: "Msvm_CollectedVirtualSystems", resultClass: "Msvm_ComputerSystem" })).filter(isVmInstance);
  const vms = [];
  for (const m of members) vms.push(await describeVm(ctx, m));
  // A stable order (by name, then id) so that every run lists members alike.
  vms.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return { id: String(g["CollectionID"] ?? ""), name: String(g["ElementName"] ?? ""), path: g.__PATH, members: vms };
}

/** Every VM group on the host, with its members. */
export async function listGroups(ctx: ClientContext): Promise<VmGroup[]> {
  const out: VmGroup[] = [];
  for (const g of await ctx.session.query(`SELECT * FROM ${GROUP_CLASS}`)) out.push(await describeGroup(ctx, g));
  return out;
}

/** The group named `nameOrId` (ElementName) or with that CollectionID; `GroupNotFound` / `GroupAmbiguous` otherwise. */
export async function findGroup(ctx: ClientContext, nameOrId: string): Promise<VmGroup> {
  const wanted = nameOrId.trim();
  if (isGuid(wanted)) {
    const byId = await ctx.session.query(`SELECT * FROM ${GROUP_CLASS} WHERE CollectionID=${wqlString(normalizeGuid(wanted))}`);
    if (byId[0]) return describeGroup(ctx, byId[0]);
  }
  const byName = await ctx.session.query(`SELECT * FROM ${GROUP_CLASS} WHERE ElementName=${wqlString(wanted)}`);
  if (byName.length === 0) throw new HvbError("GroupNotFound", `Cannot find a VM group named or with id '${wanted}' on the host`, { category: "ObjectNotFound", target: wanted });
  if (byName.length > 1) {
    throw new HvbError("GroupAmbiguous", `Cannot choose a VM group: ${byName.length} groups are named '${wanted}' (ids ${byName.map((g) => String(g["CollectionID"])).join(", ")}); give the group id instead`, {
      category: "InvalidArgument",
      target: wanted,
    });
  }
  return describeGroup(ctx, byName[0]!);
}
