/**
 * The Parquet footer: fetching it through a `ByteSource` and decoding its
 * Thrift `FileMetaData` into what the engine plans with (schema, row groups,
 * column chunk byte ranges and statistics).
 *
 * Written from the Parquet format specification. parquet-wasm decodes the
 * footer too, but does not expose statistics, and the planner needs the
 * footer before any data is read, so the engine decodes it itself.
 *
 * File layout: "PAR1" <column chunks...> <page indexes> <FileMetaData>
 * <4-byte little-endian metadata length> "PAR1".
 *
 * @module
 */

import type { ByteSource } from "../../connectors/object_store.ts";
import { SpiceError } from "../../errors.ts";
import type { Schema } from "../../arrow/types.ts";
import { CompactReader, CT, readList, readStruct, ThriftError } from "./thrift.ts";
import {
  type LogicalType,
  type ParquetColumn,
  type SchemaElement,
  type TimeUnit,
  topLevelColumns,
} from "./schema.ts";
import { type ColumnStats, decodeStatistics, type RawStatistics } from "./statistics.ts";

/** One column chunk of a row group, for a top-level column the engine can read. */
export interface ParquetColumnChunk {
  /** The column's name (as in the schema). */
  readonly name: string;
  /** Byte offset of the chunk (its dictionary page when it has one). */
  readonly offset: number;
  /** Byte length of the chunk, all pages included. */
  readonly length: number;
  /** Decoded statistics, or null when the writer wrote none. */
  readonly stats: ColumnStats | null;
}

/** One row group. */
export interface ParquetRowGroup {
  readonly numRows: number;
  /** One entry per field of `ParquetMetadata.schema`, in the same order. */
  readonly columns: readonly ParquetColumnChunk[];
}

/** A top-level column that the engine cannot read (nested, or an unsupported type). */
export interface UnsupportedColumn {
  readonly name: string;
  /** What it is, e.g. "nested type LIST". */
  readonly reason: string;
}

/** What the engine knows about a Parquet file from its footer. */
export interface ParquetMetadata {
  /** Total rows. */
  readonly numRows: number;
  /** The readable top-level columns, in file order. */
  readonly schema: Schema;
  /** Top-level columns that cannot be read; a scan that does not project them still works. */
  readonly unsupportedColumns: readonly UnsupportedColumn[];
  readonly rowGroups: readonly ParquetRowGroup[];
  /** The writer, e.g. "parquet-cpp-arrow version 15.0.0". */
  readonly createdBy: string | null;
  /** File size in bytes. */
  readonly fileSize: number;
  /**
   * The raw footer (metadata, length and magic: the file's last bytes), kept
   * so that the reader can hand it to the decoder without fetching it again.
   */
  readonly footer: Uint8Array;
}

const MAGIC = 0x31524150; // "PAR1" read as a little-endian u32
const MAGIC_ENCRYPTED = 0x45524150; // "PARE"

// ---------------------------------------------------------------------------
// Thrift structs (field ids from parquet.thrift)

function readTimeUnit(r: CompactReader): TimeUnit {
  let unit: TimeUnit = "micros";
  readStruct(r, (id, t) => {
    if (id === 1) unit = "millis";
    else if (id === 2) unit = "micros";
    else if (id === 3) unit = "nanos";
    r.skip(t);
  });
  return unit;
}

function readLogicalType(r: CompactReader): LogicalType | null {
  let out: LogicalType | null = null;
  readStruct(r, (id, t) => {
    if (t !== CT.STRUCT) return r.skip(t);
    switch (id) {
      case 5: {
        let scale = 0;
        let precision = 0;
        readStruct(r, (fid, ft) => {
          if (fid === 1 && ft === CT.I32) scale = r.readI32();
          else if (fid === 2 && ft === CT.I32) precision = r.readI32();
          else r.skip(ft);
        });
        out = { kind: "decimal", scale, precision };
        return;
      }
      case 7:
      case 8: {
        let utc = false;
        let unit: TimeUnit = "micros";
        readStruct(r, (fid, ft) => {
          if (fid === 1) utc = ft === CT.BOOLEAN_TRUE;
          else if (fid === 2 && ft === CT.STRUCT) unit = readTimeUnit(r);
          else r.skip(ft);
        });
        out = { kind: id === 7 ? "time" : "timestamp", unit, utc };
        return;
      }
      case 10: {
        let bitWidth = 32;
        let signed = true;
        readStruct(r, (fid, ft) => {
          if (fid === 1 && ft === CT.BYTE) bitWidth = r.readByte();
          else if (fid === 2) signed = ft === CT.BOOLEAN_TRUE;
          else r.skip(ft);
        });
        out = { kind: "integer", bitWidth, signed };
        return;
      }
    }
    r.skip(t);
    const simple: Record<number, LogicalType["kind"]> = {
      1: "string",
      2: "map",
      3: "list",
      4: "enum",
      6: "date",
      11: "unknown",
      12: "json",
      13: "bson",
      14: "uuid",
      15: "float16",
      16: "variant",
      17: "geometry",
      18: "geography",
    };
    out = simple[id] ? { kind: simple[id] } as LogicalType : { kind: "other", id };
  });
  return out;
}

