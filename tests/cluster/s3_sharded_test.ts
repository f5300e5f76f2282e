/**
 * The seed's dataset block: `from: s3://large-bucket/data/` (TPC-H lineitem
 * partitioned by year and month, on a real S3-compatible server), with
 * `acceleration: {enabled: true, engine: arrow}` and `params: {file_format:
 * parquet}`, served by real spiced processes:
 *
 * - standalone: answers equal DuckDB, EXPLAIN shows units pruned in memory;
 * - a scheduler and 2 executors: answers equal DuckDB; the data is loaded
 *   once across the cluster (S3 bytes counted by a proxy), each executor
 *   holds a disjoint share of the units, queries read no S3; a scan of the
 *   non-accelerated dataset runs tasks on both executors; a refresh on the
 *   scheduler finds a new file while queries keep seeing the old data.
 */

import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { fromArrowBatch } from "../../src/arrow/interop.ts";
import { canonicalReference, canonicalRows, type Cell, diffResults } from "../support/compare.ts";
import type { Reference } from "../support/duckdb.ts";
import { startCluster } from "../support/cluster.ts";
import {
  duckdbOver,
  extraPartition,
  PARTITION_QUERIES,
  PARTITIONED_ROW_GROUP_SIZE,
  type PartitionedLineitem,
  partitionedLineitem,
  uploadPartitioned,
} from "../support/partitioned_lineitem.ts";
import { startCountingProxy } from "../support/s3_counting_proxy.ts";
import { putObject, S3RVER_CREDENTIALS, startS3Server } from "../support/s3_server.ts";
import { sql, startSpiced } from "../support/spiced.ts";

const SF = 0.05;

async function query(base: string, text: string): Promise<Cell[][]> {
  const r = await sql(base, text, { accept: "application/vnd.apache.arrow.stream" });
  if (!r.ok) throw new Error(`query failed (${r.status}): ${await r.text()}\n${text}`);
  const table = arrow.tableFromIPC(new Uint8Array(await r.arrayBuffer()));
  return canonicalRows(table.batches.map((b) => fromArrowBatch(b)));
}

async function explain(base: string, text: string): Promise<string> {
  return (await query(base, `EXPLAIN ${text}`)).map((r) => r.join(" ")).join("\n");
}

async function sameAsDuckDb(base: string, ref: Reference) {
  for (const [q, ordered] of PARTITION_QUERIES) {
    const d = await ref.rows(q);
    const diff = diffResults(await query(base, q), canonicalReference(d.rows, d.types), ordered);
    assert.equal(diff, null, `${q}\n${diff}`);
  }
}

async function writeSpicepod(endpoint: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "spiced_s3_seed_" });
  const params = `    params:
      file_format: parquet
      s3_endpoint: ${endpoint}
      s3_auth: key
      s3_key: \${env:SEED_S3_KEY}
      s3_secret: \${env:SEED_S3_SECRET}
`;
  await Deno.writeTextFile(
    `${dir}/spicepod.yaml`,
    `version: v1
kind: Spicepod
name: seed
datasets:
  - from: s3://large-bucket/data/
    name: lineitem
    partition_cols: [year, month]
${params}    acceleration: { enabled: true, engine: arrow }
  - from: s3://large-bucket/data/
    name: lineitem_s3
${params}`,
  );
  return dir;
}

const ENV = {
  SEED_S3_KEY: S3RVER_CREDENTIALS.accessKeyId,
  SEED_S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey,
};

