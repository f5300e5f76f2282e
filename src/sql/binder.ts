/**
 * The binder: sqlparser-rs AST -> LogicalPlan. Resolves names against the
 * catalog, types every expression (DuckDB's rules, see plan/coercion.ts),
 * plans aggregates, windows, set operations and CTEs, and turns subqueries
 * into joins (semi/anti/mark/left) with decorrelation.
 *
 * @module
 */

import type { Value } from "../arrow/column.ts";
import {
  BOOL,
  type DataType,
  DATE32,
  decimal,
  FLOAT64,
  INT32,
  INT64,
  INTERVAL,
  NULL,
  TIMESTAMP,
  typeEquals,
  typeToString,
  UTF8,
} from "../arrow/types.ts";
import type { Catalog } from "../catalog/mod.ts";
import { SpiceError } from "../errors.ts";
import { equiPair, filter, IdGen, join, project, splitJoinCondition } from "../plan/builder.ts";
import { binarySignature, canCast, requireCommonType } from "../plan/coercion.ts";
import {
  type AggFn,
  type AggregateCall,
  andAll,
  type BinaryOp,
  col,
  conjuncts,
  type Expr,
  exprColumns,
  exprKey,
  type IntervalValue,
  lit,
  mapExpr,
  substitute,
  type UnaryOp,
} from "../plan/expr.ts";
import {
  aggregateName,
  aggregateResultType,
  DATE_PART_FUNCTIONS,
  isScalarFunction,
  resolveFunction,
  windowFunctionType,
} from "../plan/functions.ts";
import {
  type LogicalPlan,
  type OutputColumn,
  outputColumns,
  outputIds,
  type ProjectItem,
  type SortKey,
  type WindowCall,
  type WindowFrame,
} from "../plan/logical.ts";
import { foldExpr } from "../plan/rules/fold_constants.ts";
import { decorrelate, decorrelateWithDomain, outerReferences } from "./decorrelate.ts";
import {
  normaliseUnit,
  parseDate,
  parseInterval,
  parseNumber,
  parseTimestamp,
} from "./literals.ts";
import { type Ast, payload, variant } from "./parser.ts";
import { Scope, type ScopeColumn } from "./scope.ts";

/** Values for `$1` / `?` (array) or `:name` (object) parameters. */
export type Parameters = readonly Value[] | Readonly<Record<string, Value>>;

/** A bound statement. */
export type BoundStatement =
  | { readonly kind: "query"; readonly plan: LogicalPlan; readonly names: readonly string[] }
  | {
    readonly kind: "explain";
    readonly analyze: boolean;
    readonly verbose: boolean;
    readonly plan: LogicalPlan;
    readonly names: readonly string[];
  };

/** A bound query: its plan and the visible output columns (names and ids). */
interface BoundQuery {
  readonly plan: LogicalPlan;
  readonly columns: readonly OutputColumn[];
}

/** A deferred change to the plan that an expression's subquery needs (a join). */
type PlanOp = (input: LogicalPlan, rewrite: (e: Expr) => Expr) => LogicalPlan;

/** Aggregates found while binding post-aggregation expressions. */
class AggregateRegistry {
  readonly calls: AggregateCall[] = [];
  #byKey = new Map<string, AggregateCall>();
  constructor(readonly ids: IdGen) {}
  add(
    fn: AggFn,
    args: Expr[],
    distinct: boolean,
    filterExpr: Expr | null,
    type: DataType,
    name: string,
  ): Expr {
    const key = `${fn}|${distinct}|${args.map(exprKey).join(",")}|${
      filterExpr ? exprKey(filterExpr) : ""
    }`;
    let call = this.#byKey.get(key);
    if (!call) {
      call = { id: this.ids.next(), fn, args, distinct, filter: filterExpr, type, name };
      this.calls.push(call);
      this.#byKey.set(key, call);
    }
    return col(call.id, call.type, name);
  }
}

/** Expression binding context. */
interface ExprContext {
  readonly scope: Scope;
  /** Collects aggregates when aggregates are allowed here. */
  readonly aggs: AggregateRegistry | null;
  /** Collects window calls when windows are allowed here. */
  readonly windows: WindowCall[] | null;
  /** Collects joins that subqueries in the expression need. */
  readonly ops: PlanOp[] | null;
  /** Rewrites a post-aggregation expression onto group keys (identity elsewhere). */
  readonly rewrite: (e: Expr) => Expr;
  /** Where we are, for error messages ("WHERE", "GROUP BY", ...). */
  readonly clause: string;
}

interface CteDef {
  readonly query: Ast;
  readonly columns: readonly string[];
  /** Position in its WITH list (a CTE may refer to the ones before it). */
  readonly index: number;
}

const COMPARISONS: Record<string, BinaryOp> = {
  Eq: "=",
  NotEq: "<>",
  Lt: "<",
  LtEq: "<=",
  Gt: ">",
  GtEq: ">=",
  Spaceship: "is_not_distinct",
};

const ARITHMETIC: Record<string, BinaryOp> = {
  Plus: "+",
  Minus: "-",
  Multiply: "*",
  Divide: "/",
  Modulo: "%",
  DuckIntegerDivide: "//",
  MyIntegerDivide: "//",
  StringConcat: "||",
  And: "and",
  Or: "or",
  ...COMPARISONS,
};

/** Binds statements against a catalog. */
export class Binder {
  readonly #catalog: Catalog;
  readonly #params: Parameters | undefined;
  readonly #ids: IdGen;
  #ctes: Map<string, CteDef>[] = [];
  #positional = 0;

  /** A binder over a catalog, with optional query parameters. */
  constructor(catalog: Catalog, params?: Parameters, ids: IdGen = new IdGen()) {
    this.#catalog = catalog;
    this.#params = params;
    this.#ids = ids;
  }

  /** The id generator (the optimizer continues from it). */
  get ids(): IdGen {
    return this.#ids;
  }

  /** Binds one statement. */
  bindStatement(stmt: Ast): BoundStatement {
    const kind = variant(stmt);
    if (kind === "Query") {
      const q = this.#bindQuery(payload(stmt), null);
      return { kind: "query", plan: q.plan, names: q.columns.map((c) => c.name) };
    }
    if (kind === "Explain") {
      const e = payload(stmt);
      const inner = e.statement;
      if (variant(inner) !== "Query") {
        throw new SpiceError("NOT_SUPPORTED", `not supported: EXPLAIN of ${variant(inner)}`);
      }
      const q = this.#bindQuery(payload(inner), null);
      return {
        kind: "explain",
        analyze: !!e.analyze,
        verbose: !!e.verbose,
        plan: q.plan,
        names: q.columns.map((c) => c.name),
      };
    }
    throw new SpiceError(
      "NOT_SUPPORTED",
      `not supported: ${kind} statements (spiced is read-only: use SELECT)`,
    );
  }

  // -------------------------------------------------------------------------
  // queries

