/**
 * One VM's host on a cluster, following the VM when it live-migrates during its backup: a call
 * that fails is checked against the cluster's owner of the VM's role; when the owner changed,
 * the call is made again on the new owner (the checkpoint, its files on the shared volume and
 * the reference points move with the VM). A failure on the node that still owns the VM is the
 * call's failure. Creating a checkpoint is never made twice: it may have been made before the
 * move, so that failure is the VM's (the checkpoint left is reported by the next backup).
 */
import type { EngineEvents } from "../events";
import type { HostApi } from "../host_api";
import type { HostFleet } from "./fleet";

const NOT_REPEATABLE = new Set<PropertyKey>(["createRecoveryCheckpoint"]);

/** Where a followed VM runs now (read by the backup set's summary). */
export interface FollowState {
  node: string;
  /** Every node the VM was found on during the backup, in order. */
  moves: string[];
}

export function followingHost(fleet: HostFleet, vmId: string, vmName: string, state: FollowState, events: EngineEvents): HostApi {
  const ownerNow = async (): Promise<string | undefined> => {
    try {
      return (await fleet.clusteredVms()).find((c) => c.vmId.toLowerCase() === vmId.toLowerCase())?.ownerNode;
    } catch {
      return undefined;
    }
  };
  const probe = fleet.host(state.node);
  return new Proxy(probe, {
    get(_target, prop) {
      const value = Reflect.get(fleet.host(state.node), prop, fleet.host(state.node)) as unknown;
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const host = fleet.host(state.node);
        try {
          return await (Reflect.get(host, prop, host) as (...a: unknown[]) => unknown).apply(host, args);
        } catch (e) {
          const owner = await ownerNow();
          if (owner === undefined || owner === state.node) throw e;
          if (NOT_REPEATABLE.has(prop)) {
            state.node = owner;
            state.moves.push(owner);
            throw e;
          }
          events.warning(`VM '${vmName}' moved from node '${state.node}' to '${owner}' during its backup; following it there`, "VmMigrated");
          state.node = owner;
          state.moves.push(owner);
          const next = fleet.host(owner);
          return (Reflect.get(next, prop, next) as (...a: unknown[]) => unknown).apply(next, args);
        }
      };
    },
  });
}
