import * as v from "valibot";

/**
 * The building blocks of the repository's document schemas (catalog_schema.ts,
 * manifest_schema.ts, lock_schema.ts): every leaf carries the words that say what it must be,
 * which are both the validation message and the "must be" column of the field tables in
 * docs/design/repository.md ({@link fieldTable}), so the docs cannot drift from the checks.
 */

/** A JSON document's schema, as the readers use it. */
export type DocumentSchema = v.GenericSchema;

/** Attaches what a field must be (message and docs) to a schema. */
function expecting<S extends v.GenericSchema>(schema: S, expected: string): v.SchemaWithPipe<readonly [S, v.MetadataAction<v.InferOutput<S>, { readonly expected: string }>]> {
  return v.pipe(schema, v.metadata({ expected }));
}

/** An integer in [min, max]; `expected` says it in words. */
export function integer(min: number, max: number, expected: string) {
  return expecting(v.pipe(v.number(expected), v.safeInteger(expected), v.minValue(min, expected), v.maxValue(max, expected)), expected);
}

/** A power of two in [min, max]. */
export function powerOfTwo(min: number, max: number, expected: string) {
  return expecting(
    v.pipe(v.number(expected), v.safeInteger(expected), v.minValue(min, expected), v.maxValue(max, expected), v.check((n) => (n & (n - 1)) === 0, expected)),
    expected,
  );
}

/** A string of at most `max` characters matching `pattern` (when given). */
export function text(max: number, expected: string, pattern?: RegExp) {
  const base = v.pipe(v.string(expected), v.maxLength(max, expected));
  return expecting(pattern ? v.pipe(base, v.regex(pattern, expected)) : base, expected);
}

/** A time as ISO 8601 (what `Date.prototype.toISOString` writes). */
export function isoTime(expected = "an ISO 8601 UTC time like 2026-11-23T18:00:00.123Z") {
  return expecting(v.pipe(v.string(expected), v.maxLength(40, expected), v.check((s) => !Number.isNaN(Date.parse(s)), expected)), expected);
}

/** One of a few literal strings. */
export function oneOf<const T extends readonly string[]>(options: T) {
  const expected = options.map((o) => `'${o}'`).join(" or ");
  return expecting(v.picklist(options, expected), expected);
}

/** Describes a field for the docs' tables. */
export function described<S extends v.GenericSchema>(schema: S, description: string) {
  return v.pipe(schema, v.description(description));
}

/** A cross-field problem found by a document's own check, at `path` below the document. */
export interface FieldProblem {
  path: Array<string | number>;
  expected: string;
  found?: unknown;
}

/** Turns a list of cross-field problems into the document's issues (first one reported). */
export function crossCheck<T>(find: (doc: T) => FieldProblem | undefined) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const p = find(dataset.value);
    if (!p) return;
    // The path rides along in the message: valibot's path items need the parent values, which
    // a whole-document check does not have at hand.
    addIssue({ message: JSON.stringify({ path: p.path, expected: p.expected, found: p.found }) });
  });
}

