/**
 * Embedded instances as they travel to and from a host: WMI DTD 2.0 text
 * (`<INSTANCE CLASSNAME="..."><PROPERTY NAME="..." TYPE="..."><VALUE>...`), as real WMI takes
 * them in method parameters and returns them in out-parameters. Written with the class's schema
 * (types, and only properties the host's class has); read by their TYPE attributes.
 */
import { type CimClassSchema, type CimPropertySchema, fitsIntegerType, isIntegerType, schemaProperty } from "./class_schema";
import { type CimEmbeddedInstance, CimError } from "./session";
import { unexpected } from "./values";

function decodeXml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&amp;/g, "&");
}

/** A DTD 2.0 value as JavaScript: integers as numbers (64-bit ones beyond 2^53 stay decimal strings), booleans as booleans. */
function typedValue(text: string, type: string | undefined): unknown {
  const t = (type ?? "").toLowerCase();
  if (t === "boolean") return /^true$/i.test(text.trim());
  if (/^[us]int(8|16|32|64)$/.test(t) && /^\s*-?\d+\s*$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text.trim();
  }
  if ((t === "real32" || t === "real64") && text.trim() !== "" && !Number.isNaN(Number(text))) return Number(text);
  return text;
}

/**
 * Parses WMI DTD 2.0 instance text (what `GetText(TextFormat.CimDtd20)` writes and Hyper-V's
 * methods return) into an embedded instance. Values are converted by their `TYPE` attribute:
 * integers become numbers (64-bit ones beyond 2^53 stay decimal strings), booleans booleans;
 * untyped values stay strings.
 *
 * @example
 * parseInstanceXml('<INSTANCE CLASSNAME="C"><PROPERTY NAME="Size" TYPE="uint64"><VALUE>42</VALUE></PROPERTY></INSTANCE>');
 * // { __CLASS: "C", Size: 42 }
 */
export function parseInstanceXml(text: string): CimEmbeddedInstance {
  const cls = /<INSTANCE\b[^>]*\bCLASSNAME\s*=\s*"([^"]*)"/i.exec(text);
  if (!cls) throw unexpected(`Cannot parse an embedded instance: no INSTANCE element in '${text.slice(0, 80)}'`);
  const out: CimEmbeddedInstance = { __CLASS: decodeXml(cls[1]!) };
  const propRe = /<(PROPERTY(?:\.ARRAY)?)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/gi;
  for (let m = propRe.exec(text); m; m = propRe.exec(text)) {
    const name = /\bNAME\s*=\s*"([^"]*)"/i.exec(m[2]!)?.[1];
    if (!name) continue;
    const type = /\bTYPE\s*=\s*"([^"]*)"/i.exec(m[2]!)?.[1];
    const body = m[4] ?? "";
    const values = [...body.matchAll(/<VALUE>([\s\S]*?)<\/VALUE>/gi)].map((v) => typedValue(decodeXml(v[1]!), type));
    if (m[1]!.toUpperCase() === "PROPERTY.ARRAY") out[name] = /<VALUE\.ARRAY>/i.test(body) ? values : null;
    else out[name] = values.length > 0 ? values[0]! : null;
  }
  return out;
}

/** The type names and array-ness of the properties written in DTD 2.0 text (for hosts that check what they receive). */
export function instanceXmlTypes(text: string): Map<string, { type: string | undefined; isArray: boolean }> {
  const out = new Map<string, { type: string | undefined; isArray: boolean }>();
  const re = /<(PROPERTY(?:\.ARRAY)?)\b([^>]*?)(?:\/>|>)/gi;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const name = /\bNAME\s*=\s*"([^"]*)"/i.exec(m[2]!)?.[1];
    if (!name) continue;
    out.set(name, { type: /\bTYPE\s*=\s*"([^"]*)"/i.exec(m[2]!)?.[1], isArray: m[1]!.toUpperCase() === "PROPERTY.ARRAY" });
  }
  return out;
}

function encodeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** One value as DTD 2.0 text in the CIM type `p.type`; throws WBEM_E_TYPE_MISMATCH as WMI does. */
function valueText(className: string, p: CimPropertySchema, v: unknown): string {
  const mismatch = (): CimError =>
    new CimError("CimTypeMismatch", `Type mismatch: ${className}.${p.name} is ${p.type}${p.isArray ? "[]" : ""}, got ${JSON.stringify(v)}`, p.name);
  if (p.type === "boolean") {
    if (typeof v !== "boolean") throw mismatch();
    return v ? "TRUE" : "FALSE";
  }
  if (isIntegerType(p.type)) {
    if (!fitsIntegerType(p.type, v)) throw mismatch();
    return String(typeof v === "string" ? v.trim() : v);
  }
  if (p.type === "real32" || p.type === "real64") {
    if (typeof v !== "number" || !Number.isFinite(v)) throw mismatch();
    return String(v);
  }
  if (typeof v !== "string") throw mismatch();
  return encodeXml(v);
}

/**
 * Writes an embedded instance as WMI DTD 2.0 text, each property typed by the class's schema,
 * as `ManagementClass.CreateInstance()` + `GetText(TextFormat.CimDtd20)` would. A property the
 * class lacks fails with WBEM_E_NOT_FOUND ("Not found"), a value of the wrong type with
 * WBEM_E_TYPE_MISMATCH, as System.Management does; null values are written without a VALUE.
 *
 * @example
 * toCimDtd20({ className: "C", properties: [{ name: "Level", type: "uint8", isArray: false }] }, { __CLASS: "C", Level: 1 });
 * // '<INSTANCE CLASSNAME="C"><PROPERTY NAME="Level" TYPE="uint8"><VALUE>1</VALUE></PROPERTY></INSTANCE>'
 */
export function toCimDtd20(schema: CimClassSchema, instance: Record<string, unknown>): string {
  const cls = typeof instance["__CLASS"] === "string" ? instance["__CLASS"] : schema.className;
  if (cls.toLowerCase() !== schema.className.toLowerCase()) {
    throw new CimError("CimInvalidClass", `Cannot write a ${cls} with the schema of ${schema.className}`, cls);
  }
  let body = "";
  for (const [k, v] of Object.entries(instance)) {
    if (k.startsWith("__")) continue;
    const p = schemaProperty(schema, k);
    if (!p) throw new CimError("CimNotFound", `Not found: the host's class ${schema.className} has no property '${k}'`, k);
    const attrs = `NAME="${encodeXml(p.name)}" TYPE="${p.type}"`;
    if (p.isArray) {
      if (v === null || v === undefined) {
        body += `<PROPERTY.ARRAY ${attrs}></PROPERTY.ARRAY>`;
        continue;
      }
      if (!Array.isArray(v)) throw new CimError("CimTypeMismatch", `Type mismatch: ${schema.className}.${p.name} is an array, got ${JSON.stringify(v)}`, p.name);
      body += `<PROPERTY.ARRAY ${attrs}><VALUE.ARRAY>${v.map((x) => `<VALUE>${valueText(schema.className, p, x)}</VALUE>`).join("")}</VALUE.ARRAY></PROPERTY.ARRAY>`;
    } else {
      if (Array.isArray(v)) throw new CimError("CimTypeMismatch", `Type mismatch: ${schema.className}.${p.name} is not an array, got ${JSON.stringify(v)}`, p.name);
      body += v === null || v === undefined ? `<PROPERTY ${attrs}></PROPERTY>` : `<PROPERTY ${attrs}><VALUE>${valueText(schema.className, p, v)}</VALUE></PROPERTY>`;
    }
  }
  return `<INSTANCE CLASSNAME="${encodeXml(schema.className)}">${body}</INSTANCE>`;
}

/** An embedded-instance out-parameter as an object (see the file comment); throws when absent. */
export function embeddedInstance(value: unknown, what: string): CimEmbeddedInstance {
  if (value && typeof value === "object" && !Array.isArray(value) && "__CLASS" in value) return value as CimEmbeddedInstance;
  if (typeof value === "string" && value.includes("<INSTANCE")) return parseInstanceXml(value);
  throw unexpected(`${what} is not an embedded instance: ${JSON.stringify(value)?.slice(0, 120)}`);
}