  #bindQuery(q: Ast, outer: Scope | null): BoundQuery {
    const pushed = !!q.with;
    if (q.with) {
      if (q.with.recursive) throw new SpiceError("NOT_SUPPORTED", "not supported: WITH RECURSIVE");
      const frame = new Map<string, CteDef>();
      this.#ctes.push(frame);
      for (const cte of q.with.cte_tables) {
        const name = cte.alias.name.value.toLowerCase();
        frame.set(name, {
          query: cte.query,
          columns: (cte.alias.columns ?? []).map((c: Ast) => c.name?.value ?? c.value),
          index: frame.size,
        });
      }
    }
    try {
      const orderBy = q.order_by?.kind ? payload(q.order_by.kind) : null;
      if (q.order_by && variant(q.order_by.kind) !== "Expressions") {
        throw new SpiceError("NOT_SUPPORTED", "not supported: ORDER BY ALL");
      }
      const limit = this.#limitClause(q);
      const body = q.body;
      if (variant(body) === "Select") {
        return this.#bindSelect(payload(body), outer, orderBy ?? [], limit);
      }
      let bound = this.#bindSetExpr(body, outer);
      if (orderBy && orderBy.length) bound = this.#orderSetResult(bound, orderBy, outer);
      if (limit) bound = { ...bound, plan: { kind: "limit", input: bound.plan, ...limit } };
      return bound;
    } finally {
      if (pushed) this.#ctes.pop();
    }
  }

  #limitClause(q: Ast): { skip: number; fetch: number | null } | null {
    let fetch: number | null = null;
    let skip = 0;
    const lc = q.limit_clause;
    if (lc) {
      const v = variant(lc);
      const p = payload(lc);
      if (v === "LimitOffset") {
        if (p.limit) fetch = this.#constInt(p.limit, "LIMIT");
        if (p.offset) skip = this.#constInt(p.offset.value, "OFFSET");
        if (p.limit_by?.length) throw new SpiceError("NOT_SUPPORTED", "not supported: LIMIT BY");
      } else if (v === "OffsetCommaLimit") {
        skip = this.#constInt(p.offset, "OFFSET");
        fetch = this.#constInt(p.limit, "LIMIT");
      }
    }
    if (q.fetch) {
      if (q.fetch.percent || q.fetch.with_ties) {
        throw new SpiceError("NOT_SUPPORTED", "not supported: FETCH ... PERCENT / WITH TIES");
      }
      fetch = q.fetch.quantity ? this.#constInt(q.fetch.quantity, "FETCH") : 1;
    }
    if (fetch === null && skip === 0) return null;
    return { skip, fetch };
  }

  #constInt(ast: Ast, what: string): number {
    const e = this.#bindExpr(ast, this.#plainContext(new Scope([]), what));
    if (e.kind === "literal" && e.value === null) return Number.MAX_SAFE_INTEGER;
    if (
      e.kind !== "literal" || typeof e.value !== "number" || !Number.isInteger(e.value) ||
      e.value < 0
    ) {
      throw new SpiceError("PLAN", `${what} must be a non-negative integer constant`);
    }
    return e.value;
  }

  #plainContext(scope: Scope, clause: string, ops: PlanOp[] | null = null): ExprContext {
    return { scope, aggs: null, windows: null, ops, rewrite: (e) => e, clause };
  }

  // -------------------------------------------------------------------------
  // set operations

  #bindSetExpr(body: Ast, outer: Scope | null): BoundQuery {
    switch (variant(body)) {
      case "Select":
        return this.#bindSelect(payload(body), outer, [], null);
      case "Query":
        return this.#bindQuery(payload(body), outer);
      case "Values":
        return this.#bindValues(payload(body), outer);
      case "SetOperation": {
        const s = payload(body);
        const left = this.#bindSetExpr(s.left, outer);
        const right = this.#bindSetExpr(s.right, outer);
        const quant = s.set_quantifier;
        const all = quant === "All" || quant === "AllByName";
        if (quant === "ByName" || quant === "AllByName" || quant === "DistinctByName") {
          throw new SpiceError("NOT_SUPPORTED", "not supported: UNION BY NAME");
        }
        return this.#setOperation(s.op, all, left, right);
      }
      case "Table":
        throw new SpiceError("NOT_SUPPORTED", "not supported: TABLE statement");
      default:
        throw new SpiceError("NOT_SUPPORTED", `not supported: ${variant(body)} in a query`);
    }
  }

  #setOperation(op: string, all: boolean, left: BoundQuery, right: BoundQuery): BoundQuery {
    const lc = left.columns, rc = right.columns;
    if (lc.length !== rc.length) {
      throw new SpiceError(
        "PLAN",
        `${op.toUpperCase()} inputs have different column counts (${lc.length} and ${rc.length})`,
      );
    }
    const types = lc.map((c, i) => requireCommonType(c.type, rc[i].type, `${op} columns of`));
    const l = this.#castColumns(left, types);
    const r = this.#castColumns(right, types);
    if (op === "Union") {
      const columns = lc.map((c, i) => ({
        id: this.#ids.next(),
        name: c.name,
        type: types[i],
        nullable: true,
      }));
      const plan: LogicalPlan = {
        kind: "union",
        inputs: [l.plan, r.plan],
        columns,
        inputColumns: [l.columns.map((c) => c.id), r.columns.map((c) => c.id)],
      };
      const bound = { plan, columns };
      return all ? bound : this.#distinct(bound);
    }
    if (op !== "Intersect" && op !== "Except") {
      throw new SpiceError("NOT_SUPPORTED", `not supported: set operation ${op}`);
    }
    let lq = l, rq = r;
    const on: [Expr, Expr][] = [];
    if (all) {
      // Multiset semantics: number the copies of each row on both sides and
      // match copy k with copy k.
      lq = this.#numberDuplicates(l);
      rq = this.#numberDuplicates(r);
    } else {
      lq = this.#distinct(l);
    }
    for (let i = 0; i < lq.columns.length; i++) {
      const a = lq.columns[i], b = rq.columns[i];
      on.push([col(a.id, a.type, a.name), col(b.id, b.type, b.name)]);
    }
    const plan = join(lq.plan, rq.plan, op === "Intersect" ? "semi" : "anti", {
      on,
      nullsEqual: true,
    });
    let out: BoundQuery = { plan, columns: lq.columns };
    if (all) {
      const keep = lq.columns.slice(0, -1);
      out = {
        plan: project(
          plan,
          keep.map((c) => ({ id: c.id, name: c.name, expr: col(c.id, c.type, c.name) })),
        ),
        columns: keep,
      };
    }
    return out;
  }

  #numberDuplicates(q: BoundQuery): BoundQuery {
    const rn: WindowCall = {
      id: this.#ids.next(),
      name: "__rn",
      fn: "row_number",
      args: [],
      partitionBy: q.columns.map((c) => col(c.id, c.type, c.name)),
      orderBy: [],
      frame: null,
      type: INT64,
    };
    return {
      plan: { kind: "window", input: q.plan, windows: [rn] },
      columns: [...q.columns, { id: rn.id, name: rn.name, type: INT64, nullable: false }],
    };
  }

  #castColumns(q: BoundQuery, types: readonly DataType[]): BoundQuery {
    if (q.columns.every((c, i) => typeEquals(c.type, types[i]))) return q;
    const items: ProjectItem[] = q.columns.map((c, i) => {
      const e = col(c.id, c.type, c.name);
      if (typeEquals(c.type, types[i])) return { id: c.id, name: c.name, expr: e };
      return { id: this.#ids.next(), name: c.name, expr: castTo(e, types[i]) };
    });
    return {
      plan: project(q.plan, items),
      columns: items.map((it) => ({
        id: it.id,
        name: it.name,
        type: it.expr.type,
        nullable: true,
      })),
    };
  }

  #distinct(q: BoundQuery): BoundQuery {
    const groupBy = q.columns.map((c) => ({
      id: this.#ids.next(),
      name: c.name,
      expr: col(c.id, c.type, c.name),
    }));
    const plan: LogicalPlan = {
      kind: "aggregate",
      input: q.plan,
      groupBy,
      aggregates: [],
      groupingSets: null,
      groupingId: null,
    };
    return {
      plan,
      columns: groupBy.map((g) => ({ id: g.id, name: g.name, type: g.expr.type, nullable: true })),
    };
  }

  #orderSetResult(q: BoundQuery, orderBy: Ast[], outer: Scope | null): BoundQuery {
    const scope = new Scope(
      q.columns.map((c) => ({
        qualifier: null,
        name: c.name,
        id: c.id,
        type: c.type,
        nullable: c.nullable,
      })),
      outer,
    );
    const keys: SortKey[] = orderBy.map((o: Ast) => {
      const ord = this.#ordinal(o.expr, q.columns.length);
      const expr = ord !== null
        ? col(q.columns[ord].id, q.columns[ord].type, q.columns[ord].name)
        : this.#bindExpr(o.expr, this.#plainContext(scope, "ORDER BY"));
      return sortKey(expr, o.options);
    });
    return { plan: { kind: "sort", input: q.plan, keys }, columns: q.columns };
  }

  #ordinal(ast: Ast, n: number): number | null {
    if (variant(ast) !== "Value") return null;
    const v = payload(ast).value;
    if (variant(v) !== "Number") return null;
    const k = Number(payload(v)[0]);
    if (!Number.isInteger(k) || k < 1 || k > n) {
      throw new SpiceError(
        "PLAN",
        `ORDER BY position ${payload(v)[0]} is not in select list (1..${n})`,
      );
    }
    return k - 1;
  }

  #bindValues(values: Ast, outer: Scope | null): BoundQuery {
    const rows: Expr[][] = values.rows.map((r: Ast) =>
      (r.content ?? r).map((e: Ast) =>
        this.#bindExpr(e, this.#plainContext(new Scope([], outer), "VALUES"))
      )
    );
    if (rows.length === 0) throw new SpiceError("PLAN", "VALUES needs at least one row");
    const width = rows[0].length;
    if (rows.some((r) => r.length !== width)) {
      throw new SpiceError("PLAN", "VALUES rows have different numbers of columns");
    }
    const types = rows[0].map((_, i) =>
      rows.reduce<DataType>((t, r) => requireCommonType(t, r[i].type, "combine VALUES of"), NULL)
    ).map((t) => (t.id === "null" ? INT32 : t));
    const columns = types.map((t, i) => ({
      id: this.#ids.next(),
      name: `col${i}`,
      type: t,
      nullable: true,
    }));
    const castRows = rows.map((r) => r.map((e, i) => castTo(e, types[i])));
    return { plan: { kind: "values", columns, rows: castRows }, columns };
  }

  // -------------------------------------------------------------------------
  // SELECT

  #bindSelect(
    sel: Ast,
    outer: Scope | null,
    orderBy: Ast[],
    limit: { skip: number; fetch: number | null } | null,
  ): BoundQuery {
    for (const k of ["into", "prewhere", "qualify", "top"]) {
      if (sel[k]) throw new SpiceError("NOT_SUPPORTED", `not supported: ${k.toUpperCase()}`);
    }
    if (sel.connect_by?.length) throw new SpiceError("NOT_SUPPORTED", "not supported: CONNECT BY");
    if (sel.lateral_views?.length) {
      throw new SpiceError("NOT_SUPPORTED", "not supported: LATERAL VIEW");
    }
    // FROM
    let { plan, scope } = this.#bindFrom(sel.from ?? [], outer);
    // WHERE
    if (sel.selection) {
      const ops: PlanOp[] = [];
      const preds: Expr[] = [];
      for (const c of splitAnd(sel.selection)) {
        const semi = this.#topLevelSubquery(c, scope, ops);
        if (semi) continue;
        const e = this.#bindExpr(c, this.#plainContext(scope, "WHERE", ops));
        preds.push(requireBool(e, "WHERE"));
      }
      for (const op of ops) plan = op(plan, (e) => e);
      plan = filter(plan, andAll(preds));
    }
    // GROUP BY
    const groupAst = sel.group_by;
    let groupExprs: Ast[] = [];
    let groupingAst: Ast[] | null = null;
    if (groupAst) {
      const gv = variant(groupAst);
      if (gv === "All") throw new SpiceError("NOT_SUPPORTED", "not supported: GROUP BY ALL");
      const gp = payload(groupAst);
      groupExprs = gp[0] ?? [];
      if (gp[1]?.length) throw new SpiceError("NOT_SUPPORTED", "not supported: GROUP BY modifiers");
      groupingAst = groupExprs;
    }
    const projection: Ast[] = sel.projection;
    const hasAgg = groupExprs.length > 0 || !!sel.having ||
      projection.some((p) => containsAggregate(p)) ||
      orderBy.some((o) => containsAggregate(o.expr));
    const fromIds = new Set(scope.columns.map((c) => c.id));
    let rewrite = (e: Expr) => e;
    const windows: WindowCall[] = [];
    const ops: PlanOp[] = [];
    let ctx: ExprContext;
    let aggregateNode: ((input: LogicalPlan) => LogicalPlan) | null = null;
    let registry: AggregateRegistry | null = null;

    // Select-list aliases, for GROUP BY alias / ordinal.
    const aliasAst = new Map<string, Ast>();
    projection.forEach((p) => {
      if (variant(p) === "ExprWithAlias") {
        aliasAst.set(payload(p).alias.value.toLowerCase(), payload(p).expr);
      }
    });

    if (hasAgg) {
      registry = new AggregateRegistry(this.#ids);
      const g = this.#bindGroupBy(groupingAst ?? [], scope, projection, aliasAst);
      const groupItems = g.items;
      const keyByExpr = new Map(groupItems.map((it) => [exprKey(it.expr), it]));
      rewrite = (e: Expr) => rewriteGroupKeys(e, keyByExpr, fromIds, outer);
      const reg = registry;
      aggregateNode = (input) => ({
        kind: "aggregate",
        input,
        groupBy: groupItems,
        aggregates: reg.calls,
        groupingSets: g.sets,
        groupingId: g.groupingId,
      });
      ctx = {
        scope,
        aggs: registry,
        windows,
        ops,
        rewrite,
        clause: "SELECT",
        groupingIdCol: g.groupingId,
        groupItems,
      } as ExprContext;
    } else {
      ctx = { scope, aggs: null, windows, ops, rewrite, clause: "SELECT" };
    }

    // SELECT list
    const items: ProjectItem[] = [];
    const visible: OutputColumn[] = [];
    for (const p of projection) {
      const v = variant(p);
      if (v === "Wildcard" || v === "QualifiedWildcard") {
        const pl = payload(p);
        const qualifier = v === "QualifiedWildcard" ? objectNameParts(pl[0]).pop()! : null;
        if (
          v === "Wildcard" &&
          (pl?.opt_exclude || pl?.opt_except || pl?.opt_replace || pl?.opt_rename)
        ) {
          throw new SpiceError("NOT_SUPPORTED", "not supported: * EXCLUDE/REPLACE/RENAME");
        }
        const cols = scope.columns.filter((c) =>
          qualifier === null
            ? !c.hiddenFromStar
            : c.qualifier?.toLowerCase() === qualifier.toLowerCase()
        );
        if (qualifier !== null && cols.length === 0) {
          throw new SpiceError("TABLE_NOT_FOUND", `table "${qualifier}" not found in FROM clause`);
        }
        if (qualifier === null && cols.length === 0 && scope.columns.length === 0) {
          throw new SpiceError("PLAN", "SELECT * with no FROM clause");
        }
        for (const c of cols) {
          const e = rewrite(col(c.id, c.type, c.name));
          this.#checkGrouped(e, fromIds, c.name, hasAgg);
          const id = this.#ids.next();
          items.push({ id, name: c.name, expr: e });
        }
        continue;
      }
      const isAlias = v === "ExprWithAlias";
      const ast = isAlias ? payload(p).expr : payload(p);
      const name = isAlias ? payload(p).alias.value : exprName(ast);
      const e = rewrite(this.#bindExpr(ast, { ...ctx, clause: "SELECT" }));
      this.#checkGrouped(e, fromIds, name, hasAgg);
      items.push({ id: this.#ids.next(), name, expr: e });
    }
    for (const it of items) {
      visible.push({ id: it.id, name: it.name, type: it.expr.type, nullable: true });
    }

    // HAVING
    let having: Expr | null = null;
    if (sel.having) {
      const e = rewrite(this.#bindExpr(sel.having, { ...ctx, clause: "HAVING" }));
      this.#checkGrouped(e, fromIds, "HAVING", true);
      having = requireBool(e, "HAVING");
    }

    // ORDER BY (may add hidden columns)
    const distinct = sel.distinct;
    if (distinct && variant(distinct) === "On") {
      throw new SpiceError("NOT_SUPPORTED", "not supported: DISTINCT ON");
    }
    const sortKeys: SortKey[] = [];
    const hidden: ProjectItem[] = [];
    for (const o of orderBy) {
      const ord = this.#ordinal(o.expr, items.length);
      if (ord !== null) {
        const it = items[ord];
        sortKeys.push(sortKey(col(it.id, it.expr.type, it.name), o.options));
        continue;
      }
      // A bare name that is a select alias refers to that output column.
      if (variant(o.expr) === "Identifier") {
        const n = payload(o.expr).value.toLowerCase();
        const matches = items.filter((it) => it.name.toLowerCase() === n);
        const aliased = projection.some((p) =>
          variant(p) === "ExprWithAlias" && payload(p).alias.value.toLowerCase() === n
        );
        if (matches.length >= 1 && (aliased || !scope.resolve([n]))) {
          const it = matches[0];
          sortKeys.push(sortKey(col(it.id, it.expr.type, it.name), o.options));
          continue;
        }
      }
      let e: Expr;
      try {
        e = rewrite(this.#bindExpr(o.expr, { ...ctx, clause: "ORDER BY" }));
      } catch (err) {
        // ORDER BY an expression over select aliases (s % 5 where s is an alias), as DuckDB allows.
        if (!(err instanceof SpiceError) || err.code !== "COLUMN_NOT_FOUND") throw err;
        const aliasScope = new Scope(
          items.map((it) => ({
            qualifier: null,
            name: it.name,
            id: it.id,
            type: it.expr.type,
            nullable: true,
          })),
          outer,
        );
        sortKeys.push(
          sortKey(this.#bindExpr(o.expr, this.#plainContext(aliasScope, "ORDER BY")), o.options),
        );
        continue;
      }
      this.#checkGrouped(e, fromIds, "ORDER BY", hasAgg);
      const k = exprKey(e);
      const same = items.find((it) => exprKey(it.expr) === k) ??
        hidden.find((it) => exprKey(it.expr) === k);
      if (same) {
        sortKeys.push(sortKey(col(same.id, same.expr.type, same.name), o.options));
        continue;
      }
      if (distinct) {
        throw new SpiceError(
          "PLAN",
          "for SELECT DISTINCT, ORDER BY expressions must appear in the select list",
        );
      }
      const h = { id: this.#ids.next(), name: "__order", expr: e };
      hidden.push(h);
      sortKeys.push(sortKey(col(h.id, e.type, h.name), o.options));
    }

    // Assemble: aggregate -> subquery joins -> having -> window -> project -> distinct -> sort -> limit.
    if (aggregateNode) plan = aggregateNode(plan);
    for (const op of ops) plan = op(plan, rewrite);
    plan = filter(plan, having);
    if (windows.length) plan = { kind: "window", input: plan, windows };
    plan = project(plan, [...items, ...hidden]);
    let out: BoundQuery = { plan, columns: visible };
    if (distinct) {
      out = this.#distinct(out);
      // Re-point sort keys at the distinct outputs.
      const remap = new Map<number, Expr>();
      visible.forEach((c, i) => remap.set(c.id, col(out.columns[i].id, c.type, c.name)));
      for (let i = 0; i < sortKeys.length; i++) {
        sortKeys[i] = { ...sortKeys[i], expr: substitute(sortKeys[i].expr, remap) };
      }
    }
    if (sortKeys.length) out = { ...out, plan: { kind: "sort", input: out.plan, keys: sortKeys } };
    if (limit) out = { ...out, plan: { kind: "limit", input: out.plan, ...limit } };
    if (hidden.length) {
      out = {
        plan: project(
          out.plan,
          out.columns.map((c) => ({ id: c.id, name: c.name, expr: col(c.id, c.type, c.name) })),
        ),
        columns: out.columns,
      };
    }
    return out;
  }

  #checkGrouped(e: Expr, fromIds: ReadonlySet<number>, what: string, grouped: boolean): void {
    if (!grouped) return;
    for (const id of exprColumns(e)) {
      if (fromIds.has(id)) {
        let name = what;
        mapExpr(e, (x) => {
          if (x.kind === "column" && x.id === id) name = x.name;
          return x;
        });
        throw new SpiceError(
          "PLAN",
          `column "${name}" must appear in the GROUP BY clause or be used in an aggregate function`,
        );
      }
    }
  }

  #bindGroupBy(
    groupAst: Ast[],
    scope: Scope,
    projection: Ast[],
    aliasAst: Map<string, Ast>,
  ): { items: ProjectItem[]; sets: number[][] | null; groupingId: number | null } {
    const items: ProjectItem[] = [];
    const keyIndex = new Map<string, number>();
    const ctx = this.#plainContext(scope, "GROUP BY");
    const bindKey = (ast: Ast): number => {
      let target = ast;
      const ord = variant(ast) === "Value" && variant(payload(ast).value) === "Number"
        ? Number(payload(payload(ast).value)[0])
        : null;
      if (ord !== null) {
        if (!Number.isInteger(ord) || ord < 1 || ord > projection.length) {
          throw new SpiceError("PLAN", `GROUP BY position ${ord} is not in select list`);
        }
        const p = projection[ord - 1];
        target = variant(p) === "ExprWithAlias" ? payload(p).expr : payload(p);
      } else if (variant(ast) === "Identifier") {
        const n = payload(ast).value.toLowerCase();
        if (!scope.resolve([n]) && aliasAst.has(n)) target = aliasAst.get(n);
      }
      const e = this.#bindExpr(target, ctx);
      const k = exprKey(e);
      let idx = keyIndex.get(k);
      if (idx === undefined) {
        idx = items.length;
        keyIndex.set(k, idx);
        items.push({ id: this.#ids.next(), name: exprName(target), expr: e });
      }
      return idx;
    };
    // Each GROUP BY element contributes a list of alternative sets; the
    // grouping sets are their cross product (SQL's rule for mixing them).
    let sets: number[][] = [[]];
    let hasSets = false;
    for (const g of groupAst) {
      const v = variant(g);
      let alternatives: number[][];
      if (v === "Rollup") {
        hasSets = true;
        const parts: number[][] = payload(g).map((grp: Ast[]) => grp.map(bindKey));
        alternatives = [];
        for (let i = parts.length; i >= 0; i--) alternatives.push(parts.slice(0, i).flat());
      } else if (v === "Cube") {
        hasSets = true;
        const parts: number[][] = payload(g).map((grp: Ast[]) => grp.map(bindKey));
        alternatives = [];
        for (let mask = (1 << parts.length) - 1; mask >= 0; mask--) {
          alternatives.push(parts.filter((_, i) => mask & (1 << (parts.length - 1 - i))).flat());
        }
      } else if (v === "GroupingSets") {
        hasSets = true;
        alternatives = payload(g).map((grp: Ast[]) => grp.map(bindKey));
      } else {
        alternatives = [[bindKey(g)]];
      }
      const next: number[][] = [];
      for (const s of sets) for (const a of alternatives) next.push([...new Set([...s, ...a])]);
      sets = next;
    }
    if (!hasSets) return { items, sets: null, groupingId: null };
    return { items, sets, groupingId: this.#ids.next() };
  }

  /** Plans EXISTS / IN (subquery) at the top level of WHERE as a semi or anti join. */
  #topLevelSubquery(ast: Ast, scope: Scope, ops: PlanOp[]): boolean {
    let node = ast;
    let negate = false;
    while (variant(node) === "Nested") node = payload(node);
    if (variant(node) === "UnaryOp" && payload(node).op === "Not") {
      negate = true;
      node = payload(node).expr;
      while (variant(node) === "Nested") node = payload(node);
    }
    const v = variant(node);
    if (v === "Exists") {
      const p = payload(node);
      const neg = negate !== !!p.negated;
      const sub = this.#bindSubquery(p.subquery, scope);
      ops.push((input) => {
        const d = this.#decorrelated(sub.plan, true);
        const { on, residual } = splitJoinCondition(andAll(d.conditions), input, d.plan);
        return join(input, d.plan, neg ? "anti" : "semi", { on, filter: residual });
      });
      return true;
    }
    if (v === "InSubquery") {
      const p = payload(node);
      const neg = negate !== !!p.negated;
      const left = this.#bindExpr(p.expr, this.#plainContext(scope, "WHERE", ops));
      const sub = this.#bindSubquery(p.subquery, scope);
      if (sub.columns.length !== 1) {
        throw new SpiceError(
          "PLAN",
          `subquery in IN returns ${sub.columns.length} columns, expected 1`,
        );
      }
      ops.push((input) => {
        const d = this.#decorrelated(sub.plan, false);
        const sc = sub.columns[0];
        const t = requireCommonType(left.type, sc.type, "compare");
        const inCond = binary("=", castTo(left, t), castTo(col(sc.id, sc.type, sc.name), t));
        const { on, residual } = splitJoinCondition(
          andAll([inCond, ...d.conditions]),
          input,
          d.plan,
        );
        if (neg) {
          if (d.conditions.length > 0) {
            throw new SpiceError(
              "NOT_SUPPORTED",
              "not supported: correlated NOT IN subquery (use NOT EXISTS)",
            );
          }
          return join(input, d.plan, "anti", { on, filter: residual, nullAware: true });
        }
        return join(input, d.plan, "semi", { on, filter: residual });
      });
      return true;
    }
    return false;
  }

  #bindSubquery(q: Ast, scope: Scope): BoundQuery {
    return this.#bindQuery(q, scope);
  }

  /** Decorrelates a subquery plan against the ids the input (outer query) provides. */
  #decorrelated(sub: LogicalPlan, forExists: boolean) {
    const outer = outerReferences(sub);
    if (outer.size === 0) return { plan: sub, conditions: [] as Expr[] };
    return decorrelate(sub, outer, this.#ids, { forExists });
  }

  // -------------------------------------------------------------------------
  // FROM

  #bindFrom(from: Ast[], outer: Scope | null): { plan: LogicalPlan; scope: Scope } {
    if (from.length === 0) {
      return { plan: { kind: "empty", columns: [], oneRow: true }, scope: new Scope([], outer) };
    }
    let plan: LogicalPlan | null = null;
    let cols: ScopeColumn[] = [];
    for (const twj of from) {
      const r = this.#bindTableWithJoins(twj, outer);
      if (plan === null) {
        plan = r.plan;
        cols = [...r.columns];
      } else {
        plan = join(plan, r.plan, "inner");
        cols = [...cols, ...r.columns];
      }
    }
    this.#checkDuplicateAliases(cols);
    return { plan: plan!, scope: new Scope(cols, outer) };
  }

  #checkDuplicateAliases(cols: ScopeColumn[]): void {
    const seen = new Map<string, number>();
    for (const c of cols) {
      if (!c.qualifier) continue;
      const q = c.qualifier.toLowerCase();
      const first = seen.get(q + "." + c.name.toLowerCase());
      if (first !== undefined && first !== c.id && !c.qualifiedOnly) {
        throw new SpiceError(
          "PLAN",
          `table name "${c.qualifier}" specified more than once (use an alias)`,
        );
      }
      seen.set(q + "." + c.name.toLowerCase(), c.id);
    }
  }

  #bindTableWithJoins(
    twj: Ast,
    outer: Scope | null,
  ): { plan: LogicalPlan; columns: ScopeColumn[] } {
    let { plan, columns } = this.#bindRelation(twj.relation, outer);
    for (const j of twj.joins ?? []) {
      const right = this.#bindRelation(j.relation, outer);
      const r = this.#bindJoin(plan, columns, right.plan, right.columns, j.join_operator, outer);
      plan = r.plan;
      columns = r.columns;
    }
    return { plan, columns };
  }

  #bindJoin(
    left: LogicalPlan,
    lcols: ScopeColumn[],
    right: LogicalPlan,
    rcols: ScopeColumn[],
    op: Ast,
    outer: Scope | null,
  ): { plan: LogicalPlan; columns: ScopeColumn[] } {
    const v = variant(op);
    const kinds: Record<string, "inner" | "left" | "right" | "full" | "semi" | "anti"> = {
      Join: "inner",
      Inner: "inner",
      Left: "left",
      LeftOuter: "left",
      Right: "right",
      RightOuter: "right",
      FullOuter: "full",
      LeftSemi: "semi",
      LeftAnti: "anti",
      Semi: "semi",
      Anti: "anti",
    };
    if (v === "CrossJoin") {
      return { plan: join(left, right, "inner"), columns: [...lcols, ...rcols] };
    }
    const kind = kinds[v];
    if (!kind) throw new SpiceError("NOT_SUPPORTED", `not supported: ${v} join`);
    const constraint = payload(op);
    const cv = variant(constraint);
    const scope = new Scope([...lcols, ...rcols], outer);
    const outCols = kind === "semi" || kind === "anti" ? lcols : [...lcols, ...rcols];
    if (cv === "On") {
      const ops: PlanOp[] = [];
      const cond = requireBool(
        this.#bindExpr(payload(constraint), this.#plainContext(scope, "ON", ops)),
        "ON",
      );
      if (ops.length) {
        throw new SpiceError("NOT_SUPPORTED", "not supported: subqueries in a join's ON clause");
      }
      const { on, residual } = splitJoinCondition(cond, left, right);
      return { plan: join(left, right, kind, { on, filter: residual }), columns: outCols };
    }
    if (cv === "None") {
      if (kind !== "inner") throw new SpiceError("PLAN", `${v} join needs an ON or USING clause`);
      return { plan: join(left, right, "inner"), columns: outCols };
    }
    let names: string[];
    if (cv === "Using") {
      names = payload(constraint).map((n: Ast) => objectNameParts(n).pop()!);
    } else if (cv === "Natural") {
      const rn = new Set(rcols.filter((c) => !c.hiddenFromStar).map((c) => c.name.toLowerCase()));
      names = [
        ...new Set(
          lcols.filter((c) => !c.hiddenFromStar && rn.has(c.name.toLowerCase())).map((c) => c.name),
        ),
      ];
    } else {
      throw new SpiceError("NOT_SUPPORTED", `not supported: join constraint ${cv}`);
    }
    const on: [Expr, Expr][] = [];
    const merged: ScopeColumn[] = [];
    const hideLeft = new Set<number>(), hideRight = new Set<number>();
    const lscope = new Scope(lcols), rscope = new Scope(rcols);
    const usingPairs: [ScopeColumn, ScopeColumn][] = [];
    for (const n of names) {
      const l = lscope.resolve([n]), r = rscope.resolve([n]);
      if (!l) {
        throw new SpiceError("COLUMN_NOT_FOUND", `USING column "${n}" not found in the left table`);
      }
      if (!r) {
        throw new SpiceError(
          "COLUMN_NOT_FOUND",
          `USING column "${n}" not found in the right table`,
        );
      }
      const t = requireCommonType(l.column.type, r.column.type, "join USING");
      on.push([
        castTo(col(l.column.id, l.column.type, n), t),
        castTo(col(r.column.id, r.column.type, n), t),
      ]);
      usingPairs.push([l.column, r.column]);
      hideLeft.add(l.column.id);
      hideRight.add(r.column.id);
    }
    let plan = join(left, right, kind, { on });
    if (kind === "semi" || kind === "anti") return { plan, columns: lcols };
    // The merged column: left's for inner/left, right's for right, COALESCE for full.
    const items: ProjectItem[] = [];
    for (const [l, r] of usingPairs) {
      let id: number, type: DataType;
      if (kind === "full") {
        const t = requireCommonType(l.type, r.type, "join USING");
        id = this.#ids.next();
        type = t;
        items.push({
          id,
          name: l.name,
          expr: {
            kind: "call",
            fn: "coalesce",
            args: [castTo(col(l.id, l.type, l.name), t), castTo(col(r.id, r.type, r.name), t)],
            type: t,
          },
        });
      } else {
        const src = kind === "right" ? r : l;
        id = src.id;
        type = src.type;
      }
      merged.push({ qualifier: null, name: l.name, id, type, nullable: true });
    }
    if (items.length) {
      const all = [...lcols, ...rcols];
      plan = project(plan, [
        ...all.map((c) => ({ id: c.id, name: c.name, expr: col(c.id, c.type, c.name) })),
        ...items,
      ]);
    }
    const columns: ScopeColumn[] = [
      ...merged,
      ...lcols.map((c) =>
        hideLeft.has(c.id) ? { ...c, hiddenFromStar: true, qualifiedOnly: true } : c
      ),
      ...rcols.map((c) =>
        hideRight.has(c.id) ? { ...c, hiddenFromStar: true, qualifiedOnly: true } : c
      ),
    ];
    return { plan, columns };
  }

  #bindRelation(rel: Ast, outer: Scope | null): { plan: LogicalPlan; columns: ScopeColumn[] } {
    const v = variant(rel);
    const p = payload(rel);
    if (v === "Table") {
      if (p.args) throw new SpiceError("NOT_SUPPORTED", "not supported: table functions");
      const parts = objectNameParts(p.name);
      const name = parts[parts.length - 1];
      const alias = p.alias?.name?.value ?? name;
      const aliasCols: string[] = (p.alias?.columns ?? []).map((c: Ast) =>
        c.name?.value ?? c.value
      );
      const cte = parts.length === 1 ? this.#findCte(name) : null;
      if (cte) {
        // Each reference re-binds the CTE: fresh ids, so a CTE used twice is two inputs.
        const saved = this.#ctes;
        // A CTE sees the enclosing frames and the CTEs declared before it in its own WITH.
        const own = new Map([...saved[cte.depth]].filter(([, d]) => d.index < cte.def.index));
        this.#ctes = [...saved.slice(0, cte.depth), own];
        let q: BoundQuery;
        try {
          q = this.#bindQuery(cte.def.query, null);
        } finally {
          this.#ctes = saved;
        }
        return this.#aliasQuery(q, alias, aliasCols.length ? aliasCols : cte.def.columns);
      }
      const provider = this.#catalog.get(name) ??
        (parts.length > 1 ? this.#catalog.get(parts.join(".")) : undefined);
      if (!provider) {
        const names = this.#catalog.names();
        throw new SpiceError(
          "TABLE_NOT_FOUND",
          `table "${parts.join(".")}" not found; ${
            names.length ? `available tables: ${names.join(", ")}` : "no tables are registered"
          }`,
        );
      }
      const columns = provider.schema.fields.map((f, i) => ({
        id: this.#ids.next(),
        name: aliasCols[i] ?? f.name,
        type: f.type,
        nullable: f.nullable,
        qualifier: alias,
        source: i,
      }));
      return {
        plan: { kind: "scan", table: name, provider, columns, filters: [] },
        columns: columns.map((c) => ({
          qualifier: alias,
          name: c.name,
          id: c.id,
          type: c.type,
          nullable: c.nullable,
        })),
      };
    }
    if (v === "Derived") {
      if (p.lateral) throw new SpiceError("NOT_SUPPORTED", "not supported: LATERAL subqueries");
      const q = this.#bindQuery(p.subquery, outer);
      const alias = p.alias?.name?.value ?? null;
      const aliasCols: string[] = (p.alias?.columns ?? []).map((c: Ast) =>
        c.name?.value ?? c.value
      );
      return this.#aliasQuery(q, alias, aliasCols);
    }
    if (v === "NestedJoin") {
      const r = this.#bindTableWithJoins(p.table_with_joins, outer);
      if (p.alias) {
        const alias = p.alias.name.value;
        return { plan: r.plan, columns: r.columns.map((c) => ({ ...c, qualifier: alias })) };
      }
      return r;
    }
    throw new SpiceError("NOT_SUPPORTED", `not supported: ${v} in FROM`);
  }

  #aliasQuery(q: BoundQuery, alias: string | null, names: readonly string[]) {
    if (names.length > q.columns.length) {
      throw new SpiceError(
        "PLAN",
        `table "${alias}" has ${q.columns.length} columns but ${names.length} column aliases were given`,
      );
    }
    return {
      plan: q.plan,
      columns: q.columns.map((c, i) => ({
        qualifier: alias,
        name: names[i] ?? c.name,
        id: c.id,
        type: c.type,
        nullable: c.nullable,
      })),
    };
  }

  #findCte(name: string): { def: CteDef; depth: number } | null {
    const n = name.toLowerCase();
    for (let i = this.#ctes.length - 1; i >= 0; i--) {
      const def = this.#ctes[i].get(n);
      if (def) return { def, depth: i };
    }
    return null;
  }

  // -------------------------------------------------------------------------
  // expressions

  #bindExpr(ast: Ast, ctx: ExprContext): Expr {
    const v = variant(ast);
    const p = payload(ast);
    switch (v) {
      case "Identifier":
        return this.#column([p.value], ctx);
      case "CompoundIdentifier":
        return this.#column(p.map((i: Ast) => i.value), ctx);
      case "Value":
        return this.#value(p.value ?? p);
      case "TypedString":
        return this.#typedString(p);
      case "Nested":
        return this.#bindExpr(p, ctx);
      case "BinaryOp":
        return this.#binaryOp(p, ctx);
      case "UnaryOp":
        return this.#unaryOp(p, ctx);
      case "IsNull":
      case "IsNotNull":
      case "IsTrue":
      case "IsFalse":
      case "IsNotTrue":
      case "IsNotFalse":
      case "IsUnknown":
      case "IsNotUnknown":
        return this.#isTest(v, this.#bindExpr(p, ctx));
      case "IsDistinctFrom":
      case "IsNotDistinctFrom":
        return this.#binary(
          v === "IsDistinctFrom" ? "is_distinct" : "is_not_distinct",
          this.#bindExpr(p[0], ctx),
          this.#bindExpr(p[1], ctx),
        );
      case "Between": {
        const x = this.#bindExpr(p.expr, ctx);
        const lo = this.#bindExpr(p.low, ctx), hi = this.#bindExpr(p.high, ctx);
        const e = this.#binary("and", this.#binary(">=", x, lo), this.#binary("<=", x, hi));
        return p.negated ? unary("not", e) : e;
      }
      case "InList": {
        const x = this.#bindExpr(p.expr, ctx);
        const list = p.list.map((e: Ast) => this.#bindExpr(e, ctx));
        let t = x.type;
        for (const e of list) t = requireCommonType(t, e.type, "compare");
        return {
          kind: "in_list",
          arg: castTo(x, t),
          list: list.map((e: Expr) => castTo(e, t)),
          negated: !!p.negated,
          type: BOOL,
        };
      }
      case "Like":
      case "ILike":
        return this.#like(p, v === "ILike", ctx);
      case "SimilarTo":
      case "RLike":
        throw new SpiceError(
          "NOT_SUPPORTED",
          `not supported: ${v === "RLike" ? "RLIKE" : "SIMILAR TO"}`,
        );
      case "Case":
        return this.#case(p, ctx);
      case "Cast":
        return this.#cast(p, ctx);
      case "Ceil":
      case "Floor": {
        const field = p.field;
        if (field && variant(field) !== "DateTimeField") {
          throw new SpiceError("NOT_SUPPORTED", `not supported: ${v.toUpperCase()} with a scale`);
        }
        if (field && payload(field) !== "NoDateTime") {
          throw new SpiceError(
            "NOT_SUPPORTED",
            `not supported: ${v.toUpperCase()}(x TO ${payload(field)})`,
          );
        }
        return this.#call(v.toLowerCase(), [this.#bindExpr(p.expr, ctx)]);
      }
      case "Extract": {
        const field = String(typeof p.field === "string" ? p.field : variant(p.field))
          .toLowerCase();
        const arg = this.#bindExpr(p.expr, ctx);
        return this.#call("date_part", [lit(normaliseField(field), UTF8), arg]);
      }
      case "Substring": {
        const args = [this.#bindExpr(p.expr, ctx)];
        args.push(p.substring_from ? this.#bindExpr(p.substring_from, ctx) : lit(1, INT32));
        if (p.substring_for) args.push(this.#bindExpr(p.substring_for, ctx));
        return this.#call("substring", args);
      }
      case "Trim": {
        const where = p.trim_where ? String(p.trim_where).toLowerCase() : "both";
        const fn = where === "leading" ? "ltrim" : where === "trailing" ? "rtrim" : "trim";
        const args = [this.#bindExpr(p.expr, ctx)];
        if (p.trim_what) args.push(this.#bindExpr(p.trim_what, ctx));
        else if (p.trim_characters?.length) args.push(this.#bindExpr(p.trim_characters[0], ctx));
        return this.#call(fn, args);
      }
      case "Position":
        return this.#call("position", [this.#bindExpr(p.in, ctx), this.#bindExpr(p.expr, ctx)]);
      case "Interval":
        return this.#interval(p);
      case "Function":
        return this.#function(p, ctx);
      case "Exists":
        return this.#markSubquery(p.subquery, null, !!p.negated, ctx);
      case "InSubquery":
        return this.#markSubquery(p.subquery, this.#bindExpr(p.expr, ctx), !!p.negated, ctx);
      case "AnyOp":
      case "AllOp": {
        const sub = variant(p.right) === "Subquery" ? payload(p.right) : null;
        if (!sub) {
          throw new SpiceError(
            "NOT_SUPPORTED",
            `not supported: ${v === "AnyOp" ? "ANY" : "ALL"} over a non-subquery`,
          );
        }
        const op = COMPARISONS[p.compare_op];
        if (!op || op === "is_not_distinct") {
          throw new SpiceError(
            "NOT_SUPPORTED",
            `not supported: ${v === "AnyOp" ? "ANY" : "ALL"} with ${p.compare_op}`,
          );
        }
        const left = this.#bindExpr(p.left, ctx);
        // x op ANY (S): some y makes x op y TRUE (NULL when none does but some comparison is NULL).
        if (v === "AnyOp") return this.#markSubquery(sub, left, false, ctx, op);
        // x op ALL (S) = NOT (x (not op) ANY (S)), with the same NULL rule.
        const negated: Record<string, BinaryOp> = {
          "=": "<>",
          "<>": "=",
          "<": ">=",
          "<=": ">",
          ">": "<=",
          ">=": "<",
        };
        return this.#markSubquery(sub, left, true, ctx, negated[op]);
      }
      case "Subquery":
        return this.#scalarSubquery(p, ctx);
      case "Wildcard":
      case "QualifiedWildcard":
        throw new SpiceError("PLAN", `* is not allowed in ${ctx.clause}`);
      case "Tuple":
        throw new SpiceError("NOT_SUPPORTED", "not supported: row values (a, b)");
      case "Array":
        throw new SpiceError("NOT_SUPPORTED", "not supported: arrays");
      case "Collate":
        return this.#bindExpr(p.expr, ctx);
      default:
        throw new SpiceError("NOT_SUPPORTED", `not supported: expression ${v}`);
    }
  }

  #column(parts: string[], ctx: ExprContext): Expr {
    const r = ctx.scope.resolve(parts);
    if (!r) {
      if (parts.length === 1) {
        const n = parts[0].toLowerCase();
        if (n === "current_date") return this.#call("current_date", []);
        if (n === "current_timestamp" || n === "now") return this.#call("now", []);
      }
      if (parts.length >= 2 && !ctx.scope.hasQualifier(parts[parts.length - 2])) {
        let s: Scope | null = ctx.scope.parent;
        let known = false;
        while (s) {
          if (s.hasQualifier(parts[parts.length - 2])) known = true;
          s = s.parent;
        }
        if (!known) {
          throw new SpiceError(
            "TABLE_NOT_FOUND",
            `table "${parts[parts.length - 2]}" in "${parts.join(".")}" is not in the FROM clause`,
          );
        }
      }
      throw ctx.scope.notFound(parts);
    }
    const c = r.column;
    return col(c.id, c.type, c.name);
  }

  #value(v: Ast): Expr {
    const kind = variant(v);
    const p = payload(v);
    switch (kind) {
      case "Number": {
        const n = parseNumber(p[0]);
        return lit(n.value as number, n.type);
      }
      case "SingleQuotedString":
      case "DoubleQuotedString":
      case "EscapedStringLiteral":
      case "NationalStringLiteral":
      case "TripleSingleQuotedString":
        return lit(p, UTF8);
      case "DollarQuotedString":
        return lit(p.value, UTF8);
      case "Boolean":
        return lit(p, BOOL);
      case "Null":
        return lit(null, NULL);
      case "Placeholder":
        return this.#parameter(p);
      default:
        throw new SpiceError("NOT_SUPPORTED", `not supported: literal ${kind}`);
    }
  }

  #parameter(name: string): Expr {
    const params = this.#params;
    let value: Value | undefined;
    if (name === "?") {
      if (!Array.isArray(params)) {
        throw new SpiceError("INVALID_ARGUMENT", "query has ? parameters but none were given");
      }
      value = params[this.#positional++];
      if (value === undefined) {
        throw new SpiceError("INVALID_ARGUMENT", `missing value for parameter ${this.#positional}`);
      }
    } else if (name.startsWith("$")) {
      const rest = name.slice(1);
      if (/^\d+$/.test(rest)) {
        const k = Number(rest);
        const arr = Array.isArray(params) ? params : null;
        value = arr ? arr[k - 1] : (params as Record<string, Value> | undefined)?.[rest];
        if (value === undefined) {
          throw new SpiceError("INVALID_ARGUMENT", `missing value for parameter ${name}`);
        }
      } else {
        value = (params as Record<string, Value> | undefined)?.[rest];
        if (value === undefined) {
          throw new SpiceError("INVALID_ARGUMENT", `missing value for parameter ${name}`);
        }
      }
    } else if (name.startsWith(":") || name.startsWith("@")) {
      const key = name.slice(1);
      if (!params || Array.isArray(params)) {
        throw new SpiceError("INVALID_ARGUMENT", `missing value for parameter ${name}`);
      }
      value = (params as Record<string, Value>)[key];
      if (value === undefined) {
        throw new SpiceError("INVALID_ARGUMENT", `missing value for parameter ${name}`);
      }
    } else {
      throw new SpiceError("NOT_SUPPORTED", `not supported: parameter ${name}`);
    }
    return paramLiteral(value);
  }

  #typedString(p: Ast): Expr {
    const text = typeof p.value === "string" ? p.value : payload(p.value?.value ?? p.value);
    const t = sqlType(p.data_type);
    if (typeof text !== "string") throw new SpiceError("PLAN", "typed literal needs a string");
    if (t.id === "date32") return lit(parseDate(text), DATE32);
    if (t.id === "timestamp") return lit(parseTimestamp(text), TIMESTAMP);
    if (t.id === "interval") return lit(parseInterval(text, null), INTERVAL);
    return castTo(lit(text, UTF8), t);
  }

  #interval(p: Ast): Expr {
    const unit = p.leading_field
      ? String(typeof p.leading_field === "string" ? p.leading_field : variant(p.leading_field))
      : null;
    if (p.last_field) throw new SpiceError("NOT_SUPPORTED", "not supported: INTERVAL ... TO ...");
    const valueAst = p.value;
    let text: string;
    const vv = variant(valueAst);
    if (vv === "Value") {
      const inner = payload(valueAst).value ?? payload(valueAst);
      const k = variant(inner);
      text = k === "Number" ? payload(inner)[0] : String(payload(inner));
    } else if (vv === "UnaryOp" && payload(valueAst).op === "Minus") {
      const inner = payload(payload(valueAst).expr).value;
      text = "-" + (variant(inner) === "Number" ? payload(inner)[0] : String(payload(inner)));
    } else {
      throw new SpiceError("NOT_SUPPORTED", "not supported: INTERVAL over a non-constant");
    }
    return lit(parseInterval(text, unit), INTERVAL);
  }

  #binaryOp(p: Ast, ctx: ExprContext): Expr {
    const op = ARITHMETIC[p.op];
    if (!op) throw new SpiceError("NOT_SUPPORTED", `not supported: operator ${p.op}`);
    const l = this.#bindExpr(p.left, ctx), r = this.#bindExpr(p.right, ctx);
    return this.#binary(op, l, r);
  }

  #binary(op: BinaryOp, l: Expr, r: Expr): Expr {
    if (op === "||" && (l.type.id === "null" || r.type.id === "null")) {
      return lit(null, UTF8);
    }
    if ((op === "+" || op === "-") && l.type.id === "interval" && r.type.id === "interval") {
      if (l.kind === "literal" && r.kind === "literal") {
        const a = l.value as IntervalValue, b = r.value as IntervalValue;
        const s = op === "+" ? 1 : -1;
        return lit({
          months: a.months + s * b.months,
          days: a.days + s * b.days,
          micros: a.micros + s * b.micros,
        }, INTERVAL);
      }
    }
    // '1' + 2: DuckDB casts a string literal to the other operand's type.
    const arith = op === "+" || op === "-" || op === "*" || op === "/" || op === "//" || op === "%";
    if (
      arith && l.kind === "literal" && l.type.id === "utf8" && r.type.id !== "utf8" &&
      r.type.id !== "interval"
    ) {
      l = castTo(l, r.type.id === "null" ? INT32 : r.type);
    } else if (
      arith && r.kind === "literal" && r.type.id === "utf8" && l.type.id !== "utf8" &&
      l.type.id !== "interval"
    ) {
      r = castTo(r, l.type.id === "null" ? INT32 : l.type);
    }
    const sig = binarySignature(op, l.type, r.type);
    return {
      kind: "binary",
      op,
      left: castTo(l, sig.left),
      right: castTo(r, sig.right),
      type: sig.result,
    };
  }

  #unaryOp(p: Ast, ctx: ExprContext): Expr {
    const arg = this.#bindExpr(p.expr, ctx);
    switch (p.op) {
      case "Not":
        return unary("not", castTo(requireBool(arg, "NOT"), BOOL));
      case "Minus":
        if (arg.kind === "literal" && typeof arg.value === "number") {
          // Fold now so that -2147483648 and friends keep their literal type.
          return lit(-arg.value, arg.type);
        }
        if (arg.type.id === "interval" && arg.kind === "literal") {
          const iv = arg.value as IntervalValue;
          return lit({ months: -iv.months, days: -iv.days, micros: -iv.micros }, INTERVAL);
        }
        if (
          arg.type.id !== "null" && !["int32", "int64", "float64", "decimal"].includes(arg.type.id)
        ) {
          throw new SpiceError("TYPE", `cannot negate ${typeToString(arg.type)}`);
        }
        return unary("neg", arg);
      case "Plus":
        return arg;
      default:
        throw new SpiceError("NOT_SUPPORTED", `not supported: unary operator ${p.op}`);
    }
  }

  #isTest(v: string, arg: Expr): Expr {
    switch (v) {
      case "IsNull":
      case "IsUnknown":
        return unary("is_null", arg);
      case "IsNotNull":
      case "IsNotUnknown":
        return unary("is_not_null", arg);
      case "IsTrue":
        return unary("is_true", castTo(requireBool(arg, "IS TRUE"), BOOL));
      case "IsFalse":
        return unary("is_false", castTo(requireBool(arg, "IS FALSE"), BOOL));
      case "IsNotTrue":
        return unary("not", unary("is_true", castTo(requireBool(arg, "IS NOT TRUE"), BOOL)));
      default:
        return unary("not", unary("is_false", castTo(requireBool(arg, "IS NOT FALSE"), BOOL)));
    }
  }

  #like(p: Ast, ci: boolean, ctx: ExprContext): Expr {
    if (p.any) throw new SpiceError("NOT_SUPPORTED", "not supported: LIKE ANY");
    const arg = castTo(this.#bindExpr(p.expr, ctx), UTF8);
    let pattern = castTo(this.#bindExpr(p.pattern, ctx), UTF8);
    if (!p.escape_char) {
      // Without ESCAPE a backslash is an ordinary character (as in DuckDB); the
      // kernel's escape is "\", so double it.
      pattern = pattern.kind === "literal" && typeof pattern.value === "string"
        ? lit(pattern.value.replaceAll("\\", "\\\\"), UTF8)
        : this.#call("replace", [pattern, lit("\\", UTF8), lit("\\\\", UTF8)]);
    }
    if (p.escape_char) {
      const escAst = p.escape_char;
      const esc = typeof escAst === "string" ? escAst : payload(escAst.value ?? escAst);
      if (
        pattern.kind !== "literal" || typeof pattern.value !== "string" ||
        typeof esc !== "string" || esc.length !== 1
      ) {
        throw new SpiceError("NOT_SUPPORTED", "not supported: ESCAPE with a non-constant pattern");
      }
      pattern = lit(translateEscape(pattern.value, esc), UTF8);
    }
    return { kind: "like", arg, pattern, negated: !!p.negated, caseInsensitive: ci, type: BOOL };
  }

  #case(p: Ast, ctx: ExprContext): Expr {
    const operand = p.operand ? this.#bindExpr(p.operand, ctx) : null;
    const whens: [Expr, Expr][] = [];
    let t: DataType = NULL;
    const results: Expr[] = [];
    for (const c of p.conditions) {
      let cond = this.#bindExpr(c.condition, ctx);
      if (operand) cond = this.#binary("=", operand, cond);
      const res = this.#bindExpr(c.result, ctx);
      t = requireCommonType(t, res.type, "mix CASE results of");
      whens.push([castTo(requireBool(cond, "CASE WHEN"), BOOL), res]);
      results.push(res);
    }
    let otherwise: Expr | null = null;
    if (p.else_result) {
      otherwise = this.#bindExpr(p.else_result, ctx);
      t = requireCommonType(t, otherwise.type, "mix CASE results of");
    }
    if (t.id === "null") t = INT32;
    return {
      kind: "case",
      whens: whens.map(([w, r]) => [w, castTo(r, t)] as const),
      otherwise: otherwise ? castTo(otherwise, t) : null,
      type: t,
    };
  }

  #cast(p: Ast, ctx: ExprContext): Expr {
    if (p.format) throw new SpiceError("NOT_SUPPORTED", "not supported: CAST ... FORMAT");
    const t = sqlType(p.data_type);
    const arg = this.#bindExpr(p.expr, ctx);
    if (t.id === "interval") {
      if (arg.kind === "literal" && typeof arg.value === "string") {
        return lit(parseInterval(arg.value, null), INTERVAL);
      }
      throw new SpiceError("NOT_SUPPORTED", "not supported: CAST to INTERVAL of a non-constant");
    }
    if (!canCast(arg.type, t)) {
      throw new SpiceError("TYPE", `cannot cast ${typeToString(arg.type)} to ${typeToString(t)}`);
    }
    if (typeEquals(arg.type, t)) return arg;
    // TRY_CAST / SAFE_CAST: NULL instead of an error for values that do not convert.
    const safe = p.kind === "TryCast" || p.kind === "SafeCast";
    return safe ? { kind: "cast", arg, type: t, safe: true } : { kind: "cast", arg, type: t };
  }

  #call(name: string, args: Expr[]): Expr {
    const sig = resolveFunction(name, args.map((a) => a.type));
    let result = sig.result;
    const t0 = args[0]?.type;
    // Result types that depend on a constant argument, as in DuckDB.
    if (sig.name === "round" && t0?.id === "decimal" && args.length === 2) {
      const k = args[1];
      if (k.kind !== "literal" || typeof k.value !== "number") {
        throw new SpiceError(
          "NOT_SUPPORTED",
          "not supported: round(DECIMAL, k) with a non-constant k",
        );
      }
      result = decimal(t0.precision, Math.max(0, Math.min(k.value, t0.scale)));
    }
    if (
      sig.name === "date_part" && args[0]?.kind === "literal" &&
      ["epoch", "julian", "jd"].includes(String(args[0].value))
    ) {
      result = FLOAT64;
    }
    return {
      kind: "call",
      fn: sig.name,
      args: args.map((a, i) => castTo(a, sig.args[i])),
      type: result,
    };
  }

  #function(p: Ast, ctx: ExprContext): Expr {
    const parts = objectNameParts(p.name);
    const name = parts[parts.length - 1].toLowerCase();
    const argList = variant(p.args) === "List" ? payload(p.args) : null;
    const rawArgs: Ast[] = argList?.args ?? [];
    const distinct = argList?.duplicate_treatment === "Distinct";
    if (argList?.clauses?.length) {
      throw new SpiceError(
        "NOT_SUPPORTED",
        `not supported: ${name}() with ORDER BY/LIMIT inside the call`,
      );
    }
    const isStar = rawArgs.length === 1 &&
      (rawArgs[0] === "Wildcard" || variant(payload(rawArgs[0]) ?? rawArgs[0]) === "Wildcard" ||
        payload(rawArgs[0]) === "Wildcard");
    const argAsts: Ast[] = isStar ? [] : rawArgs.map((a) => {
      const av = variant(a);
      if (av === "Named" || av === "ExprNamed") {
        throw new SpiceError("NOT_SUPPORTED", `not supported: named arguments to ${name}()`);
      }
      const inner = payload(a);
      if (variant(inner) !== "Expr") {
        throw new SpiceError(
          "NOT_SUPPORTED",
          `not supported: ${variant(inner)} argument to ${name}()`,
        );
      }
      return payload(inner);
    });
    if (p.over) return this.#windowCall(name, argAsts, isStar, p, ctx);
    const agg = name === "count" && isStar ? "count_star" : aggregateName(name);
    if (agg) {
      if (!ctx.aggs) {
        throw new SpiceError(
          "PLAN",
          `aggregate function ${name}() is not allowed in ${ctx.clause}`,
        );
      }
      const inner = this.#plainContext(ctx.scope, `the arguments of ${name}()`);
      const args = argAsts.map((a) => this.#bindExpr(a, inner));
      if (agg !== "count_star" && args.length !== 1) {
        throw new SpiceError("PLAN", `${name}() takes 1 argument, got ${args.length}`);
      }
      const fexpr = p.filter ? requireBool(this.#bindExpr(p.filter, inner), "FILTER") : null;
      let argType = args[0]?.type ?? null;
      let castArgs = args;
      if (argType?.id === "utf8" && (agg === "sum" || agg === "avg")) {
        throw new SpiceError("TYPE", `${name}() is not defined for VARCHAR`);
      }
      if (argType?.id === "null") {
        argType = INT32;
        castArgs = [castTo(args[0], INT32)];
      }
      const type = aggregateResultType(agg, argType);
      return ctx.aggs.add(
        agg as AggFn,
        castArgs,
        distinct && agg !== "min" && agg !== "max",
        fexpr,
        type,
        `${name}`,
      );
    }
    if (p.filter) {
      throw new SpiceError("PLAN", `FILTER is only allowed on aggregate functions, not ${name}()`);
    }
    if (name === "grouping") return this.#grouping(argAsts, ctx);
    const args = argAsts.map((a) => this.#bindExpr(a, ctx));
    if (DATE_PART_FUNCTIONS.has(name)) {
      if (args.length !== 1) throw new SpiceError("PLAN", `${name}() takes 1 argument`);
      return this.#call("date_part", [lit(name, UTF8), args[0]]);
    }
    if (
      name === "date_part" || name === "datepart" || name === "date_trunc" || name === "datetrunc"
    ) {
      if (args[0]?.kind === "literal" && typeof args[0].value === "string") {
        const f = normaliseField(args[0].value.toLowerCase());
        args[0] = lit(f, UTF8);
      }
    }
    if (name === "concat" || name === "concat_ws") {
      return this.#call(name, args.map((a) => castTo(a, UTF8)));
    }
    if (!isScalarFunction(name)) {
      if (windowFunctionType(name, [])) {
        throw new SpiceError("PLAN", `window function ${name}() needs an OVER clause`);
      }
      throw new SpiceError("PLAN", `unknown function ${name}()`);
    }
    return this.#call(name, args);
  }

  #grouping(argAsts: Ast[], ctx: ExprContext): Expr {
    const c = ctx as ExprContext & { groupingIdCol?: number | null; groupItems?: ProjectItem[] };
    if (!c.groupItems) throw new SpiceError("PLAN", "GROUPING() needs GROUP BY");
    const plain = this.#plainContext(ctx.scope, "GROUPING()");
    const bits: number[] = argAsts.map((a) => {
      const e = this.#bindExpr(a, plain);
      const idx = c.groupItems!.findIndex((g) => exprKey(g.expr) === exprKey(e));
      if (idx < 0) {
        throw new SpiceError("PLAN", "GROUPING() arguments must be GROUP BY expressions");
      }
      return idx;
    });
    if (c.groupingIdCol === null || c.groupingIdCol === undefined) return lit(0, INT64);
    // grouping id bit k is set when key k is NOT in the row's grouping set.
    const gid = col(c.groupingIdCol, INT64, "__grouping_id");
    let acc: Expr | null = null;
    bits.forEach((k, i) => {
      const bit: Expr = {
        kind: "binary",
        op: "%",
        left: { kind: "binary", op: "//", left: gid, right: lit(2 ** k, INT64), type: INT64 },
        right: lit(2, INT64),
        type: INT64,
      };
      const weighted: Expr = {
        kind: "binary",
        op: "*",
        left: bit,
        right: lit(2 ** (bits.length - 1 - i), INT64),
        type: INT64,
      };
      acc = acc ? { kind: "binary", op: "+", left: acc, right: weighted, type: INT64 } : weighted;
    });
    return acc!;
  }

  #windowCall(name: string, argAsts: Ast[], isStar: boolean, p: Ast, ctx: ExprContext): Expr {
    if (!ctx.windows) {
      throw new SpiceError("PLAN", `window function ${name}() is not allowed in ${ctx.clause}`);
    }
    let spec = p.over;
    if (variant(spec) === "NamedWindow") {
      throw new SpiceError("NOT_SUPPORTED", "not supported: named windows (WINDOW w AS ...)");
    }
    spec = payload(spec);
    if (spec.window_name) throw new SpiceError("NOT_SUPPORTED", "not supported: named windows");
    const inner: ExprContext = { ...ctx, windows: null };
    const bindPost = (a: Ast) => ctx.rewrite(this.#bindExpr(a, inner));
    const args = argAsts.map(bindPost);
    const partitionBy = (spec.partition_by ?? []).map(bindPost);
    const orderBy: SortKey[] = (spec.order_by ?? []).map((o: Ast) =>
      sortKey(bindPost(o.expr), o.options)
    );
    let frame: WindowFrame | null = null;
    if (spec.window_frame) frame = this.#frame(spec.window_frame);
    let fn = name;
    let type: DataType;
    const agg = name === "count" && isStar ? "count_star" : aggregateName(name);
    if (p.filter) {
      throw new SpiceError("NOT_SUPPORTED", "not supported: FILTER on window functions");
    }
    if (agg) {
      fn = agg;
      if (argList(argAsts, agg)) { /* arity checked below */ }
      if (agg !== "count_star" && args.length !== 1) {
        throw new SpiceError("PLAN", `${name}() takes 1 argument`);
      }
      const distinctFlag = variant(p.args) === "List" &&
        payload(p.args).duplicate_treatment === "Distinct";
      if (distinctFlag) {
        throw new SpiceError("NOT_SUPPORTED", "not supported: DISTINCT in window aggregates");
      }
      type = aggregateResultType(agg, args[0]?.type ?? null);
    } else {
      const t = windowFunctionType(name, args.map((a) => a.type));
      if (!t) throw new SpiceError("PLAN", `unknown window function ${name}()`);
      type = t;
      if ((name === "lag" || name === "lead") && args.length === 3) {
        const ct = requireCommonType(args[0].type, args[2].type, `${name}() default of`);
        args[0] = castTo(args[0], ct);
        args[2] = castTo(args[2], ct);
        type = ct;
      }
      if (
        (name === "lag" || name === "lead" || name === "nth_value" || name === "ntile") &&
        args.length >= 2
      ) {
        if (args[1].kind !== "literal") {
          throw new SpiceError("NOT_SUPPORTED", `not supported: non-constant offset in ${name}()`);
        }
      }
    }
    const call: WindowCall = {
      id: this.#ids.next(),
      name,
      fn,
      args,
      partitionBy,
      orderBy,
      frame,
      type,
    };
    ctx.windows.push(call);
    return col(call.id, type, name);
  }

  #frame(f: Ast): WindowFrame {
    const units = String(f.units).toLowerCase();
    if (units !== "rows" && units !== "range") {
      throw new SpiceError("NOT_SUPPORTED", `not supported: ${f.units} frames`);
    }
    const bound = (b: Ast, isEnd: boolean): WindowFrame["start"] => {
      if (b === undefined || b === null) return isEnd ? { kind: "current" } : { kind: "unbounded" };
      const v = variant(b);
      if (v === "CurrentRow") return { kind: "current" };
      const inner = payload(b);
      const kind = v === "Preceding" ? "preceding" : "following";
      if (inner === undefined || inner === null) {
        return { kind: "unbounded", offset: kind === "preceding" ? -1 : 1 };
      }
      const e = this.#bindExpr(inner, this.#plainContext(new Scope([]), "window frame"));
      if (e.kind === "literal" && e.type.id === "interval") {
        // RANGE offsets over dates and timestamps are counted in days.
        const iv = e.value as IntervalValue;
        if (iv.months !== 0) {
          throw new SpiceError(
            "NOT_SUPPORTED",
            "not supported: month or year intervals as window frame offsets",
          );
        }
        return { kind, offset: iv.days + iv.micros / 86400e6 };
      }
      if (e.kind !== "literal" || typeof e.value !== "number") {
        throw new SpiceError("NOT_SUPPORTED", "not supported: non-numeric window frame offsets");
      }
      const offset = e.type.id === "decimal" ? e.value / 10 ** e.type.scale : e.value;
      return { kind, offset };
    };
    return {
      units: units as "rows" | "range",
      start: bound(f.start_bound, false),
      end: bound(f.end_bound, true),
    };
  }

  /** EXISTS / IN (subquery) anywhere in an expression: a mark join adding a boolean column. */
  #markSubquery(
    q: Ast,
    probe: Expr | null,
    negated: boolean,
    ctx: ExprContext,
    op: BinaryOp = "=",
  ): Expr {
    if (!ctx.ops) {
      throw new SpiceError("NOT_SUPPORTED", `not supported: subqueries in ${ctx.clause}`);
    }
    const sub = this.#bindSubquery(q, ctx.scope);
    if (probe && sub.columns.length !== 1) {
      throw new SpiceError(
        "PLAN",
        `subquery in IN returns ${sub.columns.length} columns, expected 1`,
      );
    }
    const markId = this.#ids.next();
    ctx.ops.push((input, rewrite) => {
      const d = this.#decorrelated(sub.plan, probe === null);
      const conds = d.conditions.map(rewrite);
      if (probe) {
        const sc = sub.columns[0];
        const t = requireCommonType(probe.type, sc.type, "compare");
        conds.unshift(
          binary(op, castTo(rewrite(probe), t), castTo(col(sc.id, sc.type, sc.name), t)),
        );
      }
      const { on, residual } = splitJoinCondition(andAll(conds), input, d.plan);
      if (probe && d.conditions.length > 0) {
        throw new SpiceError(
          "NOT_SUPPORTED",
          "not supported: correlated IN subquery inside an expression (use EXISTS)",
        );
      }
      return join(input, d.plan, "mark", {
        on,
        filter: residual,
        markId,
        nullAware: probe !== null,
      });
    });
    const mark = col(markId, BOOL, probe ? "__in" : "__exists");
    return negated ? unary("not", mark) : mark;
  }

  /** A scalar subquery: a left join against the (decorrelated, one-row-per-key) subquery. */
  #scalarSubquery(q: Ast, ctx: ExprContext): Expr {
    if (!ctx.ops) {
      throw new SpiceError("NOT_SUPPORTED", `not supported: subqueries in ${ctx.clause}`);
    }
    const sub = this.#bindSubquery(q, ctx.scope);
    if (sub.columns.length !== 1) {
      throw new SpiceError(
        "PLAN",
        `scalar subquery returns ${sub.columns.length} columns, expected 1`,
      );
    }
    const out = sub.columns[0];
    const outer = outerReferences(sub.plan);
    if (outer.size === 0) {
      ctx.ops.push((input) => join(input, { kind: "max_one_row", input: sub.plan }, "left"));
      return col(out.id, out.type, out.name);
    }
    // Correlated: must aggregate, so each key yields one row. The value for
    // "no rows" is what the aggregate gives on empty input (COUNT -> 0).
    const top = stripProject(sub.plan);
    if (!top || top.agg.kind !== "aggregate" || top.agg.groupBy.length > 0) {
      // No aggregate: a left join that must find at most one row per outer row.
      ctx.ops.push((input, rewrite) => {
        const d = decorrelate(sub.plan, outer, this.#ids);
        const { on, residual } = splitJoinCondition(
          andAll(d.conditions.map(rewrite)),
          input,
          d.plan,
        );
        return join(input, d.plan, "left", { on, filter: residual, singleMatch: true });
      });
      return col(out.id, out.type, out.name);
    }
    const markerId = this.#ids.next();
    const emptyValue = this.#emptyAggregateValue(sub.plan, out.id);
    const withMarker: LogicalPlan = sub.plan.kind === "project"
      ? project(sub.plan.input, [...sub.plan.items, {
        id: markerId,
        name: "__matched",
        expr: lit(true, BOOL),
      }])
      : sub.plan;
    ctx.ops.push((input, rewrite) => {
      let d;
      let nullsEqual = false;
      try {
        d = decorrelate(withMarker, outer, this.#ids);
      } catch (e) {
        if (!(e instanceof SpiceError) || e.code !== "NOT_SUPPORTED") throw e;
        // A non-equality correlation: group by the outer values (a domain join).
        d = decorrelateWithDomain(withMarker, outer, input, this.#ids);
        nullsEqual = true;
      }
      const conds = d.conditions.map(rewrite);
      const { on, residual } = splitJoinCondition(andAll(conds), input, d.plan);
      if (residual) {
        throw new SpiceError(
          "NOT_SUPPORTED",
          "not supported: non-equality correlation in a scalar subquery",
        );
      }
      return join(input, d.plan, "left", { on, nullsEqual });
    });
    const value = col(out.id, out.type, out.name);
    if (!emptyValue || sub.plan.kind !== "project") return value;
    return {
      kind: "case",
      whens: [[unary("is_null", col(markerId, BOOL, "__matched")), castTo(emptyValue, out.type)]],
      otherwise: value,
      type: out.type,
    };
  }

  /** The scalar subquery's value over zero input rows, or null when that value is NULL. */
  #emptyAggregateValue(plan: LogicalPlan, outId: number): Expr | null {
    if (plan.kind !== "project" || plan.input.kind !== "aggregate") return null;
    const agg = plan.input;
    const item = plan.items.find((i) => i.id === outId);
    if (!item) return null;
    // Over no rows, COUNT is 0 and every other aggregate NULL; the select
    // expression over them (e.g. COALESCE(MAX(x), -1)) gives the subquery's value.
    const map = new Map<number, Expr>();
    for (const a of agg.aggregates) {
      const isCount = a.fn === "count" || a.fn === "count_star";
      map.set(a.id, isCount ? lit(0, INT64) : lit(null, a.type));
    }
    const v = foldExpr(substitute(item.expr, map));
    return v.kind === "literal" && v.value === null ? null : v;
  }
}

