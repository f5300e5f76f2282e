/**
 * Arithmetic kernels: + - * / // % over column/column, column/scalar,
 * scalar/column and scalar/scalar with NULLs; integer overflow errors; x // 0
 * and x % 0 are NULL; decimal results exact at DuckDB's result types; dates,
 * timestamps and intervals. Operands are cast to the operator's signature
 * (plan/coercion.ts) as the binder does, and expected values come from DuckDB.
 */

import assert from "node:assert/strict";
import { type Column, columnFromValues, type Value } from "../../../src/arrow/column.ts";
import {
  type DataType,
  DATE32,
  decimal,
  FLOAT64,
  INT32,
  INT64,
  INTERVAL,
  TIMESTAMP,
  typeToString,
} from "../../../src/arrow/types.ts";
import { SpiceError } from "../../../src/errors.ts";
import { type Datum, isScalar, scalar } from "../../../src/exec/datum.ts";
import {
  addMonths,
  arithmetic,
  civilFromDays,
  daysFromCivil,
  negate,
} from "../../../src/exec/kernels/arith.ts";
import { castDatum } from "../../../src/exec/kernels/cast.ts";
import { binarySignature } from "../../../src/plan/coercion.ts";
import type { BinaryOp } from "../../../src/plan/expr.ts";
import { formatTimestamp, parseDate, parseTimestamp } from "../../../src/sql/literals.ts";
import {
  duck,
  duckDecimal,
  duckDouble,
  exact,
  rows,
  sc,
  sqlLiteral,
  sqlTypeName,
} from "./support.ts";

/** Evaluates `l op r` as the engine does for bound SQL: cast to the signature, then the kernel. */
function evalOp(op: BinaryOp, l: Datum, r: Datum, n: number): { type: DataType; out: Datum } {
  const sig = binarySignature(op, l.type, r.type);
  const out = arithmetic(op, castDatum(l, sig.left), castDatum(r, sig.right), sig.result, n);
  return { type: sig.result, out };
}

/** DuckDB's value of a result cell as the engine's storage value (exact for decimals). */
function fromDuck(type: DataType, v: unknown): Value {
  if (v === null) return null;
  switch (type.id) {
    case "float64": {
      const x = duckDouble(v);
      return Object.is(x, -0) ? 0 : x;
    }
    case "decimal":
      return duckDecimal(v, type.scale);
    case "int32":
    case "int64":
      return BigInt(String(v));
    case "date32":
      return parseDate(String(v));
    case "timestamp":
      return parseTimestamp(String(v));
    default:
      return v as Value;
  }
}

function normalise(type: DataType, v: Value): Value {
  if (v === null) return null;
  if (type.id === "decimal" || type.id === "int32" || type.id === "int64") return exact(v);
  // DuckDB's JSON has no negative zero.
  return Object.is(v, -0) ? 0 : v;
}

/**
 * Checks `a op b` for every pair in every operand shape against DuckDB, and
 * that the engine's result type is DuckDB's.
 */
async function check(
  op: BinaryOp,
  lt: DataType,
  rt: DataType,
  pairs: readonly (readonly [Value, Value])[],
): Promise<void> {
  const sqlOp = op;
  const vals = pairs.map(([a, b], i) => `(${i}, ${sqlLiteral(lt, a)}, ${sqlLiteral(rt, b)})`)
    .join(", ");
  const got = await duck(
    `SELECT typeof(a ${sqlOp} b), a ${sqlOp} b FROM (VALUES ${vals}) t(i, a, b) ORDER BY i`,
  );
  const n = pairs.length;
  const as = pairs.map((p) => p[0]), bs = pairs.map((p) => p[1]);
  const label = `${typeToString(lt)} ${op} ${typeToString(rt)}`;
  const { type, out } = evalOp(op, columnFromValues(lt, as), columnFromValues(rt, bs), n);
  assert.equal(typeToString(type), String(got[0][0]), `${label}: result type`);
  const want = got.map((r) => fromDuck(type, r[1]));
  assert.deepEqual(rows(out, n).map((v) => normalise(type, v)), want, `${label}: column/column`);
  for (let i = 0; i < n; i++) {
    const shapes: [string, Datum, Datum][] = [
      ["column/scalar", columnFromValues(lt, [as[i]]), sc(rt, bs[i])],
      ["scalar/column", sc(lt, as[i]), columnFromValues(rt, [bs[i]])],
      ["scalar/scalar", sc(lt, as[i]), sc(rt, bs[i])],
    ];
    for (const [shape, l, r] of shapes) {
      const res = evalOp(op, l, r, 1).out;
      if (shape === "scalar/scalar") assert.ok(isScalar(res), `${label}: scalars give a scalar`);
      assert.deepEqual(
        normalise(type, rows(res, 1)[0]),
        want[i],
        `${label}: ${shape} ${String(as[i])} ${op} ${String(bs[i])}`,
      );
    }
  }
}

