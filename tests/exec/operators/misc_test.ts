/**
 * The small operators through executePlan: UNION ALL (each input's columns
 * relabelled to the union's, partitions numbered across inputs), window
 * evaluation over a gathered partition (compared with DuckDB), and the
 * single-row check of scalar subqueries.
 */

import assert from "node:assert/strict";
import type { Value } from "../../../src/arrow/column.ts";
import { FLOAT64, INT32, INT64, UTF8 } from "../../../src/arrow/types.ts";
import { SpiceError } from "../../../src/errors.ts";
import type { PhysicalPlan } from "../../../src/physical/plan.ts";
import { aggregateResultType } from "../../../src/plan/functions.ts";
import type { OutputColumn, WindowCall } from "../../../src/plan/logical.ts";
import { duck, duckDouble, sqlLiteral } from "../kernels/support.ts";
import {
  catalogOf,
  context,
  id,
  memoryTable,
  out,
  ref,
  run,
  runPartitions,
  scan,
  sorted,
} from "./helpers.ts";

const A_ROWS: Value[][] = [[1, "a"], [2, "b"], [3, null], [4, "d"]];
const B_ROWS: Value[][] = [["x", 10], [null, 20], ["z", 30]];
const W_ROWS: Value[][] = [
  ["g1", 1, 10.5],
  ["g2", 2, 1],
  ["g1", 3, null],
  ["g1", 2, 4],
  ["g2", 1, 7],
  [null, 5, 2],
  ["g1", 5, 1],
  ["g2", 2, 3],
];
const W_COLS = [{ name: "g", type: UTF8 }, { name: "o", type: INT32 }, {
  name: "v",
  type: FLOAT64,
}];
const catalog = catalogOf({
  a: memoryTable([{ name: "n", type: INT32 }, { name: "s", type: UTF8 }], A_ROWS, 2),
  // The same types in the other column order.
  b: memoryTable([{ name: "s2", type: UTF8 }, { name: "n2", type: INT32 }], B_ROWS, 2),
  w: memoryTable(W_COLS, W_ROWS, 3),
  one: memoryTable([{ name: "x", type: INT32 }], [[42]]),
  two: memoryTable([{ name: "x", type: INT32 }], [[1], [2]], 1),
  none: memoryTable([{ name: "x", type: INT32 }], []),
});

// ---------------------------------------------------------------------------
// UNION ALL

async function unionPlan(aParts: number, bParts: number): Promise<PhysicalPlan> {
  const a = await scan(catalog, "a", aParts);
  const b = await scan(catalog, "b", bParts);
  const columns: OutputColumn[] = [out("num", INT32), out("str", UTF8)];
  return {
    op: "union",
    id: id(),
    inputs: [a, b],
    inputColumns: [
      [ref(a, "n"), ref(a, "s")].map((e) => (e as { id: number }).id),
      [ref(b, "n2"), ref(b, "s2")].map((e) => (e as { id: number }).id),
    ],
    columns,
    partitions: a.partitions + b.partitions,
  };
}

Deno.test("UNION ALL relabels each input's columns in the union's order", async () => {
  const u = await unionPlan(1, 1);
  const parts = await runPartitions(u, context(catalog));
  assert.deepEqual(parts[0][0].schema.fields.map((f) => f.name), ["num", "str"]);
  assert.deepEqual(parts.flat().flatMap((b) => b.columns.map((c) => c.type.id)).slice(0, 2), [
    "int32",
    "utf8",
  ]);
  assert.deepEqual(await run(u, context(catalog)), [
    ...A_ROWS,
    [10, "x"],
    [20, null],
    [30, "z"],
  ]);
});

Deno.test("UNION ALL numbers its partitions across inputs", async () => {
  const u = await unionPlan(2, 2);
  assert.equal(u.partitions, 4);
  const parts = await runPartitions(u, context(catalog));
  assert.equal(parts.length, 4);
  assert.deepEqual(
    sorted(
      parts.flat().flatMap((b) =>
        Array.from({ length: b.numRows }, (_, i) => [
          (b.columns[0] as { values: Int32Array }).values[i],
        ])
      ),
    ),
    sorted([[1], [2], [3], [4], [10], [20], [30]]),
  );
  // Partitions 0-1 read input a, 2-3 input b.
  const fromB = parts.slice(2).flat().reduce((n, b) => n + b.numRows, 0);
  assert.equal(fromB, 3);
});

// ---------------------------------------------------------------------------
// windows