// ---------------------------------------------------------------------------
// helpers

function argList(_a: Ast[], _agg: string): boolean {
  return true;
}

function stripProject(p: LogicalPlan): { agg: LogicalPlan } | null {
  let x = p;
  while (x.kind === "project") x = x.input;
  return { agg: x };
}

function splitAnd(ast: Ast): Ast[] {
  if (variant(ast) === "BinaryOp" && payload(ast).op === "And") {
    return [...splitAnd(payload(ast).left), ...splitAnd(payload(ast).right)];
  }
  if (variant(ast) === "Nested") {
    const inner = payload(ast);
    if (variant(inner) === "BinaryOp" && payload(inner).op === "And") return splitAnd(inner);
  }
  return [ast];
}

function unary(op: UnaryOp, arg: Expr): Expr {
  return { kind: "unary", op, arg, type: BOOL.id === "bool" && op !== "neg" ? BOOL : arg.type };
}

function binary(op: BinaryOp, left: Expr, right: Expr): Expr {
  return { kind: "binary", op, left, right, type: BOOL };
}

/** Wraps `e` in a cast to `t` unless it already has that type. */
export function castTo(e: Expr, t: DataType): Expr {
  if (typeEquals(e.type, t)) return e;
  if (e.kind === "literal" && e.value === null) return lit(null, t);
  return { kind: "cast", arg: e, type: t };
}