/** `points[1].disks[0].unitSize` from a path. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = "";
  for (const k of path) out += typeof k === "number" ? `[${k}]` : out === "" ? k : `.${k}`;
  return out || "(root)";
}

/** A value, shortly, for a message. */
function show(value: unknown): string {
  let s: string;
  try {
    s = value === undefined ? "nothing" : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Validates `data` against `schema`; on failure calls `bad(field, expected)` with the first
 * problem: the field's path and what it must be (with what was found).
 */
export function validateDocument<S extends v.GenericSchema>(schema: S, data: unknown, bad: (field: string, expected: string) => never): v.InferOutput<S> {
  const r = v.safeParse(schema, data, { abortEarly: true });
  if (r.success) return r.output;
  const issue = r.issues[0];
  const path = (issue.path ?? []).map((p) => p.key as string | number);
  if (issue.type === "raw_check") {
    const p = JSON.parse(issue.message) as FieldProblem;
    bad(formatPath(p.path), `${p.expected}${"found" in p ? ` (found ${show(p.found)})` : ""}`);
  }
  if (issue.type === "strict_object" || issue.type === "object") {
    const last = issue.path?.[issue.path.length - 1];
    if (last?.origin === "key") bad(formatPath(path), issue.input === undefined ? "present (it is missing)" : "absent: this version knows no such field");
    bad(formatPath(path), `an object (found ${show(issue.input)})`);
  }
  bad(formatPath(path), `${issue.message} (found ${show(issue.input)})`);
}

/** One row of a document's field table. */
export interface FieldRow {
  field: string;
  mustBe: string;
  meaning: string;
}

/**
 * The fields of an object schema, nested objects and arrays of objects flattened
 * (`points[].disks[].unitSize`), each with what it must be and what it means: the tables of
 * docs/design/repository.md are these rows.
 */
export function fieldTable(schema: v.GenericSchema): FieldRow[] {
  const rows: FieldRow[] = [];
  walkObject(schema, "", rows);
  return rows;
}

/** Markdown for {@link fieldTable}. */
export function fieldTableMarkdown(schema: v.GenericSchema): string {
  const esc = (s: string): string => s.replace(/\|/g, "\\|");
  return ["| field | must be | meaning |", "|---|---|---|", ...fieldTable(schema).map((r) => `| \`${r.field}\` | ${esc(r.mustBe)} | ${esc(r.meaning)} |`)].join("\n");
}

interface Unwrapped {
  schema: v.GenericSchema;
  expected: string | undefined;
  description: string | undefined;
  nullable: boolean;
  optional: boolean;
}

type AnySchema = v.GenericSchema & { pipe?: ReadonlyArray<{ kind: string; type: string; description?: string; metadata?: { expected?: string } }>; wrapped?: v.GenericSchema; entries?: Record<string, v.GenericSchema>; item?: v.GenericSchema; value?: v.GenericSchema };

function unwrap(schema: v.GenericSchema): Unwrapped {
  const out: Unwrapped = { schema, expected: undefined, description: undefined, nullable: false, optional: false };
  let s = schema as AnySchema;
  for (;;) {
    for (const item of s.pipe ?? []) {
      if (item.type === "description") out.description ??= item.description;
      if (item.type === "metadata") out.expected ??= item.metadata?.expected;
    }
    if (s.type === "nullable" && s.wrapped) {
      out.nullable = true;
      s = s.wrapped as AnySchema;
    } else if (s.type === "optional" && s.wrapped) {
      out.optional = true;
      s = s.wrapped as AnySchema;
    } else if (s.pipe && s.pipe[0] && (s.pipe[0] as unknown) !== s && s.pipe[0].kind === "schema" && (s.pipe[0] as unknown as AnySchema).type === s.type && (s.pipe[0] as unknown as AnySchema).pipe) {
      s = s.pipe[0] as unknown as AnySchema;
    } else break;
  }
  out.schema = s;
  return out;
}

function walkObject(schema: v.GenericSchema, prefix: string, rows: FieldRow[]): void {
  const s = unwrap(schema).schema as AnySchema;
  for (const [key, entry] of Object.entries(s.entries ?? {})) {
    const u = unwrap(entry);
    // A map is a pipe of an object check and a record: described by the record.
    const inner = ((u.schema as AnySchema).pipe?.find((x) => x.type === "record") as unknown as AnySchema | undefined) ?? (u.schema as AnySchema);
    const name = `${prefix}${key}`;
    const extra = `${u.nullable ? " or null" : ""}${u.optional ? " (may be absent)" : ""}`;
    if (inner.type === "strict_object" || inner.type === "object") {
      rows.push({ field: name, mustBe: `an object${extra}`, meaning: u.description ?? "" });
      walkObject(inner, `${name}.`, rows);
    } else if (inner.type === "array") {
      const item = unwrap(inner.item!);
      const isObject = (item.schema as AnySchema).type === "strict_object" || (item.schema as AnySchema).type === "object";
      rows.push({ field: name, mustBe: `${u.expected ?? "an array"}${isObject ? "" : ` of ${item.expected ?? "values"}`}${extra}`, meaning: u.description ?? "" });
      if (isObject) walkObject(item.schema, `${name}[].`, rows);
    } else if (inner.type === "record") {
      const value = unwrap(inner.value!);
      rows.push({ field: name, mustBe: `${u.expected ?? "an object"}, each value ${value.expected ?? "a value"}${extra}`, meaning: u.description ?? "" });
    } else {
      rows.push({ field: name, mustBe: `${u.expected ?? inner.type}${extra}`, meaning: u.description ?? "" });
    }
  }
}

/** An array of `min`..`max` items. */
export function list<S extends v.GenericSchema>(item: S, min: number, max: number, expected: string) {
  return expecting(v.pipe(v.array(item, expected), v.minLength(min, expected), v.maxLength(max, expected)), expected);
}

/** An object used as a map: keys matching `keyPattern`, at most `max` of them. */
export function map<S extends v.GenericSchema>(keyPattern: RegExp, keyWords: string, value: S, max: number, expected: string) {
  return expecting(
    v.pipe(
      v.custom<Record<string, unknown>>((o) => typeof o === "object" && o !== null && !Array.isArray(o), expected),
      v.record(v.pipe(v.string(), v.regex(keyPattern, `keys ${keyWords}`)), value, expected),
      v.check((o) => Object.keys(o).length <= max, `${expected} (at most ${max} entries)`),
    ),
    expected,
  );
}
