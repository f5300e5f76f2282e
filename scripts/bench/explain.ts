/**
 * Reading our EXPLAIN ANALYZE output to find the operator a slow query
 * spends its time in.
 *
 * An operator's `elapsed` is the time its consumers spent waiting for its
 * batches, summed over partitions: it includes its children's time. An
 * operator's own share is therefore estimated as its elapsed minus its
 * children's. With partitions running concurrently (and builds shared
 * between them) the estimate is rough, but the operator that dominates
 * stands out.
 *
 * @module
 */

/** One operator of an analyzed physical plan. */
export interface AnalyzedNode {
  /** The operator, e.g. "HashJoinExec". */
  readonly op: string;
  /** The whole line without indentation and metrics. */
  readonly text: string;
  readonly depth: number;
  readonly rows: number | null;
  readonly elapsedMs: number | null;
  readonly children: AnalyzedNode[];
}

/** An operator with its estimated own time. */
export interface SelfTime {
  readonly op: string;
  readonly text: string;
  readonly rows: number | null;
  readonly elapsedMs: number;
  /** elapsed minus the children's elapsed, at least 0. */
  readonly selfMs: number;
}

const METRICS = /,?\s*metrics=\[([^\]]*)\]\s*$/;

/** Parses the indented tree of `physical_plan_with_metrics` (lines after it are ignored). */
export function parseAnalyzedPlan(text: string): AnalyzedNode[] {
  const roots: AnalyzedNode[] = [];
  const stack: AnalyzedNode[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (roots.length > 0) break; // the "Total: ..." footer follows a blank line
      continue;
    }
    const depth = (line.length - line.trimStart().length) >> 1;
    const body = line.trim();
    const m = METRICS.exec(body);
    const metrics = new Map<string, string>();
    for (const kv of (m?.[1] ?? "").split(",")) {
      const [k, v] = kv.split("=").map((s) => s.trim());
      if (k && v !== undefined) metrics.set(k, v);
    }
    const elapsed = metrics.get("elapsed");
    const node: AnalyzedNode = {
      op: /^[A-Za-z]+/.exec(body)?.[0] ?? body,
      text: m ? body.slice(0, m.index) : body,
      depth,
      rows: metrics.has("output_rows") ? Number(metrics.get("output_rows")) : null,
      elapsedMs: elapsed === undefined ? null : parseDuration(elapsed),
      children: [],
    };
    while (stack.length > 0 && stack[stack.length - 1].depth >= depth) stack.pop();
    if (stack.length === 0) roots.push(node);
    else stack[stack.length - 1].children.push(node);
    stack.push(node);
  }
  return roots;
}

function parseDuration(s: string): number | null {
  const m = /^([\d.]+)\s*(ms|s|us|µs)$/.exec(s);
  if (!m) return null;
  const v = Number(m[1]);
  return m[2] === "s" ? v * 1000 : m[2] === "ms" ? v : v / 1000;
}

/** Every operator with its estimated own time, largest first. */
export function selfTimes(roots: readonly AnalyzedNode[]): SelfTime[] {
  const out: SelfTime[] = [];
  const visit = (n: AnalyzedNode) => {
    if (n.elapsedMs !== null) {
      const kids = n.children.reduce((s, c) => s + (c.elapsedMs ?? 0), 0);
      out.push({
        op: n.op,
        text: n.text,
        rows: n.rows,
        elapsedMs: n.elapsedMs,
        selfMs: Math.max(0, n.elapsedMs - kids),
      });
    }
    n.children.forEach(visit);
  };
  roots.forEach(visit);
  return out.sort((a, b) => b.selfMs - a.selfMs);
}

/** The top `n` operators by own time, one line each, for the console. */
export function summarizeSelfTimes(plan: string, n = 3): string[] {
  return selfTimes(parseAnalyzedPlan(plan)).slice(0, n).map((s) =>
    `${s.selfMs.toFixed(1).padStart(9)} ms self  ${
      (s.rows === null ? "" : `${s.rows} rows`).padStart(14)
    }  ${s.text.length > 110 ? s.text.slice(0, 107) + "..." : s.text}`
  );
}