function readSchemaElement(r: CompactReader): SchemaElement {
  let name = "";
  let type: number | null = null;
  let typeLength: number | null = null;
  let repetition: number | null = null;
  let numChildren = 0;
  let convertedType: number | null = null;
  let scale: number | null = null;
  let precision: number | null = null;
  let logicalType: LogicalType | null = null;
  readStruct(r, (id, t) => {
    if (id === 10 && t === CT.STRUCT) {
      logicalType = readLogicalType(r);
      return;
    }
    if (id === 4 && t === CT.BINARY) {
      name = r.readString();
      return;
    }
    if (t !== CT.I32) return r.skip(t);
    const v = r.readI32();
    switch (id) {
      case 1:
        type = v;
        break;
      case 2:
        typeLength = v;
        break;
      case 3:
        repetition = v;
        break;
      case 5:
        numChildren = v;
        break;
      case 6:
        convertedType = v;
        break;
      case 7:
        scale = v;
        break;
      case 8:
        precision = v;
        break;
    }
  });
  return {
    name,
    type,
    typeLength,
    repetition,
    numChildren,
    convertedType,
    scale,
    precision,
    logicalType,
  };
}

function readStatistics(r: CompactReader): RawStatistics {
  let max: Uint8Array | null = null;
  let min: Uint8Array | null = null;
  let nullCount: number | null = null;
  let maxValue: Uint8Array | null = null;
  let minValue: Uint8Array | null = null;
  readStruct(r, (id, t) => {
    if (t === CT.BINARY) {
      const b = r.readBinary();
      if (id === 1) max = b;
      else if (id === 2) min = b;
      else if (id === 5) maxValue = b;
      else if (id === 6) minValue = b;
    } else if (id === 3 && t === CT.I64) nullCount = r.readI64();
    else r.skip(t);
  });
  return { max, min, nullCount, maxValue, minValue };
}

/** The parts of a ColumnChunk (and its ColumnMetaData) the engine uses. */
interface RawChunk {
  filePath: string | null;
  encrypted: boolean;
  dataPageOffset: number;
  dictionaryPageOffset: number | null;
  totalCompressedSize: number;
  stats: RawStatistics | null;
}

function readColumnMetaData(r: CompactReader, c: RawChunk): void {
  readStruct(r, (id, t) => {
    if (id === 7 && t === CT.I64) c.totalCompressedSize = r.readI64();
    else if (id === 9 && t === CT.I64) c.dataPageOffset = r.readI64();
    else if (id === 11 && t === CT.I64) c.dictionaryPageOffset = r.readI64();
    else if (id === 12 && t === CT.STRUCT) c.stats = readStatistics(r);
    else r.skip(t);
  });
}

function readColumnChunk(r: CompactReader): RawChunk {
  const c: RawChunk = {
    filePath: null,
    encrypted: false,
    dataPageOffset: 0,
    dictionaryPageOffset: null,
    totalCompressedSize: 0,
    stats: null,
  };
  readStruct(r, (id, t) => {
    if (id === 1 && t === CT.BINARY) c.filePath = r.readString();
    else if (id === 3 && t === CT.STRUCT) readColumnMetaData(r, c);
    else {
      if (id === 8 || id === 9) c.encrypted = true;
      r.skip(t);
    }
  });
  return c;
}

function readRowGroup(r: CompactReader): { numRows: number; chunks: RawChunk[] } {
  let numRows = 0;
  let chunks: RawChunk[] = [];
  readStruct(r, (id, t) => {
    if (id === 1 && t === CT.LIST) chunks = readList(r, () => readColumnChunk(r));
    else if (id === 3 && t === CT.I64) numRows = r.readI64();
    else r.skip(t);
  });
  return { numRows, chunks };
}

interface RawFileMetaData {
  schema: SchemaElement[];
  numRows: number;
  rowGroups: { numRows: number; chunks: RawChunk[] }[];
  createdBy: string | null;
}

