/**
 * A class's schema as the host declares it: property names, CIM types and array-ness. A client
 * reads it before it builds an embedded instance (WMI's ManagementClass.CreateInstance does the
 * same), because hosts of different versions declare different properties: setting a property
 * the host's class lacks fails with WBEM_E_NOT_FOUND ("Not found") in System.Management.
 */

/** The CIM intrinsic types (DSP0004), as WMI names them in DTD 2.0 `TYPE` attributes. */
export type CimTypeName =
  | "boolean"
  | "uint8"
  | "sint8"
  | "uint16"
  | "sint16"
  | "uint32"
  | "sint32"
  | "uint64"
  | "sint64"
  | "real32"
  | "real64"
  | "string"
  | "char16"
  | "datetime"
  | "reference"
  | "object";

/** One property (or method parameter) of a class. */
export interface CimPropertySchema {
  name: string;
  type: CimTypeName;
  isArray: boolean;
}

/** A class as the host declares it. */
export interface CimClassSchema {
  className: string;
  properties: CimPropertySchema[];
}

/** The property `name` of `schema` (WMI compares names without case), or undefined. */
export function schemaProperty(schema: CimClassSchema, name: string): CimPropertySchema | undefined {
  const l = name.toLowerCase();
  return schema.properties.find((p) => p.name.toLowerCase() === l);
}

/** True for the CIM integer types. */
export function isIntegerType(t: CimTypeName): boolean {
  return /^[us]int(8|16|32|64)$/.test(t);
}

const RANGES: Partial<Record<CimTypeName, [bigint, bigint]>> = {
  uint8: [0n, 255n],
  sint8: [-128n, 127n],
  uint16: [0n, 65535n],
  sint16: [-32768n, 32767n],
  uint32: [0n, 4294967295n],
  sint32: [-2147483648n, 2147483647n],
  uint64: [0n, 18446744073709551615n],
  sint64: [-9223372036854775808n, 9223372036854775807n],
};

/** True when `v` (number, bigint or decimal string) is a whole number within the range of `t`. */
export function fitsIntegerType(t: CimTypeName, v: unknown): boolean {
  const range = RANGES[t];
  if (!range) return false;
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "number" && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === "string" && /^-?\d+$/.test(v.trim())) n = BigInt(v.trim());
  else return false;
  return n >= range[0] && n <= range[1];
}
