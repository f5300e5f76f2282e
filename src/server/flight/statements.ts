/**
 * Statement state of the Flight SQL server: the opaque statement handles in
 * tickets, prepared statements with their bound parameter sets, and the
 * running queries that CancelFlightInfo can abort.
 *
 * A statement handle carries the SQL (and, for a prepared statement, the
 * parameter values bound when GetFlightInfo was called), so a ticket can be
 * redeemed without server-side state; the query id inside it is what
 * cancellation refers to.
 *
 * @module
 */

import * as arrow from "apache-arrow";
import type { Value } from "../../arrow/column.ts";
import { SpiceError } from "../../errors.ts";
import type { Parameters } from "../../sql/binder.ts";

// ---------------------------------------------------------------------------
// statement handles

/** What a TicketStatementQuery's statement_handle identifies. */
export interface StatementHandle {
  /** The query id (cancellation and logs refer to it). */
  readonly id: string;
  /** The SQL text. */
  readonly sql: string;
  /** Parameter sets of a prepared statement; the query runs once per set. */
  readonly params?: readonly Parameters[];
}

type JsonValue = number | string | boolean | null | { $bigint: string } | { $number: string };

function valueToJson(v: Value): JsonValue {
  if (typeof v === "bigint") return { $bigint: v.toString() };
  if (typeof v === "number" && !Number.isFinite(v)) return { $number: String(v) };
  return v;
}

function valueFromJson(v: unknown): Value {
  if (v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean") {
    return v;
  }
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o.$bigint === "string") return BigInt(o.$bigint);
    if (typeof o.$number === "string") return Number(o.$number);
  }
  throw new SpiceError("INVALID_ARGUMENT", "invalid statement handle");
}

function paramsToJson(p: Parameters): unknown {
  if (Array.isArray(p)) return (p as readonly Value[]).map(valueToJson);
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, valueToJson(v as Value)]));
}

function paramsFromJson(p: unknown): Parameters {
  if (Array.isArray(p)) return p.map(valueFromJson);
  if (typeof p === "object" && p !== null) {
    return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, valueFromJson(v)]));
  }
  throw new SpiceError("INVALID_ARGUMENT", "invalid statement handle");
}

/** Encodes a statement handle (versioned JSON: opaque to clients, readable in logs). */
export function encodeHandle(h: StatementHandle): Uint8Array {
  const json = { v: 1, id: h.id, sql: h.sql, params: h.params?.map(paramsToJson) };
  return new TextEncoder().encode(JSON.stringify(json));
}

/** Decodes a statement handle; anything this server did not write is an INVALID_ARGUMENT. */
export function decodeHandle(bytes: Uint8Array): StatementHandle {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new SpiceError("INVALID_ARGUMENT", "invalid statement handle");
  }
  if (json?.v !== 1 || typeof json.id !== "string" || typeof json.sql !== "string") {
    throw new SpiceError("INVALID_ARGUMENT", "invalid statement handle");
  }
  const params = Array.isArray(json.params) ? json.params.map(paramsFromJson) : undefined;
  return { id: json.id, sql: json.sql, params };
}

// ---------------------------------------------------------------------------
// parameters

/** The parameters a statement uses, found by scanning its text. */
export type ParameterInfo =
  | { readonly kind: "none" }
  | { readonly kind: "positional"; readonly count: number }
  | { readonly kind: "named"; readonly names: readonly string[] };

/**
 * Finds `$1`/`?` (positional) and `:name`/`$name`/`@name` (named) placeholders
 * outside string literals, quoted identifiers and comments. The binder needs
 * values for every placeholder, so a prepared statement must know them before
 * any are bound.
 */
