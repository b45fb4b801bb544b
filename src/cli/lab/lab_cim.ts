/** `hvbackup lab cim query|get|class|invoke|associators`: the lab's WMI seam from the command line. */
import { UsageError } from "../../base/mod";
import { isJobActive, toCimDtd20 } from "../../cim/mod";
import { type ParsedArgs, optionValue, parseArgs, requireOption } from "../args";
import { emitResult } from "../event_output";
import type { CommandIo } from "../io";
import { LabCimSession } from "../../lab/mod";

const USAGE = `Usage:
  hvbackup lab cim query --lab DIR "WQL"
  hvbackup lab cim get --lab DIR --path OBJPATH
  hvbackup lab cim class --lab DIR --class NAME
  hvbackup lab cim invoke --lab DIR --path OBJPATH --method NAME --args JSON [--wait]
  hvbackup lab cim associators --lab DIR --path OBJPATH [--result-class C] [--assoc-class A]
  (each subcommand also takes --namespace NS, default root\\virtualization\\v2, and --node N on a cluster lab)`;

/** The session a subcommand names: `--namespace` (default Hyper-V's) and, on a cluster lab, `--node`. */
function labSession(a: ParsedArgs): LabCimSession {
  const namespace = optionValue(a, "namespace");
  const node = optionValue(a, "node");
  return new LabCimSession(requireOption(a, "lab"), { ...(namespace === undefined ? {} : { namespace }), ...(node === undefined ? {} : { node }) });
}

export async function labCim(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "query": {
      const a = parseArgs(rest, { values: ["lab", "namespace", "node"] });
      if (a.positionals.length !== 1) throw new UsageError(`lab cim query takes one WQL text\n${USAGE}`);
      const session = labSession(a);
      const rows = session.querySync(a.positionals[0]!);
      emitResult(io, rows, () => io.stdout(`${JSON.stringify(rows, null, 1)}\n`));
      return 0;
    }
    case "get": {
      const a = parseArgs(rest, { values: ["lab", "path", "namespace", "node"] });
      if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
      const instance = labSession(a).getInstanceSync(requireOption(a, "path"));
      emitResult(io, instance, () => io.stdout(`${JSON.stringify(instance, null, 1)}\n`));
      return 0;
    }
    case "class": {
      const a = parseArgs(rest, { values: ["lab", "class", "namespace", "node"] });
      if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
      const schema = labSession(a).getClassSync(requireOption(a, "class"));
      emitResult(io, schema, () => io.stdout(`${JSON.stringify(schema, null, 1)}\n`));
      return 0;
    }
    case "associators": {
      const a = parseArgs(rest, { values: ["lab", "path", "result-class", "assoc-class", "namespace", "node"] });
      if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
      const session = labSession(a);
      const path = requireOption(a, "path");
      session.getInstanceSync(path); // a path that names nothing is an error, not an empty list
      const resultClass = optionValue(a, "result-class");
      const assocClass = optionValue(a, "assoc-class");
      const out = session.associatorsSync(path, {
        ...(resultClass === undefined ? {} : { resultClass }),
        ...(assocClass === undefined ? {} : { assocClass }),
      });
      emitResult(io, out, () => io.stdout(`${JSON.stringify(out, null, 1)}\n`));
      return 0;
    }
    case "invoke": {
      const a = parseArgs(rest, { values: ["lab", "path", "method", "args", "namespace", "node"], flags: ["wait"] });
      if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'`);
      const session = labSession(a);
      const argsText = optionValue(a, "args") ?? "{}";
      let args: unknown;
      try {
        args = JSON.parse(argsText);
      } catch (e) {
        throw new UsageError(`--args must be a JSON object: ${(e as Error).message}`);
      }
      if (typeof args !== "object" || args === null || Array.isArray(args)) throw new UsageError("--args must be a JSON object");
      const result: Record<string, unknown> = session.invokeMethodSync(requireOption(a, "path"), requireOption(a, "method"), asTransport(session, args as Record<string, unknown>));
      if (a.flags.has("wait") && result["ReturnValue"] === 4096 && typeof result["Job"] === "string") {
        const jobPath = result["Job"];
        let job = session.getInstanceSync(jobPath);
        while (isJobActive(Number(job["JobState"]))) {
          await new Promise((r) => setTimeout(r, 20));
          job = session.getInstanceSync(jobPath);
        }
        result["Job"] = job;
        result["AffectedElements"] = session.associatorsSync(jobPath, { assocClass: "CIM_AffectedJobElement" }).map((i) => i.__PATH);
      }
      emitResult(io, result, () => io.stdout(`${JSON.stringify(result)}\n`));
      return 0;
    }
    default:
      throw new UsageError(USAGE);
  }
}

/**
 * Arguments as a WMI transport sends them: an embedded instance given as a JSON object with
 * `__CLASS` becomes CIM-DTD 2.0 text typed by the lab's class schema (as the Windows transport's
 * ManagementClass.CreateInstance + GetText does); text passes through unchanged.
 */
function asTransport(session: LabCimSession, args: Record<string, unknown>): Record<string, unknown> {
  const one = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v) && typeof (v as { __CLASS?: unknown }).__CLASS === "string"
      ? toCimDtd20(session.getClassSync((v as { __CLASS: string }).__CLASS), v as Record<string, unknown>)
      : v;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) out[k] = Array.isArray(v) ? v.map(one) : one(v);
  return out;
}
