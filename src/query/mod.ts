/**
 * The query pipeline: SQL text -> AST -> LogicalPlan -> optimized plan ->
 * PhysicalPlan -> a stream of record batches. The same pipeline serves the
 * standalone runtime and the scheduler; only the `PlanRunner` differs
 * (in-process here, stages on executors there).
 *
 * @module
 */

import { QueryMemory } from "../exec/memory.ts";
import { type RecordBatch, recordBatch } from "../arrow/batch.ts";
import { columnFromValues } from "../arrow/column.ts";
import { type Schema, UTF8 } from "../arrow/types.ts";
import type { Catalog } from "../catalog/mod.ts";
import { MetricsSink } from "../exec/context.ts";
import { SpiceError } from "../errors.ts";
import { IdGen } from "../plan/builder.ts";
import { formatLogical, formatPhysical, type NodeFigures } from "../plan/explain.ts";
import type { LogicalPlan } from "../plan/logical.ts";
import { optimize } from "../plan/optimizer.ts";
import { type PhysicalPlan, physicalSchema } from "../physical/plan.ts";
import { createPhysicalPlan } from "../physical/planner.ts";
import { Binder, type Parameters } from "../sql/binder.ts";
import { parseSql } from "../sql/parser.ts";
import { runLocal } from "./local_runner.ts";

/** Runs a physical plan somewhere and streams the root's batches. */
export interface PlanRunner {
  run(
    plan: PhysicalPlan,
    opts: { signal: AbortSignal; metrics: MetricsSink; queryId: string; memory?: QueryMemory },
  ): AsyncIterable<RecordBatch>;
  /** Extra per-node text for EXPLAIN ANALYZE (e.g. tasks per executor). */
  describe?(queryId: string): ReadonlyMap<number, string>;
  /** Partitions to plan for now (e.g. the cluster's task slots). */
  targetPartitions?(): number;
  /**
   * The plan as the stages this runner runs it in, for EXPLAIN's third row
   * (`distributed_plan`); after EXPLAIN ANALYZE, with the query's figures.
   */
  distributedPlan?(
    plan: PhysicalPlan,
    analyzed?: { readonly queryId: string; readonly figures: ReadonlyMap<number, NodeFigures> },
  ): string;
}

/** Engine settings. */
export interface EngineOptions {
  readonly targetPartitions: number;
  readonly broadcastRows: number;
  readonly batchSize: number;
  /** runtime.query.memory_limit: the bytes one query may hold; null for no bound. */
  readonly memoryLimitBytes: number | null;
}

/** Default settings: one partition per core. */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  targetPartitions: Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1)),
  broadcastRows: Number(Deno.env.get("SPICED_BROADCAST_ROWS") ?? 2_000_000),
  batchSize: 65536,
  memoryLimitBytes: null,
};

/** A planned statement. */
export interface PlannedQuery {
  readonly kind: "query" | "explain";
  readonly analyze: boolean;
  readonly logical: LogicalPlan;
  readonly physical: PhysicalPlan;
  readonly names: readonly string[];
}

/** A running query's output. */
export interface QueryResult {
  readonly schema: Schema;
  readonly batches: AsyncIterable<RecordBatch>;
  /** The physical plan (for EXPLAIN and status pages). */
  readonly plan: PhysicalPlan;
}

/** Options of one query. */
export interface QueryOptions {
  readonly params?: Parameters;
  readonly signal?: AbortSignal;
  readonly queryId?: string;
}

/** Plans and runs SQL against a catalog. */
export class QueryEngine {
  readonly catalog: Catalog;
  readonly options: EngineOptions;
  readonly #runner: PlanRunner;

