/**
 * Reading Parquet files into engine record batches.
 *
 * The footer is decoded by the engine (`metadata.ts`), the pages by
 * parquet-wasm. Only the bytes a scan needs are fetched through the
 * `ByteSource`: the footer (unless the caller has the metadata already) and
 * the column chunks of the projected columns in the selected row groups,
 * one row group ahead of the decoder so that I/O overlaps decoding.
 *
 * Each row group is decoded from a small Parquet file made of just its
 * fetched chunks and a rewritten footer (`subset.ts`), with parquet-wasm's
 * synchronous reader: that reader turns corrupt data into an ordinary
 * exception, where its asynchronous `ParquetFile` traps in a detached task
 * and takes the process down. Decoded batches leave WebAssembly through the
 * Arrow C Data Interface (`ffi.ts`), which measured about twice as fast as
 * going through Arrow IPC.
 *
 * @module
 */

import * as pw from "parquet-wasm";
import { BATCH_SIZE, type RecordBatch, recordBatch, sliceBatch } from "../../arrow/batch.ts";
import type { Column } from "../../arrow/column.ts";
import type { Field, Schema } from "../../arrow/types.ts";
import type { ByteSource } from "../../connectors/object_store.ts";
import { SpiceError } from "../../errors.ts";
import { type DictionaryCache, importBatch } from "./ffi.ts";
import { type ParquetMetadata, readParquetMetadata } from "./metadata.ts";
import { arrowSchemaHint } from "./arrow_hint.ts";
import {
  buildSubsetFile,
  type FooterTree,
  isDictionaryEncoded,
  parseFooterTree,
} from "./subset.ts";

/** Options of `readParquet`. */
export interface ReadParquetOptions {
  /** Columns to read, by name, in the order wanted (default: every column). */
  readonly columns?: readonly string[];
  /** Row groups to read, by index (default: all, in file order). */
  readonly rowGroups?: readonly number[];
  /** The file's metadata, when already read (saves fetching the footer again). */
  readonly metadata?: ParquetMetadata;
  /** Maximum rows per batch (default 65536). */
  readonly batchSize?: number;
}

// parquet-wasm decodes in batches of this many rows at least: smaller batches
// cost more per row in WebAssembly calls than they save in memory.
const MIN_DECODE_BATCH = 65536;

/** Reads the engine schema of a Parquet file (its readable top-level columns). */
export async function readParquetSchema(src: ByteSource): Promise<Schema> {
  return (await readParquetMetadata(src)).schema;
}

interface Projection {
  /** The output schema, in the requested order. */
  readonly schema: Schema;
  /** For each output field, its index in the metadata schema. */
  readonly index: readonly number[];
}

function resolveProjection(
  name: string,
  meta: ParquetMetadata,
  columns: readonly string[] | undefined,
): Projection {
  const fields = meta.schema.fields;
  if (columns === undefined) {
    const bad = meta.unsupportedColumns[0];
    if (bad) {
      throw new SpiceError(
        "NOT_SUPPORTED",
        `${name}: column ${bad.name} has ${bad.reason}, which is not supported`,
      );
    }
    return { schema: meta.schema, index: fields.map((_, i) => i) };
  }
  const index = columns.map((c) => {
    let i = fields.findIndex((f) => f.name === c);
    if (i < 0) {
      const lower = c.toLowerCase();
      const matches = fields.flatMap((f, k) => (f.name.toLowerCase() === lower ? [k] : []));
      if (matches.length === 1) i = matches[0];
    }
    if (i >= 0) return i;
    const bad = meta.unsupportedColumns.find((u) => u.name.toLowerCase() === c.toLowerCase());
    if (bad) {
      throw new SpiceError(
        "NOT_SUPPORTED",
        `${name}: column ${bad.name} has ${bad.reason}, which is not supported`,
      );
    }
    throw new SpiceError(
      "COLUMN_NOT_FOUND",
      `${name}: no column ${c} (columns: ${fields.map((f) => f.name).join(", ")})`,
    );
  });
  return { schema: { fields: index.map((i) => fields[i]) }, index };
}

function resolveRowGroups(
  name: string,
  meta: ParquetMetadata,
  rowGroups: readonly number[] | undefined,
): number[] {
  const n = meta.rowGroups.length;
  if (rowGroups === undefined) return Array.from({ length: n }, (_, i) => i);
  for (const g of rowGroups) {
    if (!Number.isInteger(g) || g < 0 || g >= n) {
      throw new SpiceError("INVALID_ARGUMENT", `${name}: no row group ${g} (the file has ${n})`);
    }
  }
  return [...rowGroups];
}

function* sliced(batch: RecordBatch, size: number): Generator<RecordBatch> {
  if (batch.numRows <= size) {
    yield batch;
    return;
  }
  for (let at = 0; at < batch.numRows; at += size) {
    yield sliceBatch(batch, at, Math.min(size, batch.numRows - at));
  }
}

/** Decodes a decoded table (in WebAssembly) into engine columns, then frees it. */
function drainTable(
  table: pw.Table,
  fields: readonly Field[],
): { columns: Column[]; numRows: number }[] {
  const out: { columns: Column[]; numRows: number }[] = [];
  let stream: pw.FFIStream | null = null;
  try {
    stream = table.intoFFI();
    // Addresses first: reading them may grow WebAssembly memory, which the views below must not see.
    const addrs = Array.from(stream.arrayAddrs());
    const schemaAddr = stream.schemaAddr();
    const memory = pw.wasmMemory();
    const dicts: DictionaryCache = new Map();
    for (const addr of addrs) {
      const b = importBatch(memory, addr, schemaAddr, dicts);
      const columns = fields.map((f) => {
        const i = b.names.indexOf(f.name);
        if (i < 0) throw new SpiceError("INTERNAL", `parquet-wasm did not return column ${f.name}`);
        return b.column(i, f.type);
      });
      out.push({ columns, numRows: b.numRows });
    }
  } finally {
    // intoFFI consumed the table; the stream owns the batches now.
    if (stream) stream.free();
  }
  return out;
}

