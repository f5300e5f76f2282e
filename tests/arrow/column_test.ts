/**
 * Columns: building, reading, take / slice / concat across every storage
 * (numeric, BigInt64 decimals, utf8 with shared buffers, dictionaries) and
 * the UTF-8 builder.
 */

import assert from "node:assert/strict";
import {
  type Column,
  columnFromValues,
  concatColumns,
  decodeDict,
  dictColumn,
  isValid,
  nullColumn,
  numericColumn,
  slice,
  stringAt,
  take,
  Utf8Builder,
  type Utf8Column,
  utf8Column,
  type Value,
  valueAt,
} from "../../src/arrow/column.ts";
import {
  BOOL,
  DATE32,
  decimal,
  FLOAT64,
  INT32,
  INT64,
  TIMESTAMP,
  UTF8,
} from "../../src/arrow/types.ts";

function values(c: Column): Value[] {
  return Array.from({ length: c.length }, (_, i) => valueAt(c, i));
}

function utf8(xs: readonly (string | null)[]): Utf8Column {
  return columnFromValues(UTF8, xs) as Utf8Column;
}

/** A dictionary column over `dict` with the given codes (null code = NULL row). */
function dict(entries: readonly string[], codes: readonly (number | null)[]): Column {
  const validity = codes.some((c) => c === null)
    ? Uint8Array.from(codes, (c) => (c === null ? 0 : 1))
    : null;
  return dictColumn(Int32Array.from(codes, (c) => c ?? 0), utf8(entries), validity);
}

// ---------------------------------------------------------------------------
// building and reading

Deno.test("columnFromValues stores each type in its documented array and reads it back", () => {
  const cases: [Column, string, Value[]][] = [
    [columnFromValues(BOOL, [true, false, null]), "Uint8Array", [true, false, null]],
    [columnFromValues(INT32, [1, -2, null]), "Int32Array", [1, -2, null]],
    [columnFromValues(DATE32, [19000, null]), "Int32Array", [19000, null]],
    [columnFromValues(INT64, [2 ** 40, null]), "Float64Array", [2 ** 40, null]],
    [columnFromValues(FLOAT64, [1.5, null, -0.25]), "Float64Array", [1.5, null, -0.25]],
    [columnFromValues(TIMESTAMP, [1.7e15]), "Float64Array", [1.7e15]],
    [columnFromValues(decimal(10, 2), [150, -1]), "Float64Array", [150, -1]],
    [
      columnFromValues(decimal(38, 2), [1234567890123456789n, null, -5n]),
      "BigInt64Array",
      [1234567890123456789n, null, -5n],
    ],
  ];
  for (const [c, storage, expected] of cases) {
    assert.equal((c as { values: unknown }).values!.constructor.name, storage, c.type.id);
    assert.deepEqual(values(c), expected, c.type.id);
  }
});

Deno.test("columnFromValues keeps validity null when no value is null", () => {
  assert.equal(columnFromValues(INT32, [1, 2, 3]).validity, null);
  assert.equal(columnFromValues(UTF8, ["a", "b"]).validity, null);
  assert.deepEqual([...columnFromValues(INT32, [1, null])!.validity!], [1, 0]);
});

Deno.test("a BigInt64 decimal column keeps values beyond 2^53 exactly", () => {
  const big = 2n ** 62n + 1n;
  const c = columnFromValues(decimal(38, 0), [big, -big]);
  assert.deepEqual(values(c), [big, -big]);
});

Deno.test("stringAt reads utf8 and dictionary rows, including multi-byte text", () => {
  const u = utf8(["héllo", "", "日本", "😀x"]);
  assert.deepEqual([0, 1, 2, 3].map((i) => stringAt(u, i)), ["héllo", "", "日本", "😀x"]);
  const d = dict(["zero", "ü"], [1, 0, 1]);
  assert.deepEqual(values(d), ["ü", "zero", "ü"]);
});

Deno.test("nullColumn gives n NULLs of the type", () => {
  for (const t of [INT32, FLOAT64, UTF8, BOOL, decimal(5, 1)]) {
    const c = nullColumn(t, 3);
    assert.equal(c.length, 3);
    assert.deepEqual(values(c), [null, null, null], t.id);
  }
  assert.equal(stringAt(nullColumn(UTF8, 2) as Utf8Column, 1), "");
});

// ---------------------------------------------------------------------------
// take

