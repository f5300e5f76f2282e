/**
 * Datasets of a spicepod: their providers in the catalog, their acceleration
 * (loaded in the background at start-up, refreshed on a schedule or on
 * demand), and the status that /v1/datasets and /v1/ready report.
 *
 * @module
 */

import { AcceleratedTable, loadIntoMemory } from "../acceleration/mod.ts";
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
}

interface Entry {
  spec: DatasetSpec;
  source: TableProvider | null;
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

/** Owns the datasets of one runtime. */
export class DatasetManager {
  readonly #catalog: Catalog;
  readonly #entries: Entry[];
  readonly #parallelism: number;
  readonly #events: DatasetEvents;
  readonly #abort = new AbortController();
  readonly #accelerate: boolean;

  /**
   * A manager for these datasets, registering them in `catalog`. With
   * `accelerate: false` (the scheduler, which holds no data) accelerated
   * datasets are registered by their source only.
   */
  constructor(
    catalog: Catalog,
    specs: readonly DatasetSpec[],
    opts: { parallelism: number; events?: DatasetEvents; accelerate?: boolean },
  ) {
    this.#catalog = catalog;
    this.#accelerate = opts.accelerate ?? true;
    this.#parallelism = opts.parallelism;
    this.#events = opts.events ?? {};
    this.#entries = specs.map((spec) => ({
      spec,
      source: null,
      status: "initializing",
      rows: null,
      error: null,
      loadTimeMs: null,
      lastRefresh: null,
      loading: null,
      timer: null,
    }));
  }

  /**
   * Creates every provider (configuration errors throw, naming the dataset)
   * and starts loading accelerated datasets in the background.
   */
  async initialize(): Promise<void> {
    await Promise.all(this.#entries.map(async (e) => {
      try {
        e.source = await createTableProvider(e.spec);
      } catch (err) {
        const se = toSpiceError(err);
        const msg = se.message.includes(`"${e.spec.name}"`)
          ? se.message
          : `dataset "${e.spec.name}": ${se.message}`;
        throw new SpiceError(se.code === "INTERNAL" ? "CONFIG" : se.code, msg, { cause: err });
      }
      const accel = e.spec.acceleration;
      // The scheduler plans accelerated datasets by their units (the executors hold the data);
      // elsewhere a dataset is served from its source until its acceleration is loaded.
      this.#catalog.register(
        e.spec.name,
        accel?.enabled && !this.#accelerate ? await AcceleratedTable.planOnly(e.source) : e.source,
      );
      if (accel?.enabled && this.#accelerate) {
        e.status = "loading";
        e.loading = this.#load(e);
        if (accel.refreshCheckIntervalMs) {
          e.timer = setInterval(
            () => void this.refresh(e.spec.name).catch(() => {}),
            accel.refreshCheckIntervalMs,
          );
        }
      } else {
        e.status = "ready";
        e.rows = e.source.statistics().numRows;
      }
    }));
  }

  async #load(e: Entry): Promise<void> {
    const t0 = performance.now();
    try {
      const table = await loadIntoMemory(e.source!, {
        parallelism: this.#parallelism,
        signal: this.#abort.signal,
      });
      // Swap in only when complete: running queries keep the table they planned with.
      this.#catalog.register(e.spec.name, table);
      e.rows = table.statistics().numRows;
      e.loadTimeMs = performance.now() - t0;
      e.lastRefresh = new Date();
      e.status = "ready";
      e.error = null;
      this.#events.loaded?.(e.spec.name, e.rows ?? 0, e.loadTimeMs);
    } catch (err) {
      const se = toSpiceError(err);
      e.status = "error";
      e.error = se.message;
      this.#events.failed?.(e.spec.name, se);
    } finally {
      e.loading = null;
    }
  }

  /** Resolves when every accelerated dataset finished loading (or failed). */
  async whenLoaded(): Promise<void> {
    await Promise.all(this.#entries.map((e) => e.loading));
  }

  /** True when every dataset is ready (accelerations loaded). */
  get ready(): boolean {
    return this.#entries.every((e) =>
      e.status === "ready" || (e.status === "refreshing" && e.lastRefresh !== null)
    );
  }

  /** Reloads an accelerated dataset now; resolves when the new data is in place. */
  async refresh(name: string): Promise<DatasetStatus> {
    const e = this.#entries.find((x) => x.spec.name.toLowerCase() === name.toLowerCase());
    if (!e) throw new SpiceError("NOT_FOUND", `dataset "${name}" not found`);
    if (!e.spec.acceleration?.enabled) {
      throw new SpiceError("INVALID_ARGUMENT", `dataset "${e.spec.name}" is not accelerated`);
    }
    if (!e.loading) {
      if (e.status === "ready") e.status = "refreshing";
      e.loading = this.#load(e);
    }
    await e.loading;
    return this.#status(e);
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
