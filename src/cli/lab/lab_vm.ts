/** `hvbackup lab init|vm new|write|migrate|crash|state|fail|guest|ls`: driving the lab host. */
import { UsageError } from "../../base/mod";
import { type ParsedArgs, optionValue, parseArgs, parseInteger, parseSize, requireOption } from "../args";
import { emitResult } from "../event_output";
import type { CommandIo } from "../io";
import { addFault, releaseStalledJobs } from "../../lab/mod";
import { attachSharedDisks, createVm, crashHost, guestWriteInLab, migrateVm, setVmState, sharedWriteInLab } from "../../lab/mod";
import { type DeviceSlot, EnabledState, KNOWN_CONFIG_VERSIONS, type LabState, stateName, type VmRecord, vmByName, type IntegrationState } from "../../lab/mod";
import { checkNode, initLab, mutateLab, nodeOf, readLabState } from "../../lab/mod";
import { MAX_CONFIG_VERSION, defaultHostVersion, hostRunsConfigVersion, parseHostVersion } from "../../lab/mod";

export function labInit(argv: string[], io: CommandIo): number {
  const a = parseArgs(argv, { values: ["job-ms", "nodes", "host-version", "order", "seed", "job-share", "rct-page"] });
  if (a.positionals.length !== 1) throw new UsageError("Usage: hvbackup lab init DIR [--job-ms N] [--nodes N] [--host-version 2016|2019|2022|2025] [--order shuffled|stable] [--seed N] [--job-share PERCENT] [--rct-page BYTES]");
  const jobMs = optionValue(a, "job-ms");
  const nodesText = optionValue(a, "nodes");
  const nodes = nodesText === undefined ? 0 : parseInteger(nodesText, "--nodes");
  if (nodesText !== undefined && (nodes < 2 || nodes > 16)) throw new UsageError("--nodes must be from 2 to 16 (a cluster lab)");
  const hv = optionValue(a, "host-version");
  const hostVersion = hv === undefined ? defaultHostVersion() : parseHostVersion(hv, "--host-version");
  const order = optionValue(a, "order");
  if (order !== undefined && order !== "shuffled" && order !== "stable") throw new UsageError(`--order must be shuffled or stable, got '${order}'`);
  const seed = optionValue(a, "seed");
  const rctPage = optionValue(a, "rct-page");
  const rctMaxProcessed = rctPage === undefined ? undefined : parseInteger(rctPage, "--rct-page");
  if (rctMaxProcessed !== undefined && rctMaxProcessed < 512) throw new UsageError(`--rct-page must be at least 512 bytes, got ${rctPage}`);
  const dir = a.positionals[0]!;
  const config = {
    hostVersion,
    ...(jobMs === undefined ? {} : { jobDurationMs: parseInteger(jobMs, "--job-ms") }),
    ...(order === undefined ? {} : { enumerationOrder: order as "shuffled" | "stable" }),
    ...(seed === undefined ? {} : { seed: parseInteger(seed, "--seed") }),
    ...(rctMaxProcessed === undefined ? {} : { rctMaxProcessed }),
    ...(optionValue(a, "job-share") === undefined ? {} : { jobShare: percentOption(optionValue(a, "job-share")!, "--job-share") }),
  };
  const state = initLab(dir, config, undefined, nodes);
  const cluster = nodes > 0 ? ` as a ${nodes}-node cluster (${(state.nodes ?? []).join(", ")}) sharing '${state.volumes?.find((v) => v.csv)?.root ?? ""}'` : "";
  emitResult(io, { lab: dir, nodes: state.nodes ?? [], hostVersion }, () => io.stdout(`Created lab host in '${dir}' (Windows Server ${hostVersion})${cluster}\n`));
  return 0;
}

