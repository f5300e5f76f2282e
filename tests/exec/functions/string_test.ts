import assert from "node:assert/strict";
import { type Column, columnFromValues, type Value } from "../../../src/arrow/column.ts";
import { BOOL, type DataType, INT64, UTF8 } from "../../../src/arrow/types.ts";
import { isScalar, scalar } from "../../../src/exec/datum.ts";
import { SCALAR_FUNCTIONS } from "../../../src/exec/functions/mod.ts";
import { dictOf, failsLikeDuckDB, matchesDuckDB, query, resultAt } from "./duckdb_reference.ts";

/** Strings that exercise ASCII, multi-byte characters, combining marks and grapheme clusters. */
const STRINGS: (string | null)[] = [
  "hello",
  "Hello World",
  "",
  null,
  "héllo",
  "ÀÉÎõü",
  "🦆duck🦆",
  "e\u0301x",
  "ßtraße",
  "İstanbul ıi",
  "ǅǆǄ ﬁ",
  "ΣΑΣ ᾳ",
  "  padded  ",
  "a\r\nb",
  "नमस्ते",
  "👨‍👩‍👧 family",
  "🇫🇷🇩🇪",
  "한국어",
  "\u00a0nbsp\u3000",
  "a,b,,c",
  "x'quote'",
];

function cross<A, B>(as: readonly A[], bs: readonly B[]): [A, B][] {
  return as.flatMap((a) => bs.map((b) => [a, b] as [A, B]));
}

const UNARY: [string, DataType, ((c: string[]) => string) | undefined][] = [
  ["upper", UTF8, undefined],
  ["lower", UTF8, undefined],
  ["length", INT64, undefined],
  // DuckDB's octet_length takes BLOB; strlen is its byte length of a VARCHAR.
  ["octet_length", INT64, (c) => `strlen(${c[0]})`],
  ["reverse", UTF8, undefined],
  ["trim", UTF8, undefined],
  ["ltrim", UTF8, undefined],
  ["rtrim", UTF8, undefined],
];

for (const [fn, resultType, sql] of UNARY) {
  Deno.test(`${fn} matches DuckDB`, async () => {
    await matchesDuckDB({ fn, argTypes: [UTF8], resultType, rows: STRINGS.map((s) => [s]), sql });
  });
}

Deno.test("reverse keeps grapheme clusters together as DuckDB does", async () => {
  const strs = [
    "àbc",
    "a\u0300bc",
    "สวัสดี",
    "กำลัง",
    "\u1100\u1161\u11a8x",
    "👍🏽ok",
    "🇫🇷x🇩🇪",
    "1\ufe0f\u20e3!",
    "👩‍💻 dev",
    "\u0600١٢",
    "🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}x",
    "é\r\nx",
    "क्षत्रिय",
    "ｶﾞｷﾞ",
    "ω̃ά",
    "日本語テキスト",
  ];
  await matchesDuckDB({
    fn: "reverse",
    argTypes: [UTF8],
    resultType: UTF8,
    rows: strs.map((x) => [x]),
  });
});

Deno.test("upper and lower map every code point as DuckDB does", async () => {
  // Every code point as a one-character row through the kernels; DuckDB lists
  // the code points its upper/lower change, and both lists must agree.
  const cps: number[] = [];
  for (let c = 0; c < 0x110000; c++) if (c < 0xd800 || c > 0xdfff) cps.push(c);
  const col = columnFromValues(UTF8, cps.map((c) => String.fromCodePoint(c)));
  for (const fn of ["upper", "lower"]) {
    const out = SCALAR_FUNCTIONS[fn]([col], cps.length, UTF8);
    const mine = new Map<number, number>();
    cps.forEach((c, i) => {
      const s = resultAt(out, i, UTF8) as string;
      const m = s.codePointAt(0)!;
      assert.equal([...s].length, 1, `${fn}(U+${c.toString(16)}) is one character`);
      if (m !== c) mine.set(c, m);
    });
    const rows = await query(
      `SELECT i, unicode(${fn}(chr(i::INTEGER))) AS m FROM range(1, 1114112) t(i)
       WHERE (i < 55296 OR i > 57343) AND unicode(${fn}(chr(i::INTEGER))) <> i ORDER BY i`,
    );
    const theirs = new Map(rows.map((r) => [Number(r.i), Number(r.m)]));
    const diffs: string[] = [];
    for (const [c, m] of theirs) if (mine.get(c) !== m) diffs.push(`U+${c.toString(16)}`);
    for (const c of mine.keys()) if (!theirs.has(c)) diffs.push(`U+${c.toString(16)}`);
    assert.deepEqual(diffs, [], `${fn}: code points mapped differently`);
  }
});