/** A half-open byte range [start, end). */
interface ByteRange {
  readonly start: number;
  readonly end: number;
}

// Ranges closer than this are fetched with one request: a little more data, fewer round trips.
const COALESCE_GAP = 4096;

/**
 * Fetches byte ranges concurrently, merging near ones, and returns the bytes
 * of each requested range (views into the fetched buffers).
 */
async function fetchRanges(src: ByteSource, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a].start - ranges[b].start);
  const merged: { start: number; end: number; members: number[] }[] = [];
  for (const i of order) {
    const r = ranges[i];
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end + COALESCE_GAP) {
      last.end = Math.max(last.end, r.end);
      last.members.push(i);
    } else merged.push({ start: r.start, end: r.end, members: [i] });
  }
  const out = new Array<Uint8Array>(ranges.length);
  await Promise.all(merged.map(async (m) => {
    const bytes = m.end > m.start ? await src.read(m.start, m.end) : new Uint8Array(0);
    if (bytes.length !== m.end - m.start) {
      throw new SpiceError("IO", `${src.name}: short read of bytes [${m.start}, ${m.end})`);
    }
    for (const i of m.members) {
      out[i] = bytes.subarray(ranges[i].start - m.start, ranges[i].end - m.start);
    }
  }));
  return out;
}

/**
 * Reads a Parquet file as engine batches with only the projected columns, in
 * the requested order. Fetches only the footer (unless `metadata` is given)
 * and the column chunks of the projected columns in the selected row groups.
 */
export async function* readParquet(
  src: ByteSource,
  opts: ReadParquetOptions = {},
): AsyncGenerator<RecordBatch> {
  const meta = opts.metadata ?? await readParquetMetadata(src);
  const proj = resolveProjection(src.name, meta, opts.columns);
  const groups = resolveRowGroups(src.name, meta, opts.rowGroups).filter((g) =>
    meta.rowGroups[g].numRows > 0
  );
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? BATCH_SIZE));
  if (groups.length === 0) return;

  if (proj.schema.fields.length === 0) {
    // Nothing to decode (e.g. COUNT(*)): row counts come from the footer.
    for (const g of groups) {
      yield* sliced(recordBatch(proj.schema, [], meta.rowGroups[g].numRows), batchSize);
    }
    return;
  }

  let tree: FooterTree;
  try {
    tree = footerTree(meta);
  } catch (e) {
    throw new SpiceError("IO", `${src.name}: corrupt Parquet footer: ${(e as Error).message}`);
  }
  // Each distinct column once, in file order (the order the decoder returns them in).
  const fileIndex = [...new Set(proj.index)].sort((a, b) => a - b);
  const fileColumns = fileIndex.map((i) => meta.schema.fields[i]);
  const rangesOf = (g: number): ByteRange[] =>
    fileIndex.map((i) => {
      const c = meta.rowGroups[g].columns[i];
      return { start: c.offset, end: c.offset + c.length };
    });
  // Where each output column comes from among the decoded ones.
  const pick = proj.index.map((i) => fileIndex.indexOf(i));
  const decodeBatch = Math.max(batchSize, MIN_DECODE_BATCH);

  let next = fetchRanges(src, rangesOf(groups[0]));
  for (let k = 0; k < groups.length; k++) {
    const g = groups[k];
    const chunks = await next;
    if (k + 1 < groups.length) {
      // Fetch the next row group while this one decodes.
      next = fetchRanges(src, rangesOf(groups[k + 1]));
      // If the consumer stops early this is never awaited; keep it from going unhandled.
      next.catch(() => {});
    }
    const names = fileColumns.map((f) => f.name);
    // Strings whose pages are all dictionary-encoded come out as dictionaries.
    const dict = fileColumns.map((f) =>
      f.type.id === "utf8" && isDictionaryEncoded(tree, g, f.name)
    );
    const hint = dict.some((d) => d)
      ? arrowSchemaHint(names.map((name, i) => ({ name, dictionary: dict[i] })))
      : undefined;
    const file = buildSubsetFile(tree, g, names, chunks, rangesOf(g).map((r) => r.start), hint);
    let table: pw.Table;
    try {
      table = pw.readParquet(file, { batchSize: decodeBatch });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new SpiceError("IO", `${src.name}: cannot decode Parquet row group ${g}: ${msg}`, {
        cause: e,
      });
    }
    const decoded = drainTable(table, fileColumns);
    for (const cols of decoded) {
      const b = recordBatch(proj.schema, pick.map((p) => cols.columns[p]), cols.numRows);
      yield* sliced(b, batchSize);
    }
  }
}

// The generic footer tree is decoded once per metadata object, not once per scan.
const trees = new WeakMap<ParquetMetadata, FooterTree>();

function footerTree(meta: ParquetMetadata): FooterTree {
  let t = trees.get(meta);
  if (!t) {
    t = parseFooterTree(meta.footer);
    trees.set(meta, t);
  }
  return t;
}
