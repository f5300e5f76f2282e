/**
 * EXPLAIN's `distributed_plan`: a plan as the stages the scheduler runs it
 * in (from `splitStages`), in execution order, each with its id, task count,
 * output partitioning, the stages it reads, and its fragment as an indented
 * tree. After EXPLAIN ANALYZE each stage also shows the rows, batches and
 * time of its fragment's operators and, per executor, its tasks and time.
 *
 * @module
 */

import { exprToString, formatPhysical, type NodeFigures } from "../plan/explain.ts";
import { FINAL_STAGE, type OutputPartitioning, type Stage } from "./stages.ts";

/** Tasks and task time of one stage on one executor. */
export interface ExecutorShare {
  readonly tasks: number;
  readonly ms: number;
}

/** Options of `formatStages`. */
export interface FormatStagesOptions {
  /** Per-operator figures (EXPLAIN ANALYZE), keyed by plan node id. */
  readonly figures?: ReadonlyMap<number, NodeFigures>;
  /** Per stage id: its tasks and time by executor id (EXPLAIN ANALYZE). */
  readonly executors?: ReadonlyMap<number, Readonly<Record<string, ExecutorShare>>>;
}

/** How a stage's output is split, as text. */
export function formatPartitioning(o: OutputPartitioning): string {
  switch (o.kind) {
    case "hash":
      return o.keys
        ? `hash([${o.keys.map(exprToString).join(", ")}], ${o.partitions})`
        : `round_robin(${o.partitions})`;
    case "single":
      return "single";
    case "result":
      return "result (to the client)";
  }
}

/** The stages as text: a header line per stage and its fragment tree below it. */
export function formatStages(stages: readonly Stage[], opts: FormatStagesOptions = {}): string {
  const blocks: string[] = [];
  // The stage headers carry the per-executor figures; operator lines keep rows, batches, time.
  const figures = opts.figures
    ? new Map([...opts.figures].map(([id, f]) => [id, { ...f, extra: undefined }]))
    : undefined;
  for (const s of stages) {
    let head = `Stage ${s.id}${s.id === FINAL_STAGE ? " (final)" : ""}: tasks=${s.tasks} output=${
      formatPartitioning(s.output)
    } inputs=[${s.inputs.map((i) => `stage ${i}`).join(", ")}]`;
    const root = opts.figures?.get(s.plan.id);
    if (root) {
      head += ` output_rows=${root.rows} output_batches=${root.batches}`;
    }
    const per = opts.executors?.get(s.id);
    if (per) {
      const entries = Object.entries(per);
      const ms = entries.reduce((a, [, v]) => a + v.ms, 0);
      head += ` task_time=${ms.toFixed(1)}ms executors=[${
        entries.map(([id, v]) => `${id}: ${v.tasks} tasks ${v.ms.toFixed(1)}ms`).join("; ")
      }]`;
    }
    blocks.push(head + "\n" + formatPhysical(s.plan, figures, 1));
  }
  return blocks.join("\n");
}