function cross(xs: readonly Value[], ys: readonly Value[] = xs): [Value, Value][] {
  return xs.flatMap((a) => ys.map((b) => [a, b] as [Value, Value]));
}

// ---------------------------------------------------------------------------
// integers

Deno.test("INTEGER + - * with NULLs", async () => {
  const xs = [-46340, -7, -1, 0, 1, 3, 46340, null];
  for (const op of ["+", "-", "*"] as const) await check(op, INT32, INT32, cross(xs));
});

Deno.test("BIGINT + - * and mixed INTEGER/BIGINT", async () => {
  // Products stay within ±2^53, the engine's exact BIGINT range (values live in doubles).
  const xs = [-(2 ** 25), -3, 0, 2, 2 ** 25, null];
  for (const op of ["+", "-", "*"] as const) {
    await check(op, INT64, INT64, cross(xs));
    await check(op, INT32, INT64, cross([-5, 0, 7, null], xs));
  }
});

Deno.test("integer // and %: truncating, and NULL for a zero divisor", async () => {
  const xs = [-7, -6, -1, 0, 1, 2, 7, null];
  for (const op of ["//", "%"] as const) {
    await check(op, INT32, INT32, cross(xs, [-3, -2, -1, 0, 1, 2, 3, null]));
    await check(op, INT64, INT64, cross([-(2 ** 40) - 1, 9, null], [-2, 0, 5]));
  }
});

Deno.test("integer / is DOUBLE division (x / 0 is infinite)", async () => {
  await check("/", INT32, INT32, cross([-7, 0, 1, 7, null], [-2, 0, 3, null]));
});

Deno.test("INTEGER overflow is an error naming the type; a NULL row cannot overflow", () => {
  const overflow = (e: unknown) =>
    e instanceof SpiceError && e.code === "DATA" && /overflow/i.test(e.message) &&
    /INTEGER/.test(e.message);
  const max = columnFromValues(INT32, [1, 2147483647]);
  assert.throws(() => arithmetic("+", max, sc(INT32, 1), INT32, 2), overflow);
  assert.throws(() => arithmetic("-", sc(INT32, -2147483648), sc(INT32, 1), INT32, 1), overflow);
  assert.throws(
    () => arithmetic("*", columnFromValues(INT32, [65536]), sc(INT32, 32768), INT32, 1),
    overflow,
  );
  // The value under a NULL is garbage: it must not raise.
  const hidden = { ...max, validity: Uint8Array.of(1, 0) } as Column;
  assert.deepEqual(rows(arithmetic("+", hidden, sc(INT32, 1), INT32, 2), 2), [2, null]);
});

Deno.test("BIGINT results beyond ±2^53 are refused, never rounded (BIGINT lives in doubles)", () => {
  const refused = (e: unknown) =>
    e instanceof SpiceError && e.code === "NOT_SUPPORTED" && /beyond ±2\^53/.test(e.message);
  const big = columnFromValues(INT64, [2 ** 62]);
  assert.throws(() => arithmetic("*", big, sc(INT64, 4), INT64, 1), refused, "2^62 * 4");
  assert.throws(() => arithmetic("+", sc(INT64, 2 ** 53), sc(INT64, 2 ** 53), INT64, 1), refused);
  assert.throws(
    () => arithmetic("*", columnFromValues(INT64, [2 ** 31]), sc(INT64, 2 ** 31), INT64, 1),
    refused,
    "2^31 * 2^31 = 2^62",
  );
  // Up to 2^53 the result is exact.
  assert.deepEqual(rows(arithmetic("+", sc(INT64, 2 ** 52), sc(INT64, 2 ** 52 - 1), INT64, 1), 1), [
    2 ** 53 - 1,
  ]);
});

