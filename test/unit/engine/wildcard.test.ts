import { describe, expect, it } from "vitest";
import { hasWildcard, wildcardRegExp } from "../../../src/engine/backup/wildcard";

describe("VM name patterns (Get-VM's wildcards)", () => {
  it("tells patterns from names", () => {
    expect(hasWildcard("web*")).toBe(true);
    expect(hasWildcard("db?")).toBe(true);
    expect(hasWildcard("vm[1-3]")).toBe(true);
    expect(hasWildcard("web01")).toBe(false);
    expect(hasWildcard("odd`*name")).toBe(false);
  });

  it("matches the whole name without case", () => {
    const m = (p: string, n: string) => wildcardRegExp(p).test(n);
    expect(m("web*", "WEB01")).toBe(true);
    expect(m("web*", "myweb01")).toBe(false);
    expect(m("db?", "db1")).toBe(true);
    expect(m("db?", "db12")).toBe(false);
    expect(m("vm[1-3]", "vm2")).toBe(true);
    expect(m("vm[1-3]", "vm4")).toBe(false);
    expect(m("a.b*", "axb")).toBe(false);
    expect(m("odd`*name", "odd*name")).toBe(true);
    expect(m("odd`*name", "oddXname")).toBe(false);
    expect(m("x[", "x[")).toBe(true);
  });
});
