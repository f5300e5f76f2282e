/**
 * CAST kernels against DuckDB: rounding (decimal -> integer half away from
 * zero, double -> integer half to even), string parsing and its errors
 * (which name the value), decimal rescaling, formatting to VARCHAR, dates
 * and timestamps, NULL handling, dictionary inputs.
 */

import assert from "node:assert/strict";
import {
  type Column,
  columnFromValues,
  nullColumn,
  type Value,
} from "../../../src/arrow/column.ts";
import {
  BOOL,
  type DataType,
  DATE32,
  decimal,
  FLOAT64,
  INT32,
  INT64,
  INTERVAL,
  NULL,
  TIMESTAMP,
  typeToString,
  UTF8,
} from "../../../src/arrow/types.ts";
import { SpiceError } from "../../../src/errors.ts";
import { isScalar } from "../../../src/exec/datum.ts";
import {
  castColumn,
  castDatum,
  castValue,
  formatDecimal,
  roundHalfAway,
  roundHalfEven,
} from "../../../src/exec/kernels/cast.ts";
import { parseDate, parseTimestamp } from "../../../src/sql/literals.ts";
import {
  dictOf,
  duck,
  duckDecimal,
  duckDouble,
  duckError,
  exact,
  rows,
  sc,
  sqlLiteral,
  sqlTypeName,
} from "./support.ts";

/** DuckDB's CAST of each value, as engine storage values (decimals as exact bigints). */
async function reference(from: DataType, values: readonly Value[], to: DataType): Promise<Value[]> {
  const list = values.map((v, i) => `(${i}, ${sqlLiteral(from, v)})`).join(", ");
  const out = await duck(
    `SELECT CAST(x AS ${sqlTypeName(to)})${
      to.id === "date32" || to.id === "timestamp" ? "::VARCHAR" : ""
    } FROM (VALUES ${list}) t(i, x) ORDER BY i`,
  );
  return out.map(([v]) => {
    if (v === null) return null;
    switch (to.id) {
      case "decimal":
        return duckDecimal(v, to.scale);
      case "float64":
        return duckDouble(v);
      case "int32":
      case "int64":
        return BigInt(String(v));
      case "bool":
        return v === true;
      case "date32":
        return parseDate(String(v));
      case "timestamp":
        return parseTimestamp(String(v));
      default:
        return v as Value;
    }
  });
}

function normalise(to: DataType, v: Value): Value {
  if (v === null) return null;
  if (to.id === "decimal" || to.id === "int32" || to.id === "int64") return exact(v);
  return v;
}

/** Casts values as a column and one by one as scalars; both must equal DuckDB's. */
async function check(from: DataType, values: readonly Value[], to: DataType): Promise<void> {
  const want = await reference(from, values, to);
  const label = `${typeToString(from)} -> ${typeToString(to)}`;
  const col = castColumn(columnFromValues(from, values), to);
  assert.equal(typeToString(col.type), typeToString(to), `${label}: result type`);
  assert.deepEqual(
    rows(col, values.length).map((v) => normalise(to, v)),
    want,
    `${label}: column ${JSON.stringify(values, (_, x) => typeof x === "bigint" ? `${x}n` : x)}`,
  );
  values.forEach((v, i) => {
    const d = castDatum(sc(from, v), to);
    assert.ok(isScalar(d), "a scalar stays a scalar");
    const got = to.id === "bool" && typeof d.value === "number" ? d.value === 1 : d.value;
    assert.deepEqual(normalise(to, got as Value), want[i], `${label}: scalar ${String(v)}`);
  });
}

/** Both engines refuse the cast; ours with a SpiceError whose message names the value. */
async function checkError(from: DataType, v: Value, to: DataType, named: string): Promise<void> {
  const label = `${typeToString(from)} ${String(v)} -> ${typeToString(to)}`;
  const d = await duckError(`SELECT CAST(${sqlLiteral(from, v)} AS ${sqlTypeName(to)})`);
  assert.ok(d !== null, `${label}: DuckDB refuses it`);
  assert.throws(
    () => castColumn(columnFromValues(from, [v]), to),
    (e) =>
      e instanceof SpiceError &&
      (e.code === "DATA" || e.code === "TYPE" || e.code === "NOT_SUPPORTED") &&
      e.message.includes(named),
    `${label}: an error naming ${named}`,
  );
}

