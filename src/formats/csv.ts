/**
 * Reading CSV files into engine record batches.
 *
 * RFC 4180: fields separated by a one-byte delimiter, records by "\n" or
 * "\r\n", fields optionally quoted, a quote inside a quoted field written
 * twice, and delimiters and newlines allowed inside quotes. Like DuckDB, an
 * empty unquoted field is NULL whatever the column type; a quoted empty field
 * is an empty string in a string column and NULL in any other. Blank lines are
 * skipped, and a UTF-8 byte order mark is ignored.
 *
 * The bytes are read in chunks through a `ByteSource`. A tokenizer records
 * where each field starts and ends (typed arrays, no per-row objects), then
 * each projected column is parsed straight from the bytes into typed arrays
 * (strings through `Utf8Builder`). Types are inferred from a sample of the
 * first rows unless a schema is given; a later value that does not fit the
 * inferred type is an error naming the file, line and column.
 *
 * @module
 */

import { BATCH_SIZE, type RecordBatch, recordBatch } from "../arrow/batch.ts";
import { type Column, numericColumn, Utf8Builder } from "../arrow/column.ts";
import {
  BOOL,
  type DataType,
  DATE32,
  type Field,
  field,
  FLOAT64,
  INT64,
  type Schema,
  TIMESTAMP,
  typeToString,
  UTF8,
} from "../arrow/types.ts";
import type { ByteSource } from "../connectors/object_store.ts";
import { SpiceError } from "../errors.ts";
import {
  parseBool,
  parsed,
  parseDate,
  parseDecimal,
  parseFloat64,
  parseInt53,
  parseTimestamp,
} from "./text_values.ts";

/** Options of `readCsv` and `inferCsvSchema`. */
export interface CsvOptions {
  /** Whether the first record names the columns (default true). */
  readonly hasHeader?: boolean;
  /** One-byte field delimiter (default ","). */
  readonly delimiter?: string;
  /** One-byte quote character (default '"'). */
  readonly quote?: string;
  /** The file's columns and types; inferred from a sample when absent. */
  readonly schema?: Schema;
  /** Columns to read, by name, in the order wanted (default: all). */
  readonly columns?: readonly string[];
  /** Maximum rows per batch (default 65536). */
  readonly batchSize?: number;
}

/** Rows sampled for type inference (at most; the sample is also capped in bytes). */
export const CSV_SAMPLE_ROWS = 1000;
/** Bytes sampled for type inference. */
export const CSV_SAMPLE_BYTES = 1 << 20;
// Bytes fetched per read once the sample has been consumed.
const CHUNK_BYTES = 4 << 20;

const LF = 10;
const CR = 13;
const QUOTED = 1; // field was quoted
const ESCAPED = 2; // field contains a doubled quote

// ---------------------------------------------------------------------------
// tokenizer

/**
 * Field boundaries of the records found in a buffer. Field f of record r is
 * at index `recFields[r] + f` of `starts`/`ends`/`flags`.
 */
class Tokens {
  starts: Int32Array = new Int32Array(4096);
  ends: Int32Array = new Int32Array(4096);
  flags: Uint8Array = new Uint8Array(4096);
  nFields = 0;
  recFields: Int32Array = new Int32Array(1025);
  recLine: Float64Array = new Float64Array(1024);
  nRecs = 0;

  reset(): void {
    this.nFields = 0;
    this.nRecs = 0;
    this.recFields[0] = 0;
  }

  pushField(s: number, e: number, fl: number): void {
    if (this.nFields === this.starts.length) {
      const n = this.starts.length * 2;
      this.starts = grow(this.starts, n) as Int32Array;
      this.ends = grow(this.ends, n) as Int32Array;
      this.flags = grow(this.flags, n) as Uint8Array;
    }
    this.starts[this.nFields] = s;
    this.ends[this.nFields] = e;
    this.flags[this.nFields] = fl;
    this.nFields++;
  }

  pushRecord(line: number): void {
    if (this.nRecs + 1 >= this.recLine.length) {
      const n = this.recLine.length * 2;
      this.recLine = grow(this.recLine, n) as Float64Array;
      this.recFields = grow(this.recFields, n + 1) as Int32Array;
    }
    this.recLine[this.nRecs] = line;
    this.recFields[++this.nRecs] = this.nFields;
  }

  fieldCount(r: number): number {
    return this.recFields[r + 1] - this.recFields[r];
  }
}