Deno.test("substring matches DuckDB for every start and length", async () => {
  const strs = ["hello", "", "héllo", "🦆ab", "e\u0301x", null];
  const offsets = [-10, -6, -5, -3, -1, 0, 1, 2, 5, 6, 10, null];
  const lengths = [-10, -3, -2, -1, 0, 1, 2, 3, 12, null];
  const rows3: Value[][] = [];
  for (const s of strs) for (const o of offsets) for (const l of lengths) rows3.push([s, o, l]);
  await matchesDuckDB({
    fn: "substring",
    argTypes: [UTF8, INT64, INT64],
    resultType: UTF8,
    rows: rows3,
    modes: ["column", "dict", "scalar"],
  });
  await matchesDuckDB({
    fn: "substring",
    argTypes: [UTF8, INT64],
    resultType: UTF8,
    rows: cross(STRINGS, offsets),
  });
});

Deno.test("substring rejects offsets past DuckDB's supported range", async () => {
  await failsLikeDuckDB(
    "substring",
    [UTF8, INT64, INT64],
    ["abc", 1, 5e9],
    UTF8,
    /length outside of supported range/,
  );
  await failsLikeDuckDB(
    "substring",
    [UTF8, INT64],
    ["abc", -5e9],
    UTF8,
    /offset outside of supported range/,
  );
});

for (const fn of ["left", "right"]) {
  Deno.test(`${fn} matches DuckDB`, async () => {
    await matchesDuckDB({
      fn,
      argTypes: [UTF8, INT64],
      resultType: UTF8,
      rows: cross(STRINGS, [-10, -2, -1, 0, 1, 2, 3, 10, null]),
    });
  });
}

for (const fn of ["trim", "ltrim", "rtrim"]) {
  Deno.test(`${fn} with characters matches DuckDB`, async () => {
    const strs = ["xxaxx", "xyaxy", "éaé", "aaa", "", " a ", "abcba", "🦆x🦆", null];
    await matchesDuckDB({
      fn,
      argTypes: [UTF8, UTF8],
      resultType: UTF8,
      rows: cross(strs, ["x", "xy", "é", "", " a", "ab", "🦆", null]),
    });
  });
}

Deno.test("concat skips NULLs and concat_ws skips NULL values", async () => {
  const parts = ["a", "", "é", null];
  const rows: Value[][] = [];
  for (const a of parts) for (const b of parts) for (const c of parts) rows.push([a, b, c]);
  await matchesDuckDB({ fn: "concat", argTypes: [UTF8, UTF8, UTF8], resultType: UTF8, rows });
  await matchesDuckDB({
    fn: "concat",
    argTypes: [UTF8],
    resultType: UTF8,
    rows: parts.map((p) => [p]),
  });
  await matchesDuckDB({
    fn: "concat_ws",
    argTypes: [UTF8, UTF8, UTF8],
    resultType: UTF8,
    rows: cross([",", "", "--", null], cross(parts, parts)).map(([s, [a, b]]) => [s, a, b]),
  });
});

Deno.test("replace matches DuckDB", async () => {
  const rows: Value[][] = [];
  for (const s of ["aaa", "aaaa", "abc", "héllo héllo", "", null]) {
    for (const from of ["a", "aa", "", "é", "xyz", null]) {
      for (const to of ["bb", "", "ü", null]) rows.push([s, from, to]);
    }
  }
  await matchesDuckDB({ fn: "replace", argTypes: [UTF8, UTF8, UTF8], resultType: UTF8, rows });
});

const NEEDLES = ["", "l", "lo", "é", "🦆", "x", "\u0301", "hello!", null];

Deno.test("position matches DuckDB", async () => {
  // position(a, b) parses as position(a IN b) in DuckDB; strpos is the same function.
  await matchesDuckDB({
    fn: "position",
    argTypes: [UTF8, UTF8],
    resultType: INT64,
    rows: cross(STRINGS, NEEDLES),
    sql: (c) => `strpos(${c[0]}, ${c[1]})`,
  });
});

for (const fn of ["starts_with", "ends_with", "contains"]) {
  Deno.test(`${fn} matches DuckDB`, async () => {
    await matchesDuckDB({
      fn,
      argTypes: [UTF8, UTF8],
      resultType: BOOL,
      rows: cross(STRINGS, NEEDLES),
    });
  });
}