/** `SIZE` or `SIZE@ide:C:A` / `SIZE@scsi:C:LUN`: a disk's size and, optionally, its slot. */
function diskSpec(text: string): { size: number; slot: DeviceSlot | undefined } {
  const [sizeText, where] = text.split("@") as [string, string | undefined];
  const size = parseSize(sizeText, "--disk");
  if (where === undefined) return { size, slot: undefined };
  const m = /^(ide|scsi):(\d+):(\d+)$/i.exec(where);
  if (!m) throw new UsageError(`--disk slot must be ide:CONTROLLER:ADDRESS or scsi:CONTROLLER:LUN (e.g. 16MiB@scsi:1:0), got '${where}'`);
  return { size, slot: { controller: m[1]!.toLowerCase() as "ide" | "scsi", controllerIndex: Number(m[2]), address: Number(m[3]) } };
}

/** The JSON shape of one VM in `lab ls --json` (pinned by the issue; `node` is the host or the owning cluster node). */
export function vmSummary(vm: VmRecord, state?: LabState): { name: string; id: string; state: string; configVersion: string; generation: number; disks: { path: string }[]; node?: string } {
  return {
    name: vm.name,
    id: vm.id,
    state: stateName(vm.state),
    configVersion: vm.configVersion,
    generation: vm.hardware.generation,
    disks: vm.disks.map((d) => ({ path: d.path })),
    ...(state === undefined ? {} : { node: nodeOf(state, vm) }),
  };
}

