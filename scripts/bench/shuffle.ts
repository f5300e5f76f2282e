/**
 * `deno run -A scripts/bench/shuffle.ts [--sf 1] [--mb 256]`: shuffle
 * throughput between two executors under mutual TLS, with certificates from
 * scripts/gen_certs.sh. Two measurements:
 *
 * 1. Transport: a peer process (shuffle_peer.ts) holds `--mb` megabytes of
 *    lineitem's hash-partitioned shuffle output and serves it with the
 *    executor's DoGet writer; this process fetches both buckets at once with
 *    the executors' Flight client and decodes every batch as a consuming task
 *    does. Reports megabytes per second of Arrow IPC moved and decoded.
 * 2. End to end: a scheduler and two executors run a join of lineitem and
 *    orders with broadcasting off (SPICED_BROADCAST_ROWS=0), so that both
 *    inputs are hash-repartitioned through the executors' Flight DoGet.
 *    Reports the bytes the executors fetched from each other (their
 *    `spiced_executor_shuffle_fetched_bytes_total`) over the query's wall
 *    time: a lower bound of the transfer rate, as the time also holds the
 *    scans, the IPC encoding and the join.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fromArrowBatch } from "../../src/arrow/interop.ts";
import { PeerClients } from "../../src/cluster/shuffle_client.ts";
import { FlightDataDecoder } from "../../src/server/flight/ipc.ts";
import { startCluster } from "../../tests/support/cluster.ts";

const { values } = parseArgs({
  options: { sf: { type: "string", default: "1" }, mb: { type: "string", default: "256" } },
});
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Fetches the peer's two buckets at once, `reps` times; MB/s of each run. */
async function transport(reps: number): Promise<number[]> {
  const peer = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./shuffle_peer.ts", import.meta.url).pathname,
      "--data",
      data,
      "--certs",
      certs,
      "--mb",
      values.mb!,
    ],
    stdout: "piped",
  }).spawn();
  const peers = new PeerClients({
    mode: "mtls",
    ca: Deno.readFileSync(join(certs, "ca.crt")),
    cert: Deno.readFileSync(join(certs, "localhost.crt")),
    key: Deno.readFileSync(join(certs, "localhost.key")),
  });
  try {
    const lines = peer.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let first = "";
    while (!first.includes("\n")) {
      const r = await lines.read();
      if (r.done) throw new Error("the shuffle peer exited before serving");
      first += r.value;
    }
    lines.releaseLock();
    const port = Number(/PORT (\d+)/.exec(first)![1]);
    const rates: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      let bytes = 0, rows = 0;
      await Promise.all([0, 1].map(async (bucket) => {
        const decoder = new FlightDataDecoder();
        const ticket = { job: "bench", stage: 1, map: 0, bucket };
        const signal = new AbortController().signal;
        for await (const m of peers.doGet(`localhost:${port}`, ticket, signal)) {
          bytes += m.header.byteLength + m.body.byteLength;
          const b = decoder.push(m.header, m.body);
          if (b) rows += fromArrowBatch(b).numRows;
        }
      }));
      const s = (performance.now() - t0) / 1000;
      rates.push(bytes / 1e6 / s);
      console.log(
        `transport run ${r}: ${(bytes / 1e6).toFixed(1)} MB (${rows} rows) in ${
          (s * 1000).toFixed(0)
        } ms = ${rates[r].toFixed(0)} MB/s`,
      );
    }
    return rates;
  } finally {
    peers.close();
    peer.kill();
    await peer.status;
  }
}

// The first runs warm the JIT of both processes, as an executor's first fetches do.
const transportRates = (await transport(8)).slice(3);
console.log(
  `transport median: ${median(transportRates).toFixed(0)} MB/s ` +
    `(mTLS, Arrow IPC fetched and decoded, runs 3-7)`,
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
  console.log(
    `end-to-end median: ${
      median(rates).toFixed(0)
    } MB/s (lower bound; mTLS, 2 executors, SF ${values.sf})`,
  );
  console.log(`transport median: ${median(transportRates).toFixed(0)} MB/s`);
} finally {
  await cluster.stop();
  await Deno.remove(dir, { recursive: true });
}