for (const fn of ["lpad", "rpad"]) {
  Deno.test(`${fn} matches DuckDB`, async () => {
    const rows: Value[][] = [];
    for (const s of ["abc", "héllo", "", "🦆", null]) {
      for (const len of [-1, 0, 2, 3, 5, 8, null]) {
        for (const pad of ["xy", "é", "🦆x", null]) rows.push([s, len, pad]);
      }
    }
    // DuckDB's lpad takes an INTEGER length.
    await matchesDuckDB({
      fn,
      argTypes: [UTF8, INT64, UTF8],
      resultType: UTF8,
      rows,
      sql: (c) => `${fn}(${c[0]}, ${c[1]}::INTEGER, ${c[2]})`,
    });
  });

  Deno.test(`${fn} without padding characters`, async () => {
    // An empty pad is fine while nothing needs padding, an error otherwise.
    await matchesDuckDB({
      fn,
      argTypes: [UTF8, INT64, UTF8],
      resultType: UTF8,
      rows: [["abc", 2, ""], ["abc", 3, ""], ["abc", -1, ""]],
      sql: (c) => `${fn}(${c[0]}, ${c[1]}::INTEGER, ${c[2]})`,
    });
    await failsLikeDuckDB(
      fn,
      [UTF8, INT64, UTF8],
      ["abc", 5, ""],
      UTF8,
      /Insufficient padding/,
      `${fn}('abc', 5, '')`,
    );
  });

  Deno.test(`${fn} with two arguments pads with spaces`, () => {
    const out = SCALAR_FUNCTIONS[fn]([scalar(UTF8, "ab"), scalar(INT64, 4)], 1, UTF8);
    assert.ok(isScalar(out));
    assert.equal(out.value, fn === "lpad" ? "  ab" : "ab  ");
  });
}

Deno.test("repeat matches DuckDB", async () => {
  await matchesDuckDB({
    fn: "repeat",
    argTypes: [UTF8, INT64],
    resultType: UTF8,
    rows: cross(["ab", "", "é🦆", null], [-1, 0, 1, 3, null]),
  });
});

Deno.test("repeat refuses results past the 2 GiB offsets limit", () => {
  // DuckDB fails too ("buffer exceeds maximum length"), but only after minutes of copying.
  assert.throws(
    () => SCALAR_FUNCTIONS.repeat([scalar(UTF8, "ab"), scalar(INT64, 2e9)], 1, UTF8),
    /buffer exceeds maximum length/,
  );
});

Deno.test("split_part matches DuckDB", async () => {
  const rows: Value[][] = [];
  for (const s of ["a,b,c", ",a,", "a,,b", "", "a::b::c", "éa\u0301b", "abc", null]) {
    for (const d of [",", "::", "", "abc", "x", null]) {
      for (const k of [-4, -3, -1, 0, 1, 2, 3, 4, null]) rows.push([s, d, k]);
    }
  }
  await matchesDuckDB({
    fn: "split_part",
    argTypes: [UTF8, UTF8, INT64],
    resultType: UTF8,
    rows,
    modes: ["column", "scalar", "dict"],
  });
});

Deno.test("dictionary inputs keep their indices for unary string functions", () => {
  const dict = dictOf(["b", "a", null, "b", "a", "b"]);
  const out = SCALAR_FUNCTIONS.upper([dict], 6, UTF8) as Column;
  assert.equal(out.enc, "dict");
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => resultAt(out, i, UTF8)), [
    "B",
    "A",
    null,
    "B",
    "A",
    "B",
  ]);
  const len = SCALAR_FUNCTIONS.length([dict], 6, INT64) as Column;
  assert.equal(len.enc, "num");
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => resultAt(len, i, INT64)), [1, 1, null, 1, 1, 1]);
});

Deno.test("string kernels read utf8 columns whose offsets do not start at zero", () => {
  const col = columnFromValues(UTF8, ["skip", "Ab", "cD", "é"]) as Column & { offsets: Int32Array };
  const sliced = { ...col, length: 3, offsets: col.offsets.subarray(1), validity: null } as Column;
  const up = SCALAR_FUNCTIONS.upper([sliced], 3, UTF8);
  assert.deepEqual([0, 1, 2].map((i) => resultAt(up, i, UTF8)), ["AB", "CD", "É"]);
  const sub = SCALAR_FUNCTIONS.substring([sliced, scalar(INT64, 2)], 3, UTF8);
  assert.deepEqual([0, 1, 2].map((i) => resultAt(sub, i, UTF8)), ["b", "D", ""]);
});

Deno.test("upper on an ASCII batch of 65536 rows takes the byte path", () => {
  const values = Array.from({ length: 65536 }, (_, i) => `row number ${i}`);
  const col = columnFromValues(UTF8, values);
  const t0 = performance.now();
  const out = SCALAR_FUNCTIONS.upper([col], values.length, UTF8);
  const ms = performance.now() - t0;
  assert.equal(resultAt(out, 65535, UTF8), "ROW NUMBER 65535");
  assert.ok(ms < 200, `upper took ${ms} ms`);
});
