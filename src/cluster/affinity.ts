/**
 * Where accelerated data lives in a cluster, and keeping scan tasks there.
 *
 * An accelerated dataset is split into units (src/acceleration). Each unit
 * has one owner among the registered executors, chosen by rendezvous
 * (highest-random-weight) hashing of the unit against each executor id,
 * with bounded loads: a deterministic choice (every scheduler computes the
 * same) that spreads units evenly and, when an executor joins or leaves,
 * moves few of them.
 *
 * For each scan of accelerated data, the scheduler deals the scan's units to
 * the stage's tasks itself (instead of round-robin): every task reads units
 * of one owner, and the stage's tasks are shared among the owners in
 * proportion to their rows. A task is then placed on its units' owner, which
 * loads the units the first time and keeps them: each executor ends up
 * holding its share, and later scans read memory. If the owner has no free
 * slot for `localityWaitMs`, the task runs elsewhere and reads its units
 * through from the source without keeping them.
 *
 * Executors report the units they hold in their heartbeats (and a task's
 * success records its units at once); the scheduler answers with the units
 * an executor should drop: units whose owner is now another executor (once
 * that owner holds them), and units of a generation that is no longer
 * planned with (after a refresh) and that no running job uses.
 *
 * @module
 */

import { ACCELERATED_KIND, type AcceleratedPartitionData, shortHash } from "../acceleration/mod.ts";
import type { ShardHoldings } from "../acceleration/shards.ts";
import type { ScanPartition } from "../catalog/provider.ts";
import type { ScanAssigner } from "../distributed/task.ts";
import { trimForPartition } from "../distributed/task.ts";
import type { PhysicalPlan } from "../physical/plan.ts";

type ScanNode = PhysicalPlan & { op: "scan" };

/** Units by dataset (lower case) and generation. */
export type UnitReport = Record<string, ShardHoldings>;

/** One unit a task keeps: recorded as held when the task succeeds. */
interface KeptUnit {
  readonly table: string;
  readonly gen: string;
  readonly unit: number;
}

/** Settings of the affinity map. */
export interface AffinityOptions {
  /** The generation the scheduler plans a dataset with now (older ones are dropped when unused). */
  readonly currentGeneration?: (table: string) => string | undefined;
  /** How long a generation stays after its last use before executors drop it (default 30 s). */
  readonly generationGraceMs?: number;
}

const ownersCache = new Map<string, readonly (string | null)[]>();

/**
 * The owner of every unit of a generation (`count` units) among
 * `executors`: rendezvous hashing with bounded loads. Each unit ranks the
 * executors by a hash of (unit, executor) and goes to the first one that
 * holds fewer than ceil(count / executors) units: no executor holds more
 * than its fair share (rounded up), and a change of membership moves few
 * units (mostly those the new executor takes, or the lost one had).
 */
export function unitOwners(
  table: string,
  gen: string,
  count: number,
  executors: readonly string[],
): readonly (string | null)[] {
  const sorted = [...executors].sort();
  const key = `${table.toLowerCase()}\u0000${gen}\u0000${count}\u0000${sorted.join(",")}`;
  const hit = ownersCache.get(key);
  if (hit) return hit;
  const out: (string | null)[] = [];
  const cap = Math.ceil(count / Math.max(1, sorted.length));
  const load = new Map(sorted.map((e) => [e, 0]));
  for (let u = 0; u < count; u++) {
    const ranked = sorted
      .map((e) => [shortHash(`${table.toLowerCase()}\u0000${gen}\u0000${u}\u0000${e}`), e])
      .sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
    const pick = ranked.find(([, e]) => load.get(e)! < cap)?.[1] ?? null;
    if (pick !== null) load.set(pick, load.get(pick)! + 1);
    out.push(pick);
  }
  if (ownersCache.size >= 64) ownersCache.delete(ownersCache.keys().next().value!);
  ownersCache.set(key, out);
  return out;
}

/** The owner of one unit (see `unitOwners`); null without executors. */
export function unitOwner(
  table: string,
  gen: string,
  unit: number,
  count: number,
  executors: readonly string[],
): string | null {
  return unitOwners(table, gen, count, executors)[unit] ?? null;
}

