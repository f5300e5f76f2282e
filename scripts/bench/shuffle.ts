/**
 * `deno run -A scripts/bench/shuffle.ts [--sf 1]`: shuffle throughput between
 * two executors under mutual TLS. Starts a scheduler and two executors on
 * this machine with certificates from scripts/gen_certs.sh, and runs a join
 * of lineitem and orders with broadcasting off (SPICED_BROADCAST_ROWS=0), so
 * that both inputs are hash-repartitioned through the executors' Flight
 * DoGet. Reports the bytes the executors fetched from each other (their
 * `spiced_executor_shuffle_fetched_bytes_total`) over the query's wall time:
 * a lower bound of the transfer rate, as the time also holds the scans, the
 * IPC encoding and the join.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCluster } from "../../tests/support/cluster.ts";

const { values } = parseArgs({ options: { sf: { type: "string", default: "1" } } });
const data = Deno.realPathSync(`data/tpch-sf${values.sf}`);
const dir = await Deno.makeTempDir({ prefix: "spiced-shuffle-" });
const gen = new URL("../gen_certs.sh", import.meta.url).pathname;
const certs = join(dir, "certs");
const made = await new Deno.Command("bash", { args: [gen, certs, "localhost"] }).output();
if (!made.success) throw new Error(new TextDecoder().decode(made.stderr));
await Deno.writeTextFile(
  join(dir, "spicepod.yaml"),
  `version: v1\nkind: Spicepod\nname: shuffle\ndatasets:\n` +
    ["lineitem", "orders"].map((t) =>
      `  - from: file:${data}/${t}\n    name: ${t}\n    params: { file_format: parquet }\n` +
      `    acceleration: { enabled: true, engine: arrow }\n`
    ).join(""),
);
const mtls = [
  "--node-mtls-ca-certificate-file",
  join(certs, "ca.crt"),
  "--node-mtls-certificate-file",
  join(certs, "localhost.crt"),
  "--node-mtls-key-file",
  join(certs, "localhost.key"),
];
const cluster = await startCluster({
  executors: 2,
  cwd: dir,
  securityArgs: mtls,
  scheme: "https",
  advertise: "localhost",
  env: { SPICED_BROADCAST_ROWS: "0" },
});

async function fetchedBytes(): Promise<number> {
  let total = 0;
  for (const e of cluster.executors) {
    const text = await (await fetch(`${e.metrics}/metrics`)).text();
    const m = /^spiced_executor_shuffle_fetched_bytes_total\S* (\S+)$/m.exec(text);
    total += m ? Number(m[1]) : 0;
  }
  return total;
}

try {
  await cluster.waitForExecutors(2);
  for (const e of cluster.executors) await e.ready(300_000);
  await cluster.scheduler.ready(300_000);
  // max() over the comments keeps them in the shuffled rows: bytes, not keys.
  const sql = "SELECT count(*) AS n, max(l_comment) AS l, max(o_comment) AS o FROM " +
    "(SELECT l_orderkey, l_partkey, l_suppkey, l_comment FROM lineitem) l " +
    "JOIN (SELECT o_orderkey, o_comment FROM orders) o ON l.l_orderkey = o.o_orderkey";
  const rates: number[] = [];
  for (let r = 0; r < 4; r++) {
    const before = await fetchedBytes();
    const t0 = performance.now();
    const res = await fetch(`${cluster.scheduler.http}/v1/sql`, { method: "POST", body: sql });
    const body = await res.text();
    const ms = performance.now() - t0;
    if (!res.ok) throw new Error(body);
    const bytes = (await fetchedBytes()) - before;
    const rate = bytes / 1e6 / (ms / 1000);
    if (r > 0) rates.push(rate); // the first run also loads the executors' shards
    console.log(
      `run ${r}: ${(bytes / 1e6).toFixed(1)} MB fetched between executors in ${ms.toFixed(0)} ms ` +
        `(${rate.toFixed(0)} MB/s, lower bound)${r === 0 ? " [warm-up]" : ""} ${body.trim()}`,
    );
  }
  rates.sort((a, b) => a - b);
  console.log(
    `median: ${rates[rates.length >> 1].toFixed(0)} MB/s (mTLS, 2 executors, SF ${values.sf})`,
  );
} finally {
  await cluster.stop();
  await Deno.remove(dir, { recursive: true });
}
