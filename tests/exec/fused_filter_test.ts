/**
 * The fused filter loop against the vectorised engine: for random batches
 * with NULLs in every column and a few hundred random predicates (AND, OR,
 * NOT, comparisons with constants and between columns, IN lists, IS [NOT]
 * NULL, and string predicates it leaves to the engine), both select exactly
 * the same rows. Predicates with nothing to fuse are not compiled at all.
 */

import assert from "node:assert/strict";
import { type RecordBatch, recordBatch } from "../../src/arrow/batch.ts";
import { columnFromValues } from "../../src/arrow/column.ts";
import { BOOL, type DataType, DATE32, decimal, INT32, INT64, UTF8 } from "../../src/arrow/types.ts";
import { compileExpr, layoutOf } from "../../src/exec/expr.ts";
import { compileFusedFilter, type Selection } from "../../src/exec/fused_filter.ts";
import { selectTrue } from "../../src/exec/kernels/boolean.ts";
import { type Expr, lit } from "../../src/plan/expr.ts";

let seed = 42;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

const DEC = decimal(15, 2);
const COLUMNS: { name: string; type: DataType; gen: () => number | string | boolean }[] = [
  { name: "a", type: INT32, gen: () => Math.floor(rnd() * 20) - 5 },
  { name: "b", type: INT32, gen: () => Math.floor(rnd() * 20) - 5 },
  { name: "d", type: DATE32, gen: () => 9000 + Math.floor(rnd() * 30) },
  { name: "m", type: DEC, gen: () => Math.floor(rnd() * 1000) },
  { name: "i", type: INT64, gen: () => Math.floor(rnd() * 10) },
  { name: "f", type: BOOL, gen: () => rnd() < 0.5 },
  { name: "s", type: UTF8, gen: () => pick(["x", "y", "zz", "w"]) },
];

function batch(n: number, nullShare: number): RecordBatch {
  const cols = COLUMNS.map((c) =>
    columnFromValues(c.type, Array.from({ length: n }, () => (rnd() < nullShare ? null : c.gen())))
  );
  return recordBatch(
    { fields: COLUMNS.map((c) => ({ name: c.name, type: c.type, nullable: true })) },
    cols,
    n,
  );
}

const col = (k: number): Expr => ({
  kind: "column",
  id: k,
  type: COLUMNS[k].type,
  name: COLUMNS[k].name,
});
const bin = (op: string, left: Expr, right: Expr): Expr =>
  ({ kind: "binary", op, left, right, type: BOOL }) as Expr;
const constantFor = (k: number): Expr => lit(COLUMNS[k].gen() as number, COLUMNS[k].type);

/** A random predicate of depth at most `depth`. */
function predicate(depth: number): Expr {
  const r = rnd();
  if (depth > 0 && r < 0.35) {
    return bin(pick(["and", "or"]), predicate(depth - 1), predicate(depth - 1));
  }
  if (depth > 0 && r < 0.45) {
    return { kind: "unary", op: "not", arg: predicate(depth - 1), type: BOOL };
  }
  const k = Math.floor(rnd() * 5); // a numeric column
  const op = pick(["=", "<>", "<", "<=", ">", ">="]);
  const leafKind = rnd();
  if (leafKind < 0.45) return bin(op, col(k), constantFor(k));
  if (leafKind < 0.55) return bin(op, constantFor(k), col(k));
  if (leafKind < 0.65) return bin(op, col(0), col(1));
  if (leafKind < 0.75) {
    return {
      kind: "in_list",
      arg: col(k),
      list: [constantFor(k), constantFor(k)],
      negated: false,
      type: BOOL,
    };
  }
  if (leafKind < 0.85) {
    return { kind: "unary", op: pick(["is_null", "is_not_null"]), arg: col(k), type: BOOL } as Expr;
  }
  if (leafKind < 0.92) return col(5); // a boolean column
  return bin("=", col(6), lit(pick(["x", "zz"]), UTF8)); // left to the engine
}

function expected(e: Expr, b: RecordBatch): number[] {
  const sel = selectTrue(compileExpr(e, layoutOf(COLUMNS.map((_, k) => k))).evaluate(b), b.numRows);
  if (sel === "all") return Array.from({ length: b.numRows }, (_, i) => i);
  if (sel === "none") return [];
  return [...sel];
}

Deno.test("the fused loop selects what the vectorised engine selects", () => {
  const layout = layoutOf(COLUMNS.map((_, k) => k));
  const batches = [batch(500, 0.2), batch(300, 0), batch(64, 0.9)];
  let compiled = 0;
  for (let t = 0; t < 400; t++) {
    const e = predicate(3);
    const fused = compileFusedFilter(e, layout);
    if (!fused) continue;
    compiled++;
    for (const b of batches) {
      const sel: Selection | null = fused.select(b);
      assert.ok(sel !== null);
      const got: number[] = sel === "all"
        ? Array.from({ length: b.numRows }, (_, i) => i)
        : sel === "none"
        ? []
        : [...sel];
      assert.deepEqual(got, expected(e, b), JSON.stringify(e));
    }
  }
  assert.ok(compiled > 300, `most predicates fuse (${compiled})`);
});

Deno.test("a predicate with nothing to fuse is left to the engine", () => {
  const layout = layoutOf(COLUMNS.map((_, k) => k));
  assert.equal(compileFusedFilter(bin("=", col(6), lit("x", UTF8)), layout), null);
});
