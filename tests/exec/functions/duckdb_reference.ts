/**
 * Test support for the scalar function kernels: runs a kernel over rows of
 * argument values in several encodings (plain columns, one-row scalars,
 * dictionary-encoded first argument, first argument as a column with the
 * other arguments constant) and compares every row with DuckDB evaluating
 * the same function over the same literals.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  type Column,
  columnFromValues,
  dictColumn,
  Utf8Builder,
  type Value,
  valueAt,
} from "../../../src/arrow/column.ts";
import { type DataType, typeToString } from "../../../src/arrow/types.ts";
import { type Datum, isScalar, scalar } from "../../../src/exec/datum.ts";
import { SCALAR_FUNCTIONS } from "../../../src/exec/functions/mod.ts";

type Conn = Awaited<ReturnType<Awaited<ReturnType<typeof DuckDBInstance.create>>["connect"]>>;
let conn: Conn | null = null;

/** The shared in-memory DuckDB connection of a test module. */
export async function duckdb(): Promise<Conn> {
  if (!conn) {
    const inst = await DuckDBInstance.create(":memory:");
    conn = await inst.connect();
  }
  return conn;
}

/** Runs SQL on DuckDB and returns its rows as JSON-friendly objects. */
export async function query(sql: string): Promise<Record<string, unknown>[]> {
  const c = await duckdb();
  const r = await c.runAndReadAll(sql);
  return r.getRowObjectsJson() as Record<string, unknown>[];
}

/** Runs SQL on DuckDB and returns its error message, or null when it succeeds. */
export async function duckdbError(sql: string): Promise<string | null> {
  try {
    await query(sql);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Formats an unscaled decimal as DuckDB prints it ("-1.50"). */
export function formatDecimal(unscaled: number | bigint, scale: number): string {
  const big = typeof unscaled === "bigint" ? unscaled : BigInt(unscaled);
  const neg = big < 0n;
  const digits = (neg ? -big : big).toString().padStart(scale + 1, "0");
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${body}` : body;
}

/** A SQL literal of a storage-form value of `type`. */
export function sqlLiteral(v: Value, type: DataType): string {
  const t = typeToString(type);
  if (v === null) return `NULL::${t}`;
  switch (type.id) {
    case "utf8":
      return `'${String(v).replaceAll("'", "''")}'::VARCHAR`;
    case "decimal":
      return `${formatDecimal(v as number | bigint, type.scale)}::${t}`;
    case "date32":
      return `CAST(DATE '1970-01-01' + ${v}::INTEGER AS DATE)`;
    case "timestamp":
      return `make_timestamp(${v}::BIGINT)`;
    case "float64": {
      const x = Number(v);
      if (Number.isNaN(x)) return `'nan'::DOUBLE`;
      if (x === Infinity) return `'inf'::DOUBLE`;
      if (x === -Infinity) return `'-inf'::DOUBLE`;
      return `${Object.is(x, -0) ? "-0.0" : String(x)}::DOUBLE`;
    }
    case "bool":
      return v ? "true" : "false";
    default:
      return `${v}::${t}`;
  }
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Row i of a kernel result in comparable form (decimals as DuckDB's text). */
export function resultAt(d: Datum, i: number, type: DataType): unknown {
  let v: unknown;
  if (isScalar(d)) v = d.value;
  else if (d.validity && d.validity[i] === 0) v = null;
  else if (d.enc === "utf8") v = decoder.decode(d.data.subarray(d.offsets[i], d.offsets[i + 1]));
  else if (d.enc === "dict") {
    if (d.dict.validity && d.dict.validity[d.indices[i]] === 0) v = null;
    else {
      const k = d.indices[i];
      v = decoder.decode(d.dict.data.subarray(d.dict.offsets[k], d.dict.offsets[k + 1]));
    }
  } else v = valueAt(d, i);
  if (v === null) return null;
  if (type.id === "decimal") return formatDecimal(v as number | bigint, type.scale);
  if (type.id === "bool") return v === true || v === 1;
  return v;
}

/** DuckDB's JSON value in comparable form for our result type. */
function normalise(v: unknown, type: DataType): unknown {
  if (v === null || v === undefined) return null;
  switch (type.id) {
    case "utf8":
    case "decimal":
      return String(v);
    case "bool":
      return v === true || v === "true";
    default:
      return Number(v);
  }
}

function same(a: unknown, b: unknown, tolerance: number): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    if (a === b) return true;
    return tolerance > 0 && Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b));
  }
  return a === b;
}

