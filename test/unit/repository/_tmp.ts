import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach } from "vitest";

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temporary folder removed after the test. */
export function tempFolder(): string {
  const d = mkdtempSync(path.join(tmpdir(), "hvb-repo-unit-"));
  made.push(d);
  return d;
}
