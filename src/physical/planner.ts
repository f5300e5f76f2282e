/**
 * Physical planning: LogicalPlan -> partitioned PhysicalPlan. Chooses the
 * join algorithm and build side, splits aggregates into partial and final
 * around a hash exchange, turns ORDER BY ... LIMIT into a top-k per
 * partition, and inserts the exchanges (repartition, coalesce, broadcast)
 * where data must move between partitions: the stage boundaries of the
 * cluster.
 *
 * @module
 */

import { INT64 } from "../arrow/types.ts";
import { SpiceError } from "../errors.ts";
import { stateTypes } from "../exec/aggregates.ts";
import { type Expr, exprColumns, mapExpr } from "../plan/expr.ts";
import { type LogicalPlan, type OutputColumn, outputColumns } from "../plan/logical.ts";
import { estimateRows } from "../plan/stats.ts";
import type { IdGen } from "../plan/builder.ts";
import type { PhysicalPlan } from "./plan.ts";

/** Planning options. */
export interface PhysicalOptions {
  /** Partitions to aim for (task slots across the node or cluster). */
  readonly targetPartitions: number;
  /** A join side with at most this many estimated rows is broadcast rather than shuffled. */
  readonly broadcastRows: number;
  /** Fresh column ids (continues the binder's sequence). */
  readonly ids: IdGen;
}

/** Plans a logical plan. */
export function createPhysicalPlan(
  plan: LogicalPlan,
  opts: PhysicalOptions,
): Promise<PhysicalPlan> {
  return new PhysicalPlanner(opts).plan(plan);
}

class PhysicalPlanner {
  #nextNode = 1;
  constructor(private readonly opts: PhysicalOptions) {}

