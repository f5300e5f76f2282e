/**
 * Placement of accelerated units (src/cluster/affinity.ts): owners by
 * rendezvous hashing with bounded loads, the dealing of a scan's units to a
 * stage's tasks (one owner per task, every unit once), the preferred
 * executor of a task, and what executors are told to drop.
 */

import assert from "node:assert/strict";
import { ACCELERATED_KIND, type AcceleratedPartitionData } from "../../src/acceleration/mod.ts";
import type { ScanPartition } from "../../src/catalog/provider.ts";
import { assignUnits, UnitAffinity, unitOwner, unitOwners } from "../../src/cluster/affinity.ts";
import { trimForPartition } from "../../src/distributed/task.ts";
import type { PhysicalPlan } from "../../src/physical/plan.ts";

const GEN = "g1";

function units(n: number, opts: { of?: number; gen?: string; rows?: (i: number) => number } = {}) {
  return Array.from({ length: n }, (_, i): ScanPartition => ({
    kind: ACCELERATED_KIND,
    label: `unit ${i}`,
    data: {
      unit: i,
      gen: opts.gen ?? GEN,
      of: opts.of ?? n,
      source: { kind: "file", label: `f${i}`, data: { key: `f${i}` } },
    } satisfies AcceleratedPartitionData,
    rows: opts.rows?.(i) ?? 100,
  }));
}

function scanNode(parts: ScanPartition[], partitions: number): PhysicalPlan {
  return {
    op: "scan",
    id: 7,
    table: "lineitem",
    columns: [],
    projection: [],
    filters: [],
    scanPartitions: parts,
    pruning: "",
    partitions,
  };
}

function unitsOf(plan: PhysicalPlan): AcceleratedPartitionData[] {
  assert.equal(plan.op, "scan");
  return (plan as PhysicalPlan & { op: "scan" }).scanPartitions.map((p) =>
    p.data as AcceleratedPartitionData
  );
}

Deno.test("unit owners: at most ceil(n/executors) each, independent of order, few moves", () => {
  for (const n of [84, 32, 7]) {
    for (const ex of [["a", "b"], ["a", "b", "c"], ["x1", "x2", "x3", "x4", "x5"]]) {
      const owners = unitOwners("lineitem", GEN, n, ex);
      const counts = ex.map((e) => owners.filter((o) => o === e).length);
      assert.ok(Math.max(...counts) <= Math.ceil(n / ex.length), `${n} ${ex}: ${counts}`);
      assert.equal(counts.reduce((a, b) => a + b, 0), n);
      assert.deepEqual(unitOwners("lineitem", GEN, n, [...ex].reverse()), owners);
    }
  }
  const two = unitOwners("lineitem", GEN, 84, ["a", "b"]);
  const three = unitOwners("lineitem", GEN, 84, ["a", "b", "c"]);
  const moved = two.filter((o, u) => o !== three[u]).length;
  assert.ok(moved >= 28 && moved <= 42, `moved ${moved}`);
  // Units that moved went to the new executor (or made room for one that did).
  assert.ok(three.filter((o) => o === "c").length === 28);
  assert.equal(unitOwner("lineitem", GEN, 3, 84, []), null);
});

Deno.test("assignUnits: each unit once, one owner per list, lists in proportion to rows", () => {
  const parts = units(20);
  const owners = parts.map((_, i) => (i < 15 ? "a" : "b"));
  const lists = assignUnits(parts, owners, 4);
  assert.equal(lists.length, 4);
  const seen = lists.flat().map((p) => (p.data as AcceleratedPartitionData).unit).sort((x, y) =>
    x - y
  );
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i));
  const ownersOf = lists.map((l) => new Set(l.map((p) => owners[parts.indexOf(p)])));
  for (const o of ownersOf) assert.equal(o.size, 1);
  assert.equal(ownersOf.filter((o) => o.has("a")).length, 3);
  assert.equal(ownersOf.filter((o) => o.has("b")).length, 1);
  // More owners than lists: whole owners packed, nothing lost.
  const packed = assignUnits(parts, parts.map((_, i) => `e${i % 5}`), 2);
  assert.equal(packed.flat().length, 20);
  // Empty scans and a single list.
  assert.deepEqual(assignUnits([], [], 3), [[], [], []]);
  assert.equal(assignUnits(parts, owners, 1)[0].length, 20);
});

