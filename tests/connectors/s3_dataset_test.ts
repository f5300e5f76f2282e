/**
 * `from: s3://...` datasets end to end, in process, against a real
 * S3-compatible server (s3rver on 127.0.0.1): TPC-H lineitem partitioned by
 * ship year and month (`year=YYYY/month=MM/part-0.parquet`), declared with
 * `partition_cols: [year, month]` and credentials from `${env:...}`.
 *
 * - results equal the `file:` connector over the same files and DuckDB's
 *   `read_parquet(..., hive_partitioning = true)`;
 * - pruning is measured in S3 requests and bytes (`S3Store.stats`): a
 *   partition filter reads one file's column chunks instead of every file's,
 *   and EXPLAIN says `files=1/84`;
 * - accelerated: units are pruned in memory (`units=kept/total`), and a
 *   refresh (on demand or by `refresh_check_interval`) finds new files while
 *   queries keep seeing the old data until the new data is complete;
 * - errors name the bucket or the key.
 */

import assert from "node:assert/strict";
import type { RecordBatch } from "../../src/arrow/batch.ts";
import type { AcceleratedTable } from "../../src/acceleration/mod.ts";
import { DatasetManager } from "../../src/catalog/datasets.ts";
import { Catalog } from "../../src/catalog/mod.ts";
import type { ListingTable } from "../../src/connectors/listing_table.ts";
import type { S3Store } from "../../src/connectors/s3.ts";
import { SpiceError } from "../../src/errors.ts";
import { QueryEngine } from "../../src/query/mod.ts";
import { parseSpicepod } from "../../src/spicepod/mod.ts";
import { canonicalReference, canonicalRows, type Cell, diffResults } from "../support/compare.ts";
import type { Reference } from "../support/duckdb.ts";
import {
  duckdbOver,
  extraPartition,
  PARTITION_QUERIES,
  partitionedLineitem,
  uploadPartitioned,
} from "../support/partitioned_lineitem.ts";
import { startCountingProxy } from "../support/s3_counting_proxy.ts";
import { putObject, S3RVER_CREDENTIALS, startS3Server } from "../support/s3_server.ts";

const SF = 0.05;

function spicepod(datasets: string, env: Record<string, string>) {
  return parseSpicepod(`version: v1\nkind: Spicepod\nname: t\ndatasets:\n${datasets}`, {
    baseDir: Deno.cwd(),
    env,
  });
}

function s3Dataset(
  name: string,
  endpoint: string,
  extra = "",
  from = "s3://large-bucket/data/",
): string {
  return `  - from: ${from}
    name: ${name}
    partition_cols: [year, month]
    params:
      file_format: parquet
      s3_endpoint: ${endpoint}
      s3_region: us-east-1
      s3_auth: key
      s3_key: \${env:TEST_S3_KEY}
      s3_secret: \${env:TEST_S3_SECRET}
      client_timeout: 10s
${extra}`;
}

const ENV = {
  TEST_S3_KEY: S3RVER_CREDENTIALS.accessKeyId,
  TEST_S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey,
};

async function rows(engine: QueryEngine, sql: string): Promise<Cell[][]> {
  const r = await engine.query(sql);
  const out: RecordBatch[] = [];
  for await (const b of r.batches) out.push(b);
  return canonicalRows(out);
}

async function explain(engine: QueryEngine, sql: string): Promise<string> {
  return (await rows(engine, `EXPLAIN ${sql}`)).map((r) => r.join(" ")).join("\n");
}

async function sameAsDuckDb(engine: QueryEngine, ref: Reference, sql: string, ordered: boolean) {
  const d = await ref.rows(sql);
  const diff = diffResults(await rows(engine, sql), canonicalReference(d.rows, d.types), ordered);
  assert.equal(diff, null, `${sql}\n${diff}`);
}

/** The S3 store behind a (non-accelerated) s3:// dataset. */
function storeOf(catalog: Catalog, name: string): S3Store {
  return (catalog.get(name) as ListingTable).store as S3Store;
}

