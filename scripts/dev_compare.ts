import { Catalog } from "../src/catalog/mod.ts";
import { TpchTableProvider } from "../src/connectors/tpch/provider.ts";
import { TPCH_QUERIES, TPCH_QUERY_ORDERED, TPCH_TABLES } from "../src/connectors/tpch/mod.ts";
import { QueryEngine } from "../src/query/mod.ts";
import type { RecordBatch } from "../src/arrow/batch.ts";
import { Reference } from "../tests/support/duckdb.ts";
import { canonicalReference, canonicalRows, diffResults } from "../tests/support/compare.ts";
import { tpchParquet } from "../tests/support/tpch_data.ts";
const sf = Number(Deno.env.get("SF") ?? 0.01);
const dir = await tpchParquet(sf);
const ref = await Reference.open();
await ref.loadParquetDir(dir, TPCH_TABLES);
const cat = new Catalog();
for (const t of TPCH_TABLES) cat.register(t, new TpchTableProvider(t, sf));
const eng = new QueryEngine(cat);
const which = Deno.args.length ? Deno.args.map(Number) : TPCH_QUERIES.map((_, i) => i + 1);
for (const q of which) {
  const sql = TPCH_QUERIES[q - 1];
  try {
    const r = await eng.query(sql);
    const bs: RecordBatch[] = [];
    for await (const b of r.batches) bs.push(b);
    const d = await ref.rows(sql);
    const diff = diffResults(
      canonicalRows(bs),
      canonicalReference(d.rows, d.types),
      TPCH_QUERY_ORDERED[q - 1],
    );
    console.log(`Q${q}: ${diff ? "DIFF " + diff : "ok"}`);
  } catch (e) {
    console.log(`Q${q}: ERROR ${(e as Error).message}`);
  }
}
ref.close();
