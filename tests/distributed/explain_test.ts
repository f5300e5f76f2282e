/**
 * EXPLAIN's distributed plan: the stages of `splitStages` with their ids,
 * tasks, output partitioning, inputs and fragment trees; the engine adds it
 * as a third row when its runner runs plans as stages, and EXPLAIN ANALYZE
 * adds the figures of every stage and operator.
 */

import assert from "node:assert/strict";
import { type RecordBatch } from "../../src/arrow/batch.ts";
import { stringAt, type Utf8Column } from "../../src/arrow/column.ts";
import { Catalog } from "../../src/catalog/mod.ts";
import { TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
import { TpchTableProvider } from "../../src/connectors/tpch/provider.ts";
import { formatStages } from "../../src/distributed/explain.ts";
import { FINAL_STAGE, splitStages } from "../../src/distributed/stages.ts";
import { runLocal } from "../../src/query/local_runner.ts";
import { QueryEngine } from "../../src/query/mod.ts";

const QUERY = "SELECT o_orderpriority, COUNT(*) FROM orders JOIN lineitem " +
  "ON l_orderkey = o_orderkey WHERE l_quantity > 10 GROUP BY 1 ORDER BY 1";

function catalog(): Catalog {
  const c = new Catalog();
  for (const t of TPCH_TABLES) c.register(t, new TpchTableProvider(t, 0.01));
  return c;
}

async function rows(engine: QueryEngine, sql: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const b of (await engine.query(sql)).batches as AsyncIterable<RecordBatch>) {
    for (let r = 0; r < b.numRows; r++) {
      out.push([
        stringAt(b.columns[0] as Utf8Column, r),
        stringAt(b.columns[1] as Utf8Column, r),
      ]);
    }
  }
  return out;
}

Deno.test("formatStages lists every stage with tasks, partitioning, inputs and fragment", async () => {
  const engine = new QueryEngine(catalog(), { targetPartitions: 4, broadcastRows: 0 });
  const planned = await engine.plan(QUERY);
  const stages = splitStages(planned.physical);
  assert.ok(stages.length >= 3, "a join and an aggregation make several stages");
  const text = formatStages(stages);
  const heads = text.split("\n").filter((l) => l.startsWith("Stage "));
  assert.equal(heads.length, stages.length);
  const seen = new Set<number>();
  for (const [i, s] of stages.entries()) {
    const h = heads[i];
    assert.ok(h.startsWith(`Stage ${s.id}${s.id === FINAL_STAGE ? " (final)" : ""}: `), h);
    assert.match(h, new RegExp(`tasks=${s.tasks} `));
    // Stages come in execution order: every input was listed before.
    for (const input of s.inputs) {
      assert.ok(seen.has(input), `stage ${s.id} reads stage ${input} listed earlier`);
      assert.match(h, new RegExp(`stage ${input}\\b`));
    }
    seen.add(s.id);
  }
  assert.match(heads.at(-1)!, /^Stage 0 \(final\): .*output=result/);
  assert.ok(heads.some((h) => /output=hash\(\[\w+\], 4\)/.test(h)), text);
  // Fragments are indented trees under their stage, reading other stages through shuffle readers.
  assert.match(text, /\n {2,}ScanExec: lineitem/);
  assert.match(text, /\n {2,}ShuffleReaderExec: stage=\d+ read=(partition|all)/);
});

Deno.test("EXPLAIN adds distributed_plan when the runner runs stages; ANALYZE adds figures", async () => {
  const c = catalog();
  const engine: QueryEngine = new QueryEngine(c, { targetPartitions: 4, broadcastRows: 0 }, {
    run: (plan, o) => runLocal(plan, c, { signal: o.signal, batchSize: 8192, metrics: o.metrics }),
    distributedPlan: (plan, analyzed) =>
      formatStages(splitStages(plan), analyzed && { figures: analyzed.figures }),
  });
  const plain = await rows(engine, "EXPLAIN " + QUERY);
  assert.deepEqual(plain.map((r) => r[0]), ["logical_plan", "physical_plan", "distributed_plan"]);
  assert.match(plain[2][1], /^Stage \d+: tasks=\d+ output=/);
  assert.doesNotMatch(plain[2][1], /output_rows=/);

  const analyzed = await rows(engine, "EXPLAIN ANALYZE " + QUERY);
  assert.deepEqual(analyzed.map((r) => r[0]), [
    "logical_plan",
    "physical_plan_with_metrics",
    "distributed_plan_with_metrics",
  ]);
  const d = analyzed[2][1];
  assert.match(d, /Stage 0 \(final\): .* output_rows=5 output_batches=\d+/);
  assert.match(d, /ScanExec: lineitem .*metrics=\[output_rows=60016, output_batches=\d+, elapsed=/);
  assert.match(d, /Total: 5 rows in [\d.]+ ms$/);

  // A runner without stages (standalone) keeps the two rows.
  const local = await rows(new QueryEngine(c), "EXPLAIN " + QUERY);
  assert.deepEqual(local.map((r) => r[0]), ["logical_plan", "physical_plan"]);
});
