import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach } from "vitest";
import type { EngineEvents } from "../../../src/engine/mod";
import { type Catalog, Repository, type VmStore, pointId, withSelfChecksum } from "../../../src/repository/mod";
import { createVhdx } from "../../../src/vhdx/mod";

/**
 * A small real repository, made in-process through the point writer (the path backups take):
 * one VM, one 4 MiB disk in 1 MiB units, a full and increments, each point writing one unit
 * filled with its number. Fast enough (tens of ms) to build one per property-test run.
 */

/** Engine events that go nowhere, for tests that only look at results. */
export const quiet: EngineEvents = { progress() {}, warning() {}, info() {} };

export const VM_ID = "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41";
export const MiB = 1024 * 1024;
const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temporary folder removed after the test. */
export function scratch(): string {
  const d = mkdtempSync(path.join(tmpdir(), "hvb-repo-fixture-"));
  made.push(d);
  return d;
}

export interface Fixture {
  root: string;
  repo: Repository;
  store: VmStore;
  ids: string[];
  /** The guest's disk content at each point (4 units, one byte value each). */
  content: Map<string, number[]>;
}

function sha(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Builds a repository with `points` points (1 full, then increments), VM `name`. */
export function buildRepo(points: number, options: { root?: string; name?: string; vmId?: string } = {}): Fixture {
  const root = options.root ?? scratch();
  const repo = new Repository(root);
  const store = repo.vmStore(options.name ?? "v", options.vmId ?? VM_ID);
  const ids: string[] = [];
  const content = new Map<string, number[]>();
  let state = [0, 0, 0, 0];
  let parentFile: string | undefined;
  for (let i = 0; i < points; i++) {
    const kind = i === 0 ? "full" : "incremental";
    const time = new Date(Date.UTC(2026, 10, 23, 18, i, 0, 123));
    const id = pointId(time, kind);
    const catalog = store.readCatalog();
    const w = store.beginPoint(id);
    const f = w.diskFile("00-d", kind === "incremental");
    const img = createVhdx(f.absolute, kind === "full" ? { virtualSize: 4 * MiB, blockSize: MiB } : { parentPath: parentFile!, blockSize: MiB });
    const unit = i % 4;
    const data = Buffer.alloc(MiB, i + 1);
    img.write(data, unit * MiB);
    img.close();
    state = [...state];
    state[unit] = i + 1;
    w.addDisk({ index: 0, file: f.relative, sourcePath: "C:\\VMs\\d.vhdx", virtualSize: 4 * MiB, unitSize: MiB, storedBytes: MiB, method: kind === "full" ? "full" : "rct" }, { [String(unit)]: sha(data) });
    mkdirSync(path.join(w.staging, "Virtual Machines"), { recursive: true });
    writeFileSync(path.join(w.staging, "Virtual Machines", `${options.vmId ?? VM_ID}.vmcx`), `config ${i}`);
    w.addConfiguration();
    w.commit(catalog, { time, kind, parentId: ids[ids.length - 1] ?? null, consistency: "crash", vmId: options.vmId ?? VM_ID, vmName: options.name ?? "v", warnings: [] });
    parentFile = store.pointFile(id, f.relative);
    ids.push(id);
    content.set(id, state);
  }
  return { root, repo, store, ids, content };
}

/** Rewrites a JSON document as an adversary (or a bug) would: changed, with a valid checksum. */
export function tamperJson(file: string, change: (doc: Record<string, unknown>) => unknown): void {
  const doc = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  delete doc["checksum"];
  const out = change(doc) ?? doc;
  writeFileSync(file, JSON.stringify(typeof out === "object" && out !== null && !Array.isArray(out) ? withSelfChecksum(out) : out, null, 2));
}

/** Changes the catalog (see {@link tamperJson}). */
export function tamperCatalog(f: Fixture, change: (c: Catalog & Record<string, unknown>) => unknown): void {
  tamperJson(f.store.catalogFile, change as (doc: Record<string, unknown>) => unknown);
}

/** Every file below `dir` with its content hash (links as their target text). */
export function treeState(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const p = path.join(dir, r);
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out[r] = sha(readFileSync(p));
      else out[r] = `(${e.isSymbolicLink() ? "link" : "special"})`;
    }
  };
  walk("");
  return out;
}
