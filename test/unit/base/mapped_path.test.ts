import { describe, expect, it } from "vitest";
import { driveLetterOf, mappedDriveOf, onShare } from "../../../src/base/mapped_path";

describe("mapped drive paths", () => {
  const z = { letter: "Z:", target: "\\\\nas\\vm" };
  it("finds the letter and its mapping, case aside", () => {
    expect(driveLetterOf("z:\\b")).toBe("Z:");
    expect(driveLetterOf("\\\\?\\Z:\\b")).toBe("Z:");
    expect(driveLetterOf("\\\\nas\\vm\\b")).toBeUndefined();
    expect(mappedDriveOf("z:/b", [z])).toBe(z);
    expect(mappedDriveOf("C:\\b", [z])).toBeUndefined();
  });
  it("puts the share in place of the letter", () => {
    expect(onShare("Z:\\backups\\hv", z)).toBe("\\\\nas\\vm\\backups\\hv");
    expect(onShare("Z:/a//b/", { letter: "Z:", target: "\\\\nas\\vm\\" })).toBe("\\\\nas\\vm\\a\\b");
    expect(onShare("Z:\\", z)).toBe("\\\\nas\\vm");
    expect(onShare("Z:\\a\\b", { letter: "Z:", target: "/srv/share" })).toBe("/srv/share/a/b");
  });
});
