import { Catalog } from "../src/catalog/mod.ts";
import { TpchTableProvider } from "../src/connectors/tpch/provider.ts";
import { TPCH_QUERIES, TPCH_TABLES } from "../src/connectors/tpch/mod.ts";
import { QueryEngine } from "../src/query/mod.ts";
import { batchToRows } from "../src/arrow/batch.ts";
const cat = new Catalog();
for (const t of TPCH_TABLES) {
  cat.register(t, new TpchTableProvider(t, Number(Deno.env.get("SF") ?? 0.01)));
}
const eng = new QueryEngine(cat);
const arg = Deno.args[0];
const sql = /^\d+$/.test(arg) ? TPCH_QUERIES[Number(arg) - 1] : arg;
const r = await eng.query(`explain ${Deno.args[1] ?? ""} ${sql}`);
for await (const b of r.batches) {
  for (const row of batchToRows(b)) console.log(row[0] + ":\n" + row[1]);
}
