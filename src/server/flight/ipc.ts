/**
 * Arrow IPC in Flight's framing. Flight carries the IPC stream message by
 * message: `FlightData.data_header` is one flatbuffer `Message` (schema,
 * dictionary batch or record batch) and `data_body` its body, without the
 * stream's 8-byte prefix; schemas in `FlightInfo.schema`, `SchemaResult` and
 * Flight SQL results are the "IPC-encapsulated" form (prefix + flatbuffer).
 *
 * Encoding goes through apache-arrow's stream writer so that the bytes are the
 * library's own; decoding rebuilds a small IPC stream per message and reads it
 * with apache-arrow's reader.
 *
 * @module
 */

import * as arrow from "apache-arrow";
import { SpiceError } from "../../errors.ts";
import { arrowRecordBatch } from "../../arrow/interop.ts";

/** One IPC message as Flight carries it. */
export interface IpcMessage {
  /** The flatbuffer `Message` (FlightData.data_header). */
  readonly header: Uint8Array;
  /** The message body (FlightData.data_body); empty for a schema. */
  readonly body: Uint8Array;
}

const CONTINUATION = 0xffffffff;
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
const EMPTY = new Uint8Array(0);

/**
 * A stream writer that hands back what it wrote instead of queueing it, so
 * that each batch becomes FlightData as soon as it is encoded (the writer's own
 * sink would buffer the whole stream).
 */
class CapturingWriter extends arrow.RecordBatchStreamWriter {
  chunks: Uint8Array[] = [];

