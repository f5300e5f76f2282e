/**
 * Result tables for the terminal: Arrow values as text, laid out as an
 * aligned ASCII table (header, separator, numbers right-aligned), the way
 * psql and DuckDB print results.
 *
 * @module
 */

import * as arrow from "apache-arrow";

/** Longest cell shown, in terminal columns; longer values end in `…`. */
export const MAX_CELL_WIDTH = 80;

/** The text shown for NULL. */
export const NULL_TEXT = "NULL";

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

function formatDate(days: number): string {
  const d = new Date(days * 86400000);
  return `${String(d.getUTCFullYear()).padStart(4, "0")}-${pad2(d.getUTCMonth() + 1)}-${
    pad2(d.getUTCDate())
  }`;
}

function formatTimestamp(micros: bigint): string {
  const perDay = 86_400_000_000n;
  let days = micros / perDay;
  let rem = micros % perDay;
  if (rem < 0n) {
    rem += perDay;
    days -= 1n;
  }
  const secs = Number(rem / 1_000_000n);
  const frac = Number(rem % 1_000_000n);
  const time = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${
    pad2(secs % 60)
  }`;
  const date = formatDate(Number(days));
  return frac === 0
    ? `${date} ${time}`
    : `${date} ${time}.${String(frac).padStart(6, "0").replace(/0+$/, "")}`;
}

/** An unscaled 128-bit decimal as text with `scale` fraction digits. */
function formatDecimal(words: Uint32Array, index: number, scale: number): string {
  let x = 0n;
  for (let k = 3; k >= 0; k--) x = (x << 32n) | BigInt(words[index * 4 + k]);
  if (x >= 1n << 127n) x -= 1n << 128n;
  const neg = x < 0n;
  let digits = (neg ? -x : x).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return neg ? `-${digits}` : digits;
}

function hex(bytes: Uint8Array): string {
  let s = "\\x";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** True for types shown right-aligned. */
export function isNumericType(t: arrow.DataType): boolean {
  return arrow.DataType.isInt(t) || arrow.DataType.isFloat(t) || arrow.DataType.isDecimal(t);
}

/** One cell of a column as text (NULL as `NULL`). */
export function formatCell(data: arrow.Data, row: number): string {
  const vec = arrow.makeVector(data);
  if (!vec.isValid(row)) return NULL_TEXT;
  const t = data.type;
  const i = data.offset + row;
  switch (t.typeId) {
    case arrow.Type.Null:
      return NULL_TEXT;
    case arrow.Type.Decimal:
      return formatDecimal(data.values as Uint32Array, i, (t as arrow.Decimal).scale);
    case arrow.Type.Date: {
      if ((t as arrow.Date_).unit === arrow.DateUnit.DAY) {
        return formatDate((data.values as Int32Array)[i]);
      }
      const v = data.values as unknown as BigInt64Array | Int32Array;
      const ms = v instanceof BigInt64Array
        ? Number(v[i])
        : Number(new BigInt64Array(v.buffer, v.byteOffset)[i]);
      return formatDate(Math.floor(ms / 86400000));
    }
    case arrow.Type.Timestamp: {
      const unit = (t as arrow.Timestamp).unit;
      const raw = (data.values as unknown as BigInt64Array)[i];
      const v = BigInt(raw);
      const micros = unit === arrow.TimeUnit.SECOND
        ? v * 1000000n
        : unit === arrow.TimeUnit.MILLISECOND
        ? v * 1000n
        : unit === arrow.TimeUnit.MICROSECOND
        ? v
        : v / 1000n;
      return formatTimestamp(micros);
    }
    case arrow.Type.Binary:
    case arrow.Type.LargeBinary:
    case arrow.Type.FixedSizeBinary:
      return hex(vec.get(row) as Uint8Array);
    case arrow.Type.Float: {
      const v = vec.get(row) as number;
      return Number.isNaN(v) ? "NaN" : String(v);
    }
    default: {
      const v = vec.get(row);
      if (v !== null && typeof v === "object") {
        const json = (v as { toJSON?: () => unknown }).toJSON?.() ?? v;
        return JSON.stringify(json, (_k, x) => typeof x === "bigint" ? x.toString() : x);
      }
      return String(v);
    }
  }
}

/** Terminal columns a character takes: 2 for East Asian wide and emoji, 0 for combining marks. */
function charWidth(cp: number): number {
  if (cp === 0x200b || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) return 2;
  return 1;
}

/** Terminal columns a string takes. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** Control characters shown escaped, and long text cut at MAX_CELL_WIDTH. */
function cellText(s: string): string {
  let t = s.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => c === "\n" ? "\\n" : c === "\t" ? "\\t" : c === "\r" ? "\\r" : "?",
  );
  if (displayWidth(t) > MAX_CELL_WIDTH) {
    let out = "";
    let w = 0;
    for (const ch of t) {
      const cw = charWidth(ch.codePointAt(0)!);
      if (w + cw > MAX_CELL_WIDTH - 1) break;
      out += ch;
      w += cw;
    }
    t = out + "…";
  }
  return t;
}

function padTo(s: string, width: number, right: boolean): string {
  const fill = " ".repeat(Math.max(0, width - displayWidth(s)));
  return right ? fill + s : s + fill;
}

/** Column titles, right-alignment flags and rows of cells, ready to lay out. */
export interface TextTable {
  readonly headers: readonly string[];
  readonly rightAlign: readonly boolean[];
  readonly rows: readonly (readonly string[])[];
}

/** Collects the cells of Arrow batches (at most `maxRows` rows). */
export function tableFromBatches(
  schema: arrow.Schema,
  batches: readonly arrow.RecordBatch[],
  maxRows = Infinity,
): TextTable {
  const rows: string[][] = [];
  outer: for (const b of batches) {
    const cols = b.data.children;
    for (let r = 0; r < b.numRows; r++) {
      if (rows.length >= maxRows) break outer;
      rows.push(cols.map((c) => formatCell(c, r)));
    }
  }
  return {
    headers: schema.fields.map((f) => f.name),
    rightAlign: schema.fields.map((f) => isNumericType(f.type)),
    rows,
  };
}

/**
 * Lays a table out in ASCII:
 *
 * ```text
 * +-------------+---------+
 * | n_nationkey | n_name  |
 * +-------------+---------+
 * |           0 | ALGERIA |
 * +-------------+---------+
 * ```
 */
export function renderTable(t: TextTable): string {
  const headers = t.headers.map(cellText);
  const rows = t.rows.map((r) => r.map(cellText));
  const widths = headers.map((h, c) =>
    Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[c] ?? "")))
  );
  const rule = "+" + widths.map((w) => "-".repeat(w + 2)).join("+") + "+";
  const line = (cells: readonly string[]) =>
    "| " + cells.map((s, c) => padTo(s, widths[c], t.rightAlign[c] ?? false)).join(" | ") + " |";
  if (headers.length === 0) return "(no columns)\n";
  const out = [rule, line(headers), rule, ...rows.map(line)];
  if (rows.length > 0) out.push(rule);
  return out.join("\n") + "\n";
}

/** `N rows in X ms` (singular for one row). */
export function rowCountLine(rows: number, ms: number, shown?: number): string {
  const noun = rows === 1 ? "row" : "rows";
  const time = ms < 10 ? ms.toFixed(1) : Math.round(ms).toString();
  const note = shown !== undefined && shown < rows ? ` (showing the first ${shown})` : "";
  return `${rows} ${noun} in ${time} ms${note}`;
}

/** The SQL name of an Arrow type, for `.schema`. */
export function sqlTypeName(t: arrow.DataType): string {
  switch (t.typeId) {
    case arrow.Type.Bool:
      return "BOOLEAN";
    case arrow.Type.Int: {
      const it = t as arrow.Int;
      const base = it.bitWidth === 8
        ? "TINYINT"
        : it.bitWidth === 16
        ? "SMALLINT"
        : it.bitWidth === 32
        ? "INTEGER"
        : "BIGINT";
      return it.isSigned ? base : `U${base}`;
    }
    case arrow.Type.Float:
      return (t as arrow.Float).precision === arrow.Precision.DOUBLE ? "DOUBLE" : "FLOAT";
    case arrow.Type.Decimal:
      return `DECIMAL(${(t as arrow.Decimal).precision},${(t as arrow.Decimal).scale})`;
    case arrow.Type.Utf8:
    case arrow.Type.LargeUtf8:
      return "VARCHAR";
    case arrow.Type.Date:
      return "DATE";
    case arrow.Type.Timestamp:
      return "TIMESTAMP";
    case arrow.Type.Binary:
    case arrow.Type.LargeBinary:
      return "BLOB";
    case arrow.Type.Dictionary:
      return sqlTypeName((t as arrow.Dictionary).dictionary);
    default:
      return String(t);
  }
}
