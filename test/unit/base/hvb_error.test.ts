import { describe, expect, it } from "vitest";
import { HvbError, toHvbError, UsageError } from "../../../src/base/hvb_error";

/** An operating-system error as node's fs raises it. */
function errno(code: string, path?: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: something failed${path ? `, open '${path}'` : ""}`);
  e.code = code;
  if (path) e.path = path;
  return e;
}

describe("toHvbError", () => {
  it.each([
    ["ENOENT", "FileNotFound", "ObjectNotFound"],
    ["EACCES", "AccessDenied", "PermissionDenied"],
    ["EPERM", "AccessDenied", "PermissionDenied"],
    ["ENOSPC", "DiskFull", "WriteError"],
    ["EEXIST", "FileExists", "ResourceUnavailable"],
    ["EISDIR", "IsADirectory", "InvalidArgument"],
    ["ENOTDIR", "NotADirectory", "InvalidArgument"],
    ["EIO", "IoError", "NotSpecified"],
  ])("maps %s to %s (%s), keeping the message, path and cause", (sys, code, category) => {
    const e = errno(sys, "/x/disk.vhdx");
    const h = toHvbError(e);
    expect(h).toBeInstanceOf(HvbError);
    expect(h.code).toBe(code);
    expect(h.category).toBe(category);
    expect(h.message).toBe(e.message);
    expect(h.target).toBe("/x/disk.vhdx");
    expect(h.cause).toBe(e);
  });

  it("leaves the target unset when the error names no path", () => {
    expect(toHvbError(errno("ENOENT")).target).toBeUndefined();
  });

  it("returns an HvbError unchanged", () => {
    const u = new UsageError("bad flag");
    expect(toHvbError(u)).toBe(u);
  });

  it("reports a failed allocation as OutOfMemory", () => {
    const h = toHvbError(new RangeError("Array buffer allocation failed"));
    expect(h.code).toBe("OutOfMemory");
    expect(h.category).toBe("ResourceUnavailable");
  });

  it("reports anything else as an internal error (a bug)", () => {
    expect(toHvbError(new TypeError("x is undefined")).code).toBe("InternalError");
    expect(toHvbError("thrown string").message).toBe("internal error: thrown string");
    expect(toHvbError(new RangeError("offset out of range")).code).toBe("InternalError");
  });
});
