/**
 * Comparison kernels: every operator over column/column, column/scalar,
 * scalar/column and scalar/scalar, NULL propagation, IS [NOT] DISTINCT FROM,
 * strings in byte (code point) order including unicode, dictionary inputs,
 * wide decimals. Expected values come from DuckDB over the same values.
 */

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
import { type Datum, isScalar } from "../../../src/exec/datum.ts";
import { compare, compareBytes } from "../../../src/exec/kernels/compare.ts";
import type { BinaryOp } from "../../../src/plan/expr.ts";
import { dictOf, duck, duckBool, rows, sc, sqlLiteral } from "./support.ts";

const OPS: BinaryOp[] = ["=", "<>", "<", "<=", ">", ">=", "is_distinct", "is_not_distinct"];

function sqlOp(op: BinaryOp): string {
  if (op === "is_distinct") return "IS DISTINCT FROM";
  if (op === "is_not_distinct") return "IS NOT DISTINCT FROM";
  return op;
}

/** DuckDB's answer for `a op b` on each pair, per operator. */
async function reference(
  type: DataType,
  pairs: readonly (readonly [Value, Value])[],
): Promise<Map<BinaryOp, Value[]>> {
  const vals = pairs.map(([a, b], i) => `(${i}, ${sqlLiteral(type, a)}, ${sqlLiteral(type, b)})`)
    .join(", ");
  const got = await duck(
    `SELECT ${
      OPS.map((op) => `a ${sqlOp(op)} b`).join(", ")
    } FROM (VALUES ${vals}) t(i, a, b) ORDER BY i`,
  );
  return new Map(OPS.map((op, k) => [op, got.map((r) => duckBool(r[k]))]));
}

type Make = (values: readonly Value[]) => Column;

/**
 * Checks every operator on every pair in every operand shape against DuckDB.
 * `makeL`/`makeR` build the left/right columns (to vary encodings).
 */
async function checkAll(
  type: DataType,
  pairs: readonly (readonly [Value, Value])[],
  makeL: Make = (v) => columnFromValues(type, v),
  makeR: Make = makeL,
  label: string = type.id,
): Promise<void> {
  const expected = await reference(type, pairs);
  const n = pairs.length;
  const as = pairs.map((p) => p[0]), bs = pairs.map((p) => p[1]);
  for (const op of OPS) {
    const want = expected.get(op)!;
    // column / column
    assert.deepEqual(
      rows(compare(op, makeL(as), makeR(bs), n), n),
      want,
      `${label}: column ${op} column`,
    );
    // column / scalar and scalar / column, grouped by the constant side
    for (const side of ["left", "right"] as const) {
      const groups = new Map<string, number[]>();
      pairs.forEach((p, i) => {
        const k = JSON.stringify(String(side === "right" ? p[1] : p[0]));
        groups.set(k, [...(groups.get(k) ?? []), i]);
      });
      for (const idx of groups.values()) {
        const constant = side === "right" ? bs[idx[0]] : as[idx[0]];
        // NULL constants with IS [NOT] DISTINCT FROM: their own test below.
        if (constant === null && (op === "is_distinct" || op === "is_not_distinct")) continue;
        const varying = idx.map((i) => (side === "right" ? as[i] : bs[i]));
        const c = (side === "right" ? makeL : makeR)(varying);
        const s = sc(type, constant);
        const got: Datum = side === "right"
          ? compare(op, c, s, idx.length)
          : compare(op, s, c, idx.length);
        assert.deepEqual(
          rows(got, idx.length),
          idx.map((i) => want[i]),
          `${label}: ${side === "right" ? `column ${op} scalar` : `scalar ${op} column`} ${
            String(constant)
          }`,
        );
      }
    }
    // scalar / scalar
    pairs.forEach(([a, b], i) => {
      const got = compare(op, sc(type, a), sc(type, b), 1);
      assert.ok(isScalar(got), "scalar op scalar stays a scalar");
      assert.deepEqual(got.value, want[i], `${label}: scalar ${a} ${op} scalar ${b}`);
    });
  }
}

function cross(xs: readonly Value[]): [Value, Value][] {
  return xs.flatMap((a) => xs.map((b) => [a, b] as [Value, Value]));
}

Deno.test("integers: every operator, shape and NULL", async () => {
  await checkAll(INT32, cross([-2147483648, -1, 0, 1, 7, 2147483647, null]));
  await checkAll(INT64, cross([-(2 ** 53), -5, 0, 5, 2 ** 53, null]));
});

Deno.test("doubles: signed zeros, infinities and NULL", async () => {
  await checkAll(FLOAT64, cross([-Infinity, -1.5, -0, 0, 1e-300, 2.5, Infinity, null]));
});

Deno.test("doubles: NaN compares as DuckDB (equal to itself, greater than every number)", async () => {
  await checkAll(FLOAT64, cross([NaN, 1, Infinity, null]), undefined, undefined, "NaN");
});

