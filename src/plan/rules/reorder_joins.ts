/**
 * Join ordering for trees of inner joins: gathers the relations and join
 * predicates of each tree and rebuilds it. Up to DP_LIMIT relations, dynamic
 * programming over connected subsets finds the (possibly bushy) tree with the
 * smallest sum of intermediate result sizes (the C_out cost); beyond that a
 * greedy left-deep order is used.
 *
 * Cardinalities follow the key/foreign-key model: joining two sets gives the
 * larger one's rows times the smaller one's selectivity (its rows over the
 * rows of its largest base table), so a filtered dimension chain such as
 * region -> nation -> supplier shrinks the fact table it joins.
 *
 * @module
 */

import { equiPair, join, readsOnly } from "../builder.ts";
import { andAll, conjuncts, type Expr, exprColumns } from "../expr.ts";
import { type LogicalPlan, outputIds, planInputs, withInputs } from "../logical.ts";
import { baseRows, columnDistinct, estimateRows } from "../stats.ts";

const DP_LIMIT = 12;

interface Relation {
  readonly plan: LogicalPlan;
  readonly ids: Set<number>;
  readonly rows: number;
  readonly base: number;
}

interface Candidate {
  readonly plan: LogicalPlan;
  readonly ids: Set<number>;
  readonly rows: number;
  readonly base: number;
  readonly cost: number;
  /** Predicates placed on joins inside this candidate. */
  readonly used: ReadonlySet<Expr>;
}

function isInner(p: LogicalPlan): p is LogicalPlan & { kind: "join" } {
  return p.kind === "join" && p.joinKind === "inner" && !p.nullsEqual && !p.singleMatch;
}

function gather(p: LogicalPlan, rels: LogicalPlan[], preds: Expr[]): void {
  if (isInner(p)) {
    gather(p.left, rels, preds);
    gather(p.right, rels, preds);
    for (const [a, b] of p.on) {
      preds.push({ kind: "binary", op: "=", left: a, right: b, type: { id: "bool" } });
    }
    preds.push(...conjuncts(p.filter));
    return;
  }
  rels.push(p);
}

/** Reorders every inner-join tree in the plan. */
export function reorderJoins(plan: LogicalPlan): LogicalPlan {
  if (!isInner(plan)) return withInputs(plan, planInputs(plan).map(reorderJoins));
  const leaves: LogicalPlan[] = [];
  const preds: Expr[] = [];
  gather(plan, leaves, preds);
  const rels: Relation[] = leaves.map(reorderJoins).map((r) => ({
    plan: r,
    ids: outputIds(r),
    rows: estimateRows(r),
    base: baseRows(r),
  }));
  const joined = rels.length <= DP_LIMIT ? dynamicOrder(rels, preds) : greedyOrder(rels, preds);
  return joined;
}

/** Estimated rows of joining two sides connected by equality predicates (key/foreign-key model). */
function joinRows(
  a: { rows: number; base: number },
  b: { rows: number; base: number },
  connected: boolean,
): number {
  if (!connected) return a.rows * b.rows;
  const [big, small] = a.rows >= b.rows ? [a, b] : [b, a];
  const sel = Math.min(1, small.rows / Math.max(1, small.base));
  return Math.max(1, big.rows * sel);
}

/**
 * Estimated rows of joining two candidates on their equality predicates:
 * |A| |B| / max(ndv) per key (from table statistics), the denominator capped
 * at max(|A|, |B|) as keys are rarely independent, and never below the
 * key/foreign-key model's estimate (which is used alone when distinct counts
 * are unknown). The floor matters for composite keys: lineitem's
 * (l_partkey, l_suppkey) pairs are partsupp's, not the product of the two
 * columns' distinct counts, so the distinct model alone puts lineitem join
 * partsupp at 800 thousand rows instead of 6 million and orders TPC-H Q9
 * badly; the key/foreign-key model says 6 million. For a many-to-many join
 * (customer and supplier on their nation) the distinct model is the larger.
 */
