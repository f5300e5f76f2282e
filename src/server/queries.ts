/**
 * The registry of running and recent queries: what /v1/queries lists, what
 * DELETE /v1/queries/{id} cancels, and what the metrics count.
 *
 * @module
 */

import { SpiceError } from "../errors.ts";

/** The record of one query. */
export interface QueryRecord {
  readonly id: string;
  readonly sql: string;
  readonly protocol: "http" | "flight";
  state: "running" | "finished" | "failed" | "cancelled";
  readonly startedAt: Date;
  durationMs: number | null;
  rows: number | null;
  /** Bytes of the encoded result sent to the client (null while running or on failure). */
  bytes: number | null;
  error: { code: string; message: string } | null;
  /** Free-form details (stages, tasks per executor) added by the runner. */
  details: Record<string, unknown>;
  readonly controller: AbortController;
}

/** Keeps running queries and the most recent finished ones. */
export class QueryRegistry {
  readonly #running = new Map<string, QueryRecord>();
  readonly #recent: QueryRecord[] = [];
  readonly #keep: number;
  #listeners: ((q: QueryRecord) => void)[] = [];

  /** Keeps up to `keep` finished queries. */
  constructor(keep = 100) {
    this.#keep = keep;
  }

  /** Registers a new running query. */
  start(sql: string, protocol: "http" | "flight", id: string = crypto.randomUUID()): QueryRecord {
    const q: QueryRecord = {
      id,
      sql,
      protocol,
      state: "running",
      startedAt: new Date(),
      durationMs: null,
      rows: null,
      bytes: null,
      error: null,
      details: {},
      controller: new AbortController(),
    };
    this.#running.set(id, q);
    return q;
  }

  /** Marks a query finished (or failed/cancelled). */
  finish(q: QueryRecord, outcome: { rows?: number; bytes?: number; error?: SpiceError }): void {
    if (!this.#running.has(q.id)) return;
    this.#running.delete(q.id);
    q.durationMs = Date.now() - q.startedAt.getTime();
    if (outcome.error) {
      q.state = outcome.error.code === "CANCELLED" ? "cancelled" : "failed";
      q.error = { code: outcome.error.code, message: outcome.error.message };
    } else {
      q.state = "finished";
      q.rows = outcome.rows ?? 0;
    }
    if (outcome.bytes !== undefined) q.bytes = outcome.bytes;
    this.#recent.unshift(q);
    if (this.#recent.length > this.#keep) this.#recent.pop();
    for (const l of this.#listeners) l(q);
  }

  /** Records a query that already ran (protocols that report at the end, such as Flight DoGet). */
  recordFinished(
    sql: string,
    protocol: "http" | "flight",
    id: string,
    durationMs: number,
    outcome: { rows?: number; bytes?: number; error?: SpiceError },
  ): QueryRecord {
    const q = this.start(sql, protocol, this.#running.has(id) ? crypto.randomUUID() : id);
    (q as { startedAt: Date }).startedAt = new Date(Date.now() - durationMs);
    this.finish(q, outcome);
    q.durationMs = durationMs;
    return q;
  }

  /** Calls `f` for every query that ends. */
  onFinish(f: (q: QueryRecord) => void): void {
    this.#listeners.push(f);
  }

  /** Cancels a running query; false when no such running query. */
  cancel(id: string): boolean {
    const q = this.#running.get(id);
    if (!q) return false;
    q.controller.abort(new SpiceError("CANCELLED", `query ${id} was cancelled`));
    return true;
  }

  /** Running queries, oldest first. */
  running(): QueryRecord[] {
    return [...this.#running.values()];
  }

  /** Finished queries, newest first. */
  recent(): QueryRecord[] {
    return [...this.#recent];
  }

  /** A query by id (running or recent). */
  get(id: string): QueryRecord | undefined {
    return this.#running.get(id) ?? this.#recent.find((q) => q.id === id);
  }
}

/** A query record as JSON (without the controller). */
export function queryJson(q: QueryRecord): Record<string, unknown> {
  return {
    id: q.id,
    sql: q.sql,
    protocol: q.protocol,
    state: q.state,
    started_at: q.startedAt.toISOString(),
    duration_ms: q.durationMs ?? Date.now() - q.startedAt.getTime(),
    rows: q.rows,
    bytes: q.bytes,
    error: q.error,
    ...q.details,
  };
}