  #id(): number {
    return this.#nextNode++;
  }

  async plan(p: LogicalPlan): Promise<PhysicalPlan> {
    switch (p.kind) {
      case "scan":
        return await this.#scan(p);
      case "values":
        return { op: "values", id: this.#id(), columns: p.columns, rows: p.rows, partitions: 1 };
      case "empty":
        return { op: "empty", id: this.#id(), columns: p.columns, oneRow: p.oneRow, partitions: 1 };
      case "filter": {
        const input = await this.plan(p.input);
        return {
          op: "filter",
          id: this.#id(),
          input,
          predicate: p.predicate,
          columns: input.columns,
          partitions: input.partitions,
        };
      }
      case "project": {
        const input = await this.plan(p.input);
        const fused = fuseJoinOutput(p, input);
        if (fused) return fused;
        return {
          op: "project",
          id: this.#id(),
          input,
          items: p.items,
          columns: outputColumns(p),
          partitions: input.partitions,
        };
      }
      case "aggregate":
        return this.#aggregate(p, await this.plan(p.input));
      case "join":
        return this.#join(p);
      case "sort":
        return this.#sort(p, await this.plan(p.input), null);
      case "limit": {
        const fetch = p.fetch === null ? null : p.skip + p.fetch;
        if (p.input.kind === "sort" && fetch !== null) {
          // ORDER BY ... LIMIT: top-k in every partition, then a final top-k.
          const sorted = this.#sort(p.input, await this.plan(p.input.input), fetch);
          return this.#limit(sorted, p.skip, p.fetch);
        }
        let input = await this.plan(p.input);
        if (input.partitions > 1 && fetch !== null) {
          input = {
            op: "limit",
            id: this.#id(),
            input,
            skip: 0,
            fetch,
            columns: input.columns,
            partitions: input.partitions,
          };
        }
        return this.#limit(input, p.skip, p.fetch);
      }
      case "window":
        return this.#window(p, await this.plan(p.input));
      case "union": {
        const inputs = await Promise.all(p.inputs.map((i) => this.plan(i)));
        return {
          op: "union",
          id: this.#id(),
          inputs,
          inputColumns: p.inputColumns,
          columns: p.columns,
          partitions: inputs.reduce((s, i) => s + i.partitions, 0),
        };
      }
      case "max_one_row": {
        const input = this.#coalesce(await this.plan(p.input));
        return { op: "max_one_row", id: this.#id(), input, columns: input.columns, partitions: 1 };
      }
    }
  }

  async #scan(p: LogicalPlan & { kind: "scan" }): Promise<PhysicalPlan> {
    const byId = new Map(p.columns.map((c) => [c.id, c.source]));
    // Provider filters use the provider's column index as the column id.
    const filters = p.filters
      .filter((f) => [...exprColumns(f)].every((id) => byId.has(id)))
      .map((f) => mapExpr(f, (x) => (x.kind === "column" ? { ...x, id: byId.get(x.id)! } : x)));
    const scanPlan = await p.provider.planScan(filters, this.opts.targetPartitions);
    const partitions = Math.max(
      1,
      Math.min(this.opts.targetPartitions, scanPlan.partitions.length),
    );
    return {
      op: "scan",
      id: this.#id(),
      table: p.table,
      columns: p.columns.map(({ id, name, type, nullable }) => ({ id, name, type, nullable })),
      projection: p.columns.map((c) => c.source),
      filters,
      scanPartitions: scanPlan.partitions,
      pruning: scanPlan.pruning,
      partitions,
    };
  }

  #coalesce(input: PhysicalPlan): PhysicalPlan {
    if (input.partitions === 1) return input;
    return { op: "coalesce", id: this.#id(), input, columns: input.columns, partitions: 1 };
  }

  #repartition(input: PhysicalPlan, keys: readonly Expr[], partitions: number): PhysicalPlan {
    return { op: "repartition", id: this.#id(), input, keys, columns: input.columns, partitions };
  }

  #limit(input: PhysicalPlan, skip: number, fetch: number | null): PhysicalPlan {
    const one = this.#coalesce(input);
    return {
      op: "limit",
      id: this.#id(),
      input: one,
      skip,
      fetch,
      columns: one.columns,
      partitions: 1,
    };
  }

  #sort(
    p: LogicalPlan & { kind: "sort" },
    input: PhysicalPlan,
    fetch: number | null,
  ): PhysicalPlan {
    let out = input;
    if (input.partitions > 1) {
      out = {
        op: "sort",
        id: this.#id(),
        input,
        keys: p.keys,
        fetch,
        columns: input.columns,
        partitions: input.partitions,
      };
      out = this.#coalesce(out);
    }
    return {
      op: "sort",
      id: this.#id(),
      input: out,
      keys: p.keys,
      fetch,
      columns: out.columns,
      partitions: 1,
    };
  }

  #aggregate(p: LogicalPlan & { kind: "aggregate" }, input: PhysicalPlan): PhysicalPlan {
    const columns = outputColumns(p);
    const P = this.opts.targetPartitions;
    const keyCols = (cols: readonly OutputColumn[], n: number) =>
      cols.slice(0, n).map((c) =>
        ({ kind: "column", id: c.id, type: c.type, name: c.name }) as Expr
      );
    const single = (inp: PhysicalPlan): PhysicalPlan => ({
      op: "aggregate",
      id: this.#id(),
      input: inp,
      mode: "single",
      groupBy: p.groupBy,
      aggregates: p.aggregates,
      groupingSets: p.groupingSets,
      groupingId: p.groupingId,
      columns,
      partitions: inp.partitions,
    });
    if (input.partitions === 1) return single(input);
    if (p.aggregates.some((a) => a.distinct)) {
      // DISTINCT aggregates need every row of a group in one place.
      if (p.groupBy.length === 0 || p.groupingSets) return single(this.#coalesce(input));
      return single(this.#repartition(input, p.groupBy.map((g) => g.expr), P));
    }
    // Partial state columns: keys (+ grouping id), then each aggregate's state.
    const partialCols: OutputColumn[] = p.groupBy.map((g) => ({
      id: g.id,
      name: g.name,
      type: g.expr.type,
      nullable: true,
    }));
    if (p.groupingId !== null) {
      partialCols.push({ id: p.groupingId, name: "__grouping_id", type: INT64, nullable: false });
    }
    for (const a of p.aggregates) {
      for (const t of stateTypes(a)) {
        partialCols.push({
          id: this.opts.ids.next(),
          name: `${a.name}_state`,
          type: t,
          nullable: true,
        });
      }
    }
    const partial: PhysicalPlan = {
      op: "aggregate",
      id: this.#id(),
      input,
      mode: "partial",
      groupBy: p.groupBy,
      aggregates: p.aggregates,
      groupingSets: p.groupingSets,
      groupingId: p.groupingId,
      columns: partialCols,
      partitions: input.partitions,
    };
    const nKeys = p.groupBy.length + (p.groupingId !== null ? 1 : 0);
    const exchanged = nKeys === 0
      ? this.#coalesce(partial)
      : this.#repartition(partial, keyCols(partialCols, nKeys), P);
    return {
      op: "aggregate",
      id: this.#id(),
      input: exchanged,
      mode: "final",
      groupBy: p.groupBy,
      aggregates: p.aggregates,
      groupingSets: p.groupingSets,
      groupingId: p.groupingId,
      columns,
      partitions: exchanged.partitions,
    };
  }

  async #join(p: LogicalPlan & { kind: "join" }): Promise<PhysicalPlan> {
    const [left, right] = await Promise.all([this.plan(p.left), this.plan(p.right)]);
    const columns = outputColumns(p);
    const kind = p.joinKind;
    if (p.on.length === 0) {
      // No equality keys: nested loops against the whole right side.
      let l = left;
      if (kind === "right" || kind === "full") l = this.#coalesce(left);
      const r = this.#broadcast(right, l.partitions);
      return {
        op: "nested_loop_join",
        id: this.#id(),
        left: l,
        right: r,
        kind,
        filter: p.filter,
        markId: p.markId,
        nullAware: p.nullAware,
        singleMatch: p.singleMatch,
        columns,
        partitions: l.partitions,
      };
    }
    const lRows = estimateRows(p.left), rRows = estimateRows(p.right);
    let buildSide: "left" | "right";
    // The hash table goes on the smaller input, whatever the join kind,
    // except where the output follows the probe rows: marks (IN as a value),
    // scalar subqueries' single-match check, NOT IN's null-aware rule.
    const free = !p.nullAware && !p.singleMatch &&
      ["inner", "left", "right", "semi", "anti"].includes(kind);
    if (free) buildSide = lRows < rRows ? "left" : "right";
    else buildSide = kind === "right" ? "left" : "right";
    // A build side whose rows are output by whether they matched (the
    // preserved side of an outer join, the side a semi/anti join returns)
    // must see every probe row with its keys: both sides partitioned by key.
    const buildDecides = kind === "full" ||
      (buildSide === "left" ? ["left", "semi", "anti"] : ["right"]).includes(kind);
    const buildRows = buildSide === "left" ? lRows : rRows;
    const partitioned = buildDecides ||
      (buildRows > this.opts.broadcastRows && this.opts.targetPartitions > 1);
    const base = {
      op: "hash_join" as const,
      kind,
      on: p.on,
      filter: p.filter,
      nullAware: p.nullAware,
      nullsEqual: p.nullsEqual,
      markId: p.markId,
      singleMatch: p.singleMatch,
      buildSide,
      columns,
    };
    // NOT IN / IN semantics need every build row in one place (a NULL anywhere matters).
    if (buildDecides || (partitioned && !p.nullAware)) {
      const P = this.opts.targetPartitions;
      const l = this.#repartition(left, p.on.map((k) => k[0]), P);
      const r = this.#repartition(right, p.on.map((k) => k[1]), P);
      return { ...base, id: this.#id(), left: l, right: r, mode: "partitioned", partitions: P };
    }
    const probe = buildSide === "left" ? right : left;
    const build = this.#broadcast(buildSide === "left" ? left : right, probe.partitions);
    return {
      ...base,
      id: this.#id(),
      left: buildSide === "left" ? build : probe,
      right: buildSide === "left" ? probe : build,
      mode: "collect",
      partitions: probe.partitions,
    };
  }

  #broadcast(input: PhysicalPlan, partitions: number): PhysicalPlan {
    return { op: "broadcast", id: this.#id(), input, columns: input.columns, partitions };
  }

  #window(p: LogicalPlan & { kind: "window" }, input: PhysicalPlan): PhysicalPlan {
    const first = p.windows[0].partitionBy;
    const same = p.windows.every((w) =>
      w.partitionBy.length === first.length &&
      w.partitionBy.every((e, i) => JSON.stringify(e) === JSON.stringify(first[i]))
    );
    let inp: PhysicalPlan;
    if (input.partitions === 1) inp = input;
    else if (same && first.length > 0) {
      inp = this.#repartition(input, first, this.opts.targetPartitions);
    } else inp = this.#coalesce(input);
    return {
      op: "window",
      id: this.#id(),
      input: inp,
      windows: p.windows,
      columns: outputColumns(p),
      partitions: inp.partitions,
    };
  }
}

/**
 * A projection that only picks columns of a hash join's output becomes the
 * join's own output selection, so the join gathers just those columns for
 * its output rows (a key or a filtered-on column is never copied).
 */
function fuseJoinOutput(
  p: LogicalPlan & { kind: "project" },
  input: PhysicalPlan,
): PhysicalPlan | null {
  if (input.op !== "hash_join" || input.projection) return null;
  if (!["inner", "left", "right", "full"].includes(input.kind)) return null;
  const position = new Map(input.columns.map((c, i) => [c.id, i]));
  const projection: number[] = [];
  for (const item of p.items) {
    if (item.expr.kind !== "column" || item.expr.id !== item.id) return null;
    const at = position.get(item.id);
    if (at === undefined) return null;
    projection.push(at);
  }
  return { ...input, projection, columns: projection.map((i) => input.columns[i]) };
}

export { SpiceError };
