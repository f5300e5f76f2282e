/**
 * Admission control: at most `maxConcurrent` queries run at once
 * (`runtime.query.max_concurrent`); the next ones wait in a bounded FIFO
 * queue for at most `queueTimeoutMs`; beyond the queue a query is refused at
 * once with RESOURCES_EXHAUSTED (HTTP 429, gRPC RESOURCE_EXHAUSTED). Every
 * query of every protocol (HTTP /v1/sql, Flight SQL) goes through the same
 * gate, which also counts what is in flight so that a graceful shutdown can
 * close the gate and wait for the running queries to finish.
 *
 * ```ts
 * const gate = new Admission({ maxConcurrent: 4 });
 * const release = await gate.acquire(signal);
 * try {
 *   // run the query
 * } finally {
 *   release();
 * }
 * ```
 *
 * @module
 */

import { SpiceError } from "../errors.ts";

/** Settings of the gate. */
export interface AdmissionOptions {
  /** Queries running at once; `null` or `Infinity` = no limit (the gate only counts). */
  readonly maxConcurrent?: number | null;
  /** Queries waiting at most (default 4 x maxConcurrent, at least 16). */
  readonly maxQueued?: number;
  /** Longest wait in the queue, in milliseconds (default 30 s). */
  readonly queueTimeoutMs?: number;
}

/** Counters of the gate (for /v1/status and metrics). */
export interface AdmissionStats {
  readonly running: number;
  readonly queued: number;
  readonly maxConcurrent: number | null;
  readonly maxQueued: number;
  readonly admitted: number;
  /** Refused because the queue was full. */
  readonly rejected: number;
  /** Gave up waiting in the queue. */
  readonly timedOut: number;
}

interface Waiter {
  readonly grant: () => void;
  readonly fail: (e: unknown) => void;
}

/** A FIFO counting semaphore with a bounded queue and a bounded wait. */
export class Admission {
  readonly #max: number;
  readonly #maxQueued: number;
  readonly #queueTimeoutMs: number;
  readonly #queue: Waiter[] = [];
  #running = 0;
  #admitted = 0;
  #rejected = 0;
  #timedOut = 0;
  #closed: SpiceError | null = null;
  #idle: (() => void)[] = [];

  /** A gate with these limits. */
  constructor(opts: AdmissionOptions = {}) {
    const max = opts.maxConcurrent ?? Infinity;
    if (!(max >= 1)) throw new RangeError("maxConcurrent must be at least 1");
    this.#max = max;
    this.#maxQueued = opts.maxQueued ??
      (Number.isFinite(max) ? Math.max(16, 4 * max) : 0);
    this.#queueTimeoutMs = opts.queueTimeoutMs ?? 30_000;
  }

  /** Current counters. */
  get stats(): AdmissionStats {
    return {
      running: this.#running,
      queued: this.#queue.length,
      maxConcurrent: Number.isFinite(this.#max) ? this.#max : null,
      maxQueued: this.#maxQueued,
      admitted: this.#admitted,
      rejected: this.#rejected,
      timedOut: this.#timedOut,
    };
  }

  /**
   * Waits for a slot; resolves with the function that frees it (idempotent).
   * Rejects with RESOURCES_EXHAUSTED when the queue is full or the wait
   * times out, with the signal's reason when it aborts, and with UNAVAILABLE
   * once the gate is closed.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#running < this.#max && this.#queue.length === 0) {
      return Promise.resolve(this.#take());
    }
    if (this.#queue.length >= this.#maxQueued) {
      this.#rejected++;
      return Promise.reject(
        new SpiceError(
          "RESOURCES_EXHAUSTED",
          `too many concurrent queries: ${this.#running} running and ${this.#queue.length} queued ` +
            `(runtime.query.max_concurrent is ${this.#max}); retry later`,
        ),
      );
    }
    return new Promise<() => void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#timedOut++;
        waiter.fail(
          new SpiceError(
            "RESOURCES_EXHAUSTED",
            `query waited ${this.#queueTimeoutMs} ms for one of ${this.#max} query slots ` +
              `(runtime.query.max_concurrent) and gave up; retry later`,
          ),
        );
      }, this.#queueTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
      };
      const waiter: Waiter = {
        grant: () => {
          done();
          resolve(this.#take());
        },
        fail: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = () => waiter.fail(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #take(): () => void {
    this.#running++;
    this.#admitted++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#next();
    };
  }

  #next(): void {
    while (this.#running < this.#max && this.#queue.length > 0) {
      this.#queue[0].grant(); // removes itself from the queue
    }
    if (this.#running === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const f of idle) f();
    }
  }

  /**
   * Stops admitting: queued and later queries fail with UNAVAILABLE and
   * `message`; running ones continue.
   */
  close(message = "spiced is shutting down and accepts no new queries"): void {
    if (this.#closed) return;
    this.#closed = new SpiceError("UNAVAILABLE", message);
    for (const w of [...this.#queue]) w.fail(this.#closed);
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closed !== null;
  }

  /** Resolves true when no query is running, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const f = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idle = this.#idle.filter((g) => g !== f);
        resolve(false);
      }, timeoutMs);
      this.#idle.push(f);
    });
  }
}