function requireBool(e: Expr, where: string): Expr {
  if (e.type.id === "bool") return e;
  if (e.type.id === "null") return castTo(e, BOOL);
  throw new SpiceError("TYPE", `${where} needs a BOOLEAN condition, got ${typeToString(e.type)}`);
}

function sortKey(expr: Expr, options: Ast): SortKey {
  const asc = options?.asc !== false;
  // DuckDB's default: NULLS LAST for both directions.
  const nullsFirst = options?.nulls_first === true;
  return { expr, asc, nullsFirst };
}

function objectNameParts(name: Ast): string[] {
  const arr = Array.isArray(name) ? name : (payload(name) ?? name);
  return arr.map((
    part: Ast,
  ) => (part.Identifier ? part.Identifier.value : part.value ?? String(part)));
}

function normaliseField(f: string): string {
  const lower = f.toLowerCase();
  const special: Record<string, string> = {
    dow: "dayofweek",
    doy: "dayofyear",
    isodow: "isodow",
    weekday: "dayofweek",
    epoch: "epoch",
    decade: "decade",
    century: "century",
    millennium: "millennium",
    isoyear: "isoyear",
  };
  if (special[lower]) return special[lower];
  return normaliseUnit(lower) ?? lower;
}

function translateEscape(pattern: string, esc: string): string {
  // Rewrite a pattern with a custom escape to the engine's default escape "\".
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === esc && i + 1 < pattern.length) {
      out += "\\" + pattern[++i];
    } else if (ch === "\\") {
      out += "\\\\";
    } else {
      out += ch;
    }
  }
  return out;
}