function grow<T extends Int32Array | Uint8Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as { new (n: number): T })(n);
  b.set(a);
  return b;
}

/** Splits bytes into records and fields. */
class Tokenizer {
  /** Physical line (1-based) of the next byte to tokenize. */
  line = 1;

  constructor(
    private readonly name: string,
    private readonly delim: number,
    private readonly quote: number,
  ) {}

  /**
   * Tokenizes complete records of `buf` from `pos` until `maxRecs` records
   * are found or the buffer ends; a record cut off by the end of the buffer
   * is left for the next call unless `eof`. Returns the position after the
   * last complete record.
   */
  run(buf: Uint8Array, pos: number, eof: boolean, maxRecs: number, out: Tokens): number {
    const end = buf.length;
    const delim = this.delim;
    const quote = this.quote;
    let i = pos;
    out.reset();
    while (out.nRecs < maxRecs && i < end) {
      const recStart = i;
      const recLine = this.line;
      const fieldMark = out.nFields;
      // Blank lines are skipped.
      if (buf[i] === LF) {
        i++;
        this.line++;
        continue;
      }
      if (buf[i] === CR) {
        if (i + 1 >= end && !eof) break;
        i += i + 1 < end && buf[i + 1] === LF ? 2 : 1;
        this.line++;
        continue;
      }
      let complete = false;
      for (;;) {
        if (buf[i] === quote) {
          // Quoted field: find the closing quote, skipping doubled quotes.
          let j = i + 1;
          let fl = QUOTED;
          let closed = false;
          while (j < end) {
            const c = buf[j];
            if (c === quote) {
              if (j + 1 < end && buf[j + 1] === quote) {
                fl |= ESCAPED;
                j += 2;
                continue;
              }
              if (j + 1 >= end && !eof) break; // could be the first of a doubled quote
              closed = true;
              break;
            }
            if (c === LF) this.line++;
            j++;
          }
          if (!closed) {
            if (eof) {
              throw new SpiceError("IO", `${this.name}:${recLine}: unterminated quoted field`);
            }
            break;
          }
          const k = j + 1;
          if (k >= end && !eof) break;
          out.pushField(i + 1, j, fl);
          if (k < end && buf[k] === delim) {
            i = k + 1;
            if (i >= end && !eof) break;
            if (i >= end) {
              out.pushField(i, i, 0); // trailing delimiter at end of file: an empty last field
              complete = true;
              break;
            }
            continue;
          }
          if (k < end && buf[k] !== LF && buf[k] !== CR) {
            throw new SpiceError(
              "IO",
              `${this.name}:${this.line}: unexpected character after a closing quote`,
            );
          }
          i = k;
          complete = true;
          break;
        }
        // Unquoted field: up to the delimiter or end of line.
        let j = i;
        while (j < end) {
          const c = buf[j];
          if (c === delim || c === LF || c === CR) break;
          j++;
        }
        if (j >= end && !eof) break;
        out.pushField(i, j, 0);
        if (j < end && buf[j] === delim) {
          i = j + 1;
          if (i >= end && !eof) break;
          if (i >= end) {
            out.pushField(i, i, 0);
            complete = true;
            break;
          }
          continue;
        }
        i = j;
        complete = true;
        break;
      }
      if (!complete) {
        // Cut off by the end of the buffer: undo, and wait for more bytes.
        out.nFields = fieldMark;
        this.line = recLine;
        return recStart;
      }
      // End of record: "\r\n", "\n", "\r" or end of file.
      if (i < end) {
        if (buf[i] === CR) {
          if (i + 1 >= end && !eof) {
            out.nFields = fieldMark;
            this.line = recLine;
            return recStart;
          }
          i += i + 1 < end && buf[i + 1] === LF ? 2 : 1;
        } else i++;
        this.line++;
      }
      out.pushRecord(recLine);
    }
    return i;
  }
}

// ---------------------------------------------------------------------------
// inference

const C_BOOL = 1;
const C_INT = 2;
const C_FLOAT = 4;
const C_DATE = 8;
const C_TS = 16;
const C_ALL = 31;