Deno.test({
  name: "s3:// datasets: hive partitions, pruning by requests and bytes, acceleration, refresh",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const data = await partitionedLineitem(SF);
    const s3 = await startS3Server();
    const proxy = startCountingProxy(s3.endpoint);
    const ref = await duckdbOver(data);
    const managers: DatasetManager[] = [];
    try {
      await uploadPartitioned(s3.endpoint, "large-bucket", "data/", data);
      const totalBytes = data.files.reduce((s, f) => s + f.bytes, 0);
      const march95 = data.files.find((f) => f.year === 1995 && f.month === 3)!;

      const open = async (datasets: string, mode?: "load") => {
        const catalog = new Catalog();
        const dm = new DatasetManager(catalog, spicepod(datasets, ENV).datasets, {
          parallelism: 2,
          mode,
        });
        managers.push(dm);
        await dm.initialize();
        await dm.whenLoaded();
        return { catalog, dm, engine: new QueryEngine(catalog) };
      };

      const plain = await open(
        // Ten keys per listing page: the listing follows continuation tokens.
        s3Dataset("lineitem", proxy.endpoint).replace(
          "      client_timeout: 10s\n",
          "      client_timeout: 10s\n      s3_list_page_size: 10\n",
        ) +
          `  - from: file:${data.dir}\n    name: lineitem_file\n    params: { file_format: parquet }\n`,
      );

      await t.step("partition columns are typed BIGINT after the file columns", () => {
        const fields = plain.catalog.get("lineitem")!.schema.fields;
        assert.deepEqual(fields.slice(-2).map((f) => [f.name, f.type.id]), [
          ["year", "int64"],
          ["month", "int64"],
        ]);
        assert.equal(fields.length, 18);
        assert.equal((plain.catalog.get("lineitem") as ListingTable).fileCount, data.files.length);
      });

      await t.step("s3:// answers equal file: and DuckDB", async () => {
        const file = new Catalog();
        file.register("lineitem", plain.catalog.get("lineitem_file")!);
        const fileEngine = new QueryEngine(file);
        for (const [sql, ordered] of PARTITION_QUERIES) {
          await sameAsDuckDb(plain.engine, ref, sql, ordered);
          assert.equal(
            diffResults(await rows(plain.engine, sql), await rows(fileEngine, sql), ordered),
            null,
            sql,
          );
        }
      });

      await t.step("a partition filter reads one file: requests and bytes", async () => {
        const store = storeOf(plain.catalog, "lineitem");
        const measure = async (sql: string) => {
          const r0 = store.stats.requests, b0 = store.stats.bytes;
          const p0 = proxy.stats.objectGets;
          await rows(plain.engine, sql);
          return {
            requests: store.stats.requests - r0,
            bytes: store.stats.bytes - b0,
            gets: proxy.stats.objectGets - p0,
          };
        };
        const all = await measure("SELECT SUM(l_quantity) FROM lineitem");
        const one = await measure(
          "SELECT SUM(l_quantity) FROM lineitem WHERE year = 1995 AND month = 3",
        );
        console.log(
          `  no filter: ${all.requests} requests, ${all.bytes} bytes; ` +
            `year = 1995 AND month = 3: ${one.requests} requests, ${one.bytes} bytes ` +
            `(objects: ${data.files.length} files, ${totalBytes} bytes)`,
        );
        // Footers were read at start-up: a scan reads column chunks only, one
        // ranged GET per row group (its one column), of the files kept.
        assert.equal(one.requests, Math.ceil(march95.rows / 1000));
        assert.equal(one.gets, one.requests);
        assert.ok(all.requests >= data.files.length);
        // Only the l_quantity chunks: a small part of the objects' bytes.
        assert.ok(all.bytes < totalBytes / 8, `${all.bytes} of ${totalBytes}`);
        assert.ok(one.bytes * 40 < all.bytes, `${one.bytes} vs ${all.bytes}`);
        const plan = await explain(
          plain.engine,
          "SELECT SUM(l_quantity) FROM lineitem WHERE year = 1995 AND month = 3",
        );
        assert.match(plan, new RegExp(`files=1/${data.files.length} row_groups=`));
      });

      await t.step("row groups are skipped by their min/max statistics", async () => {
        const store = storeOf(plain.catalog, "lineitem");
        const sql = "SELECT COUNT(*) FROM lineitem WHERE year = 1995 AND month = 3 " +
          "AND l_orderkey < 100000";
        const plan = await explain(plain.engine, sql);
        const m = /files=1\/\d+ row_groups=(\d+)\/(\d+)/.exec(plan);
        assert.ok(m, plan);
        assert.ok(Number(m[1]) < Number(m[2]), plan);
        const r0 = store.stats.requests;
        const [[n]] = await rows(plain.engine, sql);
        assert.equal(store.stats.requests - r0, Number(m[1]));
        const d = await ref.rows(sql);
        assert.equal(String(n), String(d.rows[0][0]));
      });

      await t.step("accelerated: units pruned in memory, answers equal DuckDB", async () => {
        const proxied0 = proxy.stats.objectBytes;
        const acc = await open(
          s3Dataset(
            "lineitem",
            proxy.endpoint,
            "    acceleration: { enabled: true, engine: arrow }\n",
          ),
          "load",
        );
        const table = acc.catalog.get("lineitem") as AcceleratedTable;
        assert.equal(table.unitCount, data.files.length);
        const loaded = proxy.stats.objectBytes - proxied0;
        // Footers once, then every byte of every file's column chunks.
        assert.ok(loaded >= totalBytes * 0.9 && loaded <= totalBytes * 1.1, `${loaded}`);
        const before = proxy.stats.requests;
        for (const [sql, ordered] of PARTITION_QUERIES) {
          await sameAsDuckDb(acc.engine, ref, sql, ordered);
        }
        assert.equal(proxy.stats.requests, before, "queries on accelerated data read no S3");
        const n = data.files.length;
        assert.match(
          await explain(acc.engine, "SELECT COUNT(*) FROM lineitem WHERE year = 1995"),
          new RegExp(`units=12/${n} \\(in memory\\)`),
        );
        assert.match(
          await explain(
            acc.engine,
            "SELECT COUNT(*) FROM lineitem WHERE year = 1995 AND month = 3",
          ),
          new RegExp(`units=1/${n} \\(in memory\\)`),
        );
        // Min/max kept at load time prune on file columns too.
        assert.match(
          await explain(
            acc.engine,
            "SELECT COUNT(*) FROM lineitem WHERE l_shipdate < DATE '1992-03-01'",
          ),
          new RegExp(`units=2/${n} \\(in memory\\)`),
        );
        assert.match(
          await explain(acc.engine, "SELECT COUNT(*) FROM lineitem WHERE year = 2001"),
          new RegExp(`units=0/${n} \\(in memory\\)`),
        );
      });

      await t.step("refresh: new files are seen, and old data is served until then", async () => {
        const acc = await open(
          s3Dataset(
            "lineitem",
            proxy.endpoint,
            "    acceleration: { enabled: true, engine: arrow }\n",
          ),
          "load",
        );
        const count = async () =>
          Number((await rows(acc.engine, "SELECT COUNT(*) FROM lineitem"))[0][0]);
        assert.equal(await count(), data.rows);
        const extra = await extraPartition();
        await putObject(
          s3.endpoint,
          "large-bucket",
          "data/year=1999/month=01/part-0.parquet",
          extra.bytes,
        );
        try {
          // Slow reads make the refresh take a while; queries during it see the old data.
          proxy.delayMs = 10;
          const refreshing = acc.dm.refresh("lineitem");
          await new Promise((r) => setTimeout(r, 100));
          assert.equal(acc.dm.statuses()[0].status, "refreshing");
          // A query planned before the swap that runs after it still reads the old generation.
          const planned = await acc.engine.query("SELECT COUNT(*) FROM lineitem");
          let during = 0;
          while (acc.dm.statuses()[0].status === "refreshing") {
            assert.equal(await count(), data.rows);
            during++;
            await new Promise((r) => setTimeout(r, 50));
          }
          const status = await refreshing;
          assert.ok(during > 0, "no query ran during the refresh");
          assert.equal(status.status, "ready");
          assert.equal(status.rows, data.rows + extra.rows);
          const old: RecordBatch[] = [];
          for await (const b of planned.batches) old.push(b);
          assert.equal(Number(canonicalRows(old)[0][0]), data.rows);
          proxy.delayMs = 0;
          assert.equal(await count(), data.rows + extra.rows);
          assert.match(
            await explain(acc.engine, "SELECT COUNT(*) FROM lineitem WHERE year = 1999"),
            new RegExp(`units=1/${data.files.length + 1} \\(in memory\\)`),
          );
        } finally {
          proxy.delayMs = 0;
          await deleteObject(s3.endpoint, "large-bucket", "data/year=1999/month=01/part-0.parquet");
        }
      });

      await t.step("refresh_check_interval reloads on schedule", async () => {
        const acc = await open(
          s3Dataset(
            "lineitem",
            proxy.endpoint,
            "    acceleration: { enabled: true, engine: arrow, refresh_check_interval: 1s }\n",
          ),
          "load",
        );
        const count = async () =>
          Number((await rows(acc.engine, "SELECT COUNT(*) FROM lineitem"))[0][0]);
        assert.equal(await count(), data.rows);
        const extra = await extraPartition();
        await putObject(
          s3.endpoint,
          "large-bucket",
          "data/year=1999/month=01/part-0.parquet",
          extra.bytes,
        );
        try {
          const end = Date.now() + 30_000;
          while ((await count()) !== data.rows + extra.rows) {
            assert.ok(Date.now() < end, "no scheduled refresh within 30 s");
            await new Promise((r) => setTimeout(r, 200));
          }
        } finally {
          await deleteObject(s3.endpoint, "large-bucket", "data/year=1999/month=01/part-0.parquet");
          acc.dm.close();
        }
      });

      await t.step("errors name the bucket or the key", async () => {
        const fail = async (datasets: string) => {
          const dm = new DatasetManager(new Catalog(), spicepod(datasets, ENV).datasets, {
            parallelism: 1,
          });
          try {
            await dm.initialize();
          } catch (e) {
            return e as SpiceError;
          } finally {
            dm.close();
          }
          throw new Error("no error");
        };
        const noBucket = await fail(
          s3Dataset("x", s3.endpoint, "", "s3://no-such-bucket/data/"),
        );
        assert.equal(noBucket.code, "NOT_FOUND");
        assert.match(noBucket.message, /dataset "x".*bucket not found: no-such-bucket/);
        const noFiles = await fail(
          s3Dataset("y", s3.endpoint, "", "s3://large-bucket/data/nothing-here.parquet"),
        );
        assert.match(noFiles.message, /dataset "y".*s3:\/\/large-bucket\/data\/nothing-here/);
        // An object that disappears after listing: the 404 names the key.
        const key = "gone/year=1995/month=03/part-0.parquet";
        await putObject(
          s3.endpoint,
          "large-bucket",
          key,
          await Deno.readFile(`${data.dir}/${march95.key}`),
        );
        const gone = await open(s3Dataset("gone", s3.endpoint, "", "s3://large-bucket/gone/"));
        await deleteObject(s3.endpoint, "large-bucket", key);
        await assert.rejects(
          () => rows(gone.engine, "SELECT SUM(l_quantity) FROM gone"),
          (e: SpiceError) => {
            assert.equal(e.code, "NOT_FOUND");
            assert.match(
              e.message,
              /not found: s3:\/\/large-bucket\/gone\/year=1995\/month=03\/part-0.parquet/,
            );
            return true;
          },
        );
        const denied = await fail(
          s3Dataset("z", s3.endpoint).replace("${env:TEST_S3_KEY}", "NOT-A-KEY"),
        );
        assert.equal(denied.code, "UNAUTHENTICATED");
        assert.match(denied.message, /access denied to s3:\/\/large-bucket\/data\//);
      });
    } finally {
      for (const m of managers) m.close();
      ref.close();
      await proxy.stop();
      await s3.stop();
    }
  },
});

/** Deletes one object (signed DELETE). */
async function deleteObject(endpoint: string, bucket: string, key: string): Promise<void> {
  const { AwsClient } = await import("aws4fetch");
  const client = new AwsClient({ ...S3RVER_CREDENTIALS, service: "s3", region: "us-east-1" });
  const res = await client.fetch(`${endpoint}/${bucket}/${key}`, { method: "DELETE" });
  await res.body?.cancel();
}
