import assert from "node:assert/strict";
import { columnFromValues, type Value } from "../../../src/arrow/column.ts";
import { type DataType, decimal, FLOAT64, INT32, INT64 } from "../../../src/arrow/types.ts";
import { isScalar } from "../../../src/exec/datum.ts";
import { SCALAR_FUNCTIONS } from "../../../src/exec/functions/mod.ts";
import { failsLikeDuckDB, matchesDuckDB, resultAt } from "./duckdb_reference.ts";

/** libm (DuckDB) and V8 may differ in the last bit of transcendental functions. */
const ULPS = 4e-16;

const DOUBLES: Value[] = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2.5,
  -2.5,
  1.005,
  2.675,
  0.285,
  123.456,
  -123.456,
  1e-10,
  1e15 + 0.5,
  1e300,
  -1e300,
  Math.PI,
  NaN,
  Infinity,
  -Infinity,
  null,
];
const INTS: Value[] = [0, 1, -1, 7, -7, 125, -125, 150, -150, 2147483647, -2147483647, null];
const BIGINTS: Value[] = [0, 1, -1, 125, -125, 9007199254740991, -9007199254740991, null];

/** Unscaled decimal(15,2) values: 1.25, -1.25, 0.50, -0.50, 0.49, 999.99, ... */
const DEC15_2: Value[] = [
  0,
  125,
  -125,
  50,
  -50,
  49,
  -49,
  99999,
  -99999,
  150,
  -150,
  1,
  -1,
  12345678901234,
  null,
];
/** Unscaled decimal(4,3) values. */
const DEC4_3: Value[] = [0, 1234, -1234, 500, -500, 1500, -1500, 9999, -9999, 1, null];
/** Unscaled decimal(38,4) values, stored wide (BigInt64Array: within int64). */
const DEC38_4: Value[] = [0n, 12345n, -12345n, 5000n, -5000n, 1234567890123456789n, -99995n, null];

const NUMERIC_INPUTS: [DataType, Value[]][] = [
  [FLOAT64, DOUBLES],
  [INT32, INTS],
  [INT64, BIGINTS],
  [decimal(15, 2), DEC15_2],
  [decimal(4, 3), DEC4_3],
  [decimal(38, 4), DEC38_4],
];

function decimalZeroScale(t: DataType): DataType {
  return t.id === "decimal" ? decimal(t.precision, 0) : t;
}

for (const [t, values] of NUMERIC_INPUTS) {
  const rows = values.map((v) => [v]);
  const name = t.id === "decimal" ? `decimal(${t.precision},${t.scale})` : t.id;
  Deno.test(`abs and sign on ${name}`, async () => {
    await matchesDuckDB({ fn: "abs", argTypes: [t], resultType: t, rows });
    await matchesDuckDB({ fn: "sign", argTypes: [t], resultType: INT32, rows });
  });
  Deno.test(`ceil, floor, trunc, round on ${name}`, async () => {
    for (const fn of ["ceil", "floor", "trunc", "round"]) {
      await matchesDuckDB({ fn, argTypes: [t], resultType: decimalZeroScale(t), rows });
    }
  });
  Deno.test(`round(x, k) on ${name}`, async () => {
    for (const k of [-400, -20, -3, -2, -1, 0, 1, 2, 3, 5, 400]) {
      if (t.id === "decimal" && (k < -30 || k > 30)) continue;
      // DuckDB's result scale for decimals: 0 for k < 0, the input scale when k >= it, else k.
      const resultType = t.id === "decimal"
        ? decimal(t.precision, k < 0 ? 0 : Math.min(k, t.scale))
        : t;
      await matchesDuckDB({
        fn: "round",
        argTypes: [t, INT32],
        resultType,
        rows: values.map((v) => [v, k]),
        // DuckDB only rounds decimals to a constant number of digits.
        sql: (c) => `round(${c[0]}, ${k})`,
        modes: ["column", "scalar", "constArgs"],
      });
    }
  });
}

Deno.test("round(decimal, k) produces values at the scale of the given result type", () => {
  // decimal(15,2) 1.25 rounded to 1 digit is 1.3; asked for at scale 2 it is 1.30.
  const x = columnFromValues(decimal(15, 2), [125, -125, null]);
  const k = columnFromValues(INT32, [1, 1, 1]);
  const out = SCALAR_FUNCTIONS.round([x, k], 3, decimal(15, 2));
  assert.deepEqual([0, 1, 2].map((i) => resultAt(out, i, decimal(15, 2))), ["1.30", "-1.30", null]);
});

Deno.test("round(x, NULL) is NULL", async () => {
  await matchesDuckDB({
    fn: "round",
    argTypes: [FLOAT64, INT32],
    resultType: FLOAT64,
    rows: [[1.5, null]],
  });
});

const UNARY_DOUBLE = ["sqrt", "cbrt", "exp", "ln", "log10", "log2", "log"];
const POSITIVE: Value[] = [
  1,
  2,
  0.5,
  8,
  10,
  100,
  1000,
  1e-300,
  1e300,
  123.456,
  Math.E,
  NaN,
  Infinity,
  null,
];

for (const fn of UNARY_DOUBLE) {
  Deno.test(`${fn} matches DuckDB`, async () => {
    const values = fn === "sqrt" || fn.startsWith("l")
      ? POSITIVE
      : [...POSITIVE, 0, -0, -1, -8, -27.5, -Infinity, 710, -745.2];
    await matchesDuckDB({
      fn,
      argTypes: [FLOAT64],
      resultType: FLOAT64,
      rows: values.map((v) => [v]),
      tolerance: ULPS,
    });
  });
}

