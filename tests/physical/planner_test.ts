/**
 * The physical planner: aggregates split into partial and final around a
 * hash repartition, ORDER BY ... LIMIT as a top-k, joins broadcast or
 * partitioned by the broadcastRows threshold with the hash table on the
 * smaller estimated input, nested loops for joins without keys, exchanges
 * for windows, unions and limits; and every plan runs to DuckDB's rows.
 */

import assert from "node:assert/strict";
import { formatPhysical } from "../../src/plan/explain.ts";
import { exprToString } from "../../src/plan/explain.ts";
import type { LogicalPlan } from "../../src/plan/logical.ts";
import { optimize } from "../../src/plan/optimizer.ts";
import type { PhysicalPlan } from "../../src/physical/plan.ts";
import { createPhysicalPlan } from "../../src/physical/planner.ts";
import type { IdGen } from "../../src/plan/builder.ts";
import { bind, execute, physicalNodes, sorted, testCatalog } from "../plan/helpers.ts";

const catalog = testCatalog();

interface Planned {
  logical: LogicalPlan;
  physical: PhysicalPlan;
  ids: IdGen;
}

async function plan(
  sql: string,
  opts: { targetPartitions?: number; broadcastRows?: number } = {},
): Promise<Planned> {
  const { plan: bound, ids } = await bind(catalog, sql);
  const logical = optimize(bound);
  const physical = await createPhysicalPlan(logical, {
    targetPartitions: opts.targetPartitions ?? 4,
    broadcastRows: opts.broadcastRows ?? 1_000_000,
    ids,
  });
  return { logical, physical, ids };
}

function show(p: PhysicalPlan): string {
  return "\n" + formatPhysical(p);
}

function ops(p: PhysicalPlan): string[] {
  return physicalNodes(p).map((n) => n.op);
}

function only<K extends PhysicalPlan["op"]>(p: PhysicalPlan, op: K): (PhysicalPlan & { op: K })[] {
  return physicalNodes(p).filter((n): n is PhysicalPlan & { op: K } => n.op === op);
}

/** The plan's rows equal those of the same logical plan run on one partition. */
async function sameAsSerial(
  sql: string,
  opts: { targetPartitions?: number; broadcastRows?: number },
) {
  const { logical, ids } = await plan(sql, opts);
  const parallel = await execute(catalog, logical, ids, {
    targetPartitions: opts.targetPartitions ?? 4,
    broadcastRows: opts.broadcastRows ?? 1_000_000,
  });
  const serial = await execute(catalog, logical, ids, { targetPartitions: 1 });
  assert.deepEqual(sorted(parallel), sorted(serial), sql);
}

// ---------------------------------------------------------------------------
// aggregates

Deno.test("GROUP BY over several partitions: partial -> hash repartition on the keys -> final", async () => {
  const sql = "SELECT d1, sum(amount), count(*) FROM fact GROUP BY d1";
  const { physical } = await plan(sql);
  const [final] = only(physical, "aggregate");
  assert.equal(final.mode, "final", show(physical));
  assert.equal(final.input.op, "repartition", show(physical));
  const rep = final.input as PhysicalPlan & { op: "repartition" };
  assert.equal(rep.partitions, 4);
  assert.equal(rep.input.op, "aggregate");
  const partial = rep.input as PhysicalPlan & { op: "aggregate" };
  assert.equal(partial.mode, "partial");
  assert.ok(partial.partitions > 1, show(physical));
  // The exchange hashes the partial output's key column.
  assert.deepEqual(rep.keys!.map((k) => (k as { id: number }).id), [partial.columns[0].id]);
  // Partial states: the key, then sum's (hi, lo, count) and count's one column.
  assert.equal(partial.columns.length, 1 + 3 + 1, show(physical));
  await sameAsSerial(sql, {});
});

Deno.test("no GROUP BY keys: partial -> coalesce -> final (one row)", async () => {
  const { physical } = await plan("SELECT sum(amount), max(id) FROM fact");
  const [final] = only(physical, "aggregate");
  assert.equal(final.mode, "final");
  assert.equal(final.input.op, "coalesce", show(physical));
  assert.equal((final.input as { input: PhysicalPlan }).input.op, "aggregate");
  assert.equal(final.partitions, 1);
});

