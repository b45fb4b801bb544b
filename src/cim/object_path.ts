/**
 * WMI object paths: build and parse the text form that identifies one instance,
 * `\\HOST\root\virtualization\v2:Class.Key1="v1",Key2=2`.
 *
 * Rules followed (WMI "object path" syntax): the server part `\\HOST\` and the namespace
 * part `ns:` are optional; key properties follow the class name after a `.` as
 * `Name=value` pairs separated by commas; string values are double-quoted with `\` escaping
 * `\` and `"`; numbers and booleans are bare. WMI prints keys sorted by name, so
 * {@link buildObjectPath} sorts them too. Nothing here knows about Hyper-V.
 */
import { HvbError } from "../base/mod";

/** A key value: strings, whole numbers or booleans, as WMI allows for keys. */
export type KeyValue = string | number | boolean;

/** The parts of an object path. */
export interface ObjectPath {
  /** Server name (`.` or a host name); undefined for a namespace-relative path. */
  host: string | undefined;
  /** Namespace with backslashes, e.g. `root\virtualization\v2`; undefined when absent. */
  namespace: string | undefined;
  className: string;
  /** Key properties; empty for a singleton (`Class=@`) or a class path. */
  keys: Record<string, KeyValue>;
}

/**
 * Builds the text of an object path; keys are written in name order.
 *
 * @example
 * buildObjectPath({ host: "H", namespace: "root\\virtualization\\v2", className: "Msvm_ComputerSystem",
 *   keys: { Name: "X", CreationClassName: "Msvm_ComputerSystem" } });
 * // '\\\\H\\root\\virtualization\\v2:Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="X"'
 */
export function buildObjectPath(p: ObjectPath): string {
  let out = "";
  if (p.host !== undefined) out += `\\\\${p.host}\\`;
  if (p.namespace !== undefined) out += `${p.namespace}:`;
  out += p.className;
  const names = Object.keys(p.keys).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  if (names.length > 0) {
    out += "." + names.map((n) => `${n}=${formatKeyValue(p.keys[n]!)}`).join(",");
  }
  return out;
}

function formatKeyValue(v: KeyValue): string {
  if (typeof v === "string") return `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  return String(v);
}

/** Thrown for text that is not an object path. */
export function objectPathError(text: string, why: string): HvbError {
  return new HvbError("CimInvalidObjectPath", `Cannot parse object path '${text}': ${why}`, {
    category: "InvalidArgument",
    target: text,
  });
}

/**
 * Parses the text of an object path. Accepts full paths, `ns:Class.Keys` and `Class.Keys`.
 *
 * @example
 * parseObjectPath('Msvm_ConcreteJob.InstanceID="A"').keys; // { InstanceID: "A" }
 */
export function parseObjectPath(text: string): ObjectPath {
  let rest = text.trim();
  let host: string | undefined;
  let namespace: string | undefined;
  if (rest.startsWith("\\\\") || rest.startsWith("//")) {
    const m = /^[\\/]{2}([^\\/]+)[\\/]/.exec(rest);
    if (!m) throw objectPathError(text, "no namespace after the server name");
    host = m[1]!;
    rest = rest.slice(m[0].length);
  }
  // The namespace ends at the first ':' that comes before any '"' (values may contain ':').
  const colon = rest.indexOf(":");
  const quote = rest.indexOf('"');
  if (colon >= 0 && (quote < 0 || colon < quote)) {
    namespace = rest.slice(0, colon).replace(/\//g, "\\");
    rest = rest.slice(colon + 1);
  } else if (host !== undefined) {
    throw objectPathError(text, "no ':' between namespace and class");
  }
  const m = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
  if (!m) throw objectPathError(text, "no class name");
  const className = m[1]!;
  rest = rest.slice(className.length);
  const keys: Record<string, KeyValue> = {};
  if (rest === "" || rest === "=@") return { host, namespace, className, keys };
  if (rest[0] !== ".") throw objectPathError(text, `unexpected '${rest[0]}' after the class name`);
  let i = 1;
  while (i < rest.length) {
    const km = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*/.exec(rest.slice(i));
    if (!km) throw objectPathError(text, `no key name at position ${i}`);
    const name = km[1]!;
    i += km[0].length;
    let value: KeyValue;
    if (rest[i] === '"') {
      let s = "";
      i++;
      for (;;) {
        if (i >= rest.length) throw objectPathError(text, `unterminated string for key ${name}`);
        const c = rest[i]!;
        if (c === "\\" && i + 1 < rest.length) {
          s += rest[i + 1]!;
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          s += c;
          i++;
        }
      }
      value = s;
    } else {
      const vm = /^[^,]*/.exec(rest.slice(i))![0].trim();
      i += /^[^,]*/.exec(rest.slice(i))![0].length;
      if (/^(true|false)$/i.test(vm)) value = vm.toLowerCase() === "true";
      else if (/^-?\d+$/.test(vm)) value = Number(vm);
      else throw objectPathError(text, `value of key ${name} is neither quoted nor a number`);
    }
    keys[name] = value;
    if (i < rest.length) {
      if (rest[i] !== ",") throw objectPathError(text, `expected ',' after key ${name}`);
      i++;
    }
  }
  return { host, namespace, className, keys };
}

/**
 * True when two paths name the same instance: class and key names compare without case,
 * string key values without case (as WMI does for keys), the server part is ignored and a
 * missing namespace matches any.
 */
export function sameObjectPath(a: string | ObjectPath, b: string | ObjectPath): boolean {
  const pa = typeof a === "string" ? parseObjectPath(a) : a;
  const pb = typeof b === "string" ? parseObjectPath(b) : b;
  if (pa.className.toLowerCase() !== pb.className.toLowerCase()) return false;
  if (pa.namespace !== undefined && pb.namespace !== undefined && pa.namespace.toLowerCase() !== pb.namespace.toLowerCase()) {
    return false;
  }
  return sameKeys(pa.keys, pb.keys);
}

/** True when two key sets hold the same names and values (names and strings without case). */
export function sameKeys(a: Record<string, KeyValue>, b: Record<string, KeyValue>): boolean {
  const na = Object.keys(a);
  if (na.length !== Object.keys(b).length) return false;
  const lb = new Map(Object.entries(b).map(([k, v]) => [k.toLowerCase(), v] as const));
  for (const k of na) {
    const va = a[k]!;
    const vb = lb.get(k.toLowerCase());
    if (vb === undefined) return false;
    if (typeof va === "string" && typeof vb === "string") {
      if (va.toLowerCase() !== vb.toLowerCase()) return false;
    } else if (String(va) !== String(vb)) return false;
  }
  return true;
}