function keyedJoinRows(a: Candidate, b: Candidate, preds: readonly Expr[]): number {
  const { on } = joinPredicates(preds, a.ids, b.ids);
  let denom = 1;
  for (const [x, y] of on) {
    if (x.kind !== "column" || y.kind !== "column") return joinRows(a, b, true);
    const dx = columnDistinct(a.plan, x.id), dy = columnDistinct(b.plan, y.id);
    if (dx === null || dy === null) return joinRows(a, b, true);
    denom *= Math.max(dx, dy, 1);
  }
  if (on.length === 0) return joinRows(a, b, true);
  const byDistinct = (a.rows * b.rows) / Math.min(denom, Math.max(a.rows, b.rows));
  return Math.max(1, byDistinct, joinRows(a, b, true));
}

/** Splits predicates applicable to a join of `l` and `r` into keys and residual. */
function joinPredicates(
  preds: readonly Expr[],
  l: Set<number>,
  r: Set<number>,
): { on: [Expr, Expr][]; residual: Expr[]; used: Set<Expr> } {
  const both = new Set([...l, ...r]);
  const on: [Expr, Expr][] = [];
  const residual: Expr[] = [];
  const used = new Set<Expr>();
  for (const e of preds) {
    if (!readsOnly(e, both)) continue;
    // Only predicates that need both sides belong to this join.
    if (readsOnly(e, l) || readsOnly(e, r)) continue;
    used.add(e);
    const pair = equiPair(e, l, r);
    if (pair) on.push(pair);
    else residual.push(e);
  }
  return { on, residual, used };
}

function dynamicOrder(rels: Relation[], preds: Expr[]): LogicalPlan {
  const n = rels.length;
  // Predicates that read one relation only stay where they are (pushdown put them below).
  const best = new Map<number, Candidate>();
  for (let i = 0; i < n; i++) {
    const r = rels[i];
    best.set(1 << i, {
      plan: r.plan,
      ids: r.ids,
      rows: r.rows,
      base: r.base,
      cost: 0,
      used: new Set(),
    });
  }
  const full = (1 << n) - 1;
  // Equality edges between relation pairs, for connectivity.
  const adj = new Array<number>(n).fill(0);
  for (const e of preds) {
    const cols = exprColumns(e);
    const touched: number[] = [];
    rels.forEach((r, i) => {
      for (const id of cols) {
        if (r.ids.has(id)) {
          touched.push(i);
          break;
        }
      }
    });
    if (touched.length === 2 && e.kind === "binary" && e.op === "=") {
      adj[touched[0]] |= 1 << touched[1];
      adj[touched[1]] |= 1 << touched[0];
    }
  }
  const connected = (a: number, b: number): boolean => {
    for (let i = 0; i < n; i++) if ((a >> i) & 1 && adj[i] & b) return true;
    return false;
  };
  // Only connected subsets are joined (no cross products inside a
  // component); subsets by increasing size so both halves are solved first.
  const subsets: number[] = [];
  for (let s = 1; s <= full; s++) if (popcount(s) > 1 && isConnected(s, adj)) subsets.push(s);
  subsets.sort((a, b) => popcount(a) - popcount(b));
  for (const s of subsets) {
    let bestHere: Candidate | null = null;
    // Enumerate splits s = a | b, a < b to avoid mirrored duplicates.
    for (let a = (s - 1) & s; a > 0; a = (a - 1) & s) {
      const b = s ^ a;
      if (a > b) continue;
      const ca = best.get(a), cb = best.get(b);
      if (!ca || !cb || !connected(a, b)) continue;
      const rows = keyedJoinRows(ca, cb, preds);
      const cost = ca.cost + cb.cost + rows;
      if (!bestHere || cost < bestHere.cost) bestHere = joinCandidates(ca, cb, rows, cost, preds);
    }
    if (bestHere) best.set(s, bestHere);
  }
  // A disconnected query: join its components by cross products, smallest
  // component first so the intermediate products stay small.
  const components = componentsOf(full, adj).map((c) => best.get(c)!);
  components.sort((x, y) => x.rows - y.rows);
  let result = components[0];
  for (const c of components.slice(1)) {
    const rows = result.rows * c.rows;
    result = joinCandidates(result, c, rows, result.cost + c.cost + rows, preds);
  }
  // Any predicate not placed on a join goes on top.
  const rest = preds.filter((e) => !result.used.has(e));
  return rest.length
    ? { kind: "filter", input: result.plan, predicate: andAll(rest)! }
    : result.plan;
}

