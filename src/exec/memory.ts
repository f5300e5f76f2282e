/**
 * The per-query memory bound (`runtime.query.memory_limit`): the bytes an
 * operator holds for the whole query (a hash join's build side, a sort's
 * input, an aggregate's groups) are reserved here before they are kept, and
 * a reservation past the limit fails the query with RESOURCES_EXHAUSTED
 * instead of letting the process grow until the OS kills it. The count
 * lives in a SharedArrayBuffer, so the worker threads of one query draw on
 * one budget; on a cluster each executor bounds its own share of a query.
 * Reservations last until the query ends (the budget is dropped with it).
 *
 * @module
 */

import { SpiceError } from "../errors.ts";

/** What a worker needs to draw on a query's budget. */
export interface SharedMemoryBudget {
  readonly limitBytes: number;
  readonly counter: SharedArrayBuffer;
}

/** A query's memory budget. */
export class QueryMemory {
  readonly limitBytes: number;
  readonly #kib: Int32Array;
  readonly #counter: SharedArrayBuffer;

  /** A budget of `limitBytes`, or one drawing on a shared counter. */
  constructor(limitBytes: number, counter = new SharedArrayBuffer(4)) {
    this.limitBytes = limitBytes;
    this.#counter = counter;
    this.#kib = new Int32Array(counter);
  }

  /** The budget from its shared form (in a worker). */
  static attach(shared: SharedMemoryBudget): QueryMemory {
    return new QueryMemory(shared.limitBytes, shared.counter);
  }

  /** The shared form, to post to workers. */
  shared(): SharedMemoryBudget {
    return { limitBytes: this.limitBytes, counter: this.#counter };
  }

  /** Bytes reserved so far. */
  get usedBytes(): number {
    return Atomics.load(this.#kib, 0) * 1024;
  }

  /** Reserves `bytes` for `what`; RESOURCES_EXHAUSTED when the limit would be passed. */
  reserve(bytes: number, what: string): void {
    const kib = Math.ceil(bytes / 1024);
    if (kib <= 0) return;
    const now = Atomics.add(this.#kib, 0, kib) + kib;
    if (now * 1024 > this.limitBytes) {
      Atomics.sub(this.#kib, 0, kib);
      throw new SpiceError(
        "RESOURCES_EXHAUSTED",
        `query exceeded its memory limit of ${formatBytes(this.limitBytes)} ` +
          `(runtime.query.memory_limit) while ${what}; filter or aggregate earlier, or raise the limit`,
      );
    }
  }
}

function formatBytes(n: number): string {
  for (const [unit, size] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (n >= size) return `${+(n / size).toFixed(1)} ${unit}`;
  }
  return `${n} bytes`;
}
