/**
 * Shuffle output kept by the executor that wrote it: per (job, stage, map
 * task, bucket) the record batches of the bucket, in memory until a byte
 * budget is passed, then spilled to a local directory as Arrow IPC. A task
 * on the same executor reads the batches as they are; a peer's Flight DoGet
 * gets them as Arrow IPC messages, encoded on the first such read and kept
 * for the next (a broadcast bucket is read by every consumer). Dropped when
 * the job ends.
 *
 * @module
 */

import { join } from "node:path";
import { type RecordBatch, wireBytes } from "../arrow/batch.ts";
import { fromArrowBatch, toArrowBatch, toArrowSchema } from "../arrow/interop.ts";
import type { Schema } from "../arrow/types.ts";
import { SpiceError } from "../errors.ts";
import {
  concatBytes,
  FlightDataDecoder,
  FlightDataEncoder,
  frameMessage,
  type IpcMessage,
  splitIpcStream,
} from "../server/flight/ipc.ts";

/** Identifies one bucket of one map task's output. */
export interface BucketKey {
  readonly job: string;
  readonly stage: number;
  readonly map: number;
  readonly bucket: number;
}

interface Bucket {
  readonly schema: Schema;
  /** The batches, while in memory. */
  batches: RecordBatch[] | null;
  /** The batches as IPC messages (schema first), once a peer asked for them. */
  messages: IpcMessage[] | null;
  /** Where the bucket was spilled, once it was. */
  file: string | null;
  /** Bytes held in memory for this bucket (batches and messages). */
  held: number;
  /** The batches' Arrow size. */
  readonly bytes: number;
  readonly rows: number;
}

/** Counters for metrics. */
export interface ShuffleStats {
  bytesWritten: number;
  rowsWritten: number;
  bytesRead: number;
  rowsRead: number;
  bytesSpilled: number;
}

/**
 * A job id as a directory name under the spill directory: letters, digits,
 * `.`, `_`, `-` (never `.` or `..`). Job ids arrive in RPCs; one like
 * `../../x` must not name a directory outside the spill directory.
 */
export function checkJobId(job: unknown): string {
  if (
    typeof job !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(job) || job === "." ||
    job === ".."
  ) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `invalid job id ${
        JSON.stringify(String(job).slice(0, 80))
      }: letters, digits, ".", "_" and "-" only`,
    );
  }
  return job;
}

function keyOf(k: BucketKey): string {
  return `${k.job}/${k.stage}/${k.map}/${k.bucket}`;
}

/** The store of one executor. */
export class ShuffleStore {
  readonly #buckets = new Map<string, Bucket>();
  readonly #budget: number;
  readonly #spillDir: string;
  #inMemory = 0;
  readonly stats: ShuffleStats = {
    bytesWritten: 0,
    rowsWritten: 0,
    bytesRead: 0,
    rowsRead: 0,
    bytesSpilled: 0,
  };

  /** A store keeping up to `memoryBudget` bytes in memory, spilling the rest under `spillDir`. */
  constructor(opts: { memoryBudget: number; spillDir: string }) {
    this.#budget = opts.memoryBudget;
    this.#spillDir = opts.spillDir;
  }

  /** Bytes held in memory now. */
  get inMemoryBytes(): number {
    return this.#inMemory;
  }

  /** Stores a bucket's batches (all of `schema`); returns their Arrow size in bytes. */
  async put(k: BucketKey, schema: Schema, batches: RecordBatch[]): Promise<number> {
    let bytes = 0, rows = 0;
    for (const b of batches) {
      bytes += wireBytes(b);
      rows += b.numRows;
    }
    const b: Bucket = { schema, batches, messages: null, file: null, held: bytes, bytes, rows };
    const key = keyOf(k);
    const old = this.#buckets.get(key);
    if (old) await this.#drop(old);
    this.#buckets.set(key, b);
    this.stats.bytesWritten += bytes;
    this.stats.rowsWritten += rows;
    this.#inMemory += bytes;
    if (this.#inMemory > this.#budget) await this.#spill(k, b);
    return bytes;
  }

  async #spill(k: BucketKey, b: Bucket): Promise<void> {
    const dir = join(this.#spillDir, checkJobId(k.job));
    await Deno.mkdir(dir, { recursive: true });
    const file = join(dir, `${k.stage}-${k.map}-${k.bucket}.arrows`);
    // Spilled as it is stored: no peer has asked for it yet, so it has no messages.
    const messages = encode(b.schema, b.batches!);
    await Deno.writeFile(file, concatBytes(messages.map((m) => frameMessage(m.header, m.body))));
    b.file = file;
    this.#release(b);
    this.stats.bytesSpilled += b.bytes;
  }

  #release(b: Bucket): void {
    this.#inMemory -= b.held;
    b.held = 0;
    b.batches = null;
    b.messages = null;
  }

  async #drop(b: Bucket): Promise<void> {
    this.#release(b);
    if (b.file) await Deno.remove(b.file).catch(() => {});
  }

  #bucket(k: BucketKey): Bucket {
    const b = this.#buckets.get(keyOf(k));
    if (!b) {
      throw new SpiceError("NOT_FOUND", `shuffle output ${keyOf(k)} is not on this executor`);
    }
    this.stats.bytesRead += b.bytes;
    this.stats.rowsRead += b.rows;
    return b;
  }

  /** A bucket's batches, for a task on this executor; NOT_FOUND when it is not here. */
  async batches(k: BucketKey): Promise<RecordBatch[]> {
    const b = this.#bucket(k);
    if (b.batches) return b.batches;
    // Not in memory: spilled, and its messages were released with it.
    const messages = splitIpcStream(await Deno.readFile(b.file!));
    const decoder = new FlightDataDecoder();
    const out: RecordBatch[] = [];
    for (const m of messages) {
      const batch = decoder.push(m.header, m.body);
      if (batch) out.push(fromArrowBatch(batch, b.schema));
    }
    return out;
  }

  /**
   * A bucket as Arrow IPC messages (the schema message first), for a peer's
   * DoGet; NOT_FOUND when it is not here (lost or never written).
   */
  async read(k: BucketKey): Promise<IpcMessage[]> {
    const b = this.#bucket(k);
    if (b.messages) return b.messages;
    if (!b.batches) return splitIpcStream(await Deno.readFile(b.file!));
    const messages = encode(b.schema, b.batches);
    b.messages = messages;
    let n = 0;
    for (const m of messages) n += m.header.byteLength + m.body.byteLength;
    b.held += n;
    this.#inMemory += n;
    return messages;
  }

  /** Drops every bucket of a job. */
  async removeJob(job: string): Promise<void> {
    checkJobId(job);
    for (const [key, b] of this.#buckets) {
      if (key.startsWith(job + "/")) {
        await this.#drop(b);
        this.#buckets.delete(key);
      }
    }
    await Deno.remove(join(this.#spillDir, job), { recursive: true }).catch(() => {});
  }

  /** Jobs with data here (for tests and status). */
  jobs(): string[] {
    return [...new Set([...this.#buckets.keys()].map((k) => k.split("/")[0]))];
  }
}

function encode(schema: Schema, batches: readonly RecordBatch[]): IpcMessage[] {
  const encoder = new FlightDataEncoder(toArrowSchema(schema));
  const out = [encoder.schemaMessage()];
  for (const b of batches) out.push(...encoder.encode(toArrowBatch(b)));
  return out;
}