Deno.test("take gathers numeric rows with their validity, dropping validity when all valid", () => {
  const c = columnFromValues(INT32, [10, null, 30, 40]);
  const t = take(c, Int32Array.of(3, 1, 1, 0));
  assert.deepEqual(values(t), [40, null, null, 10]);
  const allValid = take(c, Int32Array.of(0, 2, 3));
  assert.deepEqual(values(allValid), [10, 30, 40]);
  assert.equal(allValid.validity, null);
  assert.ok((t as { values: unknown }).values instanceof Int32Array);
});

Deno.test("take accepts Uint32Array indices and an empty selection", () => {
  const c = columnFromValues(FLOAT64, [1.5, 2.5]);
  assert.deepEqual(values(take(c, Uint32Array.of(1, 0))), [2.5, 1.5]);
  assert.equal(take(c, new Int32Array(0)).length, 0);
});

Deno.test("take on BigInt64 decimals is exact", () => {
  const big = 9007199254740993n; // 2^53 + 1: not a double
  const c = columnFromValues(decimal(38, 2), [big, -big, null]);
  const t = take(c, Int32Array.of(2, 1, 0));
  assert.ok((t as { values: unknown }).values instanceof BigInt64Array);
  assert.deepEqual(values(t), [null, -big, big]);
});

Deno.test("take on utf8 copies short and long strings (the 16-byte copy paths)", () => {
  const long = "a string longer than sixteen bytes: ✓✓✓";
  const c = utf8(["x", long, null, "", "ümlaut"]);
  const t = take(c, Int32Array.of(1, 4, 0, 2, 3, 1));
  assert.deepEqual(values(t), [long, "ümlaut", "x", null, "", long]);
  // The result owns compact buffers starting at offset 0.
  const u = t as Utf8Column;
  assert.equal(u.offsets[0], 0);
  assert.equal(u.data.length, u.offsets[u.length]);
});

Deno.test("take on a sliced utf8 column (offsets not starting at 0)", () => {
  const c = utf8(["aa", "bbb", "cccccccccccccccccccc", "d"]);
  const s = slice(c, 1, 3) as Utf8Column;
  assert.notEqual(s.offsets[0], 0);
  assert.deepEqual(values(take(s, Int32Array.of(2, 0, 1))), ["d", "bbb", "cccccccccccccccccccc"]);
});

Deno.test("take on a dictionary keeps the dictionary and gathers codes", () => {
  const d = dict(["a", "b", "c"], [2, null, 0, 1]);
  const t = take(d, Int32Array.of(3, 1, 0));
  assert.equal(t.enc, "dict");
  assert.equal((t as { dict: unknown }).dict, (d as { dict: unknown }).dict);
  assert.deepEqual(values(t), ["b", null, "c"]);
});

// ---------------------------------------------------------------------------
// slice

Deno.test("slice of the whole column is the column itself", () => {
  const c = columnFromValues(INT32, [1, 2]);
  assert.equal(slice(c, 0, 2), c);
});

Deno.test("slice shares buffers and keeps values, validity and strings", () => {
  const n = columnFromValues(FLOAT64, [1, null, 3, 4]);
  const s = slice(n, 1, 2);
  assert.deepEqual(values(s), [null, 3]);
  assert.equal(
    (s as { values: Float64Array }).values.buffer,
    (n as { values: Float64Array }).values.buffer,
  );

  const u = utf8(["ab", null, "cde", "f"]);
  const us = slice(u, 1, 3) as Utf8Column;
  assert.equal(us.data, u.data, "string bytes are shared, not copied");
  assert.deepEqual(values(us), [null, "cde", "f"]);
  // A slice of a slice still reads the right strings.
  assert.deepEqual(values(slice(us, 1, 2)), ["cde", "f"]);

  const d = dict(["p", "q"], [0, 1, 1, 0]);
  assert.deepEqual(values(slice(d, 2, 2)), ["q", "p"]);
});

// ---------------------------------------------------------------------------
// concat

Deno.test("concatColumns joins numeric columns and merges validity", () => {
  const a = columnFromValues(INT32, [1, 2]);
  const b = columnFromValues(INT32, [null, 4]);
  const c = concatColumns([a, b, columnFromValues(INT32, [5])]);
  assert.deepEqual(values(c), [1, 2, null, 4, 5]);
  assert.ok((c as { values: unknown }).values instanceof Int32Array);
  const allValid = concatColumns([a, columnFromValues(INT32, [3])]);
  assert.equal(allValid.validity, null);
});

Deno.test("concatColumns of one column is that column", () => {
  const a = columnFromValues(INT32, [1]);
  assert.equal(concatColumns([a]), a);
});

