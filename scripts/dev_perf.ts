// Development helper: loads TPC-H Parquet (accelerated) once and times queries.
// deno run -A scripts/dev_perf.ts <sf> <q,q,...|all> [explain]
import { Catalog } from "../src/catalog/mod.ts";
import { ListingTable } from "../src/connectors/listing_table.ts";
import { localStore } from "../src/connectors/local_file.ts";
import { TPCH_QUERIES, TPCH_TABLES } from "../src/connectors/tpch/mod.ts";
import { loadIntoMemory } from "../src/acceleration/mod.ts";
import { QueryEngine } from "../src/query/mod.ts";
import { batchToRows } from "../src/arrow/batch.ts";
import { profile } from "./cpu_profile.ts";
import process from "node:process";
import { WorkerPool } from "../src/parallel/pool.ts";
import { ParallelRunner } from "../src/parallel/runner.ts";
const sf = Deno.args[0] ?? "1";
const dir = `data/tpch-sf${sf}`;
const cat = new Catalog();
const t0 = performance.now();
for (const t of (Deno.env.get("TABLES")?.split(",") ?? TPCH_TABLES)) {
  const src = await ListingTable.create(localStore(`${dir}/${t}`), {
    format: "parquet",
    hivePartitioning: false,
    partitionCols: [],
  });
  cat.register(t, await loadIntoMemory(src, { parallelism: 2 }));
}
console.log(`load ${(performance.now() - t0).toFixed(0)} ms`);
const workers = Number(Deno.env.get("WORKERS") ?? 0);
const pool = workers > 0 ? new WorkerPool(workers) : null;
const engOpts = Deno.env.get("PARTS") ? { targetPartitions: Number(Deno.env.get("PARTS")) } : {};
const eng = new QueryEngine(
  cat,
  engOpts,
  pool ? new ParallelRunner(cat, pool, { batchSize: 65536 }) : undefined,
);
const custom = Deno.env.get("SQL");
const qs = custom
  ? [0]
  : (Deno.args[1] ?? "all") === "all"
  ? TPCH_QUERIES.map((_, i) => i + 1)
  : Deno.args[1].split(",").map(Number);
let total = 0;
for (const q of qs) {
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < Number(Deno.env.get("RUNS") ?? 3); r++) {
    const s = performance.now();
    const c0 = process.cpuUsage();
    const res = await eng.query(custom ?? TPCH_QUERIES[q - 1]);
    for await (const _ of res.batches) { /* drain */ }
    times.push(performance.now() - s);
    const c1 = process.cpuUsage(c0);
    cpu.push((c1.user + c1.system) / 1000);
  }
  console.log("runs in order", times.map((x) => x.toFixed(0)).join(" "));
  times.sort((a, b) => a - b);
  const mid = times[times.length >> 1];
  total += mid;
  cpu.sort((a, b) => a - b);
  console.log(
    `Q${q}: cpu ${cpu[cpu.length >> 1].toFixed(0)} ms, wall ${mid.toFixed(0)} ms (${
      times.map((x) => x.toFixed(0)).join(" ")
    })`,
  );
  if (Deno.args[2] === "profile") {
    await profile(async () => {
      const res = await eng.query(custom ?? TPCH_QUERIES[q - 1]);
      for await (const _ of res.batches) { /* drain */ }
    });
  }
  if (Deno.args[2] === "explain") {
    const r = await eng.query("explain analyze " + (custom ?? TPCH_QUERIES[q - 1]));
    for await (const b of r.batches) console.log(batchToRows(b)[1][1]);
  }
}
console.log(`total ${total.toFixed(0)} ms`);
pool?.close();