export function labVm(argv: string[], io: CommandIo): number {
  const [sub, ...rest] = argv;
  if (sub !== "new") {
    throw new UsageError(
      "Usage: hvbackup lab vm new --lab DIR --name N --disk SIZE[@ide|scsi:C:A] [--disk ...] [--config-version X.Y] [--generation 1|2] [--guest windows|linux|none] [--no-scsi] [--vhd] [--volume V] [--node N] [--dvd] [--passthrough] [--checkpoint NAME ...] [--shared-disk FILE.vhds ...]",
    );
  }
  const a = parseArgs(rest, { values: ["lab", "name", "disk", "config-version", "generation", "guest", "volume", "node", "checkpoint", "shared-disk"], flags: ["no-scsi", "vhd", "dvd", "passthrough"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
  const dir = requireOption(a, "lab");
  const name = requireOption(a, "name");
  const specs = (a.options.get("disk") ?? []).map(diskSpec);
  const disks = specs.map((d) => d.size);
  if (disks.length === 0) throw new UsageError("Missing required option --disk (give it once per disk)");
  for (const d of disks) if (d <= 0 || d % (1024 * 1024) !== 0) throw new UsageError(`--disk sizes must be whole MiB, got ${d} bytes`);
  // 9.0 unless the host's release runs only older versions (Server 2016: 8.0).
  const hostVersion = readLabState(dir).config.hostVersion;
  const configVersion = optionValue(a, "config-version") ?? (hostRunsConfigVersion(hostVersion, "9.0") ? "9.0" : MAX_CONFIG_VERSION[hostVersion]);
  if (!KNOWN_CONFIG_VERSIONS.includes(configVersion)) throw new UsageError(`--config-version must be one of ${KNOWN_CONFIG_VERSIONS.join(", ")}, got '${configVersion}'`);
  if (!hostRunsConfigVersion(hostVersion, configVersion)) throw new UsageError(`--config-version ${configVersion} does not run on Windows Server ${hostVersion} (at most ${MAX_CONFIG_VERSION[hostVersion]})`);
  const genText = optionValue(a, "generation") ?? "2";
  if (genText !== "1" && genText !== "2") throw new UsageError(`--generation must be 1 or 2, got '${genText}'`);
  const guest = optionValue(a, "guest") ?? "windows";
  if (guest !== "windows" && guest !== "linux" && guest !== "none") throw new UsageError(`--guest must be windows, linux or none, got '${guest}'`);
  const shared = a.options.get("shared-disk") ?? [];
  const vm = mutateLab(dir, (state) => {
    const made = createVm(state, dir, {
      name,
      diskSizes: disks,
      configVersion,
      generation: genText === "1" ? 1 : 2,
      guest,
      scsi: !a.flags.has("no-scsi"),
      format: a.flags.has("vhd") ? "vhd" : "vhdx",
      ...optionalPlacement(a),
      diskSlots: specs.map((d) => d.slot),
      dvd: a.flags.has("dvd"),
      passthrough: a.flags.has("passthrough"),
      checkpoints: a.options.get("checkpoint") ?? [],
    }, Date.now());
    // After the checkpoints (a shared disk is never part of a VM's own checkpoint).
    attachSharedDisks(state, made, shared);
    return made;
  });
  const summary = vmSummary(vm, readLabState(dir));
  emitResult(io, summary, () => io.stdout(`${JSON.stringify(summary)}\n`));
  return 0;
}

/** `--volume V` / `--node N` of `lab vm new`, when given. */
function optionalPlacement(a: ParsedArgs): { volume?: string; node?: string } {
  const volume = optionValue(a, "volume");
  const node = optionValue(a, "node");
  return { ...(volume === undefined ? {} : { volume }), ...(node === undefined ? {} : { node }) };
}

export function labWrite(argv: string[], io: CommandIo): number {
  const a = parseArgs(argv, { values: ["lab", "vm", "disk", "offset", "length", "seed", "after", "shared-disk"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
  const dir = requireOption(a, "lab");
  const sharedDisk = optionValue(a, "shared-disk");
  if (sharedDisk !== undefined) {
    if (optionValue(a, "vm") !== undefined || optionValue(a, "disk") !== undefined) throw new UsageError("--shared-disk writes through the cluster's owner: give it without --vm and --disk");
    const off = parseSize(requireOption(a, "offset"), "--offset");
    const len = parseSize(requireOption(a, "length"), "--length");
    if (len > 256 * 1024 * 1024) throw new UsageError("--length must be at most 256MiB per write");
    const { owner } = sharedWriteInLab(dir, sharedDisk, off, len, requireOption(a, "seed"));
    emitResult(io, { sharedDisk, owner, offset: off, length: len }, () => io.stdout(`Wrote ${len} bytes at ${off} to VHD Set '${sharedDisk}' through '${owner}'\n`));
    return 0;
  }
  const name = requireOption(a, "vm");
  const index = parseInteger(requireOption(a, "disk"), "--disk");
  const offset = parseSize(requireOption(a, "offset"), "--offset");
  const length = parseSize(requireOption(a, "length"), "--length");
  const seed = requireOption(a, "seed");
  if (length > 256 * 1024 * 1024) throw new UsageError("--length must be at most 256MiB per write");
  const after = optionValue(a, "after");
  if (after !== undefined) {
    // Armed: written right after the next call of METHOD about the VM (lab/host/armed_writes.ts).
    mutateLab(dir, (state) => {
      const vm = vmByName(state, name);
      if (!vm.disks[index]) throw new UsageError(`VM '${name}' has no disk ${index}`);
      (vm.writeAfter ??= []).push({ method: after, disk: index, offset, length, seed });
    });
    emitResult(io, { vm: name, disk: index, offset, length, after }, () => io.stdout(`VM '${name}' will write ${length} bytes at ${offset} to disk ${index} right after its next ${after} call\n`));
    return 0;
  }
  guestWriteInLab(dir, name, index, offset, length, seed);
  emitResult(io, { vm: name, disk: index, offset, length }, () => io.stdout(`Wrote ${length} bytes at ${offset} to disk ${index} of VM '${name}'\n`));
  return 0;
}

export function labMigrate(argv: string[], io: CommandIo): number {
  const a = parseArgs(argv, { values: ["lab", "vm", "to", "after"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
  const dir = requireOption(a, "lab");
  const name = requireOption(a, "vm");
  const to = optionValue(a, "to");
  const after = optionValue(a, "after");
  if (after !== undefined) {
    if (to === undefined) throw new UsageError("--after needs --to NODE (a migration to another node of a cluster lab)");
    mutateLab(dir, (state) => {
      const vm = vmByName(state, name);
      checkNode(state, to);
      vm.migrateAfter = { method: after, to };
    });
    emitResult(io, { vm: name, node: to, after }, () => io.stdout(`VM '${name}' will live-migrate to node '${to}' right after its next ${after} call\n`));
    return 0;
  }
  const node = mutateLab(dir, (state) => {
    const vm = vmByName(state, name);
    migrateVm(state, vm, to);
    return nodeOf(state, vm);
  });
  if (to === undefined) emitResult(io, { vm: name, node }, () => io.stdout(`Live-migrated VM '${name}' away and back: change tracking kept at .rct granularity\n`));
  else emitResult(io, { vm: name, node }, () => io.stdout(`Live-migrated VM '${name}' to node '${node}': change tracking kept at .rct granularity\n`));
  return 0;
}

export function labCrash(argv: string[], io: CommandIo): number {
  const a = parseArgs(argv, { values: ["lab"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
  const dir = requireOption(a, "lab");
  mutateLab(dir, (state) => crashHost(state, Date.now()));
  emitResult(io, { lab: dir }, () => io.stdout("Host crashed and restarted: running VMs are Off, change tracking kept at .mrt granularity, jobs lost\n"));
  return 0;
}

export function labState(argv: string[], io: CommandIo): number {
  const a = parseArgs(argv, { values: ["lab", "vm"] });
  const dir = requireOption(a, "lab");
  const name = requireOption(a, "vm");
  if (a.positionals.length !== 1) throw new UsageError("Usage: hvbackup lab state --lab DIR --vm N Running|Off|Saved|Paused");
  const want = a.positionals[0]!;
  const key = (Object.keys(EnabledState) as (keyof typeof EnabledState)[]).find((k) => k.toLowerCase() === want.toLowerCase());
  if (!key) throw new UsageError(`State must be Running, Off, Saved or Paused, got '${want}'`);
  mutateLab(dir, (state) => setVmState(vmByName(state, name), EnabledState[key], Date.now()));
  emitResult(io, { vm: name, state: key }, () => io.stdout(`VM '${name}' is now ${key}\n`));
  return 0;
}

function percentOption(text: string, name: string): number {
  const n = parseInteger(text, name);
  if (n > 100) throw new UsageError(`${name} must be from 0 to 100, got ${n}`);
  return n;
}

/**
 * `lab jobs`: how the host answers methods documented to answer with a job: the share of calls
 * that do, how long jobs take, and which methods' jobs stall (PercentComplete stops moving).
 */
export function labJobs(argv: string[], io: CommandIo): number {
  const a = parseArgs(argv, { values: ["lab", "share", "job-ms", "stall"], flags: ["no-stall"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
  const dir = requireOption(a, "lab");
  const share = optionValue(a, "share");
  const jobMs = optionValue(a, "job-ms");
  const stall = a.options.get("stall") ?? [];
  const config = mutateLab(dir, (state) => {
    if (share !== undefined) state.config.jobShare = percentOption(share, "--share");
    if (jobMs !== undefined) state.config.jobDurationMs = parseInteger(jobMs, "--job-ms");
    if (a.flags.has("no-stall")) {
      state.config.stallMethods = [];
      // Stalled jobs move again and finish from now on.
      releaseStalledJobs(state, Date.now());
    }
    if (stall.length > 0) state.config.stallMethods = [...new Set([...(state.config.stallMethods ?? []), ...stall])];
    return { jobShare: state.config.jobShare ?? 0, jobMs: state.config.jobDurationMs, stall: state.config.stallMethods ?? [] };
  });
  emitResult(io, config, () =>
    io.stdout(`Jobs: ${config.jobShare}% of job-capable calls answer with a job; jobs take ${config.jobMs} ms${config.stall.length ? `; jobs of ${config.stall.join(", ")} stall` : ""}\n`),
  );
  return 0;
}

export function labFail(argv: string[], io: CommandIo): number {
  const a = parseArgs(argv, { values: ["lab", "method", "code", "times", "at-percent", "skip"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
  const dir = requireOption(a, "lab");
  const method = requireOption(a, "method");
  const code = parseInteger(requireOption(a, "code"), "--code");
  if (code > 65535) throw new UsageError(`--code must be at most 65535 (uint16), got ${code}`);
  const timesText = optionValue(a, "times");
  const times = timesText === undefined ? 1 : parseInteger(timesText, "--times");
  if (times < 1) throw new UsageError("--times must be at least 1");
  const pct = optionValue(a, "at-percent");
  const atPercent = pct === undefined ? undefined : parseInteger(pct, "--at-percent");
  if (atPercent !== undefined && atPercent > 100) throw new UsageError("--at-percent must be from 0 to 100");
  const skipText = optionValue(a, "skip");
  const skip = skipText === undefined ? 0 : parseInteger(skipText, "--skip");
  mutateLab(dir, (state) => addFault(state, { method, code, times, skip, ...(atPercent === undefined ? {} : { atPercent }) }));
  emitResult(io, { method, code, times, atPercent: atPercent ?? null, skip }, () =>
    io.stdout(`${skip > 0 ? `After ${skip} call(s) that succeed, the` : "The"} next ${times} call(s) of ${method} will fail with ${code}${atPercent === undefined ? "" : ` at ${atPercent}% of their job`}\n`),
  );
  return 0;
}

export function labGuest(argv: string[], io: CommandIo): number {
  const a = parseArgs(argv, { values: ["lab", "vm", "integration"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
  const dir = requireOption(a, "lab");
  const name = requireOption(a, "vm");
  const integration = requireOption(a, "integration");
  if (!["ok", "missing", "failing"].includes(integration)) throw new UsageError(`--integration must be ok, missing or failing, got '${integration}'`);
  mutateLab(dir, (state) => {
    vmByName(state, name).integration = integration as IntegrationState;
  });
  emitResult(io, { vm: name, integration }, () => io.stdout(`Backup integration service of VM '${name}' is now ${integration}\n`));
  return 0;
}

export function labLs(argv: string[], io: CommandIo): number {
  const a = parseArgs(argv, { values: ["lab"], flags: ["json"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
  const state: LabState = readLabState(requireOption(a, "lab"));
  const vms = state.vms.map((v) => vmSummary(v, state));
  // What the host measured: recovery checkpoints that existed at once, per volume and node.
  const load = state.checkpointLoad ?? { current: {}, peak: {} };
  const volumes = (state.volumes ?? []).map((v) => ({ name: v.name, root: v.root, csv: v.csv, peakCheckpoints: load.peak[`volume:${v.name}`] ?? 0 }));
  const nodes = (state.nodes ?? []).map((n) => ({ name: n, peakCheckpoints: load.peak[`node:${n}`] ?? 0 }));
  const listing = { vms, volumes, nodes, peakCheckpoints: load.peak["host"] ?? 0 };
  if (io.events) {
    io.events.result(listing, "");
    return 0;
  }
  if (a.flags.has("json")) {
    io.stdout(`${JSON.stringify(listing)}\n`);
    return 0;
  }
  if (vms.length === 0) {
    io.stdout("No VMs\n");
    return 0;
  }
  const rows = [["NAME", "STATE", "ID", "CONFIG", "GEN", "DISKS"], ...vms.map((v) => [v.name, v.state, v.id, v.configVersion, String(v.generation), v.disks.map((d) => d.path).join(", ")])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) io.stdout(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}\n`);
  return 0;
}
