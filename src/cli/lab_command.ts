/**
 * `hvbackup lab ...`: the lab host, an emulator of Hyper-V's WMI backup API over real VHDX
 * files, for rehearsing backups without Hyper-V. See docs/lab-fidelity.md.
 */
import { UsageError } from "../base/mod";
import type { CommandIo } from "./io";

export const USAGE = `Usage: hvbackup lab <command> [options]

  init DIR [--job-ms N] [--nodes N] [--host-version 2016|2019|2022|2025]
       [--order shuffled|stable] [--seed N] [--job-share PERCENT] [--rct-page BYTES]
                                             create a lab host in DIR (--nodes: a cluster of N nodes
                                             sharing a cluster shared volume; --host-version: the
                                             Windows Server it poses as, default 2022 or HVB_HOST_VERSION);
                                             answers come in a seeded shuffled order; PERCENT (default
                                             30) of the calls documented to answer with a job do so;
                                             BYTES (default 8 MiB): the most one GetVirtualDiskChanges
                                             call processes (benchmarks of large disks raise it)
  vm new --lab DIR --name N --disk SIZE[@ide|scsi:C:A] [--disk ...] [--config-version X.Y]
         [--generation 1|2] [--guest windows|linux|none] [--no-scsi] [--vhd]
         [--volume V] [--node NODE]          V: a volume of the lab (made when new); NODE: its owner
         [--dvd] [--passthrough]             a DVD drive, a pass-through disk
         [--checkpoint NAME ...]             standard checkpoints taken right after creation
         [--shared-disk FILE.vhds ...]       attached to a VHD Set (several VMs may share one); a
                                             .vhdx FILE that exists is attached as a shared VHDX
  group new --lab DIR --name NAME --vm A [--vm B ...]
                                             a VM group (Msvm_VirtualSystemCollection)
  vhdset new --lab DIR --path FILE.vhds --size SIZE
                                             a VHD Set for a guest cluster's shared disk
  drive map --lab DIR --letter Z: (--to SHARE | --unknown-share)
                                             a drive letter mapped in the caller's logon session
                                             (Win32_LogicalDisk DriveType 4); VMMS cannot open it
  write --lab DIR --vm N --disk I --offset BYTES --length BYTES --seed S [--after METHOD]
                                             a guest write (disk I counts from 0); --after: right
                                             after the next METHOD call about the VM instead
                                             (e.g. Create of Win32_ShadowCopy, ConvertToReferencePoint)
  write --lab DIR --shared-disk FILE.vhds --offset BYTES --length BYTES --seed S
                                             a write to a VHD Set through the cluster's owner
                                             (the first VM attaching it that runs)
  migrate --lab DIR --vm N [--to NODE [--after METHOD]]
                                             live migration (RCT keeps .rct granularity); --to: to
                                             another node of a cluster lab; --after: right after the
                                             VM's next METHOD call (e.g. CreateSnapshot)
  crash --lab DIR                            host crash (RCT keeps .mrt granularity)
  state --lab DIR --vm N Running|Off|Saved|Paused
  guest --lab DIR --vm N --integration ok|missing|failing
  fail --lab DIR --method NAME --code C [--times K] [--at-percent P] [--skip N]
                                             --skip: the first N calls succeed
  jobs --lab DIR [--share PERCENT] [--job-ms N] [--stall METHOD ...] [--no-stall]
                                             job answers, job length, jobs that stop moving
  ls --lab DIR [--json]                      VMs (with their node), volumes, and the most recovery
                                             checkpoints that existed at once per volume and node
  cim query --lab DIR "WQL"
  cim get --lab DIR --path OBJPATH           one instance by object path (each cim command: [--namespace NS] [--node N])
  cim invoke --lab DIR --path OBJPATH --method NAME --args JSON [--wait]
  cim associators --lab DIR --path OBJPATH [--result-class C] [--assoc-class A]
`;

export async function labCommand(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  // The lab's code (the emulated host, about a fifth of the bundle) is loaded only by a lab
  // command or a --lab run (host.ts): every other command, and every run against a real host,
  // starts without initializing it.
  switch (sub) {
    case "init":
      return (await import("./lab/lab_vm")).labInit(rest, io);
    case "vm":
      return (await import("./lab/lab_vm")).labVm(rest, io);
    case "group":
      return (await import("./lab/lab_group")).labGroup(rest, io);
    case "vhdset":
      return (await import("./lab/lab_vhdset")).labVhdset(rest, io);
    case "drive":
      return (await import("./lab/lab_drive")).labDrive(rest, io);
    case "write":
      return (await import("./lab/lab_vm")).labWrite(rest, io);
    case "migrate":
      return (await import("./lab/lab_vm")).labMigrate(rest, io);
    case "crash":
      return (await import("./lab/lab_vm")).labCrash(rest, io);
    case "state":
      return (await import("./lab/lab_vm")).labState(rest, io);
    case "guest":
      return (await import("./lab/lab_vm")).labGuest(rest, io);
    case "fail":
      return (await import("./lab/lab_vm")).labFail(rest, io);
    case "jobs":
      return (await import("./lab/lab_vm")).labJobs(rest, io);
    case "ls":
      return (await import("./lab/lab_vm")).labLs(rest, io);
    case "cim":
      return (await import("./lab/lab_cim")).labCim(rest, io);
    case "--help":
    case "-h":
    case "help":
      io.stdout(USAGE);
      return 0;
    default:
      throw new UsageError(sub === undefined ? USAGE.trimEnd() : `Unknown lab command '${sub}'\n${USAGE.trimEnd()}`);
  }
}