Deno.test("DISTINCT aggregates run in single mode after an exchange", async () => {
  const keyed = await plan("SELECT d2, count(DISTINCT d1) FROM fact GROUP BY d2");
  const [a] = only(keyed.physical, "aggregate");
  assert.equal(a.mode, "single", show(keyed.physical));
  assert.equal(a.input.op, "repartition", show(keyed.physical));
  const global = await plan("SELECT count(DISTINCT d1) FROM fact");
  const [g] = only(global.physical, "aggregate");
  assert.equal(g.mode, "single");
  assert.equal(g.input.op, "coalesce", show(global.physical));
  await sameAsSerial("SELECT d2, count(DISTINCT d1), sum(DISTINCT d1) FROM fact GROUP BY d2", {});
});

Deno.test("one input partition: a single aggregate and no exchange", async () => {
  const { physical } = await plan("SELECT d1, count(*) FROM fact GROUP BY d1", {
    targetPartitions: 1,
  });
  const [a] = only(physical, "aggregate");
  assert.equal(a.mode, "single");
  assert.deepEqual(
    ops(physical).filter((o) => ["repartition", "coalesce", "broadcast"].includes(o)),
    [],
  );
});

Deno.test("grouping sets keep the grouping id as a partial key", async () => {
  const sql = "SELECT d1, d2, count(*) FROM fact GROUP BY ROLLUP (d1, d2)";
  const { physical } = await plan(sql);
  const rep = only(physical, "repartition")[0];
  assert.equal(rep.keys!.length, 3, `two keys and the grouping id${show(physical)}`);
  await sameAsSerial(sql, {});
});

// ---------------------------------------------------------------------------
// sort and limit

Deno.test("ORDER BY ... LIMIT is a top-k in every partition, then a final top-k and the limit", async () => {
  const sql = "SELECT id, amount FROM fact ORDER BY amount DESC, id LIMIT 5 OFFSET 3";
  const { physical } = await plan(sql);
  assert.equal(physical.op, "limit", show(physical));
  const lim = physical as PhysicalPlan & { op: "limit" };
  assert.deepEqual([lim.skip, lim.fetch], [3, 5]);
  const sorts = only(physical, "sort");
  assert.equal(sorts.length, 2, show(physical));
  assert.ok(sorts.every((s) => s.fetch === 8), `top-k of skip + fetch${show(physical)}`);
  assert.equal(sorts[0].partitions, 1);
  assert.equal(sorts[0].input.op, "coalesce");
  assert.ok(sorts[1].partitions > 1);
  const { logical, ids } = await plan(sql);
  const rows = await execute(catalog, logical, ids, { targetPartitions: 4 });
  assert.deepEqual(rows, await execute(catalog, logical, ids, { targetPartitions: 1 }));
  assert.equal(rows.length, 5);
});

Deno.test("ORDER BY without LIMIT: per-partition sorts merged by a final sort", async () => {
  const { physical } = await plan("SELECT id FROM fact ORDER BY amount, id");
  const sorts = only(physical, "sort");
  assert.equal(sorts.length, 2, show(physical));
  assert.ok(sorts.every((s) => s.fetch === null));
  assert.equal(physical.partitions, 1);
});

Deno.test("LIMIT without ORDER BY: a local limit per partition, then one limit", async () => {
  const { physical } = await plan("SELECT id FROM fact LIMIT 7");
  assert.deepEqual(ops(physical).slice(0, 3), ["limit", "coalesce", "limit"], show(physical));
  const { logical, ids } = await plan("SELECT id FROM fact LIMIT 7");
  assert.equal((await execute(catalog, logical, ids, { targetPartitions: 4 })).length, 7);
});

// ---------------------------------------------------------------------------
// joins

const STAR = "SELECT fact.id, dim1.name FROM fact JOIN dim1 ON fact.d1 = dim1.id";

Deno.test("a build side at most broadcastRows is broadcast; the other side is not moved", async () => {
  const { physical } = await plan(STAR, { broadcastRows: 1000 });
  const [j] = only(physical, "hash_join");
  assert.equal(j.mode, "collect", show(physical));
  assert.equal(j.buildSide, "right", "dim1 (100 rows) is the smaller side");
  assert.equal(j.right.op, "broadcast", show(physical));
  assert.equal(j.left.op, "scan", show(physical));
  assert.equal(j.right.partitions, j.left.partitions);
  await sameAsSerial(STAR, { broadcastRows: 1000 });
});

Deno.test("a build side above broadcastRows makes a partitioned join on the keys", async () => {
  const { physical } = await plan(STAR, { broadcastRows: 50 });
  const [j] = only(physical, "hash_join");
  assert.equal(j.mode, "partitioned", show(physical));
  assert.equal(j.left.op, "repartition");
  assert.equal(j.right.op, "repartition");
  const [l, r] = [j.left, j.right] as (PhysicalPlan & { op: "repartition" })[];
  assert.equal(l.partitions, r.partitions);
  assert.equal(j.partitions, l.partitions);
  assert.deepEqual(l.keys!.map(exprToString), ["d1"]);
  assert.deepEqual(r.keys!.map(exprToString), ["id"]);
  await sameAsSerial(STAR, { broadcastRows: 50 });
});