function paramLiteral(v: Value): Expr {
  if (v === null) return lit(null, NULL);
  if (typeof v === "boolean") return lit(v, BOOL);
  if (typeof v === "bigint") return lit(Number(v), INT64);
  if (typeof v === "number") {
    if (Number.isInteger(v)) return lit(v, Math.abs(v) <= 2147483647 ? INT32 : INT64);
    return lit(v, FLOAT64);
  }
  if (typeof v === "string") return lit(v, UTF8);
  throw new SpiceError("INVALID_ARGUMENT", `unsupported parameter value ${JSON.stringify(v)}`);
}

/** Maps an AST data type to an engine type. */
export function sqlType(dt: Ast): DataType {
  const v = variant(dt).toLowerCase();
  const p = payload(dt);
  switch (v) {
    case "int":
    case "integer":
    case "int4":
    case "smallint":
    case "tinyint":
    case "int2":
    case "mediumint":
      return INT32;
    case "bigint":
    case "int8":
    case "int64":
    case "hugeint":
    case "unsignedbigint":
      return INT64;
    case "double":
    case "doubleprecision":
    case "float":
    case "float4":
    case "float8":
    case "float64":
    case "real":
      return FLOAT64;
    case "decimal":
    case "numeric":
    case "dec": {
      const info = p;
      const iv = variant(info);
      if (iv === "PrecisionAndScale") return decimal(payload(info)[0], payload(info)[1]);
      if (iv === "Precision") return decimal(payload(info), 0);
      return decimal(18, 3);
    }
    case "varchar":
    case "char":
    case "character":
    case "charactervarying":
    case "charvarying":
    case "text":
    case "string":
    case "nvarchar":
    case "clob":
      return UTF8;
    case "boolean":
    case "bool":
      return BOOL;
    case "date":
      return DATE32;
    case "timestamp":
    case "datetime":
    case "timestampntz":
      return TIMESTAMP;
    case "interval":
      return INTERVAL;
    default:
      throw new SpiceError("NOT_SUPPORTED", `not supported: type ${variant(dt)}`);
  }
}