/** Narrows a column's candidate types by one non-null value. */
function narrow(cand: number, buf: Uint8Array, s: number, e: number): number {
  if (cand & C_BOOL) {
    parseBool(buf, s, e, false);
    if (!parsed.ok) cand &= ~C_BOOL;
  }
  if (cand & C_INT) {
    parseInt53(buf, s, e);
    if (!parsed.ok) cand &= ~C_INT;
  }
  if (cand & C_FLOAT) {
    parseFloat64(buf, s, e);
    if (!parsed.ok) cand &= ~C_FLOAT;
  }
  if (cand & C_DATE) {
    parseDate(buf, s, e);
    if (!parsed.ok) cand &= ~C_DATE;
  }
  if (cand & C_TS) {
    parseTimestamp(buf, s, e);
    if (!parsed.ok) cand &= ~C_TS;
  }
  return cand;
}

function chooseType(cand: number, sawValue: boolean): DataType {
  // A column with only NULLs in the sample is read as text, as DuckDB does.
  if (!sawValue) return UTF8;
  if (cand & C_BOOL) return BOOL;
  if (cand & C_INT) return INT64;
  if (cand & C_FLOAT) return FLOAT64;
  if (cand & C_DATE) return DATE32;
  if (cand & C_TS) return TIMESTAMP;
  return UTF8;
}

// ---------------------------------------------------------------------------
// options, sampling and the header

interface Resolved {
  readonly name: string;
  readonly delim: number;
  readonly quote: number;
  readonly hasHeader: boolean;
}

function oneByte(name: string, what: string, v: string): number {
  const b = new TextEncoder().encode(v);
  if (b.length !== 1 || b[0] === LF || b[0] === CR) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `${name}: CSV ${what} must be one byte, got ${JSON.stringify(v)}`,
    );
  }
  return b[0];
}

function resolveOptions(src: ByteSource, opts: CsvOptions): Resolved {
  const delim = oneByte(src.name, "delimiter", opts.delimiter ?? ",");
  const quote = oneByte(src.name, "quote", opts.quote ?? '"');
  if (delim === quote) {
    throw new SpiceError("INVALID_ARGUMENT", `${src.name}: CSV delimiter and quote are the same`);
  }
  return { name: src.name, delim, quote, hasHeader: opts.hasHeader ?? true };
}

const decoder = new TextDecoder();

/** The text of a field (quotes removed and doubled quotes undone). */
function fieldText(buf: Uint8Array, s: number, e: number, fl: number, quote: number): string {
  if (!(fl & ESCAPED)) return decoder.decode(buf.subarray(s, e));
  return decoder.decode(unescape(buf, s, e, quote));
}

let scratch = new Uint8Array(256);

/** The bytes of a field with doubled quotes undone (in a shared scratch buffer). */
function unescape(buf: Uint8Array, s: number, e: number, quote: number): Uint8Array {
  if (scratch.length < e - s) scratch = new Uint8Array(2 * (e - s));
  let n = 0;
  for (let i = s; i < e; i++) {
    scratch[n++] = buf[i];
    if (buf[i] === quote) i++; // the second quote of a pair
  }
  return scratch.subarray(0, n);
}

/** Header names made unique and non-empty, as DuckDB does ("a", "a_1", "column2"). */
function uniqueNames(raw: readonly string[]): string[] {
  const seen = new Set<string>();
  return raw.map((n, i) => {
    let name = n.trim() === "" ? `column${i}` : n;
    for (let k = 1; seen.has(name.toLowerCase()); k++) name = `${n}_${k}`;
    seen.add(name.toLowerCase());
    return name;
  });
}

/** The first bytes of the file, sniffed: names, types and where the data starts. */
interface Sniffed {
  readonly names: string[];
  readonly types: DataType[];
  /** The sampled bytes (the reader starts from them rather than reading them again). */
  readonly buf: Uint8Array;
  /** Position in `buf` after the header (and BOM). */
  readonly dataStart: number;
  /** Whether `buf` holds the whole file. */
  readonly eof: boolean;
  /** The line number of the first data record. */
  readonly line: number;
}

async function readMore(
  src: ByteSource,
  buf: Uint8Array,
  from: number,
  fileOffset: number,
  size: number,
  chunk: number,
): Promise<{ buf: Uint8Array; fileOffset: number }> {
  const end = Math.min(size, fileOffset + chunk);
  const next = await src.read(fileOffset, end);
  if (next.length !== end - fileOffset) {
    throw new SpiceError("IO", `${src.name}: short read at byte ${fileOffset}`);
  }
  const rest = buf.length - from;
  const out = new Uint8Array(rest + next.length);
  out.set(buf.subarray(from), 0);
  out.set(next, rest);
  return { buf: out, fileOffset: end };
}

