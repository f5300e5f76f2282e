/**
 * Boolean kernels: SQL's three-valued AND / OR in every operand shape, NOT,
 * IS [NOT] NULL, IS TRUE / IS FALSE, and the selection vector of a filter.
 */

import assert from "node:assert/strict";
import { type Column, columnFromValues, type Value } from "../../../src/arrow/column.ts";
import { BOOL, INT32, UTF8 } from "../../../src/arrow/types.ts";
import { isScalar } from "../../../src/exec/datum.ts";
import { isBool, isNull, logical, not, selectTrue } from "../../../src/exec/kernels/boolean.ts";
import { rows, sc } from "./support.ts";

type B = boolean | null;
const VALUES: B[] = [true, false, null];

/** Kleene logic, written out as the SQL standard's truth tables. */
const AND: Record<string, B> = {
  "true,true": true,
  "true,false": false,
  "true,null": null,
  "false,true": false,
  "false,false": false,
  "false,null": false,
  "null,true": null,
  "null,false": false,
  "null,null": null,
};
const OR: Record<string, B> = {
  "true,true": true,
  "true,false": true,
  "true,null": true,
  "false,true": true,
  "false,false": false,
  "false,null": null,
  "null,true": true,
  "null,false": null,
  "null,null": null,
};

const pairs = VALUES.flatMap((a) => VALUES.map((b) => [a, b] as const));

for (const [op, table] of [["and", AND], ["or", OR]] as const) {
  Deno.test(`${op.toUpperCase()}: the full truth table in every operand shape`, () => {
    const want = pairs.map(([a, b]) => table[`${a},${b}`]);
    const n = pairs.length;
    const l = columnFromValues(BOOL, pairs.map((p) => p[0]));
    const r = columnFromValues(BOOL, pairs.map((p) => p[1]));
    assert.deepEqual(rows(logical(op, l, r, n), n), want, "column/column");
    for (const b of VALUES) {
      const idx = pairs.map((p, i) => (p[1] === b ? i : -1)).filter((i) => i >= 0);
      const col = columnFromValues(BOOL, idx.map((i) => pairs[i][0]));
      assert.deepEqual(
        rows(logical(op, col, sc(BOOL, b), idx.length), idx.length),
        idx.map((i) => want[i]),
        `column/scalar ${b}`,
      );
      assert.deepEqual(
        rows(logical(op, sc(BOOL, b), col, idx.length), idx.length),
        idx.map((i) => table[`${b},${pairs[i][0]}`]),
        `scalar ${b}/column`,
      );
    }
    pairs.forEach(([a, b], i) => {
      const s = logical(op, sc(BOOL, a), sc(BOOL, b), 1);
      assert.ok(isScalar(s));
      assert.equal(s.value, want[i], `scalar ${a} ${op} scalar ${b}`);
    });
  });
}

Deno.test("AND / OR over columns without NULLs take the fast path and stay NULL-free", () => {
  const a = columnFromValues(BOOL, [true, true, false, false]);
  const b = columnFromValues(BOOL, [true, false, true, false]);
  const and = logical("and", a, b, 4) as Column;
  const or = logical("or", a, b, 4) as Column;
  assert.equal(and.validity, null);
  assert.deepEqual(rows(and, 4), [true, false, false, false]);
  assert.deepEqual(rows(or, 4), [true, true, true, false]);
});

Deno.test("NOT keeps NULL, IS NULL / IS NOT NULL are never NULL", () => {
  const c = columnFromValues(BOOL, [true, false, null]);
  assert.deepEqual(rows(not(c, 3), 3), [false, true, null]);
  assert.equal((not(sc(BOOL, null), 1) as { value: Value }).value, null);
  assert.equal((not(sc(BOOL, false), 1) as { value: Value }).value, true);
  const x = columnFromValues(UTF8, ["a", null]);
  assert.deepEqual(rows(isNull(x, 2, false), 2), [false, true]);
  assert.deepEqual(rows(isNull(x, 2, true), 2), [true, false]);
  const noNulls = columnFromValues(INT32, [1, 2]);
  assert.deepEqual(rows(isNull(noNulls, 2, false), 2), [false, false]);
  assert.deepEqual(rows(isNull(noNulls, 2, true), 2), [true, true]);
  assert.equal((isNull(sc(INT32, null), 1, false) as { value: Value }).value, true);
  assert.equal((isNull(sc(INT32, 3), 1, true) as { value: Value }).value, true);
});

Deno.test("IS TRUE / IS FALSE treat NULL as neither", () => {
  const c = columnFromValues(BOOL, [true, false, null]);
  const t = isBool(c, 3, true) as Column;
  assert.equal(t.validity, null);
  assert.deepEqual(rows(t, 3), [true, false, false]);
  assert.deepEqual(rows(isBool(c, 3, false), 3), [false, true, false]);
  assert.equal((isBool(sc(BOOL, null), 1, true) as { value: Value }).value, false);
  assert.equal((isBool(sc(BOOL, false), 1, false) as { value: Value }).value, true);
});

Deno.test("selectTrue keeps TRUE rows, drops FALSE and NULL", () => {
  const c = columnFromValues(BOOL, [true, null, false, true, null]);
  assert.deepEqual([...(selectTrue(c, 5) as Int32Array)], [0, 3]);
  assert.equal(selectTrue(columnFromValues(BOOL, [true, true]), 2), "all");
  assert.equal(selectTrue(columnFromValues(BOOL, [false, null]), 2), "none");
  assert.equal(selectTrue(sc(BOOL, true), 3), "all");
  assert.equal(selectTrue(sc(BOOL, null), 3), "none");
  assert.equal(selectTrue(sc(BOOL, false), 3), "none");
  // A TRUE value hidden under a NULL does not count.
  const hidden = { ...columnFromValues(BOOL, [true, true]), validity: Uint8Array.of(1, 0) };
  assert.deepEqual([...(selectTrue(hidden as Column, 2) as Int32Array)], [0]);
});