/** The display name of an unaliased select expression (close to the SQL text). */
function exprName(ast: Ast): string {
  const v = variant(ast);
  const p = payload(ast);
  switch (v) {
    case "Identifier":
      return p.value;
    case "CompoundIdentifier":
      return p[p.length - 1].value;
    case "Function": {
      const parts = objectNameParts(p.name);
      const name = parts[parts.length - 1];
      const list = variant(p.args) === "List" ? payload(p.args) : null;
      const args: Ast[] = list?.args ?? [];
      const shown = args.map((a) => {
        const inner = payload(a);
        if (a === "Wildcard" || inner === "Wildcard" || variant(inner) === "Wildcard") return "*";
        return variant(inner) === "Expr" ? exprName(payload(inner)) : "?";
      });
      return `${name}(${list?.duplicate_treatment === "Distinct" ? "DISTINCT " : ""}${
        shown.join(", ")
      })`;
    }
    case "Nested":
      return exprName(p);
    case "Cast":
      return exprName(p.expr);
    case "Value": {
      const val = p.value ?? p;
      const k = variant(val);
      if (k === "Number") return payload(val)[0];
      if (k === "SingleQuotedString") return `'${payload(val)}'`;
      if (k === "Boolean") return String(payload(val));
      if (k === "Null") return "NULL";
      return k.toLowerCase();
    }
    case "BinaryOp": {
      const ops: Record<string, string> = {
        Plus: "+",
        Minus: "-",
        Multiply: "*",
        Divide: "/",
        Modulo: "%",
        Eq: "=",
        NotEq: "<>",
        Lt: "<",
        LtEq: "<=",
        Gt: ">",
        GtEq: ">=",
        And: "AND",
        Or: "OR",
        StringConcat: "||",
      };
      return `${exprName(p.left)} ${ops[p.op] ?? p.op} ${exprName(p.right)}`;
    }
    default:
      return v.toLowerCase();
  }
}