function rowsOf(p: ScanPartition): number {
  return p.rows !== undefined && p.rows > 0 ? p.rows : 1;
}

/**
 * Deals `parts` (scan partitions, with their owners) into `n` lists so that
 * each list holds units of one owner where possible, and the lists' rows are
 * balanced: each owner gets lists in proportion to its rows (at least one),
 * and its units go, largest first, to its list with the fewest rows. With
 * more owners than lists, whole owners are packed into the lightest list.
 */
export function assignUnits(
  parts: readonly ScanPartition[],
  owners: readonly (string | null)[],
  n: number,
): ScanPartition[][] {
  const lists: number[][] = Array.from({ length: Math.max(1, n) }, () => []);
  const load = new Array<number>(lists.length).fill(0);
  const groups = new Map<string, number[]>();
  parts.forEach((_, i) => {
    const o = owners[i] ?? "";
    let g = groups.get(o);
    if (!g) groups.set(o, g = []);
    g.push(i);
  });
  const groupRows = (g: number[]) => g.reduce((s, i) => s + rowsOf(parts[i]), 0);
  const order = [...groups.entries()].sort((a, b) =>
    groupRows(b[1]) - groupRows(a[1]) || (a[0] < b[0] ? -1 : 1)
  );
  const lightest = (among: number[]) =>
    among.reduce((best, k) => (load[k] < load[best] ? k : best), among[0]);
  if (order.length > lists.length) {
    const all = lists.map((_, k) => k);
    for (const [, g] of order) {
      const k = lightest(all);
      for (const i of g) lists[k].push(i);
      load[k] += groupRows(g);
    }
  } else {
    // Lists per owner: one each, the rest by largest remainder of the row share.
    const total = order.reduce((s, [, g]) => s + groupRows(g), 0);
    const share = order.map(([, g]) => ((lists.length - order.length) * groupRows(g)) / total);
    const count = share.map((x) => 1 + Math.floor(x));
    let left = lists.length - count.reduce((s, c) => s + c, 0);
    const byRemainder = share.map((x, k) => [x - Math.floor(x), k]).sort((a, b) => b[0] - a[0]);
    for (const [, k] of byRemainder) {
      if (left <= 0) break;
      count[k]++;
      left--;
    }
    let next = 0;
    order.forEach(([, g], k) => {
      const mine = Array.from({ length: count[k] }, (_, j) => next + j);
      next += count[k];
      const sorted = [...g].sort((a, b) => rowsOf(parts[b]) - rowsOf(parts[a]) || a - b);
      for (const i of sorted) {
        const at = lightest(mine);
        lists[at].push(i);
        load[at] += rowsOf(parts[i]);
      }
    });
  }
  return lists.map((l) => l.sort((a, b) => a - b).map((i) => parts[i]));
}

function accelerated(p: ScanPartition): AcceleratedPartitionData | null {
  return p.kind === ACCELERATED_KIND ? p.data as AcceleratedPartitionData : null;
}

/** The scheduler's map of accelerated units: owners, holdings, and per-job dealing. */
export class UnitAffinity {
  readonly #opts: AffinityOptions;
  /** executor -> table -> gen -> units held. */
  readonly #held = new Map<string, Map<string, Map<string, Set<number>>>>();
  /** job -> scan node id -> the units each output partition reads. */
  readonly #dealt = new Map<string, Map<number, ScanPartition[][]>>();
  /** "table\0gen" -> running jobs that read it, when it was last used, and its unit count. */
  readonly #gens = new Map<string, { jobs: Set<string>; lastUsed: number; of?: number }>();
  /** Units tasks keep, by task key, until the task reports. */
  readonly #pending = new Map<string, { executor: string; units: KeptUnit[] }>();
  /** When each task first waited for its preferred executor, by task key. */
  readonly #waiting = new Map<string, number>();
  /** Preferred executor by "job/stage/partition", with the membership it was computed for. */
  readonly #preferred = new Map<string, { members: string; executor: string | null }>();

  /** An empty map. */
  constructor(opts: AffinityOptions = {}) {
    this.#opts = opts;
  }