Deno.test("the hash table goes on the smaller estimated input of an inner join", async () => {
  // Whichever side the join order puts it on, dim1 (100 rows) is built, fact (2000) probes.
  const buildTable = (j: PhysicalPlan & { op: "hash_join" }) => {
    const side = j.buildSide === "left" ? j.left : j.right;
    assert.equal(side.op, "broadcast", show(j));
    return only(side, "scan")[0].table;
  };
  const swapped = "SELECT fact.id FROM dim1 JOIN fact ON fact.d1 = dim1.id";
  const { physical } = await plan(swapped, { broadcastRows: 1000 });
  assert.equal(buildTable(only(physical, "hash_join")[0]), "dim1", show(physical));
  // Filters shrink an estimate: fact filtered hard becomes the smaller side.
  const filtered = await plan(
    "SELECT fact.id FROM fact JOIN dim1 ON fact.d1 = dim1.id " +
      "WHERE fact.id = 7 AND fact.d2 = 7 AND fact.amount = 1.5",
    { broadcastRows: 1000 },
  );
  const [f] = only(filtered.physical, "hash_join");
  assert.equal(buildTable(f), "fact", `2000 x 0.05^3 < 100${show(filtered.physical)}`);
  await sameAsSerial(swapped, { broadcastRows: 1000 });
});

Deno.test("outer and semi joins build on the smaller side; a build side that decides is partitioned", async () => {
  // dim1 (100 rows) is preserved and smaller: it is built, and both sides are
  // partitioned by key so that each dim1 row sees every fact row with its key.
  const left = await plan("SELECT * FROM dim1 LEFT JOIN fact ON fact.d1 = dim1.id", {
    broadcastRows: 1e6,
  });
  const [lj] = only(left.physical, "hash_join");
  assert.equal(lj.buildSide, "left", show(left.physical));
  assert.equal(lj.mode, "partitioned", show(left.physical));
  // The preserved side is the larger: the other is broadcast and built.
  const right = await plan("SELECT * FROM fact RIGHT JOIN dim1 ON fact.d1 = dim1.id", {
    broadcastRows: 1e6,
  });
  const [rj] = only(right.physical, "hash_join");
  assert.equal(rj.buildSide, "right", show(right.physical));
  assert.equal(rj.mode, "partitioned", show(right.physical));
  const kept = await plan("SELECT * FROM fact LEFT JOIN dim1 ON fact.d1 = dim1.id", {
    broadcastRows: 1e6,
  });
  const [kj] = only(kept.physical, "hash_join");
  assert.equal(kj.buildSide, "right", show(kept.physical));
  assert.equal(kj.mode, "collect", show(kept.physical));
  // EXISTS from the small side: the outer rows are built, the subquery's probe.
  const semi = await plan(
    "SELECT id FROM dim1 WHERE EXISTS (SELECT 1 FROM fact WHERE fact.d1 = dim1.id)",
    { broadcastRows: 1e6 },
  );
  const [sj] = only(semi.physical, "hash_join");
  assert.equal(sj.kind, "semi");
  assert.equal(sj.buildSide, "left", show(semi.physical));
  assert.equal(sj.mode, "partitioned", show(semi.physical));
  const full = await plan("SELECT * FROM t FULL JOIN u ON t.k = u.k", { broadcastRows: 1e6 });
  assert.equal(only(full.physical, "hash_join")[0].mode, "partitioned", show(full.physical));
  for (
    const sql of [
      "SELECT t.a, u.x FROM t LEFT JOIN u ON t.k = u.k",
      "SELECT t.a, u.x FROM t RIGHT JOIN u ON t.k = u.k",
      "SELECT t.a, u.x FROM t FULL JOIN u ON t.k = u.k",
      "SELECT * FROM dim1 LEFT JOIN fact ON fact.d1 = dim1.id",
      "SELECT id FROM dim1 WHERE EXISTS (SELECT 1 FROM fact WHERE fact.d1 = dim1.id)",
      "SELECT id FROM dim1 WHERE NOT EXISTS (SELECT 1 FROM fact WHERE fact.d1 = dim1.id AND fact.amount > 5)",
    ]
  ) {
    await sameAsSerial(sql, { broadcastRows: 1e6 });
    await sameAsSerial(sql, { broadcastRows: 0 });
  }
});