// ---------------------------------------------------------------------------
// doubles

Deno.test("DOUBLE + - * /, with infinities, NaN, signed zeros and zero divisors", async () => {
  const xs = [-2.5, -0, 0.1, 3, 1e308, Infinity, NaN, null];
  for (const op of ["+", "-", "*", "/"] as const) await check(op, FLOAT64, FLOAT64, cross(xs));
});

Deno.test("DOUBLE % is fmod", async () => {
  await check("%", FLOAT64, FLOAT64, cross([-7.5, 7.5, 0.3, null], [-2, 0.1, 2, null]));
});

Deno.test("DOUBLE % 0 is what DuckDB computes (NaN)", async () => {
  await check("%", FLOAT64, FLOAT64, cross([-7.5, 0], [0]));
});

Deno.test("DOUBLE // is what DuckDB computes", async () => {
  await check("//", FLOAT64, FLOAT64, cross([-7.5, 7, 7.5], [-2, 2]));
});

Deno.test("DOUBLE // 0 is NULL", () => {
  const r = arithmetic("//", columnFromValues(FLOAT64, [7.5, 1]), sc(FLOAT64, 0), FLOAT64, 2);
  assert.deepEqual(rows(r, 2), [null, null]);
});

// ---------------------------------------------------------------------------
// decimals

Deno.test("decimal + - keep exact values at DuckDB's result type", async () => {
  const a = decimal(10, 2), b = decimal(12, 4);
  const xs = [-99999999, -1, 0, 12345, 99999999, null];
  const ys = [-999999999999, 1, 50000, null];
  for (const op of ["+", "-"] as const) {
    await check(op, a, b, cross(xs, ys));
    await check(op, a, INT32, cross(xs, [-2147483648, 7, null]));
    await check(op, INT64, a, cross([-(2 ** 53), 5, null], xs));
  }
});

Deno.test("decimal * : scales add, two 18-digit-or-less operands stay DECIMAL(18,s)", async () => {
  await check("*", decimal(15, 2), decimal(15, 2), cross([-12345, 0, 99, null]));
  await check("*", decimal(18, 2), decimal(3, 1), cross([123456789, -5, null], [-15, 999]));
  await check("*", decimal(10, 3), INT32, cross([1500, -1], [3, -2147483648]));
});

Deno.test("decimal % and DOUBLE-typed decimal /", async () => {
  await check("%", decimal(10, 2), decimal(12, 5), cross([-750, 750, 0, null], [200000, -30000]));
  await check("/", decimal(10, 2), decimal(10, 2), cross([750, -1], [200, 300]));
});

Deno.test("decimal // has DuckDB's result type and value", async () => {
  await check("//", decimal(10, 1), INT32, cross([75, -75], [2]));
});

Deno.test("wide decimals (precision > 18) are exact beyond 2^53", async () => {
  const w = decimal(38, 2);
  const big = [2n ** 61n, -(2n ** 61n) + 1n, 9007199254740993n, 1n, null];
  for (const op of ["+", "-"] as const) {
    await check(op, w, w, cross(big, [2n ** 60n, -3n, 0n]));
    // Rescaled by 100 to the result's scale 4: still below 2^63.
    await check(op, w, decimal(10, 4), cross([2n ** 55n, -(2n ** 55n) - 1n, null], [12345, -1]));
  }
  await check("*", decimal(20, 0), decimal(20, 0), cross([3037000499n, -3n], [3037000499n, 7n]));
});