function fromSchema(schema: Schema): { names: string[]; types: DataType[] } {
  return { names: schema.fields.map((f) => f.name), types: schema.fields.map((f) => f.type) };
}

async function sniff(src: ByteSource, r: Resolved, schema: Schema | undefined): Promise<Sniffed> {
  const size = await src.size();
  let buf: Uint8Array = new Uint8Array(0);
  let fileOffset = 0;
  ({ buf, fileOffset } = await readMore(src, buf, 0, 0, size, CSV_SAMPLE_BYTES));
  const tok = new Tokenizer(r.name, r.delim, r.quote);
  const tokens = new Tokens();
  const start = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  // The header (or the first record, which sets the column count without one).
  let afterFirst = start;
  for (;;) {
    const eof = fileOffset >= size;
    afterFirst = tok.run(buf, start, eof, 1, tokens);
    if (tokens.nRecs === 1 || eof) break;
    ({ buf, fileOffset } = await readMore(src, buf, 0, fileOffset, size, CSV_SAMPLE_BYTES));
  }
  const eof = fileOffset >= size;
  if (tokens.nRecs === 0) {
    if (schema) {
      return { ...fromSchema(schema), buf, dataStart: buf.length, eof, line: tok.line };
    }
    throw new SpiceError(
      "IO",
      `${r.name}: empty CSV file (no header or rows to infer columns from)`,
    );
  }
  const ncols = tokens.fieldCount(0);
  let names: string[];
  let dataStart = start;
  let line = 1;
  if (r.hasHeader) {
    names = uniqueNames(
      Array.from(
        { length: ncols },
        (_, f) => fieldText(buf, tokens.starts[f], tokens.ends[f], tokens.flags[f], r.quote),
      ),
    );
    dataStart = afterFirst;
    line = tok.line;
  } else {
    names = Array.from({ length: ncols }, (_, i) => `column${i}`);
  }
  if (schema) {
    if (schema.fields.length !== ncols) {
      throw new SpiceError(
        "IO",
        `${r.name}:1: the schema has ${schema.fields.length} columns, the file has ${ncols}`,
      );
    }
    return { ...fromSchema(schema), buf, dataStart, eof, line };
  }
  // Infer from the records of the sample (the last one may be cut off; it is left out).
  const sample = new Tokenizer(r.name, r.delim, r.quote);
  sample.line = line;
  sample.run(buf, dataStart, eof, CSV_SAMPLE_ROWS, tokens);
  const cand = new Array<number>(ncols).fill(C_ALL);
  const saw = new Array<boolean>(ncols).fill(false);
  for (let rec = 0; rec < tokens.nRecs; rec++) {
    const n = tokens.fieldCount(rec);
    if (n !== ncols) {
      throw new SpiceError(
        "IO",
        `${r.name}:${tokens.recLine[rec]}: expected ${ncols} fields, found ${n}`,
      );
    }
    const base = tokens.recFields[rec];
    for (let c = 0; c < ncols; c++) {
      const s = tokens.starts[base + c];
      const e = tokens.ends[base + c];
      // Empty, quoted or not, is NULL in any non-string column: it says nothing of the type.
      if (e === s) continue;
      saw[c] = true;
      if (cand[c] !== 0) cand[c] = narrow(cand[c], buf, s, e);
    }
  }
  return { names, types: cand.map((k, c) => chooseType(k, saw[c])), buf, dataStart, eof, line };
}

/**
 * Infers the schema of a CSV file from its header and a sample of its first
 * rows (up to 1000 rows or 1 MiB): bool, int64 (within 2^53), float64,
 * date32 (YYYY-MM-DD), timestamp (YYYY-MM-DD HH:MM:SS[.ffffff]), else utf8.
 */
export async function inferCsvSchema(src: ByteSource, opts: CsvOptions = {}): Promise<Schema> {
  const s = await sniff(src, resolveOptions(src, opts), undefined);
  return { fields: s.names.map((n, i) => field(n, s.types[i])) };
}

// ---------------------------------------------------------------------------
// column builders

/** Accumulates one column's values for the batch being built. */
interface Builder {
  /** Appends rows [from, to) of the tokens, reading field `col` of each. */
  append(buf: Uint8Array, t: Tokens, from: number, to: number, col: number): void;
  /** The column so far; the builder starts over. */
  finish(): Column;
}

