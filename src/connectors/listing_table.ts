/**
 * A table over a set of files (a local directory or an S3 prefix) in one
 * format, as DataFusion's ListingTable: the files are listed once, hive-style
 * path segments (`year=2024/month=05/`) become typed partition columns, a
 * filter on those columns drops whole files before any byte is read, and
 * Parquet row groups whose min/max statistics exclude the filter are skipped.
 * Scan partitions are files, or row-group ranges of large files.
 *
 * @module
 */

import { type RecordBatch, recordBatch } from "../arrow/batch.ts";
import { type Column, type Value } from "../arrow/column.ts";
import { type DataType, DATE32, type Field, INT64, type Schema, UTF8 } from "../arrow/types.ts";
import type {
  ScanFilters,
  ScanPartition,
  ScanPlan,
  TableProvider,
  TableStatistics,
} from "../catalog/provider.ts";
import { SpiceError } from "../errors.ts";
import { scalar, toColumn } from "../exec/datum.ts";
import { compileExpr } from "../exec/expr.ts";
import { selectTrue } from "../exec/kernels/boolean.ts";
import { type CsvOptions, inferCsvSchema, readCsv } from "../formats/csv.ts";
import { readParquet } from "../formats/parquet/reader.ts";
import { type ParquetMetadata, readParquetMetadata } from "../formats/parquet/metadata.ts";
import { type Expr, exprColumns } from "../plan/expr.ts";
import { parseDate } from "../sql/literals.ts";
import type { ObjectMeta, ObjectStore } from "./object_store.ts";
import { canSkip, mergeRangeStats, type RangeStats, type UnitStats } from "./pruning.ts";

/** How a listing table reads its files. */
export interface ListingOptions {
  readonly format: "parquet" | "csv";
  readonly csv?: CsvOptions;
  /** Parse `key=value` path segments into columns. */
  readonly hivePartitioning: boolean;
  /** Partition columns declared in the spicepod (must appear as key=value segments). */
  readonly partitionCols: readonly string[];
  /** Row groups per scan partition when splitting a big file (default 4). */
  readonly rowGroupsPerPartition?: number;
}

interface FileEntry {
  readonly meta: ObjectMeta;
  /** Partition values by partition column, as text from the path. */
  readonly values: readonly (string | null)[];
}

interface PartitionColumn {
  readonly name: string;
  readonly type: DataType;
}

/** What a scan partition of a listing table carries. */
interface FileScanData {
  readonly key: string;
  readonly size: number;
  readonly rowGroups: readonly number[] | null;
  readonly values: readonly (string | null)[];
}

const HIVE_SEGMENT = /^([^=/]+)=([^/]*)$/;

