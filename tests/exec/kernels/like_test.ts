/**
 * LIKE / ILIKE kernels against DuckDB: the byte matcher (prefix, suffix,
 * contains, several segments, overlapping ends), the general matcher (`_`,
 * ILIKE), escapes with the kernel's escape character `\`, unicode, NOT,
 * NULLs, dictionary inputs and per-row patterns.
 */

import assert from "node:assert/strict";
import { columnFromValues, type Value } from "../../../src/arrow/column.ts";
import { UTF8 } from "../../../src/arrow/types.ts";
import { isScalar } from "../../../src/exec/datum.ts";
import { compileLike, like } from "../../../src/exec/kernels/like.ts";
import { dictOf, duck, duckBool, rows, sc, sqlLiteral } from "./support.ts";

const STRINGS: string[] = [
  "",
  "a",
  "ab",
  "aba",
  "abc",
  "abcabc",
  "ABC",
  "xabcx",
  "a%b",
  "a_c",
  "a\\c",
  "aXc",
  "mid",
  "the middle",
  "école",
  "ÉCOLE",
  "é",
  "日本語",
  "😀",
  "a😀c",
  "Σίσυφος",
  "straße",
  "line\nbreak",
];

const PATTERNS: string[] = [
  "",
  "%",
  "%%",
  "a",
  "abc",
  "ab%",
  "%bc",
  "%mid%",
  "a%c",
  "a%b%c",
  "%a%a%",
  "ab%ba",
  "a%a",
  "_",
  "__",
  "a_c",
  "_b%",
  "%_",
  "a\\%b",
  "a\\_c",
  "a\\\\c",
  "\\%%",
  "é%",
  "%本%",
  "a_c",
  "%😀%",
  "école",
  "line%break",
  "line_break",
];

/** DuckDB's answers, with `\` as the ESCAPE character (the kernel's). */
async function reference(ci: boolean, negated: boolean): Promise<Map<string, Value[]>> {
  const op = `${negated ? "NOT " : ""}${ci ? "ILIKE" : "LIKE"}`;
  const out = new Map<string, Value[]>();
  const vals = STRINGS.map((s, i) => `(${i}, ${sqlLiteral(UTF8, s)})`).join(", ");
  const cols = PATTERNS.map((p) => `s ${op} ${sqlLiteral(UTF8, p)} ESCAPE '\\'`).join(", ");
  const got = await duck(`SELECT ${cols} FROM (VALUES ${vals}) t(i, s) ORDER BY i`);
  PATTERNS.forEach((p, k) => out.set(p, got.map((r) => duckBool(r[k]))));
  return out;
}

for (const ci of [false, true]) {
  for (const negated of [false, true]) {
    const name = `${negated ? "NOT " : ""}${ci ? "ILIKE" : "LIKE"}`;
    Deno.test(`${name}: every pattern over plain, dictionary and scalar strings`, async () => {
      const want = await reference(ci, negated);
      const n = STRINGS.length;
      const plain = columnFromValues(UTF8, STRINGS);
      const dict = dictOf(STRINGS);
      for (const p of PATTERNS) {
        const w = want.get(p)!;
        const label = `${name} '${p}'`;
        assert.deepEqual(rows(like(plain, sc(UTF8, p), negated, ci, n), n), w, `${label} (utf8)`);
        assert.deepEqual(rows(like(dict, sc(UTF8, p), negated, ci, n), n), w, `${label} (dict)`);
        STRINGS.forEach((s, i) => {
          const r = like(sc(UTF8, s), sc(UTF8, p), negated, ci, 1);
          assert.ok(isScalar(r));
          assert.equal(r.value, w[i], `${label} on scalar '${s}'`);
        });
      }
    });
  }
}

Deno.test("a per-row pattern column matches row by row (compiling each pattern once)", async () => {
  const pairs: [string | null, string | null][] = [
    ["abc", "a%"],
    ["abc", "%d"],
    ["a_c", "a\\_c"],
    ["abc", "a\\_c"],
    [null, "%"],
    ["x", null],
    ["ÉCOLE", "é%"],
    ["abc", "a%"],
  ];
  const n = pairs.length;
  const args = columnFromValues(UTF8, pairs.map((p) => p[0]));
  const pats = columnFromValues(UTF8, pairs.map((p) => p[1]));
  for (const ci of [false, true]) {
    const sql = pairs.map(([s, p], i) =>
      `(${i}, ${s === null ? "NULL" : sqlLiteral(UTF8, s)}, ${
        p === null ? "NULL" : sqlLiteral(UTF8, p)
      })`
    ).join(", ");
    const got = await duck(
      `SELECT s ${ci ? "ILIKE" : "LIKE"} p ESCAPE '\\' FROM (VALUES ${sql}) t(i, s, p) ORDER BY i`,
    );
    const want = got.map((r) => duckBool(r[0]));
    assert.deepEqual(rows(like(args, pats, false, ci, n), n), want, ci ? "ILIKE" : "LIKE");
    assert.deepEqual(
      rows(like(args, pats, true, ci, n), n),
      want.map((v) => (v === null ? null : !v)),
      "NOT",
    );
  }
});

Deno.test("NULL argument rows and a NULL pattern give NULL", () => {
  const c = columnFromValues(UTF8, ["a", null]);
  assert.deepEqual(rows(like(c, sc(UTF8, "%"), false, false, 2), 2), [true, null]);
  assert.deepEqual(rows(like(c, sc(UTF8, "%"), true, false, 2), 2), [false, null]);
  const nul = like(c, sc(UTF8, null), false, false, 2);
  assert.ok(isScalar(nul));
  assert.equal(nul.value, null);
  assert.equal(
    (like(sc(UTF8, null), sc(UTF8, "a"), false, true, 1) as { value: Value }).value,
    null,
  );
});

Deno.test("compileLike matches inside a larger buffer, honouring start and end", () => {
  const buf = new TextEncoder().encode("xxabcyy");
  const m = compileLike("a%c", false);
  assert.equal(m(buf, 2, 5), true);
  assert.equal(m(buf, 2, 6), false, "a trailing y is outside the pattern");
  assert.equal(m(buf, 1, 5), false);
  const contains = compileLike("%bc%", false);
  assert.equal(contains(buf, 3, 5), true);
  assert.equal(contains(buf, 4, 7), false, "the needle must lie within [start, end)");
});