Deno.test("NOT IN (null-aware anti join) is never partitioned", async () => {
  const sql = "SELECT a FROM t WHERE k NOT IN (SELECT k FROM u)";
  const { physical } = await plan(sql, { broadcastRows: 0 });
  const [j] = only(physical, "hash_join");
  assert.equal(j.mode, "collect", show(physical));
  await sameAsSerial(sql, { broadcastRows: 0 });
});

Deno.test("IN in an expression (null-aware mark join) gives the same rows when the subquery is large", async () => {
  // u.k has a NULL: unmatched rows must be NULL in every partition.
  for (
    const sql of [
      // Probe keys 5..9 against u.k in 0..6 and NULL: misses are NULL, never FALSE.
      "SELECT a, k + 5 IN (SELECT k FROM u) AS m FROM t",
      "SELECT a, k + 5 NOT IN (SELECT k FROM u WHERE x > 30) AS m FROM t",
    ]
  ) {
    await sameAsSerial(sql, { broadcastRows: 0, targetPartitions: 3 });
  }
});

Deno.test("joins without equality keys are nested loops against a broadcast right side", async () => {
  const inner = await plan("SELECT t.a, u.x FROM t JOIN u ON t.a < u.x", { broadcastRows: 0 });
  const [n] = only(inner.physical, "nested_loop_join");
  assert.ok(n, show(inner.physical));
  assert.equal(n.right.op, "broadcast");
  assert.equal(n.right.partitions, n.left.partitions);
  const full = await plan("SELECT t.a, u.x FROM t FULL JOIN u ON t.a < u.x");
  const [f] = only(full.physical, "nested_loop_join");
  assert.equal(
    f.left.partitions,
    1,
    `unmatched right rows need one left partition${show(full.physical)}`,
  );
  for (
    const sql of [
      "SELECT t.a, u.x FROM t JOIN u ON t.a < u.x",
      "SELECT t.a, u.x FROM t LEFT JOIN u ON t.a * 10 < u.x",
      "SELECT t.a, u.x FROM t FULL JOIN u ON t.a * 10 > u.x + 100",
      "SELECT count(*) FROM t, u",
    ]
  ) await sameAsSerial(sql, {});
});

// ---------------------------------------------------------------------------
// other exchanges

Deno.test("windows repartition on a shared PARTITION BY, else gather to one partition", async () => {
  const byKey = await plan("SELECT d1, row_number() OVER (PARTITION BY d1 ORDER BY id) FROM fact");
  const [w] = only(byKey.physical, "window");
  assert.equal(w.input.op, "repartition", show(byKey.physical));
  assert.equal(w.partitions, 4);
  const global = await plan("SELECT id, row_number() OVER (ORDER BY id) FROM fact");
  const [g] = only(global.physical, "window");
  assert.equal(g.input.op, "coalesce", show(global.physical));
  await sameAsSerial(
    "SELECT d1, id, row_number() OVER (PARTITION BY d1 ORDER BY id) FROM fact",
    {},
  );
});

Deno.test("UNION ALL has the partitions of all its inputs; scans at most the target", async () => {
  const { physical } = await plan("SELECT id FROM fact UNION ALL SELECT id FROM dim1");
  const u = only(physical, "union")[0];
  assert.equal(u.partitions, u.inputs.reduce((s, i) => s + i.partitions, 0), show(physical));
  for (const s of only(physical, "scan")) assert.ok(s.partitions <= 4 && s.partitions >= 1);
  const small = await plan("SELECT * FROM dim2", { targetPartitions: 64 });
  const [scan] = only(small.physical, "scan");
  assert.equal(scan.partitions, scan.scanPartitions.length, "no more partitions than scan units");
});

Deno.test("every node's partition count matches its input's layout", async () => {
  const { physical } = await plan(
    "SELECT dim1.name, count(*), sum(fact.amount) FROM fact JOIN dim1 ON fact.d1 = dim1.id " +
      "WHERE fact.amount > 3 GROUP BY dim1.name ORDER BY 2 DESC LIMIT 3",
    { broadcastRows: 50 },
  );
  for (const n of physicalNodes(physical)) {
    if (n.op === "filter" || n.op === "project") {
      assert.equal(n.partitions, n.input.partitions, `${n.op}${show(physical)}`);
    }
    if (n.op === "coalesce" || n.op === "limit" && n.id === physical.id) {
      assert.equal(n.partitions, 1);
    }
  }
  assert.equal(physical.partitions, 1);
});
