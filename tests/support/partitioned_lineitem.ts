/**
 * TPC-H lineitem partitioned hive-style by the year and month of
 * `l_shipdate`: `year=YYYY/month=MM/part-0.parquet`, written with the
 * engine's Parquet writer (small row groups, so that row-group statistics
 * have something to prune). Generated once per machine and scale factor in
 * the temp directory (written aside and renamed into place), and uploaded to
 * an S3 test server on request, so that the `file:` connector, the `s3://`
 * connector and DuckDB read the same bytes.
 *
 * @module
 */

import { join } from "node:path";
import { tmpdir } from "node:os";
import { concatBatches, type RecordBatch, takeBatch } from "../../src/arrow/batch.ts";
import type { NumericColumn } from "../../src/arrow/column.ts";
import { TpchTableProvider } from "../../src/connectors/tpch/provider.ts";
import { writeParquet } from "../../src/formats/parquet/writer.ts";
import { Reference } from "./duckdb.ts";
import { createBucket, putObject } from "./s3_server.ts";

const VERSION = "v1";
/** Rows per row group in the written files. */
export const PARTITIONED_ROW_GROUP_SIZE = 1000;

/** One written file. */
export interface PartitionFile {
  /** Relative key, e.g. `year=1995/month=03/part-0.parquet`. */
  readonly key: string;
  readonly year: number;
  readonly month: number;
  readonly rows: number;
  readonly bytes: number;
}

/** The partitioned data set on local disk. */
export interface PartitionedLineitem {
  /** Directory holding `year=*` folders. */
  readonly dir: string;
  readonly files: readonly PartitionFile[];
  readonly rows: number;
}

const inflight = new Map<number, Promise<PartitionedLineitem>>();

/** lineitem at scale factor `sf`, partitioned by ship year and month (cached). */
export function partitionedLineitem(sf: number): Promise<PartitionedLineitem> {
  let p = inflight.get(sf);
  if (!p) inflight.set(sf, p = generate(sf));
  return p;
}

async function readManifest(dir: string): Promise<PartitionedLineitem | null> {
  try {
    const files = JSON.parse(await Deno.readTextFile(join(dir, "_manifest.json")));
    return { dir, files, rows: files.reduce((s: number, f: PartitionFile) => s + f.rows, 0) };
  } catch {
    return null;
  }
}