export function findParameters(sql: string): ParameterInfo {
  let maxIndex = 0;
  let questions = 0;
  const names: string[] = [];
  const n = sql.length;
  let i = 0;
  const identStart = (c: string) => /[A-Za-z_]/.test(c);
  const identPart = (c: string) => /[A-Za-z0-9_]/.test(c);
  while (i < n) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      // A doubled quote inside is an escaped quote: the loop just re-enters.
      i++;
      while (i < n && sql[i] !== c) i++;
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "?") {
      questions++;
      i++;
    } else if (c === "$" && /[0-9]/.test(sql[i + 1] ?? "")) {
      let j = i + 1;
      while (j < n && /[0-9]/.test(sql[j])) j++;
      maxIndex = Math.max(maxIndex, Number(sql.slice(i + 1, j)));
      i = j;
    } else if (
      (c === ":" || c === "$" || c === "@") && identStart(sql[i + 1] ?? "") && sql[i - 1] !== ":"
    ) {
      let j = i + 1;
      while (j < n && identPart(sql[j])) j++;
      const name = sql.slice(i + 1, j);
      if (!names.includes(name)) names.push(name);
      i = j;
    } else if (c === ":" && sql[i + 1] === ":") {
      i += 2; // a cast, not a parameter
    } else {
      i++;
    }
  }
  if (maxIndex > 0 || questions > 0) {
    return { kind: "positional", count: Math.max(maxIndex, questions) };
  }
  if (names.length > 0) return { kind: "named", names };
  return { kind: "none" };
}

/** Parameters that are all NULL: binds a statement well enough to learn its result schema. */
export function nullParameters(info: ParameterInfo): Parameters | undefined {
  if (info.kind === "positional") return Array.from({ length: info.count }, () => null);
  if (info.kind === "named") return Object.fromEntries(info.names.map((k) => [k, null]));
  return undefined;
}

/**
 * The parameter schema of a prepared statement: one field per placeholder
 * (`$1`.. or the names). Types are unknown until values arrive, so they are
 * Arrow Null: any type binds.
 */