/** A dictionary column over string values (duplicates share entries). */
export function dictOf(values: readonly (string | null)[]): Column {
  const seen = new Map<string, number>();
  const b = new Utf8Builder();
  const idx = new Int32Array(values.length);
  let validity: Uint8Array | null = null;
  values.forEach((v, i) => {
    if (v === null) {
      validity ??= new Uint8Array(values.length).fill(1);
      validity[i] = 0;
      return;
    }
    let k = seen.get(v);
    if (k === undefined) {
      k = seen.size;
      seen.set(v, k);
      b.append(v);
    }
    idx[i] = k;
  });
  return dictColumn(idx, b.finish(), validity);
}

/** Which encodings of the arguments to run. */
export type Mode = "column" | "scalar" | "dict" | "constArgs";

/** One comparison of a kernel against DuckDB. */
export interface Check {
  /** Kernel name in SCALAR_FUNCTIONS. */
  fn: string;
  /** Argument types (what the planner casts to). */
  argTypes: DataType[];
  /** Result type handed to the kernel. */
  resultType: DataType;
  /** Argument values per row, in storage form. */
  rows: Value[][];
  /** DuckDB expression over c0, c1, ... (default `fn(c0, c1, ...)`). */
  sql?: (cols: string[]) => string;
  /** Relative tolerance for doubles (libm differences in the last bits). */
  tolerance?: number;
  /** Encodings to run (default: all that apply). */
  modes?: Mode[];
}

/** DuckDB's results for the rows, in comparable form. */
async function reference(c: Check): Promise<unknown[]> {
  const cols = c.argTypes.map((_, k) => `c${k}`);
  let expr = c.sql ? c.sql(cols) : `${c.fn}(${cols.join(", ")})`;
  if (c.resultType.id === "date32") expr = `date_diff('day', DATE '1970-01-01', ${expr})`;
  if (c.resultType.id === "timestamp") expr = `epoch_us(${expr})`;
  const values = c.rows.map((r, i) =>
    `(${i}, ${r.map((v, k) => sqlLiteral(v, c.argTypes[k])).join(", ")})`
  );
  const header = ["i", ...cols].join(", ");
  const sql = c.argTypes.length === 0
    ? `SELECT ${expr} AS r FROM range(${c.rows.length}) t(i) ORDER BY i`
    : `SELECT ${expr} AS r FROM (VALUES ${values.join(", ")}) t(${header}) ORDER BY i`;
  const rows = await query(sql);
  return rows.map((r) => normalise(r.r, c.resultType));
}

function describe(c: Check, row: number, mode: string): string {
  return `${c.fn}(${
    c.rows[row].map((v) => JSON.stringify(typeof v === "bigint" ? String(v) : v)).join(", ")
  }) [${mode}]`;
}

/**
 * Runs a kernel over the rows in every applicable encoding and asserts each
 * row equals DuckDB's result. Returns DuckDB's results for further checks.
 */