Deno.test("decimals, narrow (Float64) and wide (BigInt64) storage", async () => {
  await checkAll(decimal(10, 2), cross([-12345, -1, 0, 1, 12345, null]));
  const wide = decimal(38, 2);
  const big = [-(2n ** 62n), -1n, 0n, 2n ** 53n + 1n, 2n ** 53n + 2n, null];
  await checkAll(wide, cross(big));
  // A wide column against a narrow (Float64) column of the same type.
  await checkAll(
    wide,
    cross([-5n, 0n, 7n, null]),
    (v) => columnFromValues(wide, v),
    (v) => columnFromValues(wide, v.map((x) => (x === null ? null : Number(x)))),
    "wide vs narrow storage",
  );
});

Deno.test("booleans, dates and timestamps", async () => {
  await checkAll(BOOL, cross([true, false, null]));
  await checkAll(DATE32, cross([-719162, -1, 0, 19723, null]));
  await checkAll(TIMESTAMP, cross([-86_400_000_001, 0, 1, 1_700_000_000_000_000, null]));
});

const STRINGS: (string | null)[] = [
  "",
  "a",
  "ab",
  "abc",
  "B",
  "b",
  "é",
  "z",
  "日本",
  "😀",
  "\uffff",
  "a\t",
  null,
];

Deno.test("strings compare by UTF-8 bytes (code point order), as DuckDB", async () => {
  await checkAll(UTF8, cross(STRINGS));
});

Deno.test("dictionary strings: dict/dict, dict/utf8, utf8/dict and dict/scalar", async () => {
  const pairs = cross(STRINGS);
  await checkAll(UTF8, pairs, (v) => dictOf(v as (string | null)[]), undefined, "dict vs dict");
  await checkAll(
    UTF8,
    pairs,
    (v) => dictOf(v as (string | null)[]),
    (v) => columnFromValues(UTF8, v),
    "dict vs utf8",
  );
  await checkAll(
    UTF8,
    pairs,
    (v) => columnFromValues(UTF8, v),
    (v) => dictOf(v as (string | null)[]),
    "utf8 vs dict",
  );
});

Deno.test("two columns sharing one dictionary (code fast path for = and <>)", () => {
  const shared = dictOf(["x", "y", "x", null, "y"]) as Column & { enc: "dict" };
  const other = {
    ...shared,
    indices: Int32Array.of(0, 0, 1, 1, 0),
    validity: Uint8Array.of(1, 1, 1, 1, 0),
  };
  const strs = (c: typeof shared) =>
    Array.from(c.indices, (k, i) => c.validity && !c.validity[i] ? null : ["y", "x"][k]);
  assert.deepEqual(strs(shared), ["x", "y", "x", null, "y"]);
  const a = strs(shared), b = strs(other);
  for (const op of ["=", "<>", "<", ">="] as const) {
    const want = a.map((x, i) => {
      const y = b[i];
      if (x === null || y === null) return null;
      switch (op) {
        case "=":
          return x === y;
        case "<>":
          return x !== y;
        case "<":
          return x < y;
        default:
          return x >= y;
      }
    });
    assert.deepEqual(rows(compare(op, shared, other, 5), 5), want, op);
  }
});

Deno.test("a NULL scalar makes every comparison NULL", () => {
  const c = columnFromValues(INT32, [1, null]);
  const nul = sc(INT32, null);
  for (const op of ["=", "<>", "<", "<=", ">", ">="] as const) {
    assert.deepEqual(rows(compare(op, c, nul, 2), 2), [null, null], op);
    assert.deepEqual(rows(compare(op, nul, c, 2), 2), [null, null], op);
  }
});

Deno.test("x IS [NOT] DISTINCT FROM NULL is decided per row (as x IS [NOT] NULL)", () => {
  const c = columnFromValues(INT32, [1, null, 3, null]);
  const nul = sc(INT32, null);
  assert.deepEqual(rows(compare("is_distinct", c, nul, 4), 4), [true, false, true, false]);
  assert.deepEqual(rows(compare("is_distinct", nul, c, 4), 4), [true, false, true, false]);
  assert.deepEqual(rows(compare("is_not_distinct", c, nul, 4), 4), [false, true, false, true]);
  assert.deepEqual(rows(compare("is_not_distinct", nul, c, 4), 4), [false, true, false, true]);
  const s = columnFromValues(UTF8, [null, "a"]);
  assert.deepEqual(rows(compare("is_not_distinct", s, sc(UTF8, null), 2), 2), [true, false]);
});

Deno.test("IS DISTINCT FROM between columns never yields NULL", () => {
  const a = columnFromValues(INT32, [1, null, null, 2]);
  const b = columnFromValues(INT32, [1, null, 5, 3]);
  const d = compare("is_distinct", a, b, 4) as Column;
  assert.equal(d.validity, null);
  assert.deepEqual(rows(d, 4), [false, false, true, true]);
});

Deno.test("compareBytes orders by unsigned bytes, shorter prefix first", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const cmp = (a: string, b: string) => {
    const x = enc(a), y = enc(b);
    return Math.sign(compareBytes(x, 0, x.length, y, 0, y.length));
  };
  assert.equal(cmp("abc", "abd"), -1);
  assert.equal(cmp("ab", "abc"), -1);
  assert.equal(cmp("abc", "abc"), 0);
  assert.equal(cmp("é", "z"), 1, "0xC3 sorts after 'z'");
  assert.equal(cmp("\uffff", "😀"), -1, "U+FFFF before U+1F600 (UTF-16 order would differ)");
});
