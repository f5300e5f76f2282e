/**
 * Shuffle output kept by the executor that wrote it: per (job, stage, map
 * task, bucket) the Arrow IPC messages of the bucket, in memory until a byte
 * budget is passed, then spilled to a local directory. Served to consumers by
 * Flight DoGet as stored (no re-encoding), and dropped when the job ends.
 *
 * @module
 */

import { join } from "node:path";
import { SpiceError } from "../errors.ts";
import {
  concatBytes,
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
  messages: IpcMessage[] | null;
  file: string | null;
  bytes: number;
  rows: number;
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

  /** Stores a bucket (schema message first, then batch messages). */
  async put(k: BucketKey, messages: IpcMessage[], rows: number): Promise<number> {
    let bytes = 0;
    for (const m of messages) bytes += m.header.byteLength + m.body.byteLength;
    const b: Bucket = { messages, file: null, bytes, rows };
    const key = keyOf(k);
    const old = this.#buckets.get(key);
    if (old) await this.#drop(old);
    this.#buckets.set(key, b);
    this.stats.bytesWritten += bytes;
    this.stats.rowsWritten += rows;
    if (this.#inMemory + bytes > this.#budget) await this.#spill(k, b);
    else this.#inMemory += bytes;
    return bytes;
  }

  async #spill(k: BucketKey, b: Bucket): Promise<void> {
    const dir = join(this.#spillDir, checkJobId(k.job));
    await Deno.mkdir(dir, { recursive: true });
    const file = join(dir, `${k.stage}-${k.map}-${k.bucket}.arrows`);
    await Deno.writeFile(file, concatBytes(b.messages!.map((m) => frameMessage(m.header, m.body))));
    b.file = file;
    b.messages = null;
    this.stats.bytesSpilled += b.bytes;
  }

  async #drop(b: Bucket): Promise<void> {
    if (b.messages) this.#inMemory -= b.bytes;
    if (b.file) await Deno.remove(b.file).catch(() => {});
    b.messages = null;
  }

  /** The messages of a bucket; NOT_FOUND when it is not here (lost or never written). */
  async read(k: BucketKey): Promise<IpcMessage[]> {
    const b = this.#buckets.get(keyOf(k));
    if (!b) {
      throw new SpiceError("NOT_FOUND", `shuffle output ${keyOf(k)} is not on this executor`);
    }
    this.stats.bytesRead += b.bytes;
    this.stats.rowsRead += b.rows;
    if (b.messages) return b.messages;
    return splitIpcStream(await Deno.readFile(b.file!));
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