Deno.test("concatColumns of utf8 slices rebases offsets that do not start at 0", () => {
  const base = utf8(["zero", "one", "two", "three", "four"]);
  const a = slice(base, 1, 2); // one, two
  const b = slice(base, 3, 2); // three, four
  const c = concatColumns([a, b, utf8([null, "five"])]) as Utf8Column;
  assert.equal(c.enc, "utf8");
  assert.deepEqual(values(c), ["one", "two", "three", "four", null, "five"]);
  assert.equal(c.offsets[0], 0);
  assert.equal(c.data.length, c.offsets[c.length], "no bytes outside the rows are copied");
});

Deno.test("concatColumns keeps dictionary encoding only when the dictionary is shared", () => {
  const entries = utf8(["x", "y"]);
  const a = dictColumn(Int32Array.of(0, 1), entries);
  const b = dictColumn(Int32Array.of(1, 1), entries, Uint8Array.of(1, 0));
  const same = concatColumns([a, b]);
  assert.equal(same.enc, "dict");
  assert.deepEqual(values(same), ["x", "y", "y", null]);

  const other = dict(["y", "z"], [1, 0]);
  const mixed = concatColumns([a, other, utf8(["w"])]);
  assert.equal(mixed.enc, "utf8");
  assert.deepEqual(values(mixed), ["x", "y", "z", "y", "w"]);
});

Deno.test("concatColumns widens to BigInt64 when any decimal input is wide, exactly", () => {
  const narrow = columnFromValues(decimal(38, 2), [150, -250, null]);
  const wide = columnFromValues(decimal(38, 2), [2n ** 60n + 7n]);
  const c = concatColumns([narrow, wide]);
  assert.ok((c as { values: unknown }).values instanceof BigInt64Array);
  assert.deepEqual(values(c), [150n, -250n, null, 2n ** 60n + 7n]);
});

Deno.test("decodeDict turns dictionary rows into a plain utf8 column", () => {
  const d = dict(["alpha", "β"], [1, 0, null, 1]);
  const u = decodeDict(d);
  assert.equal(u.enc, "utf8");
  assert.deepEqual(values(u), ["β", "alpha", null, "β"]);
  const plain = columnFromValues(INT32, [1]);
  assert.equal(decodeDict(plain), plain);
});

// ---------------------------------------------------------------------------
// Utf8Builder

Deno.test("Utf8Builder grows past its initial capacity in rows and bytes", () => {
  const b = new Utf8Builder(1, 1);
  const expected: (string | null)[] = [];
  for (let i = 0; i < 500; i++) {
    const s = i % 7 === 0 ? null : `row ${i} ${"é".repeat(i % 13)} 😀`;
    expected.push(s);
    s === null ? b.appendNull() : b.append(s);
  }
  assert.equal(b.length, 500);
  const c = b.finish();
  assert.equal(c.length, 500);
  assert.deepEqual(values(c), expected);
});

Deno.test("Utf8Builder: a leading NULL, raw bytes and no-null results", () => {
  const b = new Utf8Builder(4);
  b.appendNull();
  b.append("a");
  const bytes = new TextEncoder().encode("xyz");
  b.appendBytes(bytes, 1, 3);
  b.append("");
  const c = b.finish();
  assert.deepEqual(values(c), [null, "a", "yz", ""]);

  const nb = new Utf8Builder();
  nb.append("only");
  nb.append("valid");
  const nc = nb.finish();
  assert.equal(nc.validity, null);
  assert.deepEqual(values(nc), ["only", "valid"]);
});

Deno.test("Utf8Builder handles a string whose UTF-8 is three times its UTF-16 length", () => {
  const b = new Utf8Builder(1, 1);
  const s = "€".repeat(1000); // 3 bytes per code unit
  b.append(s);
  b.append("∑");
  assert.deepEqual(values(b.finish()), [s, "∑"]);
});

Deno.test("isValid and utf8Column agree with valueAt", () => {
  const data = new TextEncoder().encode("abc");
  const c = utf8Column(UTF8, Int32Array.of(0, 1, 1, 3), data, Uint8Array.of(1, 0, 1));
  assert.deepEqual([0, 1, 2].map((i) => isValid(c, i)), [true, false, true]);
  assert.deepEqual(values(c), ["a", null, "bc"]);
  const n = numericColumn(BOOL, Uint8Array.of(1, 0));
  assert.deepEqual(values(n), [true, false]);
});
