import { DuckDbEngine } from "./duckdb.ts";
import { InProcessEngine } from "./ours.ts";
import { TPCH_QUERIES, TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
const dir = `/work/main/data/tpch-sf1`;
const ours = new InProcessEngine();
await ours.load(dir, TPCH_TABLES);
const q6 = TPCH_QUERIES[5], q4 = TPCH_QUERIES[3];
async function t(e: { run(s: string): Promise<unknown> }, s: string) {
  const t0 = performance.now();
  await e.run(s);
  return (performance.now() - t0).toFixed(0);
}
const phase = async (label: string, duck?: DuckDbEngine) => {
  const a = [], b = [];
  for (let i = 0; i < 5; i++) {
    a.push(await t(ours, q6));
    b.push(await t(ours, q4));
    if (duck) {
      await duck.run(q6);
      await duck.run(q4);
    }
  }
  console.log(
    label.padEnd(28),
    "Q6",
    a.join(" "),
    " Q4",
    b.join(" "),
    " load",
    Deno.loadavg()[0].toFixed(2),
  );
};
await phase("ours alone");
const d = await DuckDbEngine.open(2);
await d.load(dir, TPCH_TABLES);
await phase("duckdb loaded, idle");
await phase("interleaved with duckdb", d);
await phase("duckdb loaded, idle again");
await phase("interleaved again", d);
await phase("idle again", d);