  /** The units of `scan` that output partition `part` reads (null: not accelerated data). */
  #deal(job: string, scan: ScanNode, executors: readonly string[]): ScanPartition[][] | null {
    let byScan = this.#dealt.get(job);
    const cached = byScan?.get(scan.id);
    if (cached) return cached;
    const parts = scan.scanPartitions;
    if (parts.length === 0 || parts.some((p) => p.kind !== ACCELERATED_KIND)) return null;
    const owners = parts.map((p) => {
      const d = p.data as AcceleratedPartitionData;
      return unitOwner(scan.table, d.gen, d.unit, d.of, executors);
    });
    const lists = assignUnits(parts, owners, scan.partitions);
    if (!byScan) this.#dealt.set(job, byScan = new Map());
    byScan.set(scan.id, lists);
    for (const p of parts) {
      const d = p.data as AcceleratedPartitionData;
      const key = `${scan.table.toLowerCase()}\u0000${d.gen}`;
      const use = this.#gens.get(key) ?? { jobs: new Set<string>(), lastUsed: Date.now() };
      use.jobs.add(job);
      use.lastUsed = Date.now();
      use.of = d.of;
      this.#gens.set(key, use);
    }
    return lists;
  }

  /**
   * The scan dealing for a task of `job` going to `executor`: accelerated
   * units dealt by owner, each marked `keep` when `executor` owns it. The
   * units kept are collected into `kept`.
   */
  assigner(
    job: string,
    executor: string | null,
    executors: readonly string[],
    kept?: KeptUnit[],
  ): ScanAssigner {
    return (scan, part) => {
      const lists = this.#deal(job, scan, executors);
      if (!lists) return undefined;
      return (lists[part] ?? []).map((p) => {
        const d = p.data as AcceleratedPartitionData;
        const keep = executor !== null &&
          unitOwner(scan.table, d.gen, d.unit, d.of, executors) === executor;
        if (keep) kept?.push({ table: scan.table.toLowerCase(), gen: d.gen, unit: d.unit });
        return { ...p, data: { ...d, keep } };
      });
    };
  }

  /**
   * The executor a task should run on: the owner of most of the rows it
   * reads from accelerated data; null when it reads none.
   */
  preferred(
    job: string,
    stageId: number,
    stagePlan: PhysicalPlan,
    partition: number,
    executors: readonly string[],
  ): string | null {
    const key = `${job}/${stageId}/${partition}`;
    const members = executors.join(",");
    const hit = this.#preferred.get(key);
    if (hit && hit.members === members) return hit.executor;
    const rows = new Map<string, number>();
    trimForPartition(stagePlan, partition, (scan, part) => {
      const lists = this.#deal(job, scan, executors);
      if (!lists) return undefined;
      for (const p of lists[part] ?? []) {
        const d = accelerated(p)!;
        const o = unitOwner(scan.table, d.gen, d.unit, d.of, executors);
        if (o) rows.set(o, (rows.get(o) ?? 0) + rowsOf(p));
      }
      return lists[part] ?? [];
    });
    let best: string | null = null;
    for (const [e, r] of rows) if (best === null || r > rows.get(best)!) best = e;
    this.#preferred.set(key, { members, executor: best });
    return best;
  }

  /** How long a task has waited for its preferred executor (starts the clock on first call). */
  waitedMs(taskKey: string): number {
    const since = this.#waiting.get(taskKey);
    if (since === undefined) {
      this.#waiting.set(taskKey, Date.now());
      return 0;
    }
    return Date.now() - since;
  }

  /** A task was launched on `executor`, keeping these units. */
  launched(taskKey: string, executor: string, units: KeptUnit[]): void {
    this.#waiting.delete(taskKey);
    if (units.length) this.#pending.set(taskKey, { executor, units });
  }

  /** A task's outcome: on success its kept units are held by its executor. */
  finished(taskKey: string, succeeded: boolean): void {
    const p = this.#pending.get(taskKey);
    this.#pending.delete(taskKey);
    if (!p || !succeeded) return;
    for (const u of p.units) this.#unitsOf(p.executor, u.table, u.gen).add(u.unit);
  }

  #unitsOf(executor: string, table: string, gen: string): Set<number> {
    let byTable = this.#held.get(executor);
    if (!byTable) this.#held.set(executor, byTable = new Map());
    let byGen = byTable.get(table);
    if (!byGen) byTable.set(table, byGen = new Map());
    let units = byGen.get(gen);
    if (!units) byGen.set(gen, units = new Set());
    return units;
  }

  /** An executor's own account of the units it holds (from its heartbeat). */
  recordHoldings(executor: string, report: UnitReport): void {
    const byTable = new Map<string, Map<string, Set<number>>>();
    for (const [table, gens] of Object.entries(report)) {
      const t = table.toLowerCase();
      const byGen = new Map<string, Set<number>>();
      for (const [gen, units] of Object.entries(gens)) {
        if (!Array.isArray(units)) continue;
        byGen.set(gen, new Set(units.filter((u) => Number.isInteger(u))));
        // A generation first heard of here (e.g. from before a scheduler restart) gets its grace.
        const key = `${t}\u0000${gen}`;
        if (!this.#gens.has(key)) this.#gens.set(key, { jobs: new Set(), lastUsed: Date.now() });
      }
      byTable.set(t, byGen);
    }
    this.#held.set(executor, byTable);
  }

  /**
   * The units `executor` should drop, by dataset and generation: units of a
   * generation that is not the current one and has been unused for the grace
   * period, and units of the current generation that another executor owns.
   * Null when there is nothing to drop.
   */
  directives(executor: string, executors: readonly string[]): UnitReport | null {
    const byTable = this.#held.get(executor);
    if (!byTable) return null;
    const grace = this.#opts.generationGraceMs ?? 30_000;
    const out: UnitReport = {};
    let any = false;
    for (const [table, byGen] of byTable) {
      const current = this.#opts.currentGeneration?.(table);
      for (const [gen, units] of byGen) {
        let drop: number[];
        const use = this.#gens.get(`${table}\u0000${gen}`);
        const inUse = !!use && (use.jobs.size > 0 || Date.now() - use.lastUsed < grace);
        if (current !== undefined && gen !== current) {
          drop = inUse ? [] : [...units];
        } else {
          // A unit that moved (an executor joined) is dropped once its new owner holds it,
          // so that it is never held nowhere.
          drop = [...units].filter((u) => {
            const owner = use?.of === undefined
              ? null // never planned here: whose it is is unknown
              : unitOwner(table, gen, u, use.of, executors);
            return owner !== executor && owner !== null && this.#holds(owner, table, gen, u);
          });
        }
        if (drop.length) {
          (out[table] ??= {})[gen] = drop.sort((a, b) => a - b);
          any = true;
        }
      }
    }
    return any ? out : null;
  }

  #holds(executor: string, table: string, gen: string, unit: number): boolean {
    return this.#held.get(executor)?.get(table)?.get(gen)?.has(unit) ?? false;
  }

  /** How many units an executor holds (as last known). */
  heldUnits(executor: string): number {
    let n = 0;
    for (const byGen of this.#held.get(executor)?.values() ?? []) {
      for (const units of byGen.values()) n += units.size;
    }
    return n;
  }

  /** An executor is gone: what it held is gone with it. */
  forgetExecutor(executor: string): void {
    this.#held.delete(executor);
    for (const [k, p] of this.#pending) if (p.executor === executor) this.#pending.delete(k);
  }

  /** A job ended: its dealing and waits are dropped, its generations' use ends now. */
  forgetJob(job: string): void {
    this.#dealt.delete(job);
    const prefix = `${job}/`;
    for (const k of this.#waiting.keys()) if (k.startsWith(prefix)) this.#waiting.delete(k);
    for (const k of this.#pending.keys()) if (k.startsWith(prefix)) this.#pending.delete(k);
    for (const k of this.#preferred.keys()) if (k.startsWith(prefix)) this.#preferred.delete(k);
    for (const use of this.#gens.values()) {
      if (use.jobs.delete(job)) use.lastUsed = Date.now();
    }
  }
}