class NumBuilder implements Builder {
  #values: Int32Array | Float64Array | Uint8Array;
  #validity: Uint8Array | null = null;
  #n = 0;

  constructor(
    private readonly type: DataType,
    private readonly capacity: number,
    private readonly fail: (rec: number, t: Tokens, col: number, buf: Uint8Array) => never,
  ) {
    this.#values = this.#alloc();
  }

  #alloc(): Int32Array | Float64Array | Uint8Array {
    const t = this.type.id;
    if (t === "bool") return new Uint8Array(this.capacity);
    if (t === "int32" || t === "date32") return new Int32Array(this.capacity);
    return new Float64Array(this.capacity);
  }

  append(buf: Uint8Array, t: Tokens, from: number, to: number, col: number): void {
    const vals = this.#values;
    const type = this.type;
    const id = type.id;
    const scale = type.id === "decimal" ? type.scale : 0;
    for (let r = from; r < to; r++) {
      const f = t.recFields[r] + col;
      const s = t.starts[f];
      const e = t.ends[f];
      const at = this.#n++;
      if (e === s) {
        this.#validity ??= new Uint8Array(this.capacity).fill(1, 0, at);
        this.#validity[at] = 0;
        continue;
      }
      let v: number;
      switch (id) {
        case "int64":
          v = parseInt53(buf, s, e);
          break;
        case "int32":
          v = parseInt53(buf, s, e);
          if (v > 2147483647 || v < -2147483648) parsed.ok = false;
          break;
        case "float64":
          v = parseFloat64(buf, s, e);
          break;
        case "date32":
          v = parseDate(buf, s, e);
          break;
        case "timestamp":
          v = parseTimestamp(buf, s, e);
          break;
        case "bool":
          v = parseBool(buf, s, e, true);
          break;
        case "decimal":
          v = parseDecimal(buf, s, e, scale);
          break;
        default:
          parsed.ok = false;
          v = 0;
      }
      if (!parsed.ok) this.fail(r, t, col, buf);
      vals[at] = v;
      if (this.#validity) this.#validity[at] = 1;
    }
  }

  finish(): Column {
    const n = this.#n;
    let values: Int32Array | Float64Array | Uint8Array | BigInt64Array = this.#values.subarray(
      0,
      n,
    );
    if (this.type.id === "decimal" && this.type.precision > 18) {
      // The engine stores wide decimals as BigInt64.
      values = BigInt64Array.from(values as Float64Array, (x) => BigInt(x));
    }
    const col = numericColumn(
      this.type,
      values,
      this.#validity ? this.#validity.subarray(0, n) : null,
    );
    this.#values = this.#alloc();
    this.#validity = null;
    this.#n = 0;
    return col;
  }
}

class StrBuilder implements Builder {
  #b: Utf8Builder;

  constructor(private readonly capacity: number, private readonly quote: number) {
    this.#b = new Utf8Builder(capacity);
  }

  append(buf: Uint8Array, t: Tokens, from: number, to: number, col: number): void {
    const b = this.#b;
    for (let r = from; r < to; r++) {
      const f = t.recFields[r] + col;
      const s = t.starts[f];
      const e = t.ends[f];
      const fl = t.flags[f];
      if (e === s && !(fl & QUOTED)) b.appendNull();
      else if (fl & ESCAPED) b.appendBytes(unescape(buf, s, e, this.quote));
      else b.appendBytes(buf, s, e);
    }
  }

  finish(): Column {
    const col = this.#b.finish(UTF8);
    this.#b = new Utf8Builder(this.capacity);
    return col;
  }
}

// ---------------------------------------------------------------------------
// reading

function resolveColumns(
  name: string,
  names: readonly string[],
  columns?: readonly string[],
): number[] {
  if (columns === undefined) return names.map((_, i) => i);
  return columns.map((c) => {
    let i = names.indexOf(c);
    if (i < 0) {
      const lower = c.toLowerCase();
      const m = names.flatMap((n, k) => (n.toLowerCase() === lower ? [k] : []));
      if (m.length === 1) i = m[0];
    }
    if (i < 0) {
      throw new SpiceError(
        "COLUMN_NOT_FOUND",
        `${name}: no column ${c} (columns: ${names.join(", ")})`,
      );
    }
    return i;
  });
}