  // The writer only ever writes typed arrays here (prefixes, flatbuffers, body buffers).
  protected override _write(chunk: ArrayBufferView): this {
    if (chunk.byteLength > 0) {
      this.chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    return this;
  }

  /** Everything written since the last call, as one buffer. */
  take(): Uint8Array {
    const chunks = this.chunks;
    this.chunks = [];
    return concatBytes(chunks);
  }
}

/** Concatenates byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** Splits IPC stream bytes into messages (stops at end-of-stream). */
export function splitIpcStream(bytes: Uint8Array): IpcMessage[] {
  const out: IpcMessage[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  while (off + 8 <= bytes.byteLength) {
    let len = view.getInt32(off, true);
    let prefix = 4;
    if (len === -1) {
      len = view.getInt32(off + 4, true);
      prefix = 8;
    }
    if (len === 0) break;
    const header = bytes.subarray(off + prefix, off + prefix + len);
    const bodyLength = Number(arrow.Message.decode(header).bodyLength);
    const start = off + prefix + len;
    out.push({ header, body: bytes.subarray(start, start + bodyLength) });
    off = start + bodyLength;
  }
  return out;
}

/** Encodes one stream's batches as Flight messages: the schema first, then each batch. */
export class FlightDataEncoder {
  readonly #writer = new CapturingWriter({ autoDestroy: false });
  readonly #schemaMessage: IpcMessage;
  readonly #schema: arrow.Schema;

  /** An encoder for batches of one schema. */
  constructor(schema: arrow.Schema) {
    this.#schema = schema;
    this.#writer.reset(undefined, schema);
    this.#schemaMessage = splitIpcStream(this.#writer.take())[0];
  }

  /** The schema message, sent first on every stream. */
  schemaMessage(): IpcMessage {
    return this.#schemaMessage;
  }

  /**
   * The messages for one batch (dictionary batches, if any, then the record
   * batch). The batch is re-labelled with the stream's schema (names and
   * nullability may differ, e.g. after SELECT aliases); its column types must
   * be the schema's.
   */
  encode(batch: arrow.RecordBatch): IpcMessage[] {
    this.#writer.write(this.#conform(batch));
    return splitIpcStream(this.#writer.take());
  }

  #conform(batch: arrow.RecordBatch): arrow.RecordBatch {
    const schema = this.#schema;
    if (batch.schema === schema) return batch;
    const fields = schema.fields;
    const got = batch.schema.fields;
    if (
      got.length !== fields.length || got.some((f, i) => String(f.type) !== String(fields[i].type))
    ) {
      // apache-arrow's writer would start a new stream on a schema change, which Flight cannot carry.
      throw new SpiceError(
        "INTERNAL",
        `result batch types (${
          got.map((f) => String(f.type)).join(", ")
        }) differ from the result schema (${fields.map((f) => String(f.type)).join(", ")})`,
      );
    }
    const data = arrow.makeData({
      type: new arrow.Struct(fields),
      length: batch.numRows,
      nullCount: 0,
      children: batch.data.children,
    });
    return arrowRecordBatch(schema, data);
  }
}

/** The IPC-encapsulated form of a schema (continuation, length, flatbuffer), as Flight sends schemas. */
export function ipcSchemaBytes(schema: arrow.Schema): Uint8Array {
  const m = new FlightDataEncoder(schema).schemaMessage();
  return frameMessage(m.header, EMPTY);
}

/** Reads an IPC-encapsulated schema (with or without the continuation token). */
export function schemaFromIpcBytes(bytes: Uint8Array): arrow.Schema {
  if (bytes.byteLength === 0) return new arrow.Schema([]);
  try {
    const reader = arrow.RecordBatchReader.from(concatBytes([bytes, EOS]));
    reader.open();
    return reader.schema;
  } catch (e) {
    throw new SpiceError("INVALID_ARGUMENT", `malformed Arrow IPC schema: ${(e as Error).message}`);
  }
}

/** One message in IPC stream framing: continuation, padded length, header, padding, body. */
export function frameMessage(header: Uint8Array, body: Uint8Array): Uint8Array {
  const padded = (header.byteLength + 7) & ~7;
  const out = new Uint8Array(8 + padded + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, CONTINUATION, true);
  view.setInt32(4, padded, true);
  out.set(header, 8);
  // The body starts 8-aligned, which apache-arrow's reader needs for typed-array views.
  out.set(body, 8 + padded);
  return out;
}

/**
 * Turns a sequence of FlightData messages back into record batches. The first
 * message must be the schema; dictionary batches are remembered for the
 * record batches that follow.
 */
export class FlightDataDecoder {
  #schemaFrame: Uint8Array | null = null;
  #schema: arrow.Schema | null = null;
  #dictionaries: Uint8Array[] = [];

  /** The stream's schema once its schema message has arrived. */
  get schema(): arrow.Schema | null {
    return this.#schema;
  }

  /** Feeds one message; returns the record batch it carried, or null for schema and dictionary messages. */
  push(header: Uint8Array, body: Uint8Array = EMPTY): arrow.RecordBatch | null {
    if (header.byteLength === 0) return null; // metadata-only FlightData
    let message: arrow.Message;
    try {
      message = arrow.Message.decode(header);
    } catch (e) {
      throw new SpiceError(
        "INVALID_ARGUMENT",
        `malformed Arrow IPC message: ${(e as Error).message}`,
      );
    }
    const frame = frameMessage(header, body);
    if (message.headerType === arrow.MessageHeader.Schema) {
      this.#schemaFrame = frame;
      this.#schema = schemaFromIpcBytes(frame);
      this.#dictionaries = [];
      return null;
    }
    if (!this.#schemaFrame) {
      throw new SpiceError(
        "INVALID_ARGUMENT",
        "Arrow IPC stream does not start with a schema message",
      );
    }
    if (message.headerType === arrow.MessageHeader.DictionaryBatch) {
      this.#dictionaries.push(frame);
      return null;
    }
    if (message.headerType !== arrow.MessageHeader.RecordBatch) return null;
    const stream = concatBytes([this.#schemaFrame, ...this.#dictionaries, frame, EOS]);
    const reader = arrow.RecordBatchReader.from(stream);
    const next = reader.next();
    if (next.done || !next.value) return null;
    return next.value as arrow.RecordBatch;
  }
}
