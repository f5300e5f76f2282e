/**
 * In-process exchanges (LocalExchanges) through executePlan: hash
 * repartition puts every row in exactly one partition and equal keys (in any
 * storage) in the same one; round-robin spreads batches; coalesce gathers;
 * broadcast gives every partition all rows; inputs run once however many
 * consumers read.
 */

import assert from "node:assert/strict";
import { batchToRows } from "../../src/arrow/batch.ts";
import type { Value } from "../../src/arrow/column.ts";
import { INT32, INT64, UTF8 } from "../../src/arrow/types.ts";
import { SpiceError } from "../../src/errors.ts";
import { executePlan } from "../../src/exec/execute.ts";
import type { PhysicalPlan } from "../../src/physical/plan.ts";
import type { Expr } from "../../src/plan/expr.ts";
import {
  catalogOf,
  context,
  id,
  memoryTable,
  ref,
  run,
  runPartitions,
  scan,
  sorted,
} from "./operators/helpers.ts";

const N = 300;
const ROWS: Value[][] = Array.from({ length: N }, (_, i) => [
  i % 17 === 0 ? null : i % 23,
  ["a", "b", "c", "dd", null][i % 5],
  i,
]);
const COLS = [{ name: "k", type: INT32 }, { name: "s", type: UTF8 }, { name: "i", type: INT32 }];
const catalog = catalogOf({
  t: memoryTable(COLS, ROWS, 7),
  // The same keys stored as BIGINT.
  t64: memoryTable([{ name: "k", type: INT64 }], ROWS.map((r) => [r[0]]), 11),
});

function repartition(input: PhysicalPlan, keys: Expr[] | null, partitions: number): PhysicalPlan {
  return { op: "repartition", id: id(), input, keys, columns: input.columns, partitions };
}

Deno.test("hash repartition: every row once, each key (NULL included) in one partition", async () => {
  for (const [inParts, outParts] of [[1, 4], [3, 4], [4, 1], [2, 7]]) {
    const s = await scan(catalog, "t", inParts);
    const plan = repartition(s, [ref(s, "k"), ref(s, "s")], outParts);
    const parts = await runPartitions(plan, context(catalog));
    assert.equal(parts.length, outParts);
    const rows = parts.map((p) => p.flatMap(batchToRows));
    assert.deepEqual(sorted(rows.flat()), sorted(ROWS), `${inParts} -> ${outParts}: the same rows`);
    const home = new Map<string, number>();
    rows.forEach((rs, p) => {
      for (const r of rs) {
        const key = JSON.stringify([r[0], r[1]]);
        const seen = home.get(key);
        assert.ok(seen === undefined || seen === p, `key ${key} in partitions ${seen} and ${p}`);
        home.set(key, p);
      }
    });
    if (outParts > 1) {
      const used = rows.filter((rs) => rs.length > 0).length;
      assert.ok(used > 1, `rows spread over ${used} of ${outParts} partitions`);
    }
  }
});

Deno.test("equal keys in INTEGER and BIGINT storage land in the same partition", async () => {
  const a = await scan(catalog, "t", 2);
  const b = await scan(catalog, "t64", 2);
  const pa = await runPartitions(repartition(a, [ref(a, "k")], 5), context(catalog));
  const pb = await runPartitions(repartition(b, [ref(b, "k")], 5), context(catalog));
  const keysIn = (parts: typeof pa) =>
    parts.map((p) => [...new Set(p.flatMap(batchToRows).map((r) => r[0]))].sort());
  assert.deepEqual(keysIn(pa), keysIn(pb));
});

Deno.test("round-robin repartition (no keys) keeps every row", async () => {
  const s = await scan(catalog, "t", 3);
  const parts = await runPartitions(repartition(s, null, 3), context(catalog));
  assert.deepEqual(sorted(parts.flat().flatMap(batchToRows)), sorted(ROWS));
  assert.ok(parts.filter((p) => p.length > 0).length > 1, "batches go to several partitions");
});

Deno.test("coalesce gathers every input partition into one", async () => {
  const s = await scan(catalog, "t", 4);
  const plan: PhysicalPlan = {
    op: "coalesce",
    id: id(),
    input: s,
    columns: s.columns,
    partitions: 1,
  };
  assert.deepEqual(sorted(await run(plan, context(catalog))), sorted(ROWS));
});

Deno.test("broadcast: every output partition sees all rows; the input runs once", async () => {
  const s = await scan(catalog, "t", 3);
  const plan: PhysicalPlan = {
    op: "broadcast",
    id: id(),
    input: s,
    columns: s.columns,
    partitions: 4,
  };
  const ctx = context(catalog);
  const parts = await runPartitions(plan, ctx);
  assert.equal(parts.length, 4);
  for (const p of parts) assert.deepEqual(sorted(p.flatMap(batchToRows)), sorted(ROWS));
  assert.equal(ctx.metrics.of(s.id).rows, N, "the scan below ran once, not once per consumer");
});

Deno.test("a repartition's input runs once for all its consumers", async () => {
  const s = await scan(catalog, "t", 2);
  const plan = repartition(s, [ref(s, "i")], 3);
  const ctx = context(catalog);
  await runPartitions(plan, ctx);
  // Read a partition again: served from the materialised buckets.
  for await (const _ of executePlan(plan, 1, ctx)) { /* drain */ }
  assert.equal(ctx.metrics.of(s.id).rows, N);
});

Deno.test("exchange_read needs the distributed runtime; bad partitions are refused", async () => {
  const node: PhysicalPlan = {
    op: "exchange_read",
    id: id(),
    exchangeId: 1,
    read: "partition",
    columns: [],
    partitions: 1,
  } as unknown as PhysicalPlan;
  await assert.rejects(
    () => run(node, context(catalog)),
    (e) => e instanceof SpiceError && e.code === "INTERNAL",
  );
  const s = await scan(catalog, "t");
  assert.throws(
    () => executePlan(s, 5, context(catalog)),
    (e) => e instanceof SpiceError && e.code === "INTERNAL",
  );
});
