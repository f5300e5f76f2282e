/**
 * Loading accelerated data onto the executors before queries need it. The
 * scheduler holds no data: its accelerated tables list the units and their
 * statistics (`AcceleratedTable.planOnly`). A warm-up is an ordinary query,
 * `SELECT COUNT(*)` over each accelerated dataset, run on the cluster: the
 * scheduler places each unit's task on the unit's owner (affinity.ts), and
 * the owner loads the unit and keeps it (src/acceleration/shards.ts). So
 * loading uses the same placement, retries and failure handling as queries.
 *
 * It runs when the scheduler first has executors (the scheduler reports
 * ready only after it), again whenever the set of executors or a dataset's
 * generation changes (so units that moved are loaded before a query needs
 * them), and for a refresh before the new generation is swapped in.
 *
 * @module
 */

import type { AcceleratedTable } from "../acceleration/mod.ts";
import { Catalog } from "../catalog/mod.ts";
import { toSpiceError } from "../errors.ts";
import { type PlanRunner, QueryEngine } from "../query/mod.ts";
import type { Scheduler } from "./scheduler.ts";

/** Settings of the warm-up loop. */
export interface WarmupOptions {
  readonly scheduler: Scheduler;
  /** The scheduler's catalog (its accelerated tables carry their generation). */
  readonly catalog: Catalog;
  /** Runs plans on the cluster. */
  readonly runner: PlanRunner;
  /** Names of the accelerated datasets. */
  readonly datasets: () => readonly string[];
  /** Whether the scheduler's datasets are listed (nothing to warm before). */
  readonly datasetsReady: () => boolean;
  readonly log: (level: "INFO" | "WARN" | "ERROR", msg: string) => void;
  /** How often membership is checked (default 500 ms). */
  readonly intervalMs?: number;
  /**
   * How long the set of executors must stay unchanged before a warm-up
   * (default 1 s): executors starting together share the first load
   * instead of one loading everything and handing half of it over.
   */
  readonly settleMs?: number;
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Keeps the executors loaded with their share of every accelerated dataset. */
export class ShardWarmup {
  readonly #opts: WarmupOptions;
  #timer: ReturnType<typeof setInterval> | null = null;
  #warmed: string | null = null;
  #running = false;
  #retryAt = 0;
  #ready = false;
  #stopped = false;
  #members = "";
  #membersSince = 0;

  /** A warm-up loop (not started). */
  constructor(opts: WarmupOptions) {
    this.#opts = opts;
  }

  /** True once every accelerated dataset was loaded onto the executors at least once. */
  get ready(): boolean {
    return this.#ready || this.#opts.datasets().length === 0;
  }

  /** Starts checking membership. */
  start(): void {
    this.#timer = setInterval(() => void this.#check(), this.#opts.intervalMs ?? 500);
    void this.#check();
  }

  /** Stops the loop. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Loads a new generation of a dataset onto the executors (before it is swapped in). */
  async prepare(name: string, table: AcceleratedTable): Promise<void> {
    const scratch = new Catalog();
    scratch.register(name, table);
    await this.#count(scratch, name);
  }

  #signature(): string {
    const ids = [...this.#opts.scheduler.executors.keys()].sort().join(",");
    const gens = this.#opts.datasets().map((n) =>
      `${n}=${(this.#opts.catalog.get(n) as { generation?: string } | undefined)?.generation}`
    );
    return `${ids}|${gens.join(",")}`;
  }

  async #check(): Promise<void> {
    if (this.#running || this.#stopped || Date.now() < this.#retryAt) return;
    const names = this.#opts.datasets();
    if (names.length === 0 || !this.#opts.datasetsReady()) return;
    if (this.#opts.scheduler.executors.size === 0) return;
    const members = [...this.#opts.scheduler.executors.keys()].sort().join(",");
    if (members !== this.#members) {
      this.#members = members;
      this.#membersSince = Date.now();
    }
    if (Date.now() - this.#membersSince < (this.#opts.settleMs ?? 1000)) return;
    const sig = this.#signature();
    if (sig === this.#warmed) return;
    this.#running = true;
    const t0 = performance.now();
    try {
      for (const n of names) await this.#count(this.#opts.catalog, n);
      this.#warmed = sig;
      if (!this.#ready) {
        this.#opts.log(
          "INFO",
          `accelerated datasets loaded on ${this.#opts.scheduler.executors.size} executor(s) in ${
            (performance.now() - t0).toFixed(0)
          } ms`,
        );
      }
      this.#ready = true;
    } catch (e) {
      if (!this.#stopped) {
        this.#opts.log("WARN", `loading accelerated data on executors: ${toSpiceError(e).message}`);
      }
      this.#retryAt = Date.now() + 2000;
    } finally {
      this.#running = false;
    }
  }

  async #count(catalog: Catalog, name: string): Promise<void> {
    const engine = new QueryEngine(catalog, {}, this.#opts.runner);
    const r = await engine.query(`SELECT COUNT(*) FROM ${quote(name)}`);
    for await (const _ of r.batches) { /* drain */ }
  }
}