export function parameterSchema(info: ParameterInfo): arrow.Schema {
  const names = info.kind === "positional"
    ? Array.from({ length: info.count }, (_, i) => `$${i + 1}`)
    : info.kind === "named"
    ? info.names
    : [];
  return new arrow.Schema(names.map((n) => new arrow.Field(n, new arrow.Null(), true)));
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

function isoDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** One cell of a parameter batch as a binder value. */
function cellValue(data: arrow.Data, row: number, field: arrow.Field): Value {
  const vec = arrow.makeVector(data);
  if (!vec.isValid(row)) return null;
  const t = data.type;
  switch (t.typeId) {
    case arrow.Type.Null:
      return null;
    case arrow.Type.Bool:
    case arrow.Type.Utf8:
    case arrow.Type.LargeUtf8:
    case arrow.Type.Float:
      return vec.get(row) as Value;
    case arrow.Type.Int: {
      const v = vec.get(row) as number | bigint;
      // Keep values past 2^53 exact as bigint; the rest bind as plain numbers.
      if (typeof v === "bigint") return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
      return v;
    }
    case arrow.Type.Decimal: {
      const d = t as arrow.Decimal;
      const w = data.values as Uint32Array;
      const base = (data.offset + row) * 4;
      let x = 0n;
      for (let k = 3; k >= 0; k--) x = (x << 32n) | BigInt(w[base + k]);
      if (x >= 1n << 127n) x -= 1n << 128n;
      return Number(x) / 10 ** d.scale;
    }
    case arrow.Type.Date: {
      // Dates bind as ISO strings, which the binder coerces where a DATE is expected.
      const v = vec.get(row) as number | Date;
      return isoDate(v instanceof Date ? v.getTime() : Number(v));
    }
    case arrow.Type.Timestamp: {
      // Timestamps bind as ISO text (millisecond precision), like dates.
      const unit = (t as arrow.Timestamp).unit;
      const raw = Number((data.values as unknown as BigInt64Array)[data.offset + row]);
      const ms = Math.floor(raw * [1000, 1, 1e-3, 1e-6][unit]);
      return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
    }
    default:
      throw new SpiceError(
        "NOT_SUPPORTED",
        `not supported: parameter ${field.name} of Arrow type ${t}`,
      );
  }
}

/** The parameter sets of a bound batch: one set per row, columns by position or by name. */
export function parameterSets(batch: arrow.RecordBatch, info: ParameterInfo): Parameters[] {
  const fields = batch.schema.fields;
  const sets: Parameters[] = [];
  for (let r = 0; r < batch.numRows; r++) {
    const values = fields.map((f, c) => cellValue(batch.data.children[c], r, f));
    if (info.kind === "named") {
      // Named placeholders bind by column name; a positional client's `$1`.. names still work.
      const rec: Record<string, Value> = {};
      fields.forEach((f, c) => {
        const key = f.name.replace(/^[:$@]/, "");
        rec[key] = values[c];
      });
      info.names.forEach((name, c) => {
        if (!(name in rec) && c < values.length) rec[name] = values[c];
      });
      sets.push(rec);
    } else {
      sets.push(values);
    }
  }
  return sets;
}

// ---------------------------------------------------------------------------
// prepared statements

/** A prepared statement held by the server until closed. */
export interface PreparedStatement {
  readonly handle: string;
  readonly sql: string;
  readonly parameters: ParameterInfo;
  /** Parameter sets bound by DoPut; null until then. */
  bound: readonly Parameters[] | null;
}

/** Prepared statements by handle, the oldest evicted past a bound so that forgetful clients cannot grow it forever. */
export class PreparedStatements {
  readonly #byHandle = new Map<string, PreparedStatement>();
  readonly #limit: number;

  /** A store that keeps at most `limit` statements. */
  constructor(limit = 4096) {
    this.#limit = limit;
  }

  /** Registers a statement and returns it with a fresh handle. */
  create(sql: string): PreparedStatement {
    const stmt: PreparedStatement = {
      handle: crypto.randomUUID(),
      sql,
      parameters: findParameters(sql),
      bound: null,
    };
    this.#byHandle.set(stmt.handle, stmt);
    while (this.#byHandle.size > this.#limit) {
      this.#byHandle.delete(this.#byHandle.keys().next().value!);
    }
    return stmt;
  }

  /** The statement of a handle, or NOT_FOUND. */
  get(handle: Uint8Array | string): PreparedStatement {
    const key = typeof handle === "string" ? handle : new TextDecoder().decode(handle);
    const stmt = this.#byHandle.get(key);
    if (!stmt) {
      throw new SpiceError("NOT_FOUND", "prepared statement not found (closed or expired)");
    }
    return stmt;
  }

  /** Forgets a statement; closing an unknown handle is not an error (it may have expired). */
  close(handle: Uint8Array | string): void {
    const key = typeof handle === "string" ? handle : new TextDecoder().decode(handle);
    this.#byHandle.delete(key);
  }

  /** How many statements are open. */
  get size(): number {
    return this.#byHandle.size;
  }
}

// ---------------------------------------------------------------------------
// running queries

/** What a cancel request achieved (Flight's CancelStatus). */
export type CancelOutcome = "CANCELLED" | "NOT_CANCELLABLE";

/** A set that forgets its oldest entries past a bound. */
class BoundedSet {
  readonly #items = new Set<string>();
  constructor(readonly limit: number) {}
  add(k: string): void {
    this.#items.delete(k);
    this.#items.add(k);
    while (this.#items.size > this.limit) this.#items.delete(this.#items.values().next().value!);
  }
  has(k: string): boolean {
    return this.#items.has(k);
  }
}

/** The error every cancelled query ends with. */
export function cancelledError(): SpiceError {
  return new SpiceError("CANCELLED", "query cancelled");
}

/**
 * Running queries by id, each with the AbortController whose signal the
 * engine watches. A cancel that arrives before DoGet starts is remembered, so
 * the later DoGet fails instead of running.
 */
export class RunningQueries {
  readonly #running = new Map<string, Set<AbortController>>();
  readonly #cancelledEarly = new BoundedSet(4096);
  readonly #finished = new BoundedSet(4096);

  /** Starts tracking a query; fails with CANCELLED if it was cancelled already. */
  begin(id: string): AbortController {
    if (this.#cancelledEarly.has(id)) throw cancelledError();
    const ctrl = new AbortController();
    let set = this.#running.get(id);
    if (!set) this.#running.set(id, set = new Set());
    set.add(ctrl);
    return ctrl;
  }

  /** Stops tracking one run of a query. */
  end(id: string, ctrl: AbortController): void {
    const set = this.#running.get(id);
    if (!set) return;
    set.delete(ctrl);
    if (set.size === 0) {
      this.#running.delete(id);
      this.#finished.add(id);
    }
  }

  /** Aborts every run of a query (or marks it so it never starts). */
  cancel(id: string): CancelOutcome {
    const set = this.#running.get(id);
    if (set) {
      for (const c of set) c.abort(cancelledError());
      return "CANCELLED";
    }
    if (this.#finished.has(id)) return "NOT_CANCELLABLE";
    this.#cancelledEarly.add(id);
    return "CANCELLED";
  }

  /** Aborts everything (server shutdown). */
  cancelAll(): void {
    for (const set of this.#running.values()) for (const c of set) c.abort(cancelledError());
  }

  /** How many queries are running. */
  get size(): number {
    return this.#running.size;
  }
}
