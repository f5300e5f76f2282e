/**
 * Datasets of a spicepod: their providers in the catalog, their acceleration
 * (loaded in the background at start-up, refreshed on a schedule or on
 * demand), and the status that /v1/datasets and /v1/ready report.
 *
 * How an accelerated dataset is held depends on the node (`mode`):
 * - `load` (standalone): every unit is loaded into memory; until then the
 *   dataset is served from its source and /v1/ready answers 503.
 * - `plan` (scheduler): the units are listed and described (partition values,
 *   statistics) but not loaded; the executors hold the data. A refresh lists
 *   the source again, has the executors load the new units (`prepare`), and
 *   only then plans new queries against them.
 * - `shard` (executor): units are loaded when a task first reads them and
 *   kept (src/acceleration/shards.ts); the scheduler drives refreshes.
 *
 * A refresh creates the source again (so new files are found) and swaps the
 * new data in only once it is complete: queries keep seeing the old data
 * until then, and a query planned before the swap still reads the old data.
 *
 * @module
 */

import { AcceleratedTable, loadIntoMemory } from "../acceleration/mod.ts";
import { ShardedAcceleration, type ShardHoldings } from "../acceleration/shards.ts";
import { createTableProvider } from "../connectors/mod.ts";
import { SpiceError, toSpiceError } from "../errors.ts";
import type { DatasetSpec } from "../spicepod/mod.ts";
import type { Catalog } from "./mod.ts";
import type { TableProvider } from "./provider.ts";

/** The state of one dataset. */
export interface DatasetStatus {
  readonly name: string;
  readonly from: string;
  readonly description: string | null;
  readonly acceleration: {
    enabled: boolean;
    engine: string;
    refresh_check_interval_ms: number | null;
  } | null;
  readonly status: "initializing" | "loading" | "ready" | "refreshing" | "error";
  readonly rows: number | null;
  readonly error: string | null;
  readonly load_time_ms: number | null;
  readonly last_refresh: string | null;
  /** Executors: the units of the dataset held in memory here. */
  readonly shard?: { units: number; rows: number; bytes: number };
}

interface Entry {
  spec: DatasetSpec;
  source: TableProvider | null;
  /** The accelerated table registered now (plan and load modes). */
  table: AcceleratedTable | null;
  shard: ShardedAcceleration | null;
  status: DatasetStatus["status"];
  rows: number | null;
  error: string | null;
  loadTimeMs: number | null;
  lastRefresh: Date | null;
  loading: Promise<void> | null;
  timer: ReturnType<typeof setInterval> | null;
}

/** Events a dataset manager reports (for logs and metrics). */
export interface DatasetEvents {
  loaded?(name: string, rows: number, ms: number): void;
  failed?(name: string, error: SpiceError): void;
}

/** How this node holds accelerated datasets (see the module doc). */
export type AccelerationMode = "load" | "plan" | "shard";

/** Options of a `DatasetManager`. */
export interface DatasetManagerOptions {
  readonly parallelism: number;
  readonly events?: DatasetEvents;
  /** Legacy switch: `false` is `mode: "plan"`. */
  readonly accelerate?: boolean;
  /** How accelerated datasets are held (default "load"). */
  readonly mode?: AccelerationMode;
  /**
   * Plan mode: makes the executors load a refreshed generation before it is
   * swapped in (the scheduler runs a scan of every new unit).
   */
  readonly prepare?: (name: string, table: AcceleratedTable) => Promise<void>;
}

/** Owns the datasets of one runtime. */
export class DatasetManager {
  readonly #catalog: Catalog;
  readonly #entries: Entry[];
  readonly #parallelism: number;
  readonly #events: DatasetEvents;
  readonly #abort = new AbortController();
  readonly #mode: AccelerationMode;
  readonly #prepare: DatasetManagerOptions["prepare"];