Deno.test("wide decimal results past 2^63 are refused, never wrapped (64-bit storage)", () => {
  const refused = (e: unknown) =>
    e instanceof SpiceError && e.code === "NOT_SUPPORTED" && /wider than 64 bits/.test(e.message);
  const w = decimal(38, 2);
  const big = columnFromValues(w, [2n ** 62n]);
  assert.throws(() => arithmetic("+", big, big, w, 1), refused);
  assert.throws(
    () =>
      arithmetic(
        "-",
        columnFromValues(w, [-(2n ** 62n)]),
        columnFromValues(w, [2n ** 62n + 1n]),
        w,
        1,
      ),
    refused,
  );
  const ten = columnFromValues(decimal(20, 0), [10000000000n]);
  assert.throws(() => arithmetic("*", ten, ten, decimal(38, 0), 1), refused);
});

Deno.test("decimal overflow past the result precision is an error", () => {
  const t = decimal(18, 4); // DECIMAL(15,2) * DECIMAL(15,2)
  const big = columnFromValues(decimal(15, 2), [999999999999999]);
  assert.throws(
    () => arithmetic("*", big, big, t, 1),
    (e) => e instanceof SpiceError && /overflow/i.test(e.message) && /DECIMAL/.test(e.message),
  );
});

Deno.test("decimal % 0 and // 0 are NULL", () => {
  const a = columnFromValues(decimal(10, 2), [750, 100]);
  const zero = columnFromValues(decimal(10, 2), [0, 0]);
  const sig = binarySignature("%", a.type, zero.type);
  assert.deepEqual(rows(arithmetic("%", a, zero, sig.result, 2), 2), [null, null]);
  const w = decimal(38, 2);
  assert.deepEqual(
    rows(arithmetic("%", columnFromValues(w, [5n, 7n]), columnFromValues(w, [0n, 2n]), w, 2), 2),
    [null, 1n],
  );
  assert.equal(
    (arithmetic("%", sc(decimal(10, 2), 750), sc(decimal(10, 2), 0), sig.result, 1) as {
      value: unknown;
    }).value,
    null,
  );
});

// ---------------------------------------------------------------------------
// negation and NULL scalars

Deno.test("negation of columns, scalars and wide decimals keeps NULLs", () => {
  assert.deepEqual(rows(negate(columnFromValues(INT32, [1, null, -5]), 3), 3), [-1, null, 5]);
  assert.deepEqual(rows(negate(columnFromValues(decimal(38, 0), [2n ** 62n]), 1), 1), [
    -(2n ** 62n),
  ]);
  assert.deepEqual((negate(sc(FLOAT64, 2.5), 1) as { value: unknown }).value, -2.5);
  assert.equal((negate(sc(INT32, null), 1) as { value: unknown }).value, null);
});

Deno.test("negating INTEGER -2147483648 is an overflow error, as in DuckDB", () => {
  assert.throws(
    () => negate(columnFromValues(INT32, [-2147483648]), 1),
    (e) => e instanceof SpiceError && /overflow/i.test(e.message),
  );
});

Deno.test("a NULL scalar operand gives a NULL scalar of the result type", () => {
  const c = columnFromValues(INT32, [1, 2]);
  for (const op of ["+", "-", "*", "/", "//", "%"] as const) {
    const r = arithmetic(op, c, sc(INT32, null), INT32, 2);
    assert.ok(isScalar(r));
    assert.equal(r.value, null, op);
    const l = arithmetic(op, scalar(INT32, null), c, INT32, 2);
    assert.equal((l as { value: unknown }).value, null, op);
  }
});

// ---------------------------------------------------------------------------
// dates, timestamps and intervals

Deno.test("DATE - DATE is days, DATE +/- INTEGER is a DATE", async () => {
  const d = (s: string) => parseDate(s);
  await check(
    "-",
    DATE32,
    DATE32,
    cross([d("2024-03-01"), d("1969-12-31"), null], [d("2024-02-01")]),
  );
  await check("+", DATE32, INT32, cross([d("2024-02-28"), null], [1, -60, 365]));
  await check("-", DATE32, INT32, cross([d("2024-03-01")], [1, 366]));
});

