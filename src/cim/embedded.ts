/**
 * Embedded instances in out-parameters (e.g. GetVirtualHardDiskSettingData's SettingData).
 * The CimSession contract hands them over as objects with `__CLASS`; a transport that passes
 * the raw WMI DTD 2.0 text (`<INSTANCE CLASSNAME="..."><PROPERTY NAME="..."><VALUE>...`) is
 * accepted too, leniently: scalars and `PROPERTY.ARRAY` values, entities decoded, types ignored
 * (values stay strings; callers read numbers leniently).
 */
import type { CimEmbeddedInstance } from "./session";
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

/**
 * Parses WMI DTD 2.0 instance text into an embedded instance.
 *
 * @example
 * parseInstanceXml('<INSTANCE CLASSNAME="C"><PROPERTY NAME="Path" TYPE="string"><VALUE>x</VALUE></PROPERTY></INSTANCE>');
 * // { __CLASS: "C", Path: "x" }
 */
export function parseInstanceXml(text: string): CimEmbeddedInstance {
  const cls = /<INSTANCE\b[^>]*\bCLASSNAME\s*=\s*"([^"]*)"/i.exec(text);
  if (!cls) throw unexpected(`Cannot parse an embedded instance: no INSTANCE element in '${text.slice(0, 80)}'`);
  const out: CimEmbeddedInstance = { __CLASS: decodeXml(cls[1]!) };
  const propRe = /<(PROPERTY(?:\.ARRAY)?)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/gi;
  for (let m = propRe.exec(text); m; m = propRe.exec(text)) {
    const name = /\bNAME\s*=\s*"([^"]*)"/i.exec(m[2]!)?.[1];
    if (!name) continue;
    const body = m[4] ?? "";
    const values = [...body.matchAll(/<VALUE>([\s\S]*?)<\/VALUE>/gi)].map((v) => decodeXml(v[1]!));
    if (m[1]!.toUpperCase() === "PROPERTY.ARRAY") out[name] = values;
    else out[name] = values.length > 0 ? values[0]! : null;
  }
  return out;
}

/** An embedded-instance out-parameter as an object (see the file comment); throws when absent. */
export function embeddedInstance(value: unknown, what: string): CimEmbeddedInstance {
  if (value && typeof value === "object" && !Array.isArray(value) && "__CLASS" in value) return value as CimEmbeddedInstance;
  if (typeof value === "string" && value.includes("<INSTANCE")) return parseInstanceXml(value);
  throw unexpected(`${what} is not an embedded instance: ${JSON.stringify(value)?.slice(0, 120)}`);
}
