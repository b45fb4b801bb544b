/**
 * The field tables of docs/design/repository.md are generated from the schemas the readers
 * validate with: this test fails when they differ. `HVB_WRITE_DOCS=1 npx vitest run
 * test/unit/repository/schema_docs.test.ts` rewrites them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CatalogSchema, ManifestSchema, SetSchema, fieldTableMarkdown } from "../../../src/repository/mod";

const DOC = path.resolve(__dirname, "../../../docs/design/repository.md");
const tables = { catalog: CatalogSchema, manifest: ManifestSchema, set: SetSchema } as const;

function section(name: string): { begin: string; end: string } {
  return { begin: `<!-- ${name} fields: generated from src/repository/${name}_schema.ts (test/unit/repository/schema_docs.test.ts) -->`, end: `<!-- end of ${name} fields -->` };
}

describe("docs/design/repository.md field tables", () => {
  for (const [name, schema] of Object.entries(tables)) {
    it(`${name}.json's table is the schema's`, () => {
      const { begin, end } = section(name);
      let doc = readFileSync(DOC, "utf8");
      const want = `${begin}\n${fieldTableMarkdown(schema)}\n${end}`;
      const i = doc.indexOf(begin);
      const j = doc.indexOf(end);
      if (process.env["HVB_WRITE_DOCS"] === "1" && i >= 0 && j > i) {
        doc = doc.slice(0, i) + want + doc.slice(j + end.length);
        writeFileSync(DOC, doc);
      }
      expect(i, `docs/design/repository.md has no '${begin}' marker`).toBeGreaterThanOrEqual(0);
      expect(doc.slice(i, j + end.length)).toBe(want);
    });
  }
  it("every field of the schemas has a meaning and a 'must be'", () => {
    for (const schema of Object.values(tables)) {
      const md = fieldTableMarkdown(schema);
      for (const line of md.split("\n").slice(2)) expect(line, line).not.toMatch(/\|\s*\|/);
    }
  });
});