async function windowPlan(parts: number): Promise<{ plan: PhysicalPlan; calls: WindowCall[] }> {
  const s = await scan(catalog, "w", parts);
  // The window needs whole partitions: gather everything.
  const input: PhysicalPlan = s.partitions > 1
    ? { op: "coalesce", id: id(), input: s, columns: s.columns, partitions: 1 }
    : s;
  const g = ref(input, "g"), o = ref(input, "o"), v = ref(input, "v");
  const byO = [{ expr: o, asc: true, nullsFirst: false }];
  const calls: WindowCall[] = [
    {
      id: id(),
      name: "rn",
      fn: "row_number",
      args: [],
      partitionBy: [g],
      orderBy: [...byO, { expr: v, asc: true, nullsFirst: false }],
      frame: null,
      type: INT64,
    },
    {
      id: id(),
      name: "rk",
      fn: "rank",
      args: [],
      partitionBy: [g],
      orderBy: byO,
      frame: null,
      type: INT64,
    },
    {
      id: id(),
      name: "running",
      fn: "sum",
      args: [v],
      partitionBy: [g],
      orderBy: byO,
      frame: null,
      type: aggregateResultType("sum", FLOAT64),
    },
    {
      id: id(),
      name: "total",
      fn: "sum",
      args: [v],
      partitionBy: [g],
      orderBy: [],
      frame: null,
      type: aggregateResultType("sum", FLOAT64),
    },
    {
      id: id(),
      name: "cnt",
      fn: "count_star",
      args: [],
      partitionBy: [],
      orderBy: [],
      frame: null,
      type: INT64,
    },
  ];
  const plan: PhysicalPlan = {
    op: "window",
    id: id(),
    input,
    windows: calls,
    columns: [
      ...input.columns,
      ...calls.map((c) => ({ id: c.id, name: c.name, type: c.type, nullable: true })),
    ],
    partitions: 1,
  };
  return { plan, calls };
}

Deno.test("window functions over a gathered partition match DuckDB, rows in input order", async () => {
  const rows = W_ROWS.map((r) => `(${r.map((v, i) => sqlLiteral(W_COLS[i].type, v)).join(", ")})`);
  const ref_ = await duck(`
    SELECT g, o, v,
      row_number() OVER (PARTITION BY g ORDER BY o, v),
      rank() OVER (PARTITION BY g ORDER BY o),
      sum(v) OVER (PARTITION BY g ORDER BY o),
      sum(v) OVER (PARTITION BY g),
      count(*) OVER ()
    FROM (VALUES ${rows.map((r, i) => r.replace("(", `(${i}, `)).join(", ")}) t(i, g, o, v)
    ORDER BY i`);
  const want = ref_.map((r) => [
    r[0] as Value,
    r[1] as Value,
    duckDouble(r[2]),
    Number(r[3]),
    Number(r[4]),
    duckDouble(r[5]),
    duckDouble(r[6]),
    Number(r[7]),
  ]);
  for (const parts of [1, 3]) {
    const { plan } = await windowPlan(parts);
    const got = await run(plan, context(catalog, 3));
    if (parts === 1) assert.deepEqual(got, want, "input order kept");
    else assert.deepEqual(sorted(got), sorted(want), "gathered from 3 partitions");
  }
});

Deno.test("a window over empty input yields nothing", async () => {
  const s = await scan(catalog, "none");
  const call: WindowCall = {
    id: id(),
    name: "rn",
    fn: "row_number",
    args: [],
    partitionBy: [],
    orderBy: [],
    frame: null,
    type: INT64,
  };
  const plan: PhysicalPlan = {
    op: "window",
    id: id(),
    input: s,
    windows: [call],
    columns: [...s.columns, { id: call.id, name: "rn", type: INT64, nullable: true }],
    partitions: 1,
  };
  assert.deepEqual(await run(plan, context(catalog)), []);
});

// ---------------------------------------------------------------------------
// max_one_row

async function maxOneRow(table: string): Promise<PhysicalPlan> {
  const s = await scan(catalog, table);
  return { op: "max_one_row", id: id(), input: s, columns: s.columns, partitions: 1 };
}

Deno.test("max_one_row passes zero or one row, and fails on two", async () => {
  assert.deepEqual(await run(await maxOneRow("one"), context(catalog)), [[42]]);
  assert.deepEqual(await run(await maxOneRow("none"), context(catalog)), []);
  const two = await maxOneRow("two");
  await assert.rejects(
    () => run(two, context(catalog)),
    (e) => e instanceof SpiceError && e.code === "DATA" && /more than one row/.test(e.message),
  );
});