Deno.test("a stage's tasks read disjoint units of one owner, marked keep on that owner", () => {
  const affinity = new UnitAffinity();
  const executors = ["exec-a", "exec-b"];
  const parts = units(84);
  const plan = scanNode(parts, 4);
  const seen: number[] = [];
  const perExecutor = new Map<string, number>();
  for (let t = 0; t < 4; t++) {
    const want = affinity.preferred("job1", 1, plan, t, executors);
    assert.ok(want);
    perExecutor.set(want, (perExecutor.get(want) ?? 0) + 1);
    const kept: { table: string; gen: string; unit: number }[] = [];
    const mine = unitsOf(
      trimForPartition(plan, t, affinity.assigner("job1", want, executors, kept)),
    );
    for (const d of mine) {
      assert.equal(unitOwner("lineitem", GEN, d.unit, 84, executors), want);
      assert.equal(d.keep, true);
      seen.push(d.unit);
    }
    assert.equal(kept.length, mine.length);
    // On another executor (the owner was busy too long) the units are read through.
    const other = executors.find((e) => e !== want)!;
    const elsewhere = unitsOf(
      trimForPartition(plan, t, affinity.assigner("job1", other, executors)),
    );
    assert.deepEqual(elsewhere.map((d) => d.unit), mine.map((d) => d.unit));
    assert.ok(elsewhere.every((d) => d.keep === false));
  }
  assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 84 }, (_, i) => i));
  assert.deepEqual([...perExecutor.values()], [2, 2]);
  // Stages without accelerated data have no preference and keep the round-robin dealing.
  const plain = scanNode([{ kind: "file", label: "f", data: {} }], 1);
  assert.equal(affinity.preferred("job2", 1, plain, 0, executors), null);
});

Deno.test("holdings and what executors are told to drop", () => {
  let current = GEN;
  const affinity = new UnitAffinity({
    currentGeneration: () => current,
    generationGraceMs: 0,
  });
  const two = ["a", "b"];
  const plan = scanNode(units(10), 2);
  // A job deals the units (and learns the generation's unit count), then reports.
  for (let t = 0; t < 2; t++) affinity.preferred("j", 1, plan, t, two);
  const owners = unitOwners("lineitem", GEN, 10, two);
  const mine = (e: string) => owners.flatMap((o, u) => (o === e ? [u] : []));
  affinity.recordHoldings("a", { lineitem: { [GEN]: mine("a") } });
  affinity.recordHoldings("b", { lineitem: { [GEN]: mine("b") } });
  assert.equal(affinity.directives("a", two), null);
  assert.equal(affinity.heldUnits("a") + affinity.heldUnits("b"), 10);
  // A third executor joins: units that are now its own are dropped only once it holds them.
  const three = ["a", "b", "c"];
  assert.equal(affinity.directives("a", three), null);
  const toC = unitOwners("lineitem", GEN, 10, three).flatMap((o, u) => (o === "c" ? [u] : []));
  affinity.recordHoldings("c", { lineitem: { [GEN]: toC } });
  const dropA = affinity.directives("a", three)?.lineitem?.[GEN] ?? [];
  const dropB = affinity.directives("b", three)?.lineitem?.[GEN] ?? [];
  assert.deepEqual([...dropA, ...dropB].sort((x, y) => x - y), toC);
  // A refresh: the old generation goes once no job uses it.
  current = "g2";
  affinity.recordHoldings("c", { lineitem: { [GEN]: toC, g2: [0] } });
  assert.deepEqual(affinity.directives("c", three), null, "job j still reads g1");
  affinity.forgetJob("j");
  assert.deepEqual(affinity.directives("c", three), { lineitem: { [GEN]: toC } });
  // A lost executor's holdings are forgotten.
  affinity.forgetExecutor("c");
  assert.equal(affinity.heldUnits("c"), 0);
});

Deno.test("task outcomes record the units the task kept", () => {
  const affinity = new UnitAffinity();
  const ex = ["a"];
  const plan = scanNode(units(3), 1);
  const kept: { table: string; gen: string; unit: number }[] = [];
  trimForPartition(plan, 0, affinity.assigner("j", "a", ex, kept));
  affinity.launched("j/1/0/0", "a", kept);
  assert.equal(affinity.heldUnits("a"), 0);
  affinity.finished("j/1/0/0", true);
  assert.equal(affinity.heldUnits("a"), 3);
  assert.equal(affinity.waitedMs("j/1/1/0"), 0);
});