async function json(url: string, init?: RequestInit) {
  const r = await fetch(url, init);
  const body = await r.json();
  if (!r.ok) throw new Error(`${url}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

Deno.test({
  name: "the seed's s3 dataset: standalone and a 2-executor cluster with sharded acceleration",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const data: PartitionedLineitem = await partitionedLineitem(SF);
    const s3 = await startS3Server();
    const proxy = startCountingProxy(s3.endpoint);
    const ref = await duckdbOver(data);
    const dir = await writeSpicepod(proxy.endpoint);
    const units = data.files.length;
    const totalBytes = data.files.reduce((s, f) => s + f.bytes, 0);
    let loadedData = 0;
    try {
      await uploadPartitioned(s3.endpoint, "large-bucket", "data/", data);

      await t.step("standalone", async () => {
        proxy.reset();
        const p = await startSpiced(["--spicepod", dir], { env: ENV });
        try {
          await p.ready(120_000);
          loadedData = proxy.stats.dataBytes;
          const loaded = proxy.stats.objectBytes;
          await sameAsDuckDb(p.http, ref);
          assert.match(
            await explain(p.http, "SELECT COUNT(*) FROM lineitem WHERE year = 1995"),
            new RegExp(`units=12/${units} \\(in memory\\)`),
          );
          assert.match(
            await explain(
              p.http,
              "SELECT COUNT(*) FROM lineitem_s3 WHERE year = 1995 AND month = 3",
            ),
            new RegExp(`files=1/${units} row_groups=`),
          );
          console.log(
            `  standalone: loaded ${loaded} bytes from S3, ${loadedData} of them column chunks ` +
              `(objects ${totalBytes} bytes)`,
          );
        } finally {
          await p.stop();
        }
      });

      await t.step("cluster of a scheduler and 2 executors", async () => {
        proxy.reset();
        const cluster = await startCluster({ executors: 2, cwd: dir, env: ENV, executorSlots: 2 });
        try {
          await cluster.scheduler.ready(120_000);
          const loadBytes = proxy.stats.objectBytes;
          const loadData = proxy.stats.dataBytes;
          const loadGets = proxy.stats.objectGets;
          // Footers are read by each node; the column chunks once, as standalone reads them.
          assert.equal(loadData, loadedData);
          const sharesNow = () =>
            Promise.all(cluster.executors.map(async (e) => {
              const ds = await json(`${e.http}/v1/datasets`);
              return ds.find((d: { name: string }) => d.name === "lineitem").shard;
            }));
          const shares = await sharesNow();
          console.log(
            `  cluster: loaded ${loadBytes} bytes in ${loadGets} GETs, ${loadData} of them column ` +
              `chunks (objects ${totalBytes} bytes);` +
              ` units per executor: ${shares.map((s) => s.units).join(", ")} of ${units}`,
          );
          // Every unit is held (the counts below are right), and the shares add up to the
          // total: each unit is held by exactly one executor.
          assert.equal(shares.reduce((n, s) => n + s.units, 0), units);
          for (const s of shares) assert.ok(s.units > units / 4, JSON.stringify(shares));
          const status = await json(`${cluster.scheduler.http}/v1/status`);
          assert.equal(
            status.executors.reduce(
              (n: number, e: { accelerated_units: number }) => n + e.accelerated_units,
              0,
            ),
            units,
          );

          const gets0 = proxy.stats.objectGets;
          await sameAsDuckDb(cluster.scheduler.http, ref);
          assert.equal(proxy.stats.objectGets, gets0, "accelerated queries read S3");
          assert.match(
            await explain(
              cluster.scheduler.http,
              "SELECT COUNT(*) FROM lineitem WHERE year = 1995",
            ),
            new RegExp(`units=12/${units} \\(sharded on executors\\)`),
          );
          // Queries did not move data: the shares are the same.
          const after = await sharesNow();
          assert.deepEqual(after.map((s) => s.units), shares.map((s) => s.units));

          // A scan of S3 files is spread over both executors, each reading its own files.
          const launched = async () =>
            (await json(`${cluster.scheduler.http}/v1/status`)).executors.map(
              (e: { tasks_launched: number }) => e.tasks_launched,
            );
          const before = await launched();
          proxy.reset();
          const [[n]] = await query(
            cluster.scheduler.http,
            "SELECT COUNT(*) FROM lineitem_s3 WHERE l_quantity > 10",
          );
          const d = await ref.rows("SELECT COUNT(*) FROM lineitem WHERE l_quantity > 10");
          assert.equal(String(n), String(d.rows[0][0]));
          const grew = (await launched()).map((x: number, i: number) => x - before[i]);
          assert.ok(grew.every((x: number) => x > 0), `tasks per executor: ${grew}`);
          // Every file read, each row group's l_quantity chunk exactly once, by one executor.
          assert.equal(proxy.stats.getsByKey.size, data.files.length);
          for (const f of data.files) {
            assert.equal(
              proxy.stats.getsByKey.get(`large-bucket/data/${f.key}`),
              Math.ceil(f.rows / PARTITIONED_ROW_GROUP_SIZE),
              f.key,
            );
          }
          console.log(
            `  cluster scan of ${data.files.length} S3 files: tasks per executor ${
              grew.join(", ")
            }, ` +
              `${proxy.stats.objectGets} GETs, ${proxy.stats.objectBytes} bytes`,
          );

          // Refresh on the scheduler: a new file, old data served until the new data is loaded.
          const extra = await extraPartition();
          await putObject(
            s3.endpoint,
            "large-bucket",
            "data/year=1999/month=01/part-0.parquet",
            extra.bytes,
          );
          proxy.delayMs = 10;
          const refreshing = json(
            `${cluster.scheduler.http}/v1/datasets/lineitem/acceleration/refresh`,
            { method: "POST" },
          );
          let during = 0, done = false;
          refreshing.finally(() => (done = true)).catch(() => {});
          while (!done) {
            const [[c]] = await query(cluster.scheduler.http, "SELECT COUNT(*) FROM lineitem");
            if (!done) {
              assert.equal(Number(c), data.rows);
              during++;
            }
            await new Promise((r) => setTimeout(r, 50));
          }
          const refreshed = await refreshing;
          proxy.delayMs = 0;
          assert.ok(during > 0, "no query ran during the refresh");
          assert.equal(refreshed.status, "ready");
          const [[c]] = await query(cluster.scheduler.http, "SELECT COUNT(*) FROM lineitem");
          assert.equal(Number(c), data.rows + extra.rows);
          assert.match(
            await explain(
              cluster.scheduler.http,
              "SELECT COUNT(*) FROM lineitem WHERE year = 1999",
            ),
            new RegExp(`units=1/${units + 1} \\(sharded on executors\\)`),
          );
          const gets1 = proxy.stats.objectGets;
          await query(cluster.scheduler.http, "SELECT SUM(l_quantity) FROM lineitem");
          assert.equal(
            proxy.stats.objectGets,
            gets1,
            "the new generation was loaded before the swap",
          );
        } finally {
          proxy.delayMs = 0;
          await cluster.stop();
        }
      });
    } finally {
      ref.close();
      await proxy.stop();
      await s3.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