function parseHivePath(key: string): Map<string, string> {
  const out = new Map<string, string>();
  const segs = key.split("/").slice(0, -1);
  for (const s of segs) {
    const m = HIVE_SEGMENT.exec(s);
    if (m) out.set(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
  }
  return out;
}

/** Types partition values as DuckDB does: integers -> BIGINT, dates -> DATE, else VARCHAR. */
function inferPartitionType(values: readonly (string | null)[]): DataType {
  const present = values.filter((v): v is string => v !== null);
  if (present.length === 0) return UTF8;
  if (present.every((v) => /^-?\d{1,15}$/.test(v))) return INT64;
  if (present.every((v) => /^\d{4}-\d{2}-\d{2}$/.test(v))) return DATE32;
  return UTF8;
}

function partitionValue(text: string | null, type: DataType): Value {
  if (text === null || text === "__HIVE_DEFAULT_PARTITION__") return null;
  if (type.id === "int64") return Number(text);
  if (type.id === "date32") return parseDate(text);
  return text;
}

/** A file-backed table. */
export class ListingTable implements TableProvider {
  readonly schema: Schema;
  readonly #store: ObjectStore;
  readonly #opts: ListingOptions;
  readonly #files: readonly FileEntry[];
  readonly #partitionCols: readonly PartitionColumn[];
  readonly #fileColumns: number;
  readonly #metadata = new Map<string, Promise<ParquetMetadata>>();
  #rows: number | null = null;

  private constructor(
    store: ObjectStore,
    opts: ListingOptions,
    files: FileEntry[],
    fileSchema: Schema,
    partitionCols: PartitionColumn[],
  ) {
    this.#store = store;
    this.#opts = opts;
    this.#files = files;
    this.#partitionCols = partitionCols;
    this.#fileColumns = fileSchema.fields.length;
    this.schema = {
      fields: [
        ...fileSchema.fields,
        ...partitionCols.map((p): Field => ({ name: p.name, type: p.type, nullable: true })),
      ],
    };
  }

  /** Lists the files, infers the schema and partition columns. */
  static async create(store: ObjectStore, opts: ListingOptions): Promise<ListingTable> {
    const ext = opts.format === "parquet" ? /\.(parquet|pq|parq)$/i : /\.(csv|tsv|txt)$/i;
    const listed = (await store.list()).filter((m) =>
      !m.key.split("/").some((s) => s.startsWith(".") || s.startsWith("_")) &&
      (ext.test(m.key) || !/\.[a-z0-9]+$/i.test(m.key))
    );
    if (listed.length === 0) {
      throw new SpiceError("IO", `no ${opts.format} files found in ${store.name}`);
    }
    // Partition columns: declared ones, then hive keys found in every path.
    const parsed = listed.map((m) => parseHivePath(m.key));
    const names: string[] = [...opts.partitionCols];
    if (opts.hivePartitioning || opts.partitionCols.length) {
      const first = parsed[0];
      for (const k of first.keys()) {
        if (
          !names.some((n) => n.toLowerCase() === k.toLowerCase()) && parsed.every((p) => p.has(k))
        ) {
          if (opts.hivePartitioning) names.push(k);
        }
      }
    }
    for (const n of opts.partitionCols) {
      if (!parsed.every((p) => [...p.keys()].some((k) => k.toLowerCase() === n.toLowerCase()))) {
        throw new SpiceError(
          "CONFIG",
          `partition column "${n}" is not a key=value path segment of every file in ${store.name}`,
        );
      }
    }
    const lookup = (p: Map<string, string>, n: string) => {
      for (const [k, v] of p) if (k.toLowerCase() === n.toLowerCase()) return v;
      return null;
    };
    const files: FileEntry[] = listed.map((meta, i) => ({
      meta,
      values: names.map((n) => lookup(parsed[i], n)),
    }));
    const partitionCols = names.map((name, k) => ({
      name,
      type: inferPartitionType(files.map((f) => f.values[k])),
    }));
    const firstSrc = store.open(listed[0]);
    let fileSchema: Schema;
    if (opts.format === "parquet") {
      fileSchema = (await readParquetMetadata(firstSrc)).schema;
    } else {
      fileSchema = await inferCsvSchema(firstSrc, opts.csv ?? {});
    }
    // A partition column stored in the files too is read from the path only.
    const partNames = new Set(names.map((n) => n.toLowerCase()));
    if (fileSchema.fields.some((f) => partNames.has(f.name.toLowerCase()))) {
      throw new SpiceError(
        "CONFIG",
        `column ${
          fileSchema.fields.find((f) => partNames.has(f.name.toLowerCase()))!.name
        } is both a file column and a partition column in ${store.name}`,
      );
    }
    const table = new ListingTable(store, opts, files, fileSchema, partitionCols);
    if (opts.format === "parquet") await table.#loadRowCounts();
    return table;
  }

  /** The files (for EXPLAIN and tests). */
  get fileCount(): number {
    return this.#files.length;
  }

  /** Where the files are read from (its counters show what a scan read). */
  get store(): ObjectStore {
    return this.#store;
  }

  #meta(f: FileEntry): Promise<ParquetMetadata> {
    // By key and size: a file rewritten since it was listed (seen through a
    // refreshed listing's scan partitions) has its own footer.
    const id = `${f.meta.key}\u0000${f.meta.size}`;
    let p = this.#metadata.get(id);
    if (!p) {
      p = readParquetMetadata(this.#store.open(f.meta));
      this.#metadata.set(id, p);
      p.catch(() => this.#metadata.delete(id));
    }
    return p;
  }

  /**
   * The partition's hive values (each column's min = max) and, for Parquet,
   * its row groups' statistics merged (a column without statistics in one
   * of them is left out).
   */
  async partitionStatistics(partition: ScanPartition): Promise<UnitStats | null> {
    if (partition.kind !== "file") return null;
    const d = partition.data as FileScanData;
    const columns = new Map<number, RangeStats>();
    let rows = partition.rows ?? -1;
    if (this.#opts.format === "parquet") {
      const m = await this.#meta({ meta: { key: d.key, size: d.size }, values: d.values });
      const groups = d.rowGroups ?? m.rowGroups.map((_, g) => g);
      rows = groups.reduce((s, g) => s + m.rowGroups[g].numRows, 0);
      for (let c = 0; c < this.#fileColumns; c++) {
        let merged: RangeStats | null = null;
        for (const g of groups) {
          const st = m.rowGroups[g].columns[c]?.stats;
          if (!st) {
            merged = null;
            break;
          }
          merged = merged ? mergeRangeStats(merged, st) : st;
        }
        if (merged && groups.length > 0) columns.set(c, merged);
      }
    }
    // A CSV file's row count is unknown: "infinitely many" keeps every
    // null-count test honest (a NULL partition value is NULL in every row).
    const known = rows >= 0 ? rows : Number.POSITIVE_INFINITY;
    this.#partitionCols.forEach((p, k) => {
      const v = partitionValue(d.values[k], p.type);
      columns.set(this.#fileColumns + k, { min: v, max: v, nullCount: v === null ? known : 0 });
    });
    return columns.size === 0 ? null : { columns, rows: known };
  }

  async #loadRowCounts(): Promise<void> {
    // Footers are small; read them up front (8 at a time) for planning statistics.
    let rows = 0;
    for (let i = 0; i < this.#files.length; i += 8) {
      const metas = await Promise.all(this.#files.slice(i, i + 8).map((f) => this.#meta(f)));
      for (const m of metas) rows += m.numRows;
    }
    this.#rows = rows;
  }

  statistics(): TableStatistics {
    return { numRows: this.#rows ?? this.#files.reduce((s, f) => s + f.meta.size, 0) / 64 };
  }

  /** Filters that read only partition columns, evaluated against each file's values. */
  #fileMatches(filters: ScanFilters): (f: FileEntry) => boolean {
    const first = this.#fileColumns;
    const partFilters = filters.filter((e) => {
      const ids = exprColumns(e);
      return ids.size > 0 && [...ids].every((id) => id >= first);
    });
    if (partFilters.length === 0) return () => true;
    // Evaluate over a one-row batch whose columns are the partition values
    // (file columns are absent: the filters do not read them).
    const layout = new Map<number, number>(this.#partitionCols.map((_, k) => [first + k, k]));
    const compiled = partFilters.map((e) => compileExpr(e, layout));
    return (f) => {
      const cols: Column[] = this.#partitionCols.map((p, k) =>
        toColumn(scalar(p.type, partitionValue(f.values[k], p.type)), 1)
      );
      const batch = recordBatch({ fields: [] }, cols, 1);
      return compiled.every((c) => selectTrue(c.evaluate(batch), 1) !== "none");
    };
  }

  async planScan(filters: ScanFilters, targetPartitions: number): Promise<ScanPlan> {
    const matches = this.#fileMatches(filters);
    const kept = this.#files.filter(matches);
    const partitions: ScanPartition[] = [];
    const fileFilters = filters.filter((e) =>
      [...exprColumns(e)].every((id) => id < this.#fileColumns)
    );
    let groupsTotal = 0, groupsKept = 0;
    const perPartition = this.#opts.rowGroupsPerPartition ?? 4;
    if (this.#opts.format === "parquet") {
      const metas = await Promise.all(kept.map((f) => this.#meta(f)));
      kept.forEach((f, i) => {
        const m = metas[i];
        const groups: number[] = [];
        m.rowGroups.forEach((rg, g) => {
          groupsTotal++;
          const cols = new Map<number, RangeStats>();
          rg.columns.forEach((c, k) => {
            if (c.stats) cols.set(k, c.stats);
          });
          if (fileFilters.some((e) => canSkip(e, { columns: cols, rows: rg.numRows }))) return;
          groups.push(g);
        });
        groupsKept += groups.length;
        if (groups.length === 0) return;
        // Big files split into row-group ranges so that scans spread over tasks.
        const split = groups.length > perPartition && kept.length < targetPartitions * 2;
        const chunk = split ? perPartition : groups.length;
        for (let s = 0; s < groups.length; s += chunk) {
          const rgs = groups.slice(s, s + chunk);
          const rows = rgs.reduce((acc, g) => acc + m.rowGroups[g].numRows, 0);
          partitions.push(
            this.#partition(f, rgs, rows, `${f.meta.key} rg ${rgs[0]}..${rgs[rgs.length - 1]}`),
          );
        }
      });
    } else {
      for (const f of kept) partitions.push(this.#partition(f, null, undefined, f.meta.key));
    }
    const pruning = this.#opts.format === "parquet"
      ? `files=${kept.length}/${this.#files.length} row_groups=${groupsKept}/${groupsTotal}`
      : `files=${kept.length}/${this.#files.length}`;
    return { partitions, pruning };
  }

  #partition(
    f: FileEntry,
    rowGroups: number[] | null,
    rows: number | undefined,
    label: string,
  ): ScanPartition {
    const data: FileScanData = { key: f.meta.key, size: f.meta.size, rowGroups, values: f.values };
    return { kind: "file", label, data, rows };
  }

  async *scan(partition: ScanPartition, projection: readonly number[]): AsyncIterable<RecordBatch> {
    const d = partition.data as FileScanData;
    const meta: ObjectMeta = { key: d.key, size: d.size };
    const schema = { fields: projection.map((i) => this.schema.fields[i]) };
    const fileCols = projection.filter((i) => i < this.#fileColumns);
    const names = fileCols.map((i) => this.schema.fields[i].name);
    // At least one file column is read so that the row count is known.
    const readNames = names.length ? names : [this.schema.fields[0].name];
    const src = this.#store.open(meta);
    const stream = this.#opts.format === "parquet"
      ? readParquet(src, {
        columns: readNames,
        rowGroups: d.rowGroups ?? undefined,
        metadata: await this.#meta({ meta, values: d.values }),
      })
      : readCsv(src, { ...(this.#opts.csv ?? {}), schema: this.#fileSchema(), columns: readNames });
    for await (const b of stream) {
      const n = b.numRows;
      const cols = projection.map((i) => {
        if (i < this.#fileColumns) return b.columns[names.indexOf(this.schema.fields[i].name)];
        const k = i - this.#fileColumns;
        const p = this.#partitionCols[k];
        return toColumn(scalar(p.type, partitionValue(d.values[k], p.type)), n);
      });
      yield recordBatch(schema, cols, n);
    }
  }

  #fileSchema(): Schema {
    return { fields: this.schema.fields.slice(0, this.#fileColumns) };
  }
}

export { type Expr };
