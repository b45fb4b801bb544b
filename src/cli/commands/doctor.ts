import { accessSync, constants, mkdtempSync, rmSync, statSync, statfsSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { rctUnavailableReason, type HostVm } from "../../engine/mod";
import type { HyperVClient } from "../../hyperv/mod";
import { toHvbError } from "../../base/mod";
import { optionValue, parseArgs } from "../args";
import { eventOutput } from "../event_output";
import { labDirFrom, openCimv2, openHost } from "../host";
import { checkOperatingSystem, checkRepositoryLocation, checkRights } from "./doctor_checks";
import { deepCheck } from "./doctor_deep";
import type { CommandIo } from "../io";

export const DOCTOR_USAGE = `Usage: hvbackup doctor [--vm N ...] [--repo R] [--deep] [--lab DIR] [--json]

  The preflight to run before trusting backups of a host: one result per check (name, passed,
  detail, remedy). Host: the operating system and its build (Windows Server 2016, build 14393, or
  later), Hyper-V's WMI namespace reachable, these rights (the namespace readable and a method
  call allowed), the Virtual Machine Management service running. Per VM (every VM, or each --vm): configuration
  version (RCT needs 6.2 or later), VHDX rather than VHD, no pass-through or shared disks, the
  guest's backup integration service, free space for checkpoints on the disks' volumes. With
  --repo: where the repository is (a local path, or a UNC path's share that the host's computer
  account must be able to write; a mapped drive letter is refused) and that it is reachable and
  writable. Exits 1 when a check failed.
  --deep   also run the product end to end on a scratch VM: make a VM with a new 64 MiB VHDX
           (CreateVirtualHardDisk, DefineSystem, AddResourceSettings) in the host's default folder,
           back it up full and incremental (into --repo, else a repository in the scratch folder),
           restore it side by side under a new id, compare the restored disk with the source, and
           remove everything (both VMs, their checkpoints, the disks, the scratch VM's points),
           also after a failure. One result per step.
`;

/** One check's outcome, as Test-VMBackupHost shows it. */
export interface DoctorCheck {
  name: string;
  passed: boolean;
  detail: string;
  remedy: string;
}

/** Checkpoint files grow with what the guest writes during the backup: ask for this share of the disks' size, at least MIN_FREE. */
const FREE_SHARE = 0.1;
const MIN_FREE = 1024 ** 3;

/** `hvbackup doctor`: preflight checks of the host, its VMs and a repository. */
export async function doctorCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseArgs(argv, { values: ["vm", "repo", "lab"], flags: ["json", "deep"] });
  const out = eventOutput(io, args.flags.has("json"));
  const checks: DoctorCheck[] = [];
  const add = (name: string, passed: boolean, detail: string, remedy = ""): void => void checks.push({ name, passed, detail, remedy: passed ? "" : remedy });

  const labDir = labDirFrom(args);
  const cimv2 = await openCimv2(labDir).catch(() => undefined);
  await checkOperatingSystem(cimv2, add);
  let host: HyperVClient | undefined;
  try {
    host = await openHost(labDir);
    const services = await host.session.query("SELECT * FROM Msvm_VirtualSystemManagementService");
    add("Hyper-V namespace", services.length === 1, `root\\virtualization\\v2 answers (${services.length} management service)`, "Install the Hyper-V role and run as a member of Administrators or Hyper-V Administrators");
    const state = Number(services[0]?.["EnabledState"]);
    add("Virtual Machine Management service", state === 2, `vmms EnabledState ${Number.isNaN(state) ? "unknown" : state} (2 = running)`, "Start the service: Start-Service vmms");
  } catch (e) {
    const err = toHvbError(e);
    add("Hyper-V namespace", false, err.message, err.code === "HyperVAccessDenied" ? "Run as a member of Administrators or Hyper-V Administrators" : "Install the Hyper-V role, or check that WMI (winmgmt) runs");
    host = undefined;
  }

  if (host !== undefined) await checkRights(host.session, add);

  if (host !== undefined) {
    const names = args.options.get("vm") ?? [];
    let vms: HostVm[] = [];
    try {
      vms = names.length > 0 ? await Promise.all(names.map((n) => host!.findVm(n))) : await host.listVms();
    } catch (e) {
      add("Virtual machines", false, toHvbError(e).message, "Name VMs as Get-VM shows them");
    }
    for (const vm of vms) checkVm(vm, add);
  }

  const repo = optionValue(args, "repo");
  if (repo !== undefined) {
    await checkRepositoryLocation(repo, cimv2, add);
    checkRepository(path.resolve(repo), add);
  }

  if (args.flags.has("deep")) {
    if (host === undefined) {
      add("Deep: scratch VM", false, "not run: Hyper-V's namespace does not answer", "Fix the failed host checks first");
    } else {
      // Only a lab host can be written to from outside the guest (lab write); a real scratch VM has no OS.
      // Loaded only with --lab (see lab_command.ts): a doctor of a real host never initializes the lab.
      const write = labDir === undefined ? undefined : await labGuestWriter(labDir);
      await deepCheck(host, repo === undefined ? undefined : path.resolve(repo), write, out, add);
    }
  }

  const failed = checks.filter((c) => !c.passed).length;
  const human = checks.map((c) => `[${c.passed ? "PASS" : "FAIL"}] ${c.name}: ${c.detail}${c.remedy ? `\n       remedy: ${c.remedy}` : ""}`).join("\n");
  out.result({ passed: failed === 0, checks }, `${human}\n${failed === 0 ? "All checks passed." : `${failed} of ${checks.length} checks failed.`}`);
  return failed === 0 ? 0 : 1;
}