Deno.test("sqrt(-0) and logarithm range errors match DuckDB", async () => {
  await matchesDuckDB({ fn: "sqrt", argTypes: [FLOAT64], resultType: FLOAT64, rows: [[-0], [0]] });
  await failsLikeDuckDB(
    "sqrt",
    [FLOAT64],
    [-1],
    FLOAT64,
    /cannot take square root of a negative number/,
  );
  for (const fn of ["ln", "log10", "log2", "log"]) {
    await failsLikeDuckDB(fn, [FLOAT64], [0], FLOAT64, /cannot take logarithm of zero/);
    await failsLikeDuckDB(
      fn,
      [FLOAT64],
      [-2],
      FLOAT64,
      /cannot take logarithm of a negative number/,
    );
  }
  await failsLikeDuckDB(
    "log",
    [FLOAT64, FLOAT64],
    [1, 8],
    FLOAT64,
    /divison by zero in based logarithm/,
  );
  await failsLikeDuckDB("log", [FLOAT64, FLOAT64], [-2, 8], FLOAT64, /negative number/);
  await failsLikeDuckDB("log", [FLOAT64, FLOAT64], [2, 0], FLOAT64, /logarithm of zero/);
});

Deno.test("errors skip NULL rows", () => {
  // A NULL row's storage may hold anything (here -1): it must not raise.
  const col = columnFromValues(FLOAT64, [4, null]);
  (col as { values: Float64Array }).values[1] = -1;
  const out = SCALAR_FUNCTIONS.sqrt([col], 2, FLOAT64);
  assert.deepEqual([resultAt(out, 0, FLOAT64), resultAt(out, 1, FLOAT64)], [2, null]);
});

Deno.test("log(b, x) and power(x, y) match DuckDB", async () => {
  const bases: Value[] = [2, 10, 0.5, Math.E, 3, null];
  const xs: Value[] = [8, 100, 0.25, 1, 7.5, null];
  const rows = bases.flatMap((b) => xs.map((x) => [b, x]));
  await matchesDuckDB({
    fn: "log",
    argTypes: [FLOAT64, FLOAT64],
    resultType: FLOAT64,
    rows,
    tolerance: ULPS,
  });
  const ys: Value[] = [0, 1, -1, 0.5, 2, 3, 1 / 3, -0.5, 1000, NaN, Infinity, -Infinity, null];
  const ps: Value[] = [0, -0, 1, -1, 2, -2, 10, 0.5, -8, NaN, Infinity, -Infinity, null];
  await matchesDuckDB({
    fn: "power",
    argTypes: [FLOAT64, FLOAT64],
    resultType: FLOAT64,
    rows: ps.flatMap((b) => ys.map((y) => [b, y])),
    tolerance: ULPS,
  });
});

Deno.test("mod matches DuckDB on integers, decimals and doubles", async () => {
  const ints: Value[] = [7, -7, 0, 5, -2147483647, null];
  const divisors: Value[] = [3, -3, 1, -1, 0, 7, null];
  for (const t of [INT32, INT64]) {
    await matchesDuckDB({
      fn: "mod",
      argTypes: [t, t],
      resultType: t,
      rows: ints.flatMap((a) => divisors.map((b) => [a, b])),
    });
  }
  const d = decimal(15, 2);
  const decs: Value[] = [750, -750, 0, 125, -125, null];
  const decDivisors: Value[] = [200, -200, 3, 0, 1000, null];
  await matchesDuckDB({
    fn: "mod",
    argTypes: [d, d],
    resultType: d,
    rows: decs.flatMap((a) => decDivisors.map((b) => [a, b])),
  });
  const w = decimal(38, 2);
  await matchesDuckDB({
    fn: "mod",
    argTypes: [w, w],
    resultType: w,
    rows: [
      [750n, 200n],
      [-750n, 200n],
      [1234567890123456789n, 1000n],
      [-9223372036854775807n, 7n],
      [5n, 0n],
      [null, 1n],
    ],
  });
  const dbl: Value[] = [7.5, -7.5, 0, -0, 1e300, Infinity, NaN, null];
  const dblDiv: Value[] = [2, -2, 0.3, 0, Infinity, NaN, null];
  await matchesDuckDB({
    fn: "mod",
    argTypes: [FLOAT64, FLOAT64],
    resultType: FLOAT64,
    rows: dbl.flatMap((a) => dblDiv.map((b) => [a, b])),
  });
});

Deno.test("abs(-2147483648) overflows like DuckDB", async () => {
  await failsLikeDuckDB(
    "abs",
    [INT32],
    [-2147483648],
    INT32,
    /Overflow on abs\(-2147483648\)/,
    "abs(x) FROM (VALUES (-2147483647::INTEGER - 1)) t(x)",
  );
});

Deno.test("pi is a scalar and random is one value per row", () => {
  const pi = SCALAR_FUNCTIONS.pi([], 10, FLOAT64);
  assert.ok(isScalar(pi));
  assert.equal(pi.value, Math.PI);
  const r = SCALAR_FUNCTIONS.random([], 1000, FLOAT64);
  assert.ok(!isScalar(r) && r.length === 1000);
  const seen = new Set<unknown>();
  for (let i = 0; i < 1000; i++) {
    const v = resultAt(r, i, FLOAT64) as number;
    assert.ok(v >= 0 && v < 1);
    seen.add(v);
  }
  assert.ok(seen.size > 990);
});
