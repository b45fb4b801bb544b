/**
 * VM name patterns as Get-VM -Name takes them (PowerShell wildcards): `*` any run of characters,
 * `?` one character, `[abc]` / `[a-z]` one of a set, a backtick escapes the next character;
 * matched without case, the whole name.
 */

/** True when `text` holds a wildcard character (so it is a pattern, not a name). */
export function hasWildcard(text: string): boolean {
  return /(^|[^`])[*?[]/.test(text);
}

/** The pattern as a regular expression anchored at both ends, case-insensitive. */
export function wildcardRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "`" && i + 1 < pattern.length) {
      re += escape(pattern[++i]!);
    } else if (c === "*") {
      re += "[\\s\\S]*";
    } else if (c === "?") {
      re += "[\\s\\S]";
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      const body = pattern.slice(i + 1, end).replace(/[\\\]^]/g, (x) => `\\${x}`);
      re += `[${body}]`;
      i = end;
    } else {
      re += escape(c);
    }
  }
  return new RegExp(`^${re}$`, "i");
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
