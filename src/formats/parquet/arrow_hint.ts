/**
 * The Arrow schema hint ("ARROW:schema" key-value metadata) that asks the
 * Parquet decoder for dictionary arrays.
 *
 * arrow-rs reads a BYTE_ARRAY column as plain strings unless the file's
 * embedded Arrow schema says Dictionary. For a column chunk whose data pages
 * are all dictionary-encoded, a dictionary array costs only the indices: no
 * string is materialised, copied out of WebAssembly, or compared twice
 * downstream. The hint is the base64 of an Arrow IPC schema message; fields
 * that should keep the decoder's own choice get the Null type, which
 * arrow-rs ignores as a hint.
 *
 * @module
 */

import * as arrow from "apache-arrow";

/** One top-level column of the hint, in file order. */
export interface HintColumn {
  readonly name: string;
  /** True to ask for Dictionary(Int32, Utf8). */
  readonly dictionary: boolean;
}

const cache = new Map<string, string>();

/** The base64 "ARROW:schema" value for the given columns (cached by shape). */
export function arrowSchemaHint(columns: readonly HintColumn[]): string {
  const key = JSON.stringify(columns);
  let hint = cache.get(key);
  if (hint !== undefined) return hint;
  const schema = new arrow.Schema(
    columns.map((c) =>
      new arrow.Field(
        c.name,
        c.dictionary ? new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()) : new arrow.Null(),
        true,
      )
    ),
  );
  const writer = new arrow.RecordBatchStreamWriter();
  writer.reset(undefined, schema);
  writer.finish();
  const stream = writer.toUint8Array(true);
  // The first message of the stream: 0xFFFFFFFF, its length, the flatbuffer.
  const len = new DataView(stream.buffer, stream.byteOffset).getInt32(4, true);
  hint = btoa(String.fromCharCode(...stream.subarray(0, 8 + len)));
  if (cache.size > 1000) cache.clear();
  cache.set(key, hint);
  return hint;
}
