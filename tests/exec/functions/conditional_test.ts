import assert from "node:assert/strict";
import { type Column, columnFromValues, type Value } from "../../../src/arrow/column.ts";
import {
  BOOL,
  type DataType,
  DATE32,
  decimal,
  FLOAT64,
  INT32,
  INT64,
  TIMESTAMP,
  UTF8,
} from "../../../src/arrow/types.ts";
import { isScalar, scalar } from "../../../src/exec/datum.ts";
import { SCALAR_FUNCTIONS } from "../../../src/exec/functions/mod.ts";
import { dictOf, matchesDuckDB, resultAt } from "./duckdb_reference.ts";

/** Per type, values including NULL and the type's awkward cases. */
const VALUES: [DataType, Value[]][] = [
  [INT32, [1, -5, 0, 2147483647, null]],
  [INT64, [3, -9007199254740991, 0, null]],
  [FLOAT64, [1.5, -0, NaN, Infinity, -Infinity, null]],
  [decimal(15, 2), [125, -50, 0, null]],
  [decimal(38, 4), [12345n, -1234567890123456789n, 0n, null]],
  [UTF8, ["a", "B", "b", "é", "", "ab", null]],
  [DATE32, [0, -1, 18321, null]],
  [TIMESTAMP, [0, -1, 1_600_000_000_000_000, null]],
  [BOOL, [true, false, null]],
];

function name(t: DataType): string {
  return t.id === "decimal" ? `decimal(${t.precision},${t.scale})` : t.id;
}

function triples(values: Value[]): Value[][] {
  const rows: Value[][] = [];
  for (const a of values) for (const b of values) for (const c of values) rows.push([a, b, c]);
  return rows;
}

for (const [t, values] of VALUES) {
  Deno.test(`coalesce, greatest and least on ${name(t)}`, async () => {
    for (const fn of ["coalesce", "greatest", "least"]) {
      await matchesDuckDB({ fn, argTypes: [t, t, t], resultType: t, rows: triples(values) });
      await matchesDuckDB({ fn, argTypes: [t], resultType: t, rows: values.map((v) => [v]) });
    }
  });
  Deno.test(`nullif on ${name(t)}`, async () => {
    const rows = values.flatMap((a) => values.map((b) => [a, b]));
    await matchesDuckDB({ fn: "nullif", argTypes: [t, t], resultType: t, rows });
  });
}

Deno.test("coalesce returns a column without NULLs as it is", () => {
  const col = columnFromValues(INT32, [1, 2, 3]);
  assert.equal(SCALAR_FUNCTIONS.coalesce([col, scalar(INT32, 9)], 3, INT32), col);
  const out = SCALAR_FUNCTIONS.coalesce([scalar(INT32, 7), col], 3, INT32) as Column;
  assert.ok(!isScalar(out));
  assert.deepEqual([0, 1, 2].map((i) => resultAt(out, i, INT32)), [7, 7, 7]);
});

Deno.test("coalesce over dictionaries sharing one dictionary stays a dictionary", () => {
  const a = dictOf(["x", null, "y", null]);
  const b = {
    ...a,
    indices: new Int32Array([1, 0, 0, 1]),
    validity: new Uint8Array([1, 1, 1, 0]),
  } as Column;
  const out = SCALAR_FUNCTIONS.coalesce([a, b], 4, UTF8) as Column;
  assert.equal(out.enc, "dict");
  assert.deepEqual([0, 1, 2, 3].map((i) => resultAt(out, i, UTF8)), ["x", "x", "y", null]);
});

Deno.test("nullif keeps a dictionary first argument encoded", () => {
  const a = dictOf(["x", "y", null, "x"]);
  const out = SCALAR_FUNCTIONS.nullif([a, scalar(UTF8, "x")], 4, UTF8) as Column;
  assert.equal(out.enc, "dict");
  assert.deepEqual([0, 1, 2, 3].map((i) => resultAt(out, i, UTF8)), [null, "y", null, null]);
});