  /** A manager for these datasets, registering them in `catalog`. */
  constructor(catalog: Catalog, specs: readonly DatasetSpec[], opts: DatasetManagerOptions) {
    this.#catalog = catalog;
    this.#mode = opts.mode ?? (opts.accelerate === false ? "plan" : "load");
    this.#parallelism = opts.parallelism;
    this.#events = opts.events ?? {};
    this.#prepare = opts.prepare;
    this.#entries = specs.map((spec) => ({
      spec,
      source: null,
      table: null,
      shard: null,
      status: "initializing",
      rows: null,
      error: null,
      loadTimeMs: null,
      lastRefresh: null,
      loading: null,
      timer: null,
    }));
  }

  /** How this manager holds accelerated datasets. */
  get mode(): AccelerationMode {
    return this.#mode;
  }

  /**
   * Creates every provider (configuration errors throw, naming the dataset)
   * and starts loading accelerated datasets in the background.
   */
  async initialize(): Promise<void> {
    await Promise.all(this.#entries.map(async (e) => {
      e.source = await this.#createSource(e);
      const accelerated = !!e.spec.acceleration?.enabled;
      if (!accelerated) {
        this.#catalog.register(e.spec.name, e.source);
        e.status = "ready";
        e.rows = e.source.statistics().numRows;
        return;
      }
      if (this.#mode === "shard") {
        e.shard = new ShardedAcceleration(e.source);
        this.#catalog.register(e.spec.name, e.shard);
        e.status = "ready";
        e.rows = e.source.statistics().numRows;
        return;
      }
      if (this.#mode === "plan") {
        e.table = await AcceleratedTable.planOnly(e.source);
        this.#catalog.register(e.spec.name, e.table);
        e.status = "ready";
        e.rows = e.source.statistics().numRows;
        e.lastRefresh = new Date();
      } else {
        // Served from its source until the acceleration is loaded.
        this.#catalog.register(e.spec.name, e.source);
        e.status = "loading";
        e.loading = this.#load(e, false);
      }
      const every = e.spec.acceleration!.refreshCheckIntervalMs;
      if (every) {
        e.timer = setInterval(() => void this.refresh(e.spec.name).catch(() => {}), every);
      }
    }));
  }

  async #createSource(e: Entry): Promise<TableProvider> {
    try {
      return await createTableProvider(e.spec);
    } catch (err) {
      const se = toSpiceError(err);
      const msg = se.message.includes(`"${e.spec.name}"`)
        ? se.message
        : `dataset "${e.spec.name}": ${se.message}`;
      throw new SpiceError(se.code === "INTERNAL" ? "CONFIG" : se.code, msg, { cause: err });
    }
  }

  /** Loads (or, with `again`, lists and loads anew) a dataset; swaps it in when complete. */
  async #load(e: Entry, again: boolean): Promise<void> {
    const t0 = performance.now();
    try {
      // A refresh lists the source again, so that new and changed files are seen.
      const source = again ? await this.#createSource(e) : e.source!;
      const salt = again ? `refresh ${Date.now()} ${Math.random()}` : "";
      let table: AcceleratedTable;
      if (this.#mode === "plan") {
        table = await AcceleratedTable.planOnly(source, { salt });
        await this.#prepare?.(e.spec.name, table);
      } else {
        table = await loadIntoMemory(source, {
          parallelism: this.#parallelism,
          signal: this.#abort.signal,
          salt,
        });
      }
      this.#abort.signal.throwIfAborted();
      // Swap in only when complete; partitions planned against the previous
      // table are still answered by it for a while.
      table.retire(this.#catalog.get(e.spec.name));
      this.#catalog.register(e.spec.name, table);
      e.source = source;
      e.table = table;
      e.rows = table.statistics().numRows;
      e.loadTimeMs = performance.now() - t0;
      e.lastRefresh = new Date();
      e.status = "ready";
      e.error = null;
      this.#events.loaded?.(e.spec.name, e.rows ?? 0, e.loadTimeMs);
    } catch (err) {
      const se = toSpiceError(err);
      // A failed refresh keeps serving the data it had.
      e.status = e.lastRefresh !== null ? "ready" : "error";
      e.error = se.message;
      this.#events.failed?.(e.spec.name, se);
      if (again) throw se;
    } finally {
      e.loading = null;
    }
  }

  /** Resolves when every accelerated dataset finished loading (or failed). */
  async whenLoaded(): Promise<void> {
    await Promise.all(this.#entries.map((e) => e.loading?.catch(() => {})));
  }

  /** True when every dataset is ready (accelerations loaded). */
  get ready(): boolean {
    return this.#entries.every((e) =>
      e.status === "ready" || (e.status === "refreshing" && e.lastRefresh !== null)
    );
  }

  /** Names of the accelerated datasets. */
  acceleratedNames(): string[] {
    return this.#entries.filter((e) => e.spec.acceleration?.enabled).map((e) => e.spec.name);
  }

  /**
   * Reloads an accelerated dataset now; resolves when the new data is in
   * place (a refresh already running is joined, not repeated).
   */
  async refresh(name: string): Promise<DatasetStatus> {
    const e = this.#entries.find((x) => x.spec.name.toLowerCase() === name.toLowerCase());
    if (!e) throw new SpiceError("NOT_FOUND", `dataset "${name}" not found`);
    if (!e.spec.acceleration?.enabled) {
      throw new SpiceError("INVALID_ARGUMENT", `dataset "${e.spec.name}" is not accelerated`);
    }
    if (this.#mode === "shard") {
      throw new SpiceError(
        "INVALID_ARGUMENT",
        `dataset "${e.spec.name}": executors hold shards that the scheduler refreshes; ` +
          "send the refresh to the scheduler",
      );
    }
    if (!e.loading) {
      if (e.status === "ready") e.status = "refreshing";
      e.loading = this.#load(e, true);
    }
    await e.loading.catch(() => {});
    if (e.error && e.lastRefresh !== null) {
      // The refresh failed but the old data is still served: say so.
      throw new SpiceError("IO", `dataset "${e.spec.name}": refresh failed: ${e.error}`);
    }
    return this.#status(e);
  }

  /** Executors: the units held, by dataset and generation (for the scheduler). */
  shardHoldings(): Record<string, ShardHoldings> {
    const out: Record<string, ShardHoldings> = {};
    for (const e of this.#entries) if (e.shard) out[e.spec.name] = e.shard.holdings();
    return out;
  }

  /** Executors: drops the units the scheduler says are no longer this node's. */
  dropShards(units: Record<string, ShardHoldings>): number {
    let n = 0;
    for (const [name, byGen] of Object.entries(units)) {
      const e = this.#entries.find((x) => x.spec.name.toLowerCase() === name.toLowerCase());
      if (e?.shard) n += e.shard.drop(byGen);
    }
    return n;
  }

  #status(e: Entry): DatasetStatus {
    const a = e.spec.acceleration;
    return {
      name: e.spec.name,
      from: e.spec.from,
      description: e.spec.description ?? null,
      acceleration: a
        ? {
          enabled: a.enabled,
          engine: a.engine,
          refresh_check_interval_ms: a.refreshCheckIntervalMs,
        }
        : null,
      status: e.status,
      rows: e.rows,
      error: e.error,
      load_time_ms: e.loadTimeMs === null ? null : Math.round(e.loadTimeMs),
      last_refresh: e.lastRefresh?.toISOString() ?? null,
      ...(e.shard ? { shard: e.shard.held } : {}),
    };
  }

  /** Every dataset's status. */
  statuses(): DatasetStatus[] {
    return this.#entries.map((e) => this.#status(e));
  }

  /** Stops refresh timers and loads. */
  close(): void {
    this.#abort.abort(new SpiceError("CANCELLED", "runtime stopping"));
    for (const e of this.#entries) if (e.timer !== null) clearInterval(e.timer);
  }
}