export async function matchesDuckDB(c: Check): Promise<unknown[]> {
  const expected = await reference(c);
  const kernel = SCALAR_FUNCTIONS[c.fn];
  assert.ok(kernel, `no kernel ${c.fn}`);
  const n = c.rows.length;
  const tol = c.tolerance ?? 0;
  const modes = c.modes ?? ["column", "scalar", "dict", "constArgs"];
  const check = (mode: string, out: Datum, row: number, outRow: number) => {
    const got = resultAt(out, outRow, c.resultType);
    assert.ok(
      same(got, expected[row], tol),
      `${describe(c, row, mode)}: got ${JSON.stringify(got)}, DuckDB ${
        JSON.stringify(expected[row])
      }`,
    );
  };
  const columns = c.argTypes.map((t, k) => columnFromValues(t, c.rows.map((r) => r[k])));
  if (modes.includes("column")) {
    const out = kernel(columns, n, c.resultType);
    if (!isScalar(out)) assert.equal(out.length, n, `${c.fn}: result length`);
    for (let i = 0; i < n; i++) check("column", out, i, i);
  }
  if (modes.includes("scalar")) {
    for (let i = 0; i < n; i++) {
      const args = c.argTypes.map((t, k) => scalar(t, c.rows[i][k]));
      const out = kernel(args, 1, c.resultType);
      assert.ok(isScalar(out), `${describe(c, i, "scalar")}: all-scalar call must give a scalar`);
      check("scalar", out, i, 0);
    }
  }
  const firstIsString = c.argTypes[0]?.id === "utf8";
  if (firstIsString && modes.includes("dict")) {
    const dict = dictOf(c.rows.map((r) => r[0] as string | null));
    const out = kernel([dict, ...columns.slice(1)], n, c.resultType);
    for (let i = 0; i < n; i++) check("dict", out, i, i);
  }
  if (c.argTypes.length > 1 && modes.includes("constArgs")) {
    // First argument a column (plain and dictionary), the others constant:
    // row i of the output must match DuckDB's row i.
    const firsts = c.rows.map((r) => r[0]);
    const plain = columns[0];
    const dict = firstIsString ? dictOf(firsts as (string | null)[]) : null;
    for (let i = 0; i < n; i++) {
      const rest = c.argTypes.slice(1).map((t, k) => scalar(t, c.rows[i][k + 1]));
      let out: Datum;
      try {
        out = kernel([plain, ...rest], n, c.resultType);
      } catch {
        // Other rows combined with this row's constants may legitimately fail (e.g. ln of a
        // negative row); row i alone is covered by the other modes.
        continue;
      }
      check("constArgs", out, i, i);
      if (dict) {
        const outDict = kernel([dict, ...rest], n, c.resultType);
        check("constArgs+dict", outDict, i, i);
        for (let j = 0; j < n; j++) {
          assert.deepEqual(
            resultAt(outDict, j, c.resultType),
            resultAt(out, j, c.resultType),
            `${c.fn}: dictionary and plain results differ at row ${j} with constants of row ${i}`,
          );
        }
      }
    }
  }
  return expected;
}

/** Asserts that both DuckDB and the kernel fail on one all-scalar call. */
export async function failsLikeDuckDB(
  fn: string,
  argTypes: DataType[],
  args: Value[],
  resultType: DataType,
  message: RegExp,
  sql?: string,
): Promise<void> {
  const lits = args.map((v, k) => sqlLiteral(v, argTypes[k]));
  const duck = await duckdbError(`SELECT ${sql ?? `${fn}(${lits.join(", ")})`}`);
  assert.ok(duck !== null, `DuckDB accepted ${fn}(${lits.join(", ")})`);
  assert.match(duck, message, `DuckDB's message for ${fn}`);
  assert.throws(
    () => SCALAR_FUNCTIONS[fn](args.map((v, k) => scalar(argTypes[k], v)), 1, resultType),
    (e: Error) => {
      assert.equal((e as { code?: string }).code, "DATA");
      assert.match(e.message, message);
      return true;
    },
  );
  // The same failure from a column.
  assert.throws(() =>
    SCALAR_FUNCTIONS[fn](args.map((v, k) => columnFromValues(argTypes[k], [v, v])), 2, resultType)
  );
}
