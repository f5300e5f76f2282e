/**
 * Memory figures for issue 10's target: the size of the accelerated data as
 * Arrow typed arrays, and the process's peak RSS.
 *
 * @module
 */

import type { RecordBatch } from "../../src/arrow/batch.ts";
import type { Column } from "../../src/arrow/column.ts";

/** A table that holds its rows in memory (an accelerated table, a memory table). */
export interface HeldTable {
  readonly batches: readonly RecordBatch[];
}

/** Sizes of in-memory tables. */
export interface ArrowSize {
  /** Sum of byteLength of every distinct typed array (values, validity, offsets, data, indices). */
  readonly bytes: number;
  /** Per table, same rule. */
  readonly byTable: Readonly<Record<string, number>>;
  /** Sum of byteLength of the distinct ArrayBuffers behind them (what stays allocated). */
  readonly retainedBytes: number;
}

function columnArrays(col: Column, out: (a: ArrayBufferView) => void): void {
  if (col.validity) out(col.validity);
  switch (col.enc) {
    case "num":
      out(col.values);
      return;
    case "utf8":
      out(col.offsets);
      out(col.data);
      return;
    case "dict":
      out(col.indices);
      // Every batch of a column points at the same dictionary object: the set
      // of arrays below counts its buffers once.
      columnArrays(col.dict, out);
      return;
  }
}

/**
 * The in-memory size of accelerated tables. Arrays are deduplicated by
 * identity, so a dictionary shared by all batches of a column counts once.
 */
export function arrowSize(tables: ReadonlyMap<string, HeldTable>): ArrowSize {
  const buffers = new Set<ArrayBufferLike>();
  const byTable: Record<string, number> = {};
  let bytes = 0;
  for (const [name, table] of tables) {
    const seen = new Set<ArrayBufferView>();
    let n = 0;
    for (const b of table.batches) {
      for (const c of b.columns) {
        columnArrays(c, (a) => {
          if (seen.has(a)) return;
          seen.add(a);
          n += a.byteLength;
          buffers.add(a.buffer);
        });
      }
    }
    byTable[name] = n;
    bytes += n;
  }
  let retainedBytes = 0;
  for (const b of buffers) retainedBytes += b.byteLength;
  return { bytes, byTable, retainedBytes };
}

/** The peak resident set size of a process from /proc (Linux's VmHWM), or null elsewhere. */
export async function procPeakRss(pid: number | "self" = "self"): Promise<number | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Samples `Deno.memoryUsage().rss` on a timer and on demand, keeping the
 * peak and named marks. The timer catches growth inside a long query (our
 * operators await between batches, so it gets to run); explicit samples at
 * the end of each load and query catch what the timer's period would miss.
 */
export class RssSampler {
  #peak = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  readonly #marks: Record<string, number> = {};

  /** Starts sampling every `intervalMs` milliseconds. */
  start(intervalMs = 20): void {
    this.sample();
    this.#timer ??= setInterval(() => this.sample(), intervalMs);
  }

  /** Takes one sample; returns the current RSS in bytes. */
  sample(): number {
    const rss = Deno.memoryUsage().rss;
    if (rss > this.#peak) this.#peak = rss;
    return rss;
  }

  /** Records the current RSS under a name (e.g. "after_ours_load"). */
  mark(name: string): number {
    return this.#marks[name] = this.sample();
  }

  /** Stops the timer. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** The highest RSS sampled, in bytes. */
  get peak(): number {
    return this.#peak;
  }

  /** The named samples, in bytes. */
  get marks(): Readonly<Record<string, number>> {
    return { ...this.#marks };
  }
}