function checkVm(vm: HostVm, add: (name: string, passed: boolean, detail: string, remedy?: string) => void): void {
  const rct = rctUnavailableReason(vm);
  add(`${vm.name}: configuration version`, rct === undefined, rct ?? `version ${vm.configVersion}: Resilient Change Tracking available`, "Update-VMVersion (with the VM off), after which backups are incremental");
  const vhd = vm.disks.filter((d) => d.format === "vhd");
  add(`${vm.name}: disk format`, vhd.length === 0, vhd.length === 0 ? `${vm.disks.length} VHDX disk(s)` : `VHD: ${vhd.map((d) => d.hostResource).join(", ")}`, "Convert-VHD to VHDX (with the VM off): VHD disks are copied whole on every backup");
  // Shared disks are kept apart from disks (hyperv/types.ts SharedDisk): a shared VHDX cannot be
  // checkpointed; a VHD Set is backed up with its guest cluster, as a group.
  const shared = vm.sharedDisks ?? [];
  const odd = [...vm.disks.filter((d) => !/\.(a?vhdx?)$/i.test(d.hostResource)).map((d) => d.hostResource), ...shared.filter((d) => d.kind === "shared-vhdx").map((d) => d.path)];
  const sets = shared.filter((d) => d.kind === "vhdset").map((d) => d.path);
  const fine = sets.length === 0 ? "every disk is a VHD/VHDX file" : `every disk is a VHD/VHDX file or a VHD Set (${sets.join(", ")}: backed up with its guest cluster, 'hvbackup backup --group')`;
  add(`${vm.name}: pass-through or shared disks`, odd.length === 0, odd.length === 0 ? fine : `not backed up: ${odd.join(", ")}`, "Pass-through disks and shared VHDX are not in checkpoints: back them up another way, or convert a shared VHDX to a VHD Set (Convert-VHD to .vhds) and back up the guest cluster as a VM group");
  add(`${vm.name}: guest backup integration`, vm.backupIntegration === "ok" || vm.state !== "Running", `Backup (volume shadow copy) integration service: ${vm.backupIntegration}${vm.state !== "Running" ? ` (the VM is ${vm.state}: a checkpoint needs no guest)` : ""}`, "Enable the 'Backup (volume shadow copy)' integration service and update the guest's integration components; without it backups are crash-consistent");
  const folders = new Map<string, number>();
  for (const d of vm.disks) {
    let size = 0;
    try {
      size = statSync(d.hostResource).size;
    } catch {
      // a disk that cannot be read here is reported by the pass-through check or by the backup itself
    }
    const dir = path.dirname(d.hostResource);
    folders.set(dir, (folders.get(dir) ?? 0) + size);
  }
  for (const [dir, size] of folders) {
    const need = Math.max(MIN_FREE, Math.ceil(size * FREE_SHARE));
    try {
      const fs = statfsSync(dir);
      const free = Number(fs.bavail) * Number(fs.bsize);
      add(`${vm.name}: free space for checkpoints in ${dir}`, free >= need, `${gib(free)} free, ${gib(need)} wanted (${Math.round(FREE_SHARE * 100)}% of ${gib(size)} of disks, at least ${gib(MIN_FREE)})`, "Free space on that volume: a checkpoint's differencing disks grow with what the guest writes during the backup");
    } catch (e) {
      add(`${vm.name}: free space for checkpoints in ${dir}`, false, `cannot read the volume: ${toHvbError(e).message}`, "Run doctor on the host itself, as the account that runs backups");
    }
  }
}

function checkRepository(repo: string, add: (name: string, passed: boolean, detail: string, remedy?: string) => void): void {
  try {
    if (!statSync(repo).isDirectory()) throw new Error(`'${repo}' is not a folder`);
    accessSync(repo, constants.W_OK);
    // A real write, as a backup makes one: permissions on shares are decided by the server.
    const probe = mkdtempSync(path.join(repo, ".doctor-"));
    writeFileSync(path.join(probe, "probe"), "hvbackup doctor");
    rmSync(probe, { recursive: true, force: true });
    add("Repository", true, `'${repo}' is reachable and writable by this account`);
  } catch (e) {
    add("Repository", false, `'${repo}': ${(e as Error).message}`, "Create the folder, or grant the account that runs backups (on a share: the host's computer account) modify rights");
  }
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** A guest write into a lab VM's disk, for the doctor's RCT probe on a lab host. */
async function labGuestWriter(labDir: string): Promise<(vmId: string, offset: number, length: number, seed: string) => void> {
  const { guestWriteInLab } = await import("../../lab/mod");
  return (vmId, offset, length, seed) => guestWriteInLab(labDir, vmId, 0, offset, length, seed);
}
