/**
 * Limit operator through executePlan: OFFSET / LIMIT across batch borders,
 * LIMIT 0, an offset past the end, and stopping the input early.
 */

import assert from "node:assert/strict";
import { INT32 } from "../../../src/arrow/types.ts";
import type { PhysicalPlan } from "../../../src/physical/plan.ts";
import { catalogOf, context, id, memoryTable, run, scan } from "./helpers.ts";

const N = 20;
const catalog = catalogOf({
  t: memoryTable([{ name: "x", type: INT32 }], Array.from({ length: N }, (_, i) => [i]), 3),
});

function limitOf(input: PhysicalPlan, skip: number, fetch: number | null): PhysicalPlan {
  return {
    op: "limit",
    id: id(),
    input,
    skip,
    fetch,
    columns: input.columns,
    partitions: input.partitions,
  };
}

function range(a: number, b: number): number[][] {
  return Array.from({ length: Math.max(0, b - a) }, (_, i) => [a + i]);
}

Deno.test("skip and fetch cut across batch borders", async () => {
  const cases: [number, number | null, number[][]][] = [
    [0, 5, range(0, 5)],
    [2, 5, range(2, 7)],
    [4, 2, range(4, 6)],
    [3, null, range(3, N)],
    [0, null, range(0, N)],
    [19, 10, range(19, N)],
    [25, 10, []],
    [0, 0, []],
    [5, 0, []],
  ];
  for (const [skip, fetch, want] of cases) {
    const s = await scan(catalog, "t");
    assert.deepEqual(
      await run(limitOf(s, skip, fetch), context(catalog)),
      want,
      `OFFSET ${skip} LIMIT ${fetch}`,
    );
  }
});

Deno.test("the input stops being pulled once the limit is reached", async () => {
  const s = await scan(catalog, "t");
  const ctx = context(catalog);
  const rows = await run(limitOf(s, 1, 2), ctx);
  assert.deepEqual(rows, [[1], [2]]);
  const scanned = ctx.metrics.of(s.id).batches;
  assert.equal(scanned, 1, `the scan produced ${scanned} batches for 3 rows in batches of 3`);
});

Deno.test("LIMIT 0 does not read the input at all", async () => {
  const s = await scan(catalog, "t");
  const ctx = context(catalog);
  assert.deepEqual(await run(limitOf(s, 0, 0), ctx), []);
  assert.equal(ctx.metrics.of(s.id).batches, 0);
});