// ---------------------------------------------------------------------------
// rounding

Deno.test("roundHalfEven / roundHalfAway", () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven), [
    0,
    2,
    2,
    -0,
    -2,
    -2,
    2,
    -3,
  ]);
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5].map(roundHalfAway), [1, 2, 3, -1, -2, -3]);
});

Deno.test("DOUBLE -> INTEGER / BIGINT rounds half to even", async () => {
  const xs = [2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 1.4999999, -1.5000001, 1e9, null];
  await check(FLOAT64, xs, INT32);
  await check(FLOAT64, [...xs, 2 ** 53, -(2 ** 60)], INT64);
});

Deno.test("DECIMAL -> INTEGER / BIGINT rounds half away from zero", async () => {
  await check(decimal(4, 1), [25, 35, -25, -35, 5, -5, 14, -16, null], INT32);
  await check(decimal(18, 3), [2500, -2500, 999999999499, null], INT64);
  await check(decimal(38, 2), [250n, -250n, 2n ** 55n + 50n, null], INT64);
});

Deno.test("out-of-range integer casts are errors naming the value", async () => {
  await checkError(INT64, 3_000_000_000, INT32, "3000000000");
  await checkError(FLOAT64, 1e20, INT64, "100000000000000000000");
  await checkError(FLOAT64, 3e9, INT32, "3000000000");
  await checkError(decimal(11, 1), 21474836475, INT32, "2147483647.5");
});

Deno.test("a wide DECIMAL beyond BIGINT is a cast error, as in DuckDB", async () => {
  await checkError(decimal(38, 0), 12345678901234567890123n / 1000n, INT64, "12345678901234567890");
});

// ---------------------------------------------------------------------------
// strings to numbers

Deno.test("VARCHAR -> INTEGER / BIGINT as DuckDB parses it", async () => {
  await check(UTF8, ["42", " 42 ", "-7", "2.5", "-2.5", "3.5", "1e3", "0x10", "+5", null], INT32);
  await check(UTF8, ["9007199254740991", "-9007199254740991", "2.5", null], INT64);
});

Deno.test("VARCHAR -> number errors name the string", async () => {
  await checkError(UTF8, "abc", INT32, "'abc'");
  await checkError(UTF8, "", INT32, "''");
  await checkError(UTF8, "12abc", INT64, "'12abc'");
  await checkError(UTF8, "2147483648", INT32, "'2147483648'");
  await checkError(UTF8, "abc", FLOAT64, "'abc'");
  await checkError(UTF8, "1.2.3", decimal(10, 2), "'1.2.3'");
  await checkError(UTF8, "123456", decimal(5, 2), "123456");
});

Deno.test("VARCHAR -> BIGINT beyond the BIGINT range is an error naming the string", async () => {
  await checkError(UTF8, "99999999999999999999", INT64, "'99999999999999999999'");
});

Deno.test("VARCHAR -> DOUBLE, including nan and infinities", async () => {
  await check(UTF8, ["1.5", " -2.5e-3 ", "nan", "inf", "-inf", "Infinity", "1e-5", null], FLOAT64);
});

Deno.test("VARCHAR -> DECIMAL rounds half away from zero on the text", async () => {
  await check(UTF8, ["1.5", "-1.5", "2.4999", null], decimal(10, 0));
  await check(UTF8, ["1.005", "-1.005", "0.125", "-0.001", "12345678.99"], decimal(10, 2));
});

Deno.test("VARCHAR -> wide DECIMAL is exact beyond 2^53", async () => {
  await check(UTF8, ["12345678901234567.89", "-1234567890123456.78"], decimal(38, 2));
});

Deno.test("VARCHAR -> BOOLEAN accepts DuckDB's spellings", async () => {
  await check(UTF8, ["true", "TRUE", "t", "false", "f", "1", "0", "yes", "no", "y", "n"], BOOL);
  await checkError(UTF8, "x", BOOL, "'x'");
});