function containsAggregate(ast: Ast): boolean {
  let found = false;
  const visit = (node: Ast): void => {
    if (found || node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === "Subquery" || k === "Exists" || k === "InSubquery" || k === "subquery") continue;
      if (k === "Function" && v && typeof v === "object") {
        const f = v as Ast;
        const parts = objectNameParts(f.name);
        const n = parts[parts.length - 1].toLowerCase();
        if (!f.over && aggregateName(n)) {
          found = true;
          return;
        }
        if (f.over) {
          // Aggregates inside a window's arguments still make this a grouped query.
          visit(f.args);
          continue;
        }
      }
      visit(v);
    }
  };
  visit(ast);
  return found;
}

/** Replaces subtrees equal to GROUP BY expressions with the group key columns. */
function rewriteGroupKeys(
  e: Expr,
  keys: ReadonlyMap<string, ProjectItem>,
  _fromIds: ReadonlySet<number>,
  _outer: Scope | null,
): Expr {
  const k = keys.get(exprKey(e));
  if (k) return col(k.id, k.expr.type, k.name);
  switch (e.kind) {
    case "column":
    case "literal":
      return e;
    case "binary":
      return {
        ...e,
        left: rewriteGroupKeys(e.left, keys, _fromIds, _outer),
        right: rewriteGroupKeys(e.right, keys, _fromIds, _outer),
      };
    case "unary":
    case "cast":
      return { ...e, arg: rewriteGroupKeys(e.arg, keys, _fromIds, _outer) };
    case "call":
      return { ...e, args: e.args.map((a) => rewriteGroupKeys(a, keys, _fromIds, _outer)) };
    case "case":
      return {
        ...e,
        whens: e.whens.map(([w, t]) =>
          [
            rewriteGroupKeys(w, keys, _fromIds, _outer),
            rewriteGroupKeys(t, keys, _fromIds, _outer),
          ] as const
        ),
        otherwise: e.otherwise ? rewriteGroupKeys(e.otherwise, keys, _fromIds, _outer) : null,
      };
    case "in_list":
      return {
        ...e,
        arg: rewriteGroupKeys(e.arg, keys, _fromIds, _outer),
        list: e.list.map((x) => rewriteGroupKeys(x, keys, _fromIds, _outer)),
      };
    case "like":
      return {
        ...e,
        arg: rewriteGroupKeys(e.arg, keys, _fromIds, _outer),
        pattern: rewriteGroupKeys(e.pattern, keys, _fromIds, _outer),
      };
  }
}

export { conjuncts, equiPair, outputColumns, outputIds };
