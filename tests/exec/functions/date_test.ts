import assert from "node:assert/strict";
import { columnFromValues, type Value } from "../../../src/arrow/column.ts";
import { DATE32, FLOAT64, INT64, TIMESTAMP, UTF8 } from "../../../src/arrow/types.ts";
import { isScalar, scalar } from "../../../src/exec/datum.ts";
import { SCALAR_FUNCTIONS } from "../../../src/exec/functions/mod.ts";
import { daysFromCivil, yearOfDays } from "../../../src/exec/functions/date.ts";
import { failsLikeDuckDB, matchesDuckDB, query, resultAt } from "./duckdb_reference.ts";

const DAY_US = 86400e6;

/** Dates (days since 1970-01-01) around the edges: BC years, leap days, ISO week boundaries. */
const DATES: Value[] = [
  0,
  -1,
  daysFromCivil(2020, 2, 29),
  daysFromCivil(2000, 2, 29),
  daysFromCivil(1900, 3, 1),
  daysFromCivil(1969, 12, 31),
  daysFromCivil(2021, 1, 1),
  daysFromCivil(2020, 12, 31),
  daysFromCivil(2018, 12, 31),
  daysFromCivil(2027, 1, 3),
  daysFromCivil(2024, 12, 30),
  daysFromCivil(2000, 12, 31),
  daysFromCivil(2001, 1, 1),
  daysFromCivil(1, 1, 1),
  daysFromCivil(0, 12, 31),
  daysFromCivil(0, 2, 29),
  daysFromCivil(-15, 3, 3),
  daysFromCivil(-1000, 1, 1),
  daysFromCivil(-1001, 6, 15),
  daysFromCivil(9999, 12, 31),
  daysFromCivil(1582, 10, 10),
  daysFromCivil(2024, 5, 17),
  null,
];

/** Timestamps (microseconds) with fractions, before 1970 and far from it. */
const TIMESTAMPS: Value[] = [
  0,
  -1,
  1,
  -1_876_544,
  daysFromCivil(1969, 12, 31) * DAY_US + 23 * 3600e6 + 59 * 60e6 + 58_123_456,
  daysFromCivil(2020, 2, 29) * DAY_US + 12 * 3600e6 + 34 * 60e6 + 56_789_012,
  daysFromCivil(2021, 1, 1) * DAY_US + 999_999,
  daysFromCivil(1, 1, 1) * DAY_US + 1,
  daysFromCivil(0, 12, 31) * DAY_US + 3600e6,
  daysFromCivil(-15, 3, 3) * DAY_US + 7 * 3600e6 + 500_000,
  daysFromCivil(2000, 1, 1) * DAY_US + 12 * 3600e6,
  daysFromCivil(1969, 12, 31) * DAY_US + 18 * 3600e6,
  daysFromCivil(9999, 12, 31) * DAY_US + 86399_999_999,
  null,
];

const DATE_PARTS = [
  "year",
  "quarter",
  "month",
  "day",
  "dayofweek",
  "dow",
  "isodow",
  "dayofyear",
  "doy",
  "week",
  "weekofyear",
  "isoyear",
  "yearweek",
  "decade",
  "century",
  "millennium",
  "era",
  "hour",
  "minute",
  "second",
  "millisecond",
  "microsecond",
  "YEAR",
  "yrs",
  "mil",
  "ms",
  "us",
];
const TIME_PARTS = [...DATE_PARTS, "timezone", "timezone_hour", "timezone_minute"];
const DOUBLE_PARTS = ["epoch", "julian", "jd"];

Deno.test("date_part on dates matches DuckDB", async () => {
  for (const part of DATE_PARTS) {
    await matchesDuckDB({
      fn: "date_part",
      argTypes: [UTF8, DATE32],
      resultType: INT64,
      rows: DATES.map((d) => [part, d]),
    });
  }
});

Deno.test("date_part on timestamps matches DuckDB", async () => {
  for (const part of TIME_PARTS) {
    await matchesDuckDB({
      fn: "date_part",
      argTypes: [UTF8, TIMESTAMP],
      resultType: INT64,
      rows: TIMESTAMPS.map((t) => [part, t]),
    });
  }
});

Deno.test("date_part epoch and julian are DOUBLE in DuckDB", async () => {
  for (const part of DOUBLE_PARTS) {
    // DuckDB needs a constant specifier for its DOUBLE parts.
    const sql = (c: string[]) => `date_part('${part}', ${c[1]})`;
    await matchesDuckDB({
      fn: "date_part",
      argTypes: [UTF8, DATE32],
      resultType: FLOAT64,
      rows: DATES.map((d) => [part, d]),
      sql,
    });
    await matchesDuckDB({
      fn: "date_part",
      argTypes: [UTF8, TIMESTAMP],
      resultType: FLOAT64,
      rows: TIMESTAMPS.map((t) => [part, t]),
      sql,
    });
  }
  // With an integral result type the value is truncated toward zero.
  const out = SCALAR_FUNCTIONS.date_part(
    [scalar(UTF8, "epoch"), scalar(TIMESTAMP, -1_876_544)],
    1,
    INT64,
  );
  assert.ok(isScalar(out));
  assert.equal(out.value, -1);
});