/**
 * Reads a CSV file as engine batches with the projected columns, in the
 * requested order. Types come from `schema`, or are inferred from a sample.
 */
export async function* readCsv(
  src: ByteSource,
  opts: CsvOptions = {},
): AsyncGenerator<RecordBatch> {
  const r = resolveOptions(src, opts);
  const sn = await sniff(src, r, opts.schema);
  const ncols = sn.names.length;
  const proj = resolveColumns(r.name, sn.names, opts.columns);
  const fields: Field[] = proj.map((i) => field(sn.names[i], sn.types[i]));
  const schema: Schema = { fields };
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? BATCH_SIZE));

  const fail = (rec: number, t: Tokens, col: number, buf: Uint8Array): never => {
    const f = t.recFields[rec] + col;
    const text = fieldText(buf, t.starts[f], t.ends[f], t.flags[f], r.quote);
    const shown = text.length > 40 ? text.slice(0, 40) + "..." : text;
    throw new SpiceError(
      "IO",
      `${r.name}:${t.recLine[rec]}: column ${sn.names[col]}: cannot parse ${
        JSON.stringify(shown)
      } as ${typeToString(sn.types[col])}`,
    );
  };
  const builders: Builder[] = proj.map((i) => {
    const type = sn.types[i];
    if (type.id === "utf8") return new StrBuilder(batchSize, r.quote);
    if (type.id === "null" || type.id === "interval") {
      throw new SpiceError(
        "NOT_SUPPORTED",
        `not supported: CSV column ${sn.names[i]} of type ${typeToString(type)}`,
      );
    }
    return new NumBuilder(type, batchSize, fail);
  });

  const size = await src.size();
  let buf = sn.buf;
  let pos = sn.dataStart;
  let fileOffset = sn.eof ? size : sn.buf.length;
  const tok = new Tokenizer(r.name, r.delim, r.quote);
  tok.line = sn.line;
  const tokens = new Tokens();
  let rows = 0; // rows in the builders
  // The next chunk is fetched while this one is parsed.
  let pending: Promise<Uint8Array> | null = null;
  const fetchNext = (): void => {
    if (fileOffset >= size || pending !== null) return;
    const start = fileOffset;
    const end = Math.min(size, start + CHUNK_BYTES);
    const p = src.read(start, end).then((b) => {
      if (b.length !== end - start) {
        throw new SpiceError("IO", `${r.name}: short read at byte ${start}`);
      }
      return b;
    });
    p.catch(() => {}); // awaited below; do not report it as unhandled if the consumer stops first
    pending = p;
    fileOffset = end;
  };
  const takeNext = async (): Promise<Uint8Array> => {
    fetchNext();
    const p = pending as Promise<Uint8Array> | null;
    if (p === null) throw new SpiceError("INTERNAL", `${r.name}: no more CSV bytes to read`);
    pending = null;
    const b = await p;
    fetchNext();
    return b;
  };
  fetchNext();
  for (;;) {
    const eof = fileOffset >= size && pending === null;
    pos = tok.run(buf, pos, eof, batchSize - rows, tokens);
    const n = tokens.nRecs;
    for (let rec = 0; rec < n; rec++) {
      const got = tokens.fieldCount(rec);
      if (got !== ncols) {
        throw new SpiceError(
          "IO",
          `${r.name}:${tokens.recLine[rec]}: expected ${ncols} fields, found ${got}`,
        );
      }
    }
    if (n > 0) {
      builders.forEach((b, k) => b.append(buf, tokens, 0, n, proj[k]));
      rows += n;
    }
    if (rows === batchSize) {
      yield recordBatch(schema, builders.map((b) => b.finish()), rows);
      rows = 0;
      continue;
    }
    if (pos < buf.length || !eof) {
      if (eof) throw new SpiceError("INTERNAL", `${r.name}: CSV tokenizer stopped at byte ${pos}`);
      // The buffer is used up (or ends in a partial record): append the next chunk.
      const next = await takeNext();
      const rest = buf.length - pos;
      const merged = new Uint8Array(rest + next.length);
      merged.set(buf.subarray(pos), 0);
      merged.set(next, rest);
      buf = merged;
      pos = 0;
      continue;
    }
    break;
  }
  if (rows > 0) yield recordBatch(schema, builders.map((b) => b.finish()), rows);
}