Deno.test("DATE / TIMESTAMP +/- INTERVAL clamps to the month's end, as DuckDB", async () => {
  const iv = (months: number, days: number, micros: number) => ({ months, days, micros });
  const cases: [Value, ReturnType<typeof iv>, "+" | "-", string][] = [
    [parseDate("2024-01-31"), iv(1, 0, 0), "+", "DATE '2024-01-31' + INTERVAL 1 MONTH"],
    [parseDate("2024-03-31"), iv(1, 0, 0), "-", "DATE '2024-03-31' - INTERVAL 1 MONTH"],
    [parseDate("2023-01-31"), iv(13, 0, 0), "+", "DATE '2023-01-31' + INTERVAL 13 MONTH"],
    [
      parseTimestamp("2024-01-31 10:00:00"),
      iv(1, 2, 3 * 3600e6),
      "+",
      "TIMESTAMP '2024-01-31 10:00:00' + INTERVAL '1 month 2 days 3 hours'",
    ],
    [
      parseTimestamp("1969-12-31 23:59:59.5"),
      iv(0, 0, 1e6),
      "+",
      "TIMESTAMP '1969-12-31 23:59:59.5' + INTERVAL 1 SECOND",
    ],
  ];
  for (const [v, interval, op, sql] of cases) {
    const [[want]] = await duck(`SELECT (${sql})::TIMESTAMP::VARCHAR`);
    const isDate = sql.startsWith("DATE");
    const t = isDate ? DATE32 : TIMESTAMP;
    const l = castDatum(columnFromValues(t, [v, null]), TIMESTAMP);
    const out = arithmetic(op, l, scalar(INTERVAL, interval), TIMESTAMP, 2);
    const got = rows(out, 2);
    assert.equal(formatTimestamp(got[0] as number), String(want), sql);
    assert.equal(got[1], null, `${sql}: NULL stays NULL`);
    // interval + time (commuted) for +
    if (op === "+") {
      const c = arithmetic("+", scalar(INTERVAL, interval), l, TIMESTAMP, 2);
      assert.equal(formatTimestamp(rows(c, 1)[0] as number), String(want), `commuted ${sql}`);
    }
  }
});

Deno.test("civil date conversions agree with each other and with DuckDB", async () => {
  for (const s of ["0001-01-01", "1582-10-15", "1900-02-28", "2000-02-29", "2100-03-01"]) {
    const [y, m, d] = s.split("-").map(Number);
    const days = daysFromCivil(y, m, d);
    const [[epochDays]] = await duck(`SELECT (DATE '${s}' - DATE '1970-01-01')::BIGINT`);
    assert.equal(days, Number(epochDays), s);
    assert.deepEqual(civilFromDays(days), [y, m, d], s);
  }
  assert.equal(addMonths(daysFromCivil(2024, 1, 31), 1), daysFromCivil(2024, 2, 29));
  assert.equal(addMonths(daysFromCivil(2023, 1, 31), 1), daysFromCivil(2023, 2, 28));
  assert.equal(addMonths(daysFromCivil(2024, 3, 15), -15), daysFromCivil(2022, 12, 15));
});

Deno.test("result types match DuckDB for mixed operand types", async () => {
  const cases: [BinaryOp, DataType, DataType][] = [
    ["+", INT32, INT32],
    ["+", INT32, INT64],
    ["*", INT32, FLOAT64],
    ["/", INT32, INT32],
    ["+", decimal(10, 2), INT64],
    ["-", decimal(5, 0), decimal(38, 10)],
    ["*", decimal(20, 2), decimal(10, 2)],
    ["%", INT32, decimal(9, 3)],
    ["+", decimal(4, 1), FLOAT64],
  ];
  for (const [op, l, r] of cases) {
    const [[t]] = await duck(
      `SELECT typeof(a ${op} b) FROM (VALUES (1::${sqlTypeName(l)}, 1::${sqlTypeName(r)})) t(a, b)`,
    );
    assert.equal(
      typeToString(binarySignature(op, l, r).result),
      t,
      `${typeToString(l)} ${op} ${typeToString(r)}`,
    );
  }
});