Deno.test("date_part with a specifier per row", async () => {
  const rows = DATE_PARTS.map((p, i) => [p, DATES[i % DATES.length]]);
  await matchesDuckDB({
    fn: "date_part",
    argTypes: [UTF8, DATE32],
    resultType: INT64,
    rows,
    modes: ["column"],
  });
});

Deno.test("date_part rejects unknown specifiers like DuckDB", async () => {
  await failsLikeDuckDB(
    "date_part",
    [UTF8, DATE32],
    ["foo", 0],
    INT64,
    /extract specifier "foo" not recognized/,
  );
  await failsLikeDuckDB(
    "date_part",
    [UTF8, DATE32],
    ["timezone", 0],
    INT64,
    /units "timezone" not recognized/,
  );
});

Deno.test("date_part('year') agrees with the calendar for every day of 1600..2400", () => {
  const start = daysFromCivil(1600, 1, 1), end = daysFromCivil(2400, 12, 31);
  const n = end - start + 1;
  const days = new Int32Array(n);
  for (let i = 0; i < n; i++) days[i] = start + i;
  const col = columnFromValues(DATE32, Array.from(days));
  for (const part of ["year", "month", "day"]) {
    const out = SCALAR_FUNCTIONS.date_part([scalar(UTF8, part), col], n, INT64);
    for (let i = 0; i < n; i += 1) {
      const d = new Date(days[i] * 86400000);
      const want = part === "year"
        ? d.getUTCFullYear()
        : part === "month"
        ? d.getUTCMonth() + 1
        : d.getUTCDate();
      if (resultAt(out, i, INT64) !== want) {
        assert.fail(`${part} of day ${days[i]}: ${resultAt(out, i, INT64)} != ${want}`);
      }
    }
  }
  assert.equal(yearOfDays(-1), 1969);
});

Deno.test("date_part('year') on a 65536-row date batch is fast", () => {
  const n = 65536;
  const values = Array.from({ length: n }, (_, i) => i * 7 - 200000);
  const col = columnFromValues(DATE32, values);
  const spec = scalar(UTF8, "year");
  SCALAR_FUNCTIONS.date_part([spec, col], n, INT64);
  const t0 = performance.now();
  for (let k = 0; k < 10; k++) SCALAR_FUNCTIONS.date_part([spec, col], n, INT64);
  const ms = (performance.now() - t0) / 10;
  assert.ok(ms < 20, `date_part('year') took ${ms} ms per batch`);
});

const TRUNC_PARTS = [
  "millennium",
  "century",
  "decade",
  "year",
  "quarter",
  "month",
  "week",
  "yearweek",
  "isoyear",
  "day",
  "dow",
  "doy",
  "julian",
  "hour",
  "minute",
  "second",
  "epoch",
  "milliseconds",
  "microseconds",
  "MONTH",
];

Deno.test("date_trunc matches DuckDB on dates and timestamps", async () => {
  for (const part of TRUNC_PARTS) {
    await matchesDuckDB({
      fn: "date_trunc",
      argTypes: [UTF8, DATE32],
      resultType: TIMESTAMP,
      rows: DATES.map((d) => [part, d]),
    });
    await matchesDuckDB({
      fn: "date_trunc",
      argTypes: [UTF8, TIMESTAMP],
      resultType: TIMESTAMP,
      rows: TIMESTAMPS.map((t) => [part, t]),
    });
  }
  await failsLikeDuckDB(
    "date_trunc",
    [UTF8, DATE32],
    ["fortnight", 0],
    TIMESTAMP,
    /specifier "fortnight" not recognized/,
  );
});

Deno.test("make_date matches DuckDB", async () => {
  const rows: Value[][] = [
    [2020, 2, 29],
    [1900, 2, 28],
    [2000, 2, 29],
    [1969, 12, 31],
    [1, 1, 1],
    [0, 2, 29],
    [-15, 1, 1],
    [5881580, 7, 10],
    [-5877641, 6, 25],
    [null, 1, 1],
    [2020, null, 1],
    [2020, 1, null],
  ];
  await matchesDuckDB({
    fn: "make_date",
    argTypes: [INT64, INT64, INT64],
    resultType: DATE32,
    rows,
  });
  for (
    const bad of [[2021, 2, 29], [2021, 13, 1], [2021, 0, 1], [2021, 4, 31], [5881580, 7, 11], [
      -5877641,
      6,
      24,
    ]]
  ) {
    await failsLikeDuckDB("make_date", [INT64, INT64, INT64], bad, DATE32, /Date out of range/);
  }
});

Deno.test("current_date and now are scalars near the clock", async () => {
  const [ref] = await query(
    "SELECT date_diff('day', DATE '1970-01-01', current_date) AS d, epoch_us(now()) AS t",
  );
  const d = SCALAR_FUNCTIONS.current_date([], 5, DATE32);
  const t = SCALAR_FUNCTIONS.now([], 5, TIMESTAMP);
  assert.ok(isScalar(d) && isScalar(t));
  // DuckDB uses the session time zone for current_date; tests run in UTC or close to it.
  assert.ok(Math.abs((d.value as number) - Number(ref.d)) <= 1);
  assert.ok(Math.abs((t.value as number) - Number(ref.t)) < 60e6);
});
