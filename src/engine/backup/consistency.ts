/**
 * The three consistency levels of a restore point (issue 13 A12): "application" (the guest's VSS
 * writers flushed their applications), "file-system" (a Linux guest's integration services
 * froze its file systems: no application took part) and "crash" (nothing in the guest took
 * part). Hyper-V has two requests and two answers for them: ConsistencyLevel 1 (Application
 * Consistent) and 2 (Crash Consistent); a Linux guest frozen by its file-system filter answers 1
 * like a Windows guest, so which of the first two a point has comes from the guest's OS (its
 * KVP exchange's OSName / OSPlatformId, src/hyperv/guest_os.ts).
 */
import type { Consistency } from "../../repository/mod";
import type { HostVm } from "../host_api";

/** The ConsistencyLevel to ask Hyper-V for: file-system consistency is asked as level 1. */
export function requestedLevel(wanted: Consistency): "application" | "crash" {
  return wanted === "crash" ? "crash" : "application";
}

/**
 * What a checkpoint taken at `level` achieved on this VM's guest: level 1 is "file-system" when
 * the guest's OS is not Windows, "application" otherwise (also when the guest reports no OS:
 * a guest that froze at level 1 without saying what it is is taken at its word).
 */
export function achievedConsistency(vm: Pick<HostVm, "guestOs">, level: "application" | "crash"): Consistency {
  if (level === "crash") return "crash";
  return vm.guestOs?.linux ? "file-system" : "application";
}