/** Joins two candidates, building on the smaller one (the right input) and probing with the larger. */
function joinCandidates(
  ca: Candidate,
  cb: Candidate,
  rows: number,
  cost: number,
  preds: readonly Expr[],
): Candidate {
  const [l, r] = ca.rows >= cb.rows ? [ca, cb] : [cb, ca];
  const { on, residual, used } = joinPredicates(preds, l.ids, r.ids);
  return {
    plan: join(l.plan, r.plan, "inner", { on, filter: andAll(residual) }),
    ids: new Set([...ca.ids, ...cb.ids]),
    rows,
    base: Math.max(ca.base, cb.base),
    cost,
    used: new Set([...ca.used, ...cb.used, ...used]),
  };
}

/** Whether the relations in bit set `s` form one connected piece of the join graph. */
function isConnected(s: number, adj: readonly number[]): boolean {
  const first = s & -s;
  let seen = first, frontier = first;
  while (frontier) {
    let next = 0;
    for (let i = 0; i < adj.length; i++) if ((frontier >> i) & 1) next |= adj[i] & s;
    frontier = next & ~seen;
    seen |= next;
  }
  return seen === s;
}

/** The connected components of bit set `s`, each as a bit set. */
function componentsOf(s: number, adj: readonly number[]): number[] {
  const out: number[] = [];
  let rest = s;
  while (rest) {
    const first = rest & -rest;
    let seen = first, frontier = first;
    while (frontier) {
      let next = 0;
      for (let i = 0; i < adj.length; i++) if ((frontier >> i) & 1) next |= adj[i] & rest;
      frontier = next & ~seen;
      seen |= next;
    }
    out.push(seen);
    rest &= ~seen;
  }
  return out;
}

function popcount(x: number): number {
  let c = 0;
  while (x) {
    x &= x - 1;
    c++;
  }
  return c;
}

function greedyOrder(rels: Relation[], preds: Expr[]): LogicalPlan {
  const pool = [...rels].sort((a, b) => b.rows - a.rows);
  let current: Candidate = { ...pool.shift()!, cost: 0, used: new Set() };
  let pending = [...preds];
  while (pool.length > 0) {
    let pick = -1, pickRows = Infinity;
    pool.forEach((r, i) => {
      const conn = pending.some((e) => equiPair(e, current.ids, r.ids) !== null);
      const rows = joinRows(current, r, conn) * (conn ? 1 : 1e6);
      if (rows < pickRows) {
        pick = i;
        pickRows = rows;
      }
    });
    const next = pool.splice(pick, 1)[0];
    const { on, residual, used } = joinPredicates(pending, current.ids, next.ids);
    pending = pending.filter((e) => !used.has(e));
    const j = join(current.plan, next.plan, "inner", { on, filter: andAll(residual) });
    current = {
      plan: j,
      ids: new Set([...current.ids, ...next.ids]),
      rows: pickRows,
      base: Math.max(current.base, next.base),
      cost: current.cost + pickRows,
      used: new Set([...current.used, ...used]),
    };
  }
  return pending.length
    ? { kind: "filter", input: current.plan, predicate: andAll(pending)! }
    : current.plan;
}
