import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultDestination, defaultDestinationName } from "../../../src/engine/restore_destination";

describe("the default restore destination never leaves its folder (issue 9)", () => {
  it("keeps plain names and makes hostile ones safe", () => {
    expect(defaultDestinationName("web01")).toBe("web01");
    expect(defaultDestinationName("../../etc")).toBe(".._.._etc");
    expect(defaultDestinationName("/etc/passwd")).toBe("_etc_passwd");
    expect(defaultDestinationName("C:\\Windows\\System32")).toBe("C__Windows_System32");
    expect(defaultDestinationName("..")).toBe("_");
    expect(defaultDestinationName(" . ")).toBe("_");
    expect(defaultDestinationName("")).toBe("_");
  });
  it("resolves inside the base folder whatever the name", () => {
    const base = path.resolve("/srv/restores");
    for (const name of ["web01", "..", "../x", "/abs", "C:\\x", "a/../../b", "\u0000"]) {
      const d = defaultDestination(base, name);
      expect(path.dirname(d)).toBe(base);
    }
  });
});