function readFileMetaData(r: CompactReader): RawFileMetaData {
  const out: RawFileMetaData = { schema: [], numRows: 0, rowGroups: [], createdBy: null };
  readStruct(r, (id, t) => {
    if (id === 2 && t === CT.LIST) out.schema = readList(r, () => readSchemaElement(r));
    else if (id === 3 && t === CT.I64) out.numRows = r.readI64();
    else if (id === 4 && t === CT.LIST) out.rowGroups = readList(r, () => readRowGroup(r));
    else if (id === 6 && t === CT.BINARY) out.createdBy = r.readString();
    else r.skip(t);
  });
  return out;
}

// ---------------------------------------------------------------------------
// decoding into the engine's view

/**
 * Decodes a footer (the file's last bytes: FileMetaData, length, "PAR1").
 * `name` names the file in errors.
 */
export function decodeParquetFooter(
  name: string,
  footer: Uint8Array,
  fileSize: number,
): ParquetMetadata {
  let raw: RawFileMetaData;
  let columns: ParquetColumn[];
  try {
    raw = readFileMetaData(new CompactReader(footer.subarray(0, footer.length - 8)));
    columns = topLevelColumns(raw.schema);
  } catch (e) {
    const why = e instanceof ThriftError || e instanceof Error ? e.message : String(e);
    throw new SpiceError("IO", `${name}: corrupt Parquet footer: ${why}`, { cause: e });
  }
  const readable = columns.filter((c) => c.field !== null);
  const metaStart = fileSize - footer.length;
  const rowGroups = raw.rowGroups.map((rg, g): ParquetRowGroup => {
    if (rg.chunks.length !== columns.reduce((n, c) => n + c.leafCount, 0)) {
      throw new SpiceError(
        "IO",
        `${name}: corrupt Parquet footer: row group ${g} has ${rg.chunks.length} column chunks`,
      );
    }
    for (const c of rg.chunks) {
      if (c.filePath !== null) {
        throw new SpiceError(
          "NOT_SUPPORTED",
          `${name}: column data in another file (${c.filePath})`,
        );
      }
      if (c.encrypted) throw new SpiceError("NOT_SUPPORTED", `${name}: encrypted Parquet columns`);
    }
    return {
      numRows: rg.numRows,
      columns: readable.map((col): ParquetColumnChunk => {
        const c = rg.chunks[col.leafIndex];
        // The same start as parquet-wasm's reader (arrow-rs `byte_range`), so
        // that the bytes fetched for it are exactly the bytes it asks for.
        const offset = c.dictionaryPageOffset ?? c.dataPageOffset;
        const length = c.totalCompressedSize;
        if (offset < 0 || length < 0 || offset + length > metaStart) {
          throw new SpiceError(
            "IO",
            `${name}: corrupt Parquet footer: column ${col.name} of row group ${g} lies outside the file`,
          );
        }
        return {
          name: col.name,
          offset,
          length,
          stats: c.stats ? decodeStatistics(col, c.stats) : null,
        };
      }),
    };
  });
  return {
    numRows: raw.numRows,
    schema: { fields: readable.map((c) => c.field!) },
    unsupportedColumns: columns
      .filter((c) => c.field === null)
      .map((c) => ({ name: c.name, reason: c.unsupported! })),
    rowGroups,
    createdBy: raw.createdBy,
    fileSize,
    footer,
  };
}

/**
 * Reads and decodes the footer of a Parquet file with two explicit ranged
 * reads: the last 8 bytes (metadata length and magic), then the metadata.
 * (No suffix ranges: some S3 implementations answer `bytes=-N` wrongly.)
 */
export async function readParquetMetadata(src: ByteSource): Promise<ParquetMetadata> {
  const size = await src.size();
  if (size < 12) {
    throw new SpiceError("IO", `${src.name}: not a Parquet file (${size} bytes is too small)`);
  }
  const tail = await src.read(size - 8, size);
  const dv = new DataView(tail.buffer, tail.byteOffset, 8);
  const magic = dv.getUint32(4, true);
  if (magic === MAGIC_ENCRYPTED) {
    throw new SpiceError("NOT_SUPPORTED", `${src.name}: encrypted Parquet files`);
  }
  if (magic !== MAGIC) {
    throw new SpiceError("IO", `${src.name}: not a Parquet file (no PAR1 footer)`);
  }
  const metaLen = dv.getUint32(0, true);
  if (metaLen + 12 > size) {
    throw new SpiceError(
      "IO",
      `${src.name}: corrupt Parquet footer (metadata length ${metaLen}, file size ${size})`,
    );
  }
  const meta = await src.read(size - 8 - metaLen, size - 8);
  const footer = new Uint8Array(metaLen + 8);
  footer.set(meta, 0);
  footer.set(tail, metaLen);
  return decodeParquetFooter(src.name, footer, size);
}