async function generate(sf: number): Promise<PartitionedLineitem> {
  const dir = join(tmpdir(), `spiced-lineitem-ym-sf${sf}-${VERSION}`);
  const done = await readManifest(dir);
  if (done) return done;
  const work = `${dir}.tmp-${crypto.randomUUID()}`;
  const source = new TpchTableProvider("lineitem", sf);
  const shipdate = source.schema.fields.findIndex((f) => f.name === "l_shipdate");
  const projection = source.schema.fields.map((_, i) => i);
  const groups = new Map<string, RecordBatch[]>();
  const plan = await source.planScan([], 8);
  for (const part of plan.partitions) {
    for await (const b of source.scan(part, projection)) {
      const days = (b.columns[shipdate] as NumericColumn).values;
      const rowsByKey = new Map<string, number[]>();
      for (let r = 0; r < b.numRows; r++) {
        const d = new Date(Number(days[r]) * 86_400_000);
        const key = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
        let rows = rowsByKey.get(key);
        if (!rows) rowsByKey.set(key, rows = []);
        rows.push(r);
      }
      for (const [key, rows] of rowsByKey) {
        let list = groups.get(key);
        if (!list) groups.set(key, list = []);
        list.push(takeBatch(b, Int32Array.from(rows)));
      }
    }
  }
  const files: PartitionFile[] = [];
  for (const key of [...groups.keys()].sort()) {
    const [y, m] = key.split("-");
    const rel = `year=${y}/month=${m}/part-0.parquet`;
    const batch = concatBatches(source.schema, groups.get(key)!);
    const bytes = writeParquet(source.schema, [batch], {
      rowGroupSize: PARTITIONED_ROW_GROUP_SIZE,
    });
    await Deno.mkdir(join(work, `year=${y}`, `month=${m}`), { recursive: true });
    await Deno.writeFile(join(work, rel), bytes);
    files.push({
      key: rel,
      year: Number(y),
      month: Number(m),
      rows: batch.numRows,
      bytes: bytes.length,
    });
  }
  await Deno.writeTextFile(join(work, "_manifest.json"), JSON.stringify(files));
  try {
    await Deno.rename(work, dir);
  } catch {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  const out = await readManifest(dir);
  if (!out) throw new Error(`partitioned lineitem missing in ${dir}`);
  return out;
}

/** Creates `bucket` and uploads every file under `prefix` (e.g. `data/`). */
export async function uploadPartitioned(
  endpoint: string,
  bucket: string,
  prefix: string,
  data: PartitionedLineitem,
): Promise<void> {
  await createBucket(endpoint, bucket);
  for (let i = 0; i < data.files.length; i += 8) {
    await Promise.all(
      data.files.slice(i, i + 8).map(async (f) => {
        await putObject(
          endpoint,
          bucket,
          prefix + f.key,
          await Deno.readFile(join(data.dir, f.key)),
        );
      }),
    );
  }
}

/** Queries compared with DuckDB (and between connectors), with whether their order is fixed. */
export const PARTITION_QUERIES: readonly [string, boolean][] = [
  [
    "SELECT year, month, COUNT(*) AS n, SUM(l_quantity) AS q, " +
    "SUM(l_extendedprice * (1 - l_discount)) AS rev FROM lineitem GROUP BY year, month ORDER BY year, month",
    true,
  ],
  [
    "SELECT COUNT(*) AS n, SUM(l_extendedprice) AS p FROM lineitem WHERE year = 1995 AND month BETWEEN 3 AND 5",
    false,
  ],
  [
    "SELECT l_returnflag, l_linestatus, COUNT(*) AS n, AVG(l_discount) AS d FROM lineitem " +
    "WHERE year >= 1997 GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus",
    true,
  ],
  [
    "SELECT l_orderkey, l_linenumber, l_shipdate, year, month FROM lineitem " +
    "WHERE year = 1994 AND month = 7 AND l_orderkey < 20000 ORDER BY l_orderkey, l_linenumber",
    true,
  ],
  [
    "SELECT SUM(l_extendedprice * l_discount) AS revenue FROM lineitem " +
    "WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' " +
    "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24",
    false,
  ],
  ["SELECT COUNT(*) AS n FROM lineitem WHERE year = 2001", false],
  [
    "SELECT month, COUNT(*) AS n FROM lineitem WHERE year IN (1992, 1998) AND month <= 2 " +
    "GROUP BY month ORDER BY month",
    true,
  ],
];

/**
 * DuckDB over the same files. DuckDB keeps a zero-padded value (`month=03`)
 * as VARCHAR; spiced, like Spark, types it as an integer, so DuckDB is told
 * the types.
 */
export async function duckdbOver(data: PartitionedLineitem): Promise<Reference> {
  const ref = await Reference.open();
  await ref.conn.run(
    `CREATE VIEW lineitem AS SELECT * FROM read_parquet('${data.dir}/*/*/*.parquet', hive_partitioning = true, hive_types = {'year': BIGINT, 'month': BIGINT})`,
  );
  return ref;
}

/** One more month of rows (for `year=1999/month=01`, beyond the generated years), as Parquet. */
export async function extraPartition(): Promise<{ bytes: Uint8Array; rows: number }> {
  const source = new TpchTableProvider("lineitem", 0.01);
  const plan = await source.planScan([], 1);
  const projection = source.schema.fields.map((_, i) => i);
  const batches: RecordBatch[] = [];
  for await (const b of source.scan(plan.partitions[0], projection)) batches.push(b);
  const rows = batches.reduce((s, b) => s + b.numRows, 0);
  return { bytes: writeParquet(source.schema, batches, { rowGroupSize: 1000 }), rows };
}
