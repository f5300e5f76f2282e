/**
 * Encodes a query result for HTTP, streaming batch by batch: JSON rows
 * (Spice's default), Spice's schema+data JSON, CSV, an aligned text table,
 * and Arrow IPC. Values are written from the typed arrays directly; decimals
 * are written as exact decimal text, never through a double.
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import { isValid, type NumericColumn, stringAt } from "../arrow/column.ts";
import { toArrowBatch, toArrowSchema } from "../arrow/interop.ts";
import { type Schema, typeToString } from "../arrow/types.ts";
import { formatDecimal, formatDouble } from "../exec/kernels/cast.ts";
import { formatDate, formatTimestamp } from "../sql/literals.ts";
import * as arrow from "apache-arrow";

/** A negotiated output format. */
export type ResultFormat = "json" | "spice_json" | "csv" | "text" | "arrow";

/** Content types per format. */
export const CONTENT_TYPES: Record<ResultFormat, string> = {
  json: "application/json",
  spice_json: "application/vnd.spiceai.sql.v1+json",
  csv: "text/csv; charset=utf-8",
  text: "text/plain; charset=utf-8",
  arrow: "application/vnd.apache.arrow.stream",
};

/** Picks the format from an Accept header (first supported type wins; default JSON). */
export function negotiateFormat(accept: string | null): ResultFormat | null {
  if (!accept || accept.trim() === "") return "json";
  const types = accept.split(",").map((t) => t.split(";")[0].trim().toLowerCase());
  for (const t of types) {
    switch (t) {
      case "application/json":
      case "*/*":
      case "application/*":
        return "json";
      case "application/vnd.spiceai.sql.v1+json":
        return "spice_json";
      case "text/csv":
        return "csv";
      case "text/plain":
      case "text/*":
        return "text";
      case "application/vnd.apache.arrow.stream":
      case "application/vnd.apache.arrow.file":
        return "arrow";
    }
  }
  return null;
}

const enc = new TextEncoder();

/** A cell as JSON text. */
function jsonCell(b: RecordBatch, c: number, r: number): string {
  const col = b.columns[c];
  if (!isValid(col, r)) return "null";
  if (col.enc !== "num") return JSON.stringify(stringAt(col, r));
  const v = (col as NumericColumn).values[r];
  switch (col.type.id) {
    case "bool":
      return v ? "true" : "false";
    case "decimal":
      return formatDecimal(v as number | bigint, col.type.scale);
    case "float64":
      return Number.isFinite(v) ? String(v) : JSON.stringify(formatDouble(v as number));
    case "date32":
      return `"${formatDate(v as number)}"`;
    case "timestamp":
      return `"${formatTimestamp(v as number).replace(" ", "T")}"`;
    case "null":
      return "null";
    default:
      return String(v);
  }
}

/** A cell as display text (CSV and tables); null for NULL. */
export function textCell(b: RecordBatch, c: number, r: number): string | null {
  const col = b.columns[c];
  if (!isValid(col, r)) return null;
  if (col.enc !== "num") return stringAt(col, r);
  const v = (col as NumericColumn).values[r];
  switch (col.type.id) {
    case "bool":
      return v ? "true" : "false";
    case "decimal":
      return formatDecimal(v as number | bigint, col.type.scale);
    case "float64":
      return formatDouble(v as number);
    case "date32":
      return formatDate(v as number);
    case "timestamp":
      return formatTimestamp(v as number);
    default:
      return String(v);
  }
}

function* jsonRows(
  b: RecordBatch,
  keys: readonly string[],
  first: { value: boolean },
): Generator<string> {
  const parts: string[] = [];
  for (let r = 0; r < b.numRows; r++) {
    let row = first.value ? "{" : ",{";
    first.value = false;
    for (let c = 0; c < keys.length; c++) {
      row += (c ? "," : "") + keys[c] + ":" + jsonCell(b, c, r);
    }
    parts.push(row + "}");
    if (parts.length >= 1024) {
      yield parts.join("");
      parts.length = 0;
    }
  }
  if (parts.length) yield parts.join("");
}