Deno.test("VARCHAR -> DATE / TIMESTAMP, and invalid text is an error naming it", async () => {
  await check(UTF8, ["2024-02-29", "1969-12-31", "0001-01-01", null], DATE32);
  await check(
    UTF8,
    ["2024-01-02 03:04:05", "2024-01-02 03:04:05.123456", "1969-12-31 23:59:59.5", "2024-01-02"],
    TIMESTAMP,
  );
  await checkError(UTF8, "abc", DATE32, "abc");
  await checkError(UTF8, "2024-13-01", DATE32, "2024-13-01");
});

Deno.test("dictionary strings cast like plain ones", () => {
  const d = dictOf(["7", null, "-3", "7"]);
  assert.deepEqual(rows(castColumn(d, INT32), 4), [7, null, -3, 7]);
});

// ---------------------------------------------------------------------------
// numbers to numbers

Deno.test("DECIMAL -> DECIMAL rescales (rounding half away) and widens", async () => {
  await check(decimal(4, 1), [125, -125, 124, null], decimal(4, 0));
  await check(decimal(10, 3), [12345678, -12345650], decimal(10, 1));
  await check(decimal(10, 2), [150, -1], decimal(12, 4));
  await check(decimal(10, 2), [150, -1], decimal(38, 6));
  await check(decimal(38, 4), [2n ** 60n, -(2n ** 60n) - 5n, 15n, -15n], decimal(38, 3));
  await check(decimal(38, 2), [123456789n, -5n], decimal(18, 2));
});

Deno.test("DOUBLE -> DECIMAL as DuckDB rounds it", async () => {
  await check(FLOAT64, [1.115, 0.285, 1.005, -2.675, 0.5, -0.5, 123.456, null], decimal(10, 2));
  await check(FLOAT64, [2.5, -2.5, 3.5], decimal(10, 0));
});

Deno.test("INTEGER / BIGINT / BOOLEAN -> DECIMAL and DOUBLE", async () => {
  await check(INT32, [-2147483648, 0, 7, null], decimal(12, 2));
  await check(INT64, [-(2 ** 40), 3], decimal(38, 4));
  await check(INT32, [-1, 5, null], FLOAT64);
  await check(decimal(10, 3), [1234, -1, null], FLOAT64);
  await check(decimal(38, 2), [2n ** 50n, -5n], FLOAT64);
});

Deno.test("casts to DECIMAL(38,s) whose unscaled value passes 2^63 are refused, never wrapped", async (t) => {
  // Unscaled decimals are held in 64 bits: beyond that the engine says so.
  const refused = (f: () => unknown) =>
    assert.throws(
      f,
      (e) =>
        e instanceof SpiceError && e.code === "NOT_SUPPORTED" &&
        /wider than 64 bits/.test(e.message),
    );
  await t.step(
    "BIGINT",
    () => refused(() => castColumn(columnFromValues(INT64, [-(2 ** 50)]), decimal(38, 4))),
  );
  await t.step(
    "VARCHAR",
    () =>
      refused(() => castColumn(columnFromValues(UTF8, ["-98765432109876543.21"]), decimal(38, 2))),
  );
  await t.step(
    "DECIMAL",
    () => refused(() => castColumn(columnFromValues(decimal(38, 0), [2n ** 62n]), decimal(38, 2))),
  );
});

Deno.test("casts to DECIMAL(38,s) within 64 bits are exact beyond 2^53", async () => {
  await check(INT64, [-(2 ** 45)], decimal(38, 4));
  await check(UTF8, ["-987654321098765.43"], decimal(38, 2));
  await check(decimal(38, 0), [2n ** 56n], decimal(38, 2));
});

Deno.test("numbers -> BOOLEAN: zero is false", async () => {
  await check(INT32, [0, 1, -5, null], BOOL);
  await check(FLOAT64, [0, 0.5, -1], BOOL);
});

Deno.test("a value that does not fit the target DECIMAL is an error naming it", async () => {
  await checkError(INT32, 123456, decimal(5, 2), "123456");
  await checkError(FLOAT64, 1000.5, decimal(5, 2), "1000.5");
});

// ---------------------------------------------------------------------------
// to VARCHAR

