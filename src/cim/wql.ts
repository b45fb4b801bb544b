/**
 * The WQL subset the product uses and the lab answers:
 *
 *   SELECT * | Prop[, Prop...] FROM Class [WHERE cond [AND cond ...]]
 *   cond := Prop op literal | Prop IS [NOT] NULL        op := = | <> | != | < | > | <= | >=
 *   literal := 'text' | "text" | number | TRUE | FALSE | NULL
 *
 * As in WMI, keywords, class and property names are case-insensitive and string comparisons
 * ignore case. OR, LIKE, ISA, ASSOCIATORS OF and parentheses are not supported: they raise a
 * clear error instead of being misread. Nothing here knows about Hyper-V.
 */
import { HvbError } from "../base/mod";

export type WqlLiteral = string | number | boolean | null;
export type WqlOperator = "=" | "<>" | "<" | ">" | "<=" | ">=" | "IS NULL" | "IS NOT NULL";

export interface WqlCondition {
  property: string;
  op: WqlOperator;
  value: WqlLiteral;
}

export interface WqlQuery {
  className: string;
  /** `*` or the selected property names (the lab still returns keys, `__PATH` and `__CLASS`). */
  properties: "*" | string[];
  /** Conditions joined by AND; empty when there is no WHERE clause. */
  where: WqlCondition[];
}

function wqlError(text: string, why: string): HvbError {
  return new HvbError("CimInvalidQuery", `Cannot parse WQL '${text}': ${why}`, {
    category: "InvalidArgument",
    target: text,
  });
}

type Token = { kind: "word" | "string" | "number" | "op" | "comma" | "star"; text: string };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let s = "";
      i++;
      for (;;) {
        if (i >= text.length) throw wqlError(text, "unterminated string");
        const d = text[i]!;
        if (d === "\\" && i + 1 < text.length) {
          s += text[i + 1]!;
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          s += d;
          i++;
        }
      }
      out.push({ kind: "string", text: s });
    } else if (c === ",") {
      out.push({ kind: "comma", text: c });
      i++;
    } else if (c === "*") {
      out.push({ kind: "star", text: c });
      i++;
    } else if ("=<>!".includes(c)) {
      const two = text.slice(i, i + 2);
      const op = ["<>", "!=", "<=", ">="].includes(two) ? two : c;
      if (op === "!") throw wqlError(text, "'!' must be followed by '='");
      out.push({ kind: "op", text: op === "!=" ? "<>" : op });
      i += op.length;
    } else if (/[-\d]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!m) throw wqlError(text, `unexpected '${c}'`);
      out.push({ kind: "number", text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      out.push({ kind: "word", text: m[0] });
      i += m[0].length;
    } else {
      throw wqlError(text, `unexpected '${c}'`);
    }
  }
  return out;
}

/**
 * Parses a query of the supported subset.
 *
 * @example
 * parseWql("SELECT * FROM Msvm_ComputerSystem WHERE ElementName='web01'").where;
 * // [{ property: "ElementName", op: "=", value: "web01" }]
 */
export function parseWql(text: string): WqlQuery {
  const t = tokenize(text);
  let i = 0;
  const isWord = (w: string) => t[i]?.kind === "word" && t[i]!.text.toUpperCase() === w;
  const expectWord = (w: string) => {
    if (!isWord(w)) throw wqlError(text, `expected ${w}${t[i] ? ` but found '${t[i]!.text}'` : " at the end"}`);
    i++;
  };
  expectWord("SELECT");
  let properties: "*" | string[];
  if (t[i]?.kind === "star") {
    properties = "*";
    i++;
  } else {
    properties = [];
    for (;;) {
      if (t[i]?.kind !== "word") throw wqlError(text, "expected a property name or * after SELECT");
      properties.push(t[i]!.text);
      i++;
      if (t[i]?.kind !== "comma") break;
      i++;
    }
  }
  expectWord("FROM");
  if (t[i]?.kind !== "word") throw wqlError(text, "expected a class name after FROM");
  const className = t[i]!.text;
  i++;
  const where: WqlCondition[] = [];
  if (i < t.length) {
    expectWord("WHERE");
    for (;;) {
      if (t[i]?.kind !== "word") throw wqlError(text, "expected a property name in WHERE");
      const property = t[i]!.text;
      i++;
      if (isWord("IS")) {
        i++;
        let not = false;
        if (isWord("NOT")) {
          not = true;
          i++;
        }
        expectWord("NULL");
        where.push({ property, op: not ? "IS NOT NULL" : "IS NULL", value: null });
      } else {
        if (t[i]?.kind !== "op") {
          const w = t[i]?.text.toUpperCase();
          if (w === "LIKE" || w === "ISA") throw wqlError(text, `${w} is not supported by this WQL subset`);
          throw wqlError(text, `expected an operator after ${property}`);
        }
        const op = t[i]!.text as WqlOperator;
        i++;
        const v = t[i];
        if (!v) throw wqlError(text, `expected a value after ${property} ${op}`);
        let value: WqlLiteral;
        if (v.kind === "string") value = v.text;
        else if (v.kind === "number") value = Number(v.text);
        else if (v.kind === "word" && /^(true|false)$/i.test(v.text)) value = v.text.toUpperCase() === "TRUE";
        else if (v.kind === "word" && /^null$/i.test(v.text)) value = null;
        else throw wqlError(text, `expected a literal after ${property} ${op}, found '${v.text}'`);
        i++;
        where.push({ property, op, value });
      }
      if (i >= t.length) break;
      if (isWord("OR")) throw wqlError(text, "OR is not supported by this WQL subset");
      expectWord("AND");
    }
  }
  return { className, properties, where };
}

/** Looks a property up without regard to case. */
export function propertyOf(instance: Record<string, unknown>, name: string): unknown {
  if (name in instance) return instance[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(instance)) if (k.toLowerCase() === lower) return instance[k];
  return undefined;
}

/** True when `instance` satisfies every condition of `query` (the class is not checked here). */
export function matchesWhere(instance: Record<string, unknown>, where: readonly WqlCondition[]): boolean {
  return where.every((c) => matchCondition(propertyOf(instance, c.property), c));
}

function matchCondition(actual: unknown, c: WqlCondition): boolean {
  const isNull = actual === undefined || actual === null;
  if (c.op === "IS NULL") return isNull;
  if (c.op === "IS NOT NULL") return !isNull;
  if (isNull || c.value === null) return false; // comparisons with NULL are never true
  if (Array.isArray(actual)) return false; // WQL does not compare arrays
  let a: string | number | boolean = actual as string | number | boolean;
  let b: string | number | boolean = c.value;
  if (typeof a === "string" && typeof b === "string") {
    a = a.toLowerCase();
    b = b.toLowerCase();
  } else if (typeof a === "number" || typeof b === "number") {
    a = Number(a);
    b = Number(b);
    if (Number.isNaN(a) || Number.isNaN(b)) return false;
  } else if (typeof a === "boolean" || typeof b === "boolean") {
    a = String(a).toLowerCase();
    b = String(b).toLowerCase();
  }
  switch (c.op) {
    case "=":
      return a === b;
    case "<>":
      return a !== b;
    case "<":
      return a < b;
    case ">":
      return a > b;
    case "<=":
      return a <= b;
    case ">=":
      return a >= b;
  }
}