function csvEscape(s: string | null): string {
  if (s === null) return "";
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Streams a result in a format. `onRows` is told the row count when done. */
export async function* encodeResult(
  format: ResultFormat,
  schema: Schema,
  batches: AsyncIterable<RecordBatch>,
  onRows?: (rows: number) => void,
): AsyncIterable<Uint8Array> {
  let rows = 0;
  const names = schema.fields.map((f) => f.name);
  switch (format) {
    case "json":
    case "spice_json": {
      const keys = names.map((n) => JSON.stringify(n));
      if (format === "spice_json") {
        const fields = schema.fields.map((f) => ({
          name: f.name,
          data_type: typeToString(f.type),
          nullable: f.nullable,
        }));
        yield enc.encode(`{"schema":{"fields":${JSON.stringify(fields)}},"data":[`);
      } else yield enc.encode("[");
      const first = { value: true };
      for await (const b of batches) {
        rows += b.numRows;
        for (const chunk of jsonRows(b, keys, first)) yield enc.encode(chunk);
      }
      yield enc.encode(format === "spice_json" ? `],"row_count":${rows}}` : "]");
      break;
    }
    case "csv": {
      yield enc.encode(names.map(csvEscape).join(",") + "\r\n");
      for await (const b of batches) {
        rows += b.numRows;
        const lines: string[] = [];
        for (let r = 0; r < b.numRows; r++) {
          lines.push(names.map((_, c) => csvEscape(textCell(b, c, r))).join(","));
        }
        if (lines.length) yield enc.encode(lines.join("\r\n") + "\r\n");
      }
      break;
    }
    case "text": {
      // An aligned table needs every width first: gather the rows.
      const cells: (string | null)[][] = [];
      const right = schema.fields.map((f) =>
        ["int32", "int64", "float64", "decimal"].includes(f.type.id)
      );
      for await (const b of batches) {
        rows += b.numRows;
        for (let r = 0; r < b.numRows; r++) cells.push(names.map((_, c) => textCell(b, c, r)));
      }
      yield enc.encode(
        formatTable(names, cells, right) + `\n(${rows} row${rows === 1 ? "" : "s"})\n`,
      );
      break;
    }
    case "arrow": {
      // The writer is an async iterable of encoded chunks: drain it after each
      // batch so that the response streams instead of buffering the result.
      const writer = new arrow.RecordBatchStreamWriter();
      const queue: Uint8Array[] = [];
      const pump = (async () => {
        for await (const c of writer) queue.push(c);
      })();
      writer.reset(undefined, toArrowSchema(schema));
      for await (const b of batches) {
        rows += b.numRows;
        writer.write(toArrowBatch(b));
        await new Promise((r) => setTimeout(r, 0));
        if (queue.length) yield concatBytes(queue.splice(0));
      }
      writer.close();
      await pump;
      if (queue.length) yield concatBytes(queue.splice(0));
      break;
    }
  }
  onRows?.(rows);
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An aligned ASCII table with a header and a separator line. */
export function formatTable(
  names: readonly string[],
  rows: readonly (readonly (string | null)[])[],
  right?: readonly boolean[],
): string {
  const shown = rows.map((r) => r.map((c) => (c === null ? "NULL" : c)));
  const widths = names.map((n, c) => Math.max(n.length, ...shown.map((r) => r[c].length)));
  const pad = (s: string, c: number) => (right?.[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]));
  const line = "+" + widths.map((w) => "-".repeat(w + 2)).join("+") + "+";
  const out = [line, "| " + names.map((n, c) => n.padEnd(widths[c])).join(" | ") + " |", line];
  for (const r of shown) out.push("| " + r.map((v, c) => pad(v, c)).join(" | ") + " |");
  out.push(line);
  return out.join("\n");
}
