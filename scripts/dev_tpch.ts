import { Catalog } from "../src/catalog/mod.ts";
import { TpchTableProvider } from "../src/connectors/tpch/provider.ts";
import { TPCH_QUERIES, TPCH_TABLES } from "../src/connectors/tpch/mod.ts";
import { QueryEngine } from "../src/query/mod.ts";
import { batchToRows } from "../src/arrow/batch.ts";
const cat = new Catalog();
for (const t of TPCH_TABLES) cat.register(t, new TpchTableProvider(t, 0.01));
const eng = new QueryEngine(cat);
const which = Deno.args.length ? Deno.args.map(Number) : TPCH_QUERIES.map((_, i) => i + 1);
for (const q of which) {
  const t0 = performance.now();
  try {
    const r = await eng.query(TPCH_QUERIES[q - 1]);
    const rows: unknown[] = [];
    for await (const b of r.batches) rows.push(...batchToRows(b));
    console.log(
      `Q${q}: ${rows.length} rows ${(performance.now() - t0).toFixed(0)}ms`,
      JSON.stringify(rows.slice(0, 2)),
    );
  } catch (e) {
    console.log(`Q${q}: ERROR`, e.code, e.message, e.stack.split("\n").slice(1, 4).join(" | "));
  }
}