Deno.test("BOOLEAN / DECIMAL / DATE / TIMESTAMP / INTEGER -> VARCHAR", async () => {
  await check(BOOL, [true, false, null], UTF8);
  await check(decimal(10, 2), [1250, -5, 0, -100, null], UTF8);
  await check(decimal(38, 3), [2n ** 62n, -(2n ** 62n), 7n], UTF8);
  await check(DATE32, [parseDate("2024-02-29"), parseDate("0044-03-15"), -1], UTF8);
  await check(
    TIMESTAMP,
    [parseTimestamp("2024-01-02 03:04:05.123456"), parseTimestamp("2024-01-02 03:04:05"), -1],
    UTF8,
  );
  await check(INT32, [-2147483648, 0, 42], UTF8);
  await check(INT64, [2 ** 53, -1], UTF8);
});

Deno.test("DOUBLE -> VARCHAR prints what DuckDB prints", async () => {
  await check(FLOAT64, [0.1, 1 / 3, 123456789.125, -2.5, NaN, Infinity, -Infinity], UTF8);
});

Deno.test("DOUBLE -> VARCHAR: integral values and exponents as DuckDB prints them", async () => {
  await check(FLOAT64, [1, 100, -0, 1e15, 1e16, 1e20, 1e-5, 1e-7, 2.5e-10], UTF8);
});

// ---------------------------------------------------------------------------
// dates, NULLs, intervals, scalars

Deno.test("DATE <-> TIMESTAMP", async () => {
  await check(DATE32, [parseDate("2024-01-02"), -1, null], TIMESTAMP);
  await check(
    TIMESTAMP,
    [parseTimestamp("2024-01-02 03:04:05.5"), parseTimestamp("1969-12-31 23:00:00"), null],
    DATE32,
  );
});

Deno.test("NULL-typed columns cast to all NULLs of any type", () => {
  for (const t of [INT32, FLOAT64, UTF8, decimal(38, 2), BOOL, DATE32]) {
    const c = castColumn(nullColumn(NULL, 3), t);
    assert.equal(c.type.id, t.id);
    assert.deepEqual(rows(c, 3), [null, null, null], t.id);
  }
});

Deno.test("casting to the same type returns the column itself", () => {
  const c = columnFromValues(decimal(10, 2), [1]);
  assert.equal(castColumn(c, decimal(10, 2)), c);
});

Deno.test("casts between DATE / TIMESTAMP and numbers are TYPE errors", () => {
  const d = columnFromValues(DATE32, [1]);
  for (const t of [INT32, INT64, FLOAT64]) {
    assert.throws(
      () => castColumn(d, t),
      (e) => e instanceof SpiceError && e.code === "TYPE" && e.message.includes("DATE"),
    );
  }
});

Deno.test("castValue converts single storage values and keeps NULL", () => {
  assert.equal(castValue("12", UTF8, INT32), 12);
  assert.equal(castValue(150, decimal(10, 2), FLOAT64), 1.5);
  assert.equal(castValue(1, INT32, BOOL), true);
  assert.equal(castValue(null, INT32, UTF8), null);
  assert.equal(castValue(19723, DATE32, UTF8), "2024-01-01");
});

Deno.test("an INTERVAL scalar casts to its DuckDB text, and to nothing else", async () => {
  const iv = { months: 14, days: 3, micros: 3_723_000_000 };
  const [[want]] = await duck(
    "SELECT (INTERVAL '1 year 2 months 3 days 1 hour 2 minutes 3 seconds')::VARCHAR",
  );
  const d = castDatum(sc(INTERVAL, iv as unknown as Value), UTF8);
  assert.equal((d as { value: unknown }).value, want);
  assert.throws(() => castDatum(sc(INTERVAL, iv as unknown as Value), INT32), SpiceError);
});

Deno.test("formatDecimal pads, signs and handles bigint and > 2^53 doubles", () => {
  assert.equal(formatDecimal(5, 2), "0.05");
  assert.equal(formatDecimal(-5, 2), "-0.05");
  assert.equal(formatDecimal(-150, 0), "-150");
  assert.equal(formatDecimal(12345678901234567890n, 4), "1234567890123456.7890");
  assert.equal(formatDecimal(2 ** 60, 1), "115292150460684697.6");
});

Deno.test("a column of values with a NULL that would not convert keeps the NULL", () => {
  const c = castColumn(columnFromValues(UTF8, ["1", null]) as Column, INT32);
  assert.deepEqual(rows(c, 2), [1, null]);
});
