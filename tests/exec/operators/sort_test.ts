/**
 * Sort operator through executePlan: a full sort of a partition, top-k with
 * a fetch over many batches (keeping only the best rows as they arrive),
 * per-partition sorts merged by a final sort over a coalesce, and output in
 * batches of the context's size.
 */

import assert from "node:assert/strict";
import type { Value } from "../../../src/arrow/column.ts";
import { FLOAT64, INT32, UTF8 } from "../../../src/arrow/types.ts";
import type { PhysicalPlan } from "../../../src/physical/plan.ts";
import type { SortKey } from "../../../src/plan/logical.ts";
import { catalogOf, context, id, memoryTable, ref, run, runPartitions, scan } from "./helpers.ts";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const r = lcg(11);
const N = 200;
const ROWS: Value[][] = Array.from({ length: N }, (_, i) => [
  i,
  r() < 0.1 ? null : Math.floor(r() * 20),
  ["b", "a", "c", null, "é"][Math.floor(r() * 5)],
  r() * 100,
]);
const catalog = catalogOf({
  t: memoryTable(
    [
      { name: "id", type: INT32 },
      { name: "k", type: INT32 },
      { name: "s", type: UTF8 },
      { name: "f", type: FLOAT64 },
    ],
    ROWS,
    16,
  ),
});

function sortOf(input: PhysicalPlan, keys: SortKey[], fetch: number | null): PhysicalPlan {
  return {
    op: "sort",
    id: id(),
    input,
    keys,
    fetch,
    columns: input.columns,
    partitions: input.partitions,
  };
}

/** The expected order: k DESC NULLS LAST, s ASC NULLS FIRST (bytes), then input order (stable). */
function expectedOrder(rows: Value[][]): Value[][] {
  const enc = (s: Value) => new TextEncoder().encode(String(s));
  const cmpBytes = (a: Uint8Array, b: Uint8Array) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  };
  return [...rows].sort((x, y) => {
    const [kx, ky] = [x[1], y[1]];
    if (kx !== ky) {
      if (kx === null) return 1;
      if (ky === null) return -1;
      return (ky as number) - (kx as number);
    }
    const [sx, sy] = [x[2], y[2]];
    if (sx !== sy) {
      if (sx === null) return -1;
      if (sy === null) return 1;
      return cmpBytes(enc(sx), enc(sy));
    }
    return (x[0] as number) - (y[0] as number);
  });
}

function keysOf(input: PhysicalPlan): SortKey[] {
  return [
    { expr: ref(input, "k"), asc: false, nullsFirst: false },
    { expr: ref(input, "s"), asc: true, nullsFirst: true },
  ];
}

Deno.test("sorts one partition by several keys, stable for ties", async () => {
  const s = await scan(catalog, "t");
  const rows = await run(sortOf(s, keysOf(s), null), context(catalog, 32));
  assert.deepEqual(rows, expectedOrder(ROWS));
});

Deno.test("top-k keeps exactly the first k rows of the sorted order", async () => {
  for (const k of [0, 1, 5, 17, 64, 199, 200, 500]) {
    const s = await scan(catalog, "t");
    // A small batch size makes the operator compact its held rows several times.
    const rows = await run(sortOf(s, keysOf(s), k), context(catalog, 8));
    assert.deepEqual(rows, expectedOrder(ROWS).slice(0, k), `k=${k}`);
  }
});

Deno.test("per-partition sort, coalesce, final sort: one ordered stream", async () => {
  const s = await scan(catalog, "t", 4);
  assert.ok(s.partitions > 1);
  // Ties between partitions have no defined order: make the order total with id.
  const keys = [...keysOf(s), { expr: ref(s, "id"), asc: true, nullsFirst: false }];
  for (const fetch of [null, 10]) {
    const local = sortOf(s, keys, fetch);
    const merged: PhysicalPlan = {
      op: "coalesce",
      id: id(),
      input: local,
      columns: local.columns,
      partitions: 1,
    };
    const rows = await run(sortOf(merged, keys, fetch), context(catalog, 32));
    const want = expectedOrder(ROWS);
    assert.deepEqual(rows, fetch === null ? want : want.slice(0, fetch), `fetch ${fetch}`);
  }
});

Deno.test("sorted output comes in batches of the context's size", async () => {
  const s = await scan(catalog, "t");
  const [batches] = await runPartitions(sortOf(s, keysOf(s), null), context(catalog, 50));
  assert.deepEqual(batches.map((b) => b.numRows), [50, 50, 50, 50]);
});

Deno.test("sorting an empty input yields nothing", async () => {
  const empty = catalogOf({ e: memoryTable([{ name: "x", type: INT32 }], []) });
  const s = await scan(empty, "e");
  const keys: SortKey[] = [{ expr: ref(s, "x"), asc: true, nullsFirst: false }];
  assert.deepEqual(await run(sortOf(s, keys, null), context(empty)), []);
  assert.deepEqual(await run(sortOf(s, keys, 3), context(empty)), []);
});
