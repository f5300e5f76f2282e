import { DuckDbEngine } from "./duckdb.ts";
import { TPCH_QUERIES, TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
function cpu(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}
const d = await DuckDbEngine.open(2);
await d.load(`/work/main/data/tpch-sf${Deno.args[0] ?? "0.1"}`, TPCH_TABLES);
for (const q of [6, 1, 4]) {
  let c0 = cpu();
  let t0 = performance.now();
  await d.run(TPCH_QUERIES[q - 1]);
  console.log(`Q${q} run: wall ${(performance.now() - t0).toFixed(0)} ms cpu ${cpu() - c0} ms`);
  c0 = cpu();
  t0 = performance.now();
  await new Promise((r) => setTimeout(r, 1000));
  console.log(`  idle 1s after: cpu ${cpu() - c0} ms`);
}
await d.close();
