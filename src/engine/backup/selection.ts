/**
 * Which VMs a backup set covers, and on which node each runs: names and ids (`--vm web01`),
 * name patterns (`--vm 'web*'`, Get-VM's wildcards) and every VM (`--all`). On a cluster a VM
 * is looked for on the node that owns its role (root\MSCluster), so a VM running on another
 * node than this one is found, not "not found".
 */
import { HvbError, isHvbError } from "../../base/mod";
import type { HostVm } from "../host_api";
import type { HostFleet } from "./fleet";
import { hasWildcard, wildcardRegExp } from "./wildcard";

/** What the command line asked for. */
export interface VmSelection {
  /** Every VM of every node. */
  all: boolean;
  /** Names, ids and patterns, as given. */
  names: readonly string[];
}

/** A VM to back up, and the node it runs on. */
export interface SelectedVm {
  vm: HostVm;
  node: string;
}

/** A name that did not resolve (not found, ambiguous): reported per name, never stopping the others. */
export interface SelectionFailure {
  name: string;
  error: unknown;
}

export interface ResolvedSelection {
  vms: SelectedVm[];
  failures: SelectionFailure[];
}

/**
 * Resolves the selection: patterns and `--all` against the VMs of every node (sorted by name,
 * so a run's order does not depend on the host's enumeration order), exact names in the order
 * given. A VM selected twice is backed up once. A pattern matching nothing is not an error
 * (as with Get-VM); a selection matching no VM at all is (`NoVmSelected`).
 */
export async function resolveSelection(fleet: HostFleet, selection: VmSelection): Promise<ResolvedSelection> {
  const patterns = selection.names.filter(hasWildcard).map(wildcardRegExp);
  const exact = selection.names.filter((n) => !hasWildcard(n));
  const out: SelectedVm[] = [];
  const failures: SelectionFailure[] = [];
  const seen = new Set<string>();
  const add = (s: SelectedVm): void => {
    const key = s.vm.id.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    out.push(s);
  };

  for (const name of exact) {
    try {
      add(await findOnFleet(fleet, name));
    } catch (e) {
      failures.push({ name, error: e });
    }
  }
  if (selection.all || patterns.length > 0) {
    const inventory: SelectedVm[] = [];
    for (const node of fleet.nodes) for (const vm of await fleet.host(node).listVms()) inventory.push({ vm, node });
    inventory.sort((a, b) => a.vm.name.localeCompare(b.vm.name) || a.vm.id.localeCompare(b.vm.id));
    for (const s of inventory) if (selection.all || patterns.some((p) => p.test(s.vm.name))) add(s);
  }
  if (out.length === 0 && failures.length === 0) {
    const what = selection.all ? "the host has no VMs" : `no VM matches ${selection.names.map((n) => `'${n}'`).join(", ")}`;
    throw new HvbError("NoVmSelected", `Nothing to back up: ${what}`, { category: "ObjectNotFound", target: selection.names.join(",") });
  }
  return { vms: out, failures };
}

/**
 * A VM by name or id on a fleet: on a cluster, first on the node owning the role of that name
 * or VM id, then on every node; on a standalone host, there.
 */
export async function findOnFleet(fleet: HostFleet, nameOrId: string): Promise<SelectedVm> {
  const order = [...fleet.nodes];
  if (fleet.clustered) {
    const want = nameOrId.trim().replace(/^\{|\}$/g, "").toLowerCase();
    const owner = (await fleet.clusteredVms()).find((c) => c.group.toLowerCase() === want || c.vmId.toLowerCase() === want)?.ownerNode;
    if (owner !== undefined) order.sort((a, b) => Number(b === owner) - Number(a === owner));
  }
  let notFound: unknown;
  for (const node of order) {
    try {
      return { vm: await fleet.host(node).findVm(nameOrId), node };
    } catch (e) {
      if (!isHvbError(e) || e.code !== "VmNotFound") throw e;
      notFound ??= e;
    }
  }
  if (fleet.nodes.length > 1) {
    throw new HvbError("VmNotFound", `Cannot find a VM named or with id '${nameOrId.trim()}' on any node of the cluster (${fleet.nodes.join(", ")})`, { category: "ObjectNotFound", target: nameOrId });
  }
  throw notFound;
}
