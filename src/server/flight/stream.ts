/**
 * DoGet streaming: record batches -> FlightData messages on a gRPC call,
 * with memory bounded end to end. Engine batches larger than about 1 MiB or
 * 64k rows are split; each message is written only when fewer than a few
 * earlier ones are still waiting for gRPC to take them, and the next batch is
 * pulled from the engine only after that. A slow client therefore slows the
 * query instead of filling the server's memory.
 *
 * @module
 */

import type * as arrow from "apache-arrow";
import type { ServerWritableStream } from "@grpc/grpc-js";
import { type RecordBatch, sliceBatch, wireBytes } from "../../arrow/batch.ts";
import { toArrowBatch } from "../../arrow/interop.ts";
import { FlightDataEncoder } from "./ipc.ts";

/** Rows per FlightData message at most. */
export const MAX_MESSAGE_ROWS = 65536;
/** Approximate bytes per FlightData body at most (a single huge row may pass it). */
export const MAX_MESSAGE_BYTES = 1 << 20;
/** Messages handed to gRPC but not yet flushed, at most. */
export const MAX_IN_FLIGHT = 4;

/** What one DoGet stream sent. */
export interface StreamStats {
  /** FlightData messages written, the schema message included. */
  messages: number;
  /** Rows written. */
  rows: number;
  /** Body bytes written. */
  bytes: number;
  /** The most rows in one message. */
  maxMessageRows: number;
  /** The largest message body in bytes. */
  maxMessageBytes: number;
  /** The most messages waiting in gRPC's buffers at once (bounded by MAX_IN_FLIGHT). */
  maxInFlight: number;
}

/** Splits an engine batch into slices of at most MAX_MESSAGE_ROWS rows and about MAX_MESSAGE_BYTES bytes. */
export function splitBatch(
  batch: RecordBatch,
  limits: { maxRows?: number; maxBytes?: number } = {},
): RecordBatch[] {
  const maxRows = limits.maxRows ?? MAX_MESSAGE_ROWS;
  const maxBytes = limits.maxBytes ?? MAX_MESSAGE_BYTES;
  const n = batch.numRows;
  if (n === 0) return [batch];
  const perRow = wireBytes(batch) / n;
  const rows = Math.max(1, Math.min(maxRows, perRow > 0 ? Math.floor(maxBytes / perRow) : maxRows));
  if (rows >= n) return [batch];
  const out: RecordBatch[] = [];
  for (let start = 0; start < n; start += rows) {
    out.push(sliceBatch(batch, start, Math.min(rows, n - start)));
  }
  return out;
}

/** Writes FlightData messages to a gRPC server stream, waiting whenever too many are in flight. */
export class FlightDataSink {
  readonly #call: ServerWritableStream<unknown, unknown>;
  readonly #signal: AbortSignal;
  readonly #waiters: (() => void)[] = [];
  #inFlight = 0;
  #failed: Error | null = null;
  #encoder: FlightDataEncoder | null = null;
  /** What has been written so far. */
  readonly stats: StreamStats = {
    messages: 0,
    rows: 0,
    bytes: 0,
    maxMessageRows: 0,
    maxMessageBytes: 0,
    maxInFlight: 0,
  };

  /** A sink over a call; `signal` aborts any wait (client gone, query cancelled). */
  constructor(call: ServerWritableStream<unknown, unknown>, signal: AbortSignal) {
    this.#call = call;
    this.#signal = signal;
  }

  async #slot(): Promise<void> {
    while (this.#inFlight >= MAX_IN_FLIGHT) {
      this.#signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(this.#signal.reason);
        this.#signal.addEventListener("abort", onAbort, { once: true });
        this.#waiters.push(() => {
          this.#signal.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
    this.#signal.throwIfAborted();
    if (this.#failed) throw this.#failed;
  }

  /** Writes one message once gRPC has room for it. */
  async send(header: Uint8Array, body: Uint8Array, rows = 0): Promise<void> {
    await this.#slot();
    this.#inFlight++;
    const s = this.stats;
    s.maxInFlight = Math.max(s.maxInFlight, this.#inFlight);
    s.messages++;
    s.rows += rows;
    s.bytes += body.byteLength;
    s.maxMessageRows = Math.max(s.maxMessageRows, rows);
    s.maxMessageBytes = Math.max(s.maxMessageBytes, body.byteLength);
    // The callback runs when gRPC has passed the message on; until then it counts as in flight.
    this.#call.write({ data_header: header, data_body: body }, (err?: Error | null) => {
      if (err) this.#failed = err;
      this.#inFlight--;
      this.#waiters.shift()?.();
    });
  }

  /** Starts the stream: the schema message. */
  async start(schema: arrow.Schema): Promise<void> {
    this.#encoder = new FlightDataEncoder(schema);
    const m = this.#encoder.schemaMessage();
    await this.send(m.header, m.body);
  }

  /** Sends one apache-arrow batch (after `start`). */
  async writeArrow(batch: arrow.RecordBatch): Promise<void> {
    if (!this.#encoder) throw new Error("FlightDataSink.start must come first");
    const messages = this.#encoder.encode(batch);
    // Dictionary messages come first and carry no rows; the record batch is last.
    for (let i = 0; i < messages.length; i++) {
      await this.send(
        messages[i].header,
        messages[i].body,
        i === messages.length - 1 ? batch.numRows : 0,
      );
    }
  }

  /**
   * Sends engine batches (after `start`), split to bounded size and converted
   * to Arrow one slice at a time; the next batch is pulled only once the
   * previous one is on its way.
   */
  async writeEngine(batches: AsyncIterable<RecordBatch>): Promise<void> {
    for await (const batch of batches) {
      this.#signal.throwIfAborted();
      for (const part of splitBatch(batch)) await this.writeArrow(toArrowBatch(part));
    }
  }
}