  /** An engine over `catalog`; runs plans locally unless a runner is given. */
  constructor(catalog: Catalog, options: Partial<EngineOptions> = {}, runner?: PlanRunner) {
    this.catalog = catalog;
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    this.#runner = runner ?? {
      run: (plan, o) =>
        runLocal(plan, catalog, {
          signal: o.signal,
          batchSize: this.options.batchSize,
          metrics: o.metrics,
          memory: o.memory,
        }),
    };
  }

  /** A fresh budget for one query, when runtime.query.memory_limit is set. */
  #memory(): QueryMemory | undefined {
    const limit = this.options.memoryLimitBytes;
    return limit === null ? undefined : new QueryMemory(limit);
  }

  /** Parses, binds, optimizes and physically plans one statement. */
  async plan(sql: string, params?: Parameters): Promise<PlannedQuery> {
    const stmts = await parseSql(sql);
    if (stmts.length !== 1) {
      throw new SpiceError("SQL_PARSE", `expected one statement, found ${stmts.length}`);
    }
    const ids = new IdGen();
    const bound = new Binder(this.catalog, params, ids).bindStatement(stmts[0]);
    const logical = optimize(bound.plan);
    const physical = await createPhysicalPlan(logical, {
      targetPartitions: this.#runner.targetPartitions?.() ?? this.options.targetPartitions,
      broadcastRows: this.options.broadcastRows,
      ids,
    });
    return {
      kind: bound.kind,
      analyze: bound.kind === "explain" && bound.analyze,
      logical,
      physical: renameRoot(physical, bound.names),
      names: bound.names,
    };
  }

  /** Runs one statement. */
  async query(sql: string, opts: QueryOptions = {}): Promise<QueryResult> {
    const planned = await this.plan(sql, opts.params);
    const signal = opts.signal ?? new AbortController().signal;
    const queryId = opts.queryId ?? crypto.randomUUID();
    if (planned.kind === "explain") return this.#explain(planned, signal, queryId);
    const metrics = new MetricsSink();
    return {
      schema: physicalSchema(planned.physical),
      batches: this.#runner.run(planned.physical, {
        signal,
        metrics,
        queryId,
        memory: this.#memory(),
      }),
      plan: planned.physical,
    };
  }

  async #explain(
    planned: PlannedQuery,
    signal: AbortSignal,
    queryId: string,
  ): Promise<QueryResult> {
    const schema: Schema = {
      fields: [
        { name: "plan_type", type: UTF8, nullable: false },
        { name: "plan", type: UTF8, nullable: false },
      ],
    };
    let physicalText: string;
    let distributedText: string | undefined;
    if (planned.analyze) {
      const metrics = new MetricsSink();
      const t0 = performance.now();
      let rows = 0;
      for await (
        const b of this.#runner.run(planned.physical, {
          signal,
          metrics,
          queryId,
          memory: this.#memory(),
        })
      ) {
        rows += b.numRows;
      }
      const extra = this.#runner.describe?.(queryId);
      const figures = new Map<number, NodeFigures>(
        metrics.entries().map(([id, m]) => [id, { ...m, extra: extra?.get(id) }]),
      );
      const total = `\n\nTotal: ${rows} rows in ${(performance.now() - t0).toFixed(1)} ms`;
      physicalText = formatPhysical(planned.physical, figures) + total;
      distributedText = this.#runner.distributedPlan?.(planned.physical, { queryId, figures });
      if (distributedText !== undefined) distributedText += total;
    } else {
      physicalText = formatPhysical(planned.physical);
      distributedText = this.#runner.distributedPlan?.(planned.physical);
    }
    const types = planned.analyze
      ? ["logical_plan", "physical_plan_with_metrics"]
      : ["logical_plan", "physical_plan"];
    const texts = [formatLogical(planned.logical), physicalText];
    if (distributedText !== undefined) {
      types.push(planned.analyze ? "distributed_plan_with_metrics" : "distributed_plan");
      texts.push(distributedText);
    }
    const batch = recordBatch(schema, [
      columnFromValues(UTF8, types),
      columnFromValues(UTF8, texts),
    ]);
    return {
      schema,
      batches: (async function* () {
        yield batch;
      })(),
      plan: planned.physical,
    };
  }
}

/** Gives the root's output columns the names the user asked for (SELECT aliases). */
function renameRoot(p: PhysicalPlan, names: readonly string[]): PhysicalPlan {
  if (names.length !== p.columns.length) return p;
  return { ...p, columns: p.columns.map((c, i) => ({ ...c, name: names[i] })) } as PhysicalPlan;
}
