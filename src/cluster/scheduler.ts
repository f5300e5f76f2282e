/**
 * The scheduler role's core: the registry of executors and the state of
 * every job (stages, tasks, attempts) as explicit data. Tasks go to
 * executors with free slots as soon as their stage's inputs are complete;
 * an executor that misses heartbeats is lost, its running tasks are retried
 * elsewhere and the map outputs it held are computed again; stale attempts
 * are ignored; a job fails only when no progress is possible.
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import { fromArrowBatch } from "../arrow/interop.ts";
import { SpiceError, toSpiceError } from "../errors.ts";
import type { MetricsSink, OperatorMetrics } from "../exec/context.ts";
import { decodePlan, encodePlan } from "../distributed/codec.ts";
import { FINAL_STAGE, splitStages, type Stage } from "../distributed/stages.ts";
import {
  type InputLocations,
  type TaskDescriptor,
  type TaskResult,
  trimForPartition,
} from "../distributed/task.ts";
import { type PhysicalPlan, physicalSchema } from "../physical/plan.ts";
import { FlightDataDecoder } from "../server/flight/ipc.ts";
import { type ClusterSecurity, grpc, unary } from "./grpc.ts";
import { PeerClients } from "./shuffle_client.ts";
import { UnitAffinity, type UnitReport } from "./affinity.ts";

/** Scheduler settings. */
export interface SchedulerOptions {
  readonly security: ClusterSecurity;
  /** An executor silent this long is lost (default 10 s). */
  readonly heartbeatTimeoutMs?: number;
  /** Interval executors are told to heartbeat at (default 2 s). */
  readonly heartbeatIntervalMs?: number;
  /** How long a job waits for an executor before failing (default 30 s). */
  readonly noExecutorTimeoutMs?: number;
  /** Attempts per task before the job fails (default 4). */
  readonly maxAttempts?: number;
  readonly log: (level: "INFO" | "WARN" | "ERROR", msg: string) => void;
  /** Called when a job ends, with its summary (what `jobDetails` returns from then on). */
  readonly onJobEnd?: (jobId: string, details: Record<string, unknown>) => void;
  /**
   * How long a task that reads accelerated data waits for a slot on the
   * executor holding that data before it runs elsewhere (default 3 s).
   */
  readonly localityWaitMs?: number;
  /** The generation a dataset's accelerated units are planned with now (see affinity.ts). */
  readonly currentGeneration?: (table: string) => string | undefined;
}

/** An executor as the scheduler sees it. */
export interface ExecutorInfo {
  readonly id: string;
  readonly address: string;
  readonly slots: number;
  readonly registeredAt: Date;
  lastHeartbeat: number;
  freeSlots: number;
  /** Tasks this scheduler launched there and has not heard back about. */
  readonly running: Set<string>;
  ready: boolean;
  counters: Record<string, number>;
  tasksLaunched: number;
  readonly client: grpc.Client;
}

type TaskPhase = "pending" | "running" | "succeeded";

interface TaskState {
  readonly partition: number;
  attempt: number;
  phase: TaskPhase;
  executor: string | null;
  address: string | null;
  result: TaskResult | null;
  failures: number;
  startedAt: number;
}

interface StageState {
  readonly stage: Stage;
  readonly tasks: TaskState[];
}

interface Job {
  readonly id: string;
  readonly stages: Map<number, StageState>;
  readonly order: number[];
  state: "running" | "succeeded" | "failed" | "cancelled";
  error: SpiceError | null;
  /** Rejects when the job fails or is cancelled (never resolves). */
  readonly finished: PromiseWithResolvers<void>;
  /** Waiters woken whenever a task of the job changes state. */
  waiters: (() => void)[];
  readonly executorsUsed: Set<string>;
  readonly createdAt: number;
  waitingSince: number | null;
  readonly perExecutor: Map<string, { tasks: number; ms: number }>;
  readonly metrics: MetricsSink;
  readonly sql: string;
}

const TRACE = Deno.env.get("SPICED_TRACE") === "1";

const RETRYABLE = new Set(["EXECUTOR_LOST", "UNAVAILABLE", "IO", "TIMEOUT", "NOT_FOUND"]);

/** The scheduler's state machine. */
export class Scheduler {
  readonly executors = new Map<string, ExecutorInfo>();
  readonly #jobs = new Map<string, Job>();
  readonly #opts: SchedulerOptions;
  readonly #peers: PeerClients;
  /** Where accelerated units live; keeps scan tasks there (affinity.ts). */
  readonly #affinity: UnitAffinity;
  #timer: ReturnType<typeof setInterval> | null = null;
  readonly id = crypto.randomUUID();
  /** Completed tasks per executor (cluster metrics, survives job cleanup). */
  readonly tasksPerExecutor = new Map<string, { tasks: number; seconds: number }>();

  /** A scheduler with these settings. */
  constructor(opts: SchedulerOptions) {
    this.#opts = opts;
    this.#peers = new PeerClients(opts.security);
    this.#affinity = new UnitAffinity({ currentGeneration: opts.currentGeneration });
    this.#timer = setInterval(() => this.#tick(), 500);
  }

  get #timeout(): number {
    return this.#opts.heartbeatTimeoutMs ?? 10_000;
  }

  /** Total task slots of the live executors (at least 1). */
  totalSlots(): number {
    let n = 0;
    for (const e of this.executors.values()) n += e.slots;
    return Math.max(1, n);
  }

  // ---------------------------------------------------------------------------
  // executor registry (called by the gRPC service)

  /** Registers (or re-registers) an executor. */
  register(
    id: string,
    address: string,
    slots: number,
  ): { accepted: boolean; heartbeat_interval_ms: number; scheduler_id: string; message: string } {
    if (!id || !address || !(slots > 0)) {
      return {
        accepted: false,
        heartbeat_interval_ms: 0,
        scheduler_id: this.id,
        message: "executor_id, address and slots are required",
      };
    }
    const old = this.executors.get(id);
    if (old) {
      if (old.address !== address) this.#lose(old, "re-registered with a new address");
      else {
        old.lastHeartbeat = Date.now();
        return {
          accepted: true,
          heartbeat_interval_ms: this.#opts.heartbeatIntervalMs ?? 2000,
          scheduler_id: this.id,
          message: "",
        };
      }
    }
    const info: ExecutorInfo = {
      id,
      address,
      slots,
      registeredAt: new Date(),
      lastHeartbeat: Date.now(),
      freeSlots: slots,
      running: new Set(),
      ready: false,
      counters: {},
      tasksLaunched: 0,
      // One channel per address for the process's life, reused when an executor registers again.
      client: this.#peers.client("spiced.cluster.ExecutorService", address),
    };
    this.executors.set(id, info);
    this.#opts.log("INFO", `executor ${id} registered from ${address} with ${slots} slots`);
    queueMicrotask(() => this.#schedule());
    return {
      accepted: true,
      heartbeat_interval_ms: this.#opts.heartbeatIntervalMs ?? 2000,
      scheduler_id: this.id,
      message: "",
    };
  }

  /** Records a heartbeat; false when the executor is unknown (it must register again). */
  heartbeat(id: string, freeSlots: number, metricsJson: Uint8Array | undefined): boolean {
    const e = this.executors.get(id);
    if (!e) return false;
    e.lastHeartbeat = Date.now();
    e.freeSlots = freeSlots;
    if (metricsJson && metricsJson.byteLength) {
      try {
        const m = JSON.parse(new TextDecoder().decode(metricsJson));
        e.ready = !!m.ready;
        delete m.ready;
        if (m.accel && typeof m.accel === "object") this.#affinity.recordHoldings(id, m.accel);
        delete m.accel;
        e.counters = m;
      } catch { /* a malformed report is ignored */ }
    }
    this.#schedule();
    return true;
  }

  /** An executor leaves cleanly. */
  deregister(id: string): void {
    const e = this.executors.get(id);
    if (e) this.#lose(e, "deregistered");
  }

  #tick(): void {
    const now = Date.now();
    for (const e of [...this.executors.values()]) {
      if (now - e.lastHeartbeat > this.#timeout) {
        this.#lose(e, `missed heartbeats for ${Math.round((now - e.lastHeartbeat) / 1000)} s`);
      }
    }
    const wait = this.#opts.noExecutorTimeoutMs ?? 30_000;
    for (const job of this.#jobs.values()) {
      if (job.state !== "running") continue;
      if (this.executors.size === 0) {
        job.waitingSince ??= now;
        if (now - job.waitingSince > wait) {
          const everHad = job.executorsUsed.size > 0;
          this.#fail(
            job,
            new SpiceError(
              everHad ? "EXECUTOR_LOST" : "NO_EXECUTORS",
              everHad
                ? `all executors running query ${job.id} were lost and none came back within ${
                  wait / 1000
                } s`
                : `no executors are registered with the scheduler (waited ${
                  wait / 1000
                } s); start one with --role executor`,
            ),
          );
        }
      } else job.waitingSince = null;
    }
    // Tasks waiting for the executor that holds their data run elsewhere once the wait is over.
    if (this.#jobs.size > 0) this.#schedule();
  }

  #lose(e: ExecutorInfo, why: string): void {
    if (!this.executors.has(e.id)) return;
    this.executors.delete(e.id);
    this.#affinity.forgetExecutor(e.id);
    this.#opts.log("WARN", `executor ${e.id} (${e.address}) lost: ${why}`);
    for (const job of this.#jobs.values()) {
      if (job.state !== "running") continue;
      let changed = false;
      for (const s of job.stages.values()) {
        for (const t of s.tasks) {
          if (t.executor !== e.id) continue;
          // Running tasks are retried; finished ones lost their output with the executor.
          if (
            t.phase === "running" ||
            (t.phase === "succeeded" && this.#outputNeeded(job, s.stage.id))
          ) {
            t.phase = "pending";
            t.attempt++;
            t.executor = null;
            t.address = null;
            t.result = null;
            changed = true;
          }
        }
      }
      if (changed) {
        this.#opts.log(
          "INFO",
          `query ${job.id}: re-running the tasks that were on executor ${e.id}`,
        );
      }
    }
    queueMicrotask(() => this.#schedule());
  }

  /** True while some consumer of a stage's output has not finished (the final stage's output is read by the client). */
  #outputNeeded(job: Job, stageId: number): boolean {
    if (stageId === FINAL_STAGE) return true;
    for (const s of job.stages.values()) {
      if (s.stage.inputs.includes(stageId) && !this.#stageDone(s)) return true;
    }
    return false;
  }

  #stageDone(s: StageState): boolean {
    return s.tasks.every((t) => t.phase === "succeeded");
  }

  // ---------------------------------------------------------------------------
  // jobs

  /** Runs a plan on the cluster and streams the final stage's output. */
  run(
    plan: PhysicalPlan,
    opts: { signal: AbortSignal; metrics: MetricsSink; queryId: string; sql?: string },
  ): AsyncIterable<RecordBatch> {
    const stages = splitStages(plan);
    const job: Job = {
      id: opts.queryId,
      stages: new Map(stages.map((s) => [s.id, {
        stage: s,
        tasks: Array.from({ length: s.tasks }, (_, p) => ({
          partition: p,
          attempt: 0,
          phase: "pending" as TaskPhase,
          executor: null,
          address: null,
          result: null,
          failures: 0,
          startedAt: 0,
        })),
      }])),
      order: stages.map((s) => s.id),
      state: "running",
      error: null,
      finished: Promise.withResolvers<void>(),
      waiters: [],
      executorsUsed: new Set(),
      createdAt: Date.now(),
      waitingSince: this.executors.size === 0 ? Date.now() : null,
      perExecutor: new Map(),
      metrics: opts.metrics,
      sql: opts.sql ?? "",
    };
    job.finished.promise.catch(() => {});
    this.#jobs.set(job.id, job);
    this.#trace(job, `created: ${stages.length} stages`);
    const onAbort = () => this.cancel(job.id, opts.signal.reason);
    opts.signal.addEventListener("abort", onAbort, { once: true });
    this.#schedule();
    return this.#stream(job, plan, opts.signal, onAbort);
  }

  async *#stream(
    job: Job,
    plan: PhysicalPlan,
    signal: AbortSignal,
    onAbort: () => void,
  ): AsyncIterable<RecordBatch> {
    try {
      yield* this.#results(job, plan, signal);
      job.state = "succeeded";
    } catch (e) {
      if (job.state === "running") this.#fail(job, toSpiceError(e));
      throw job.error ?? e;
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (job.state === "running") {
        this.cancel(job.id, new SpiceError("CANCELLED", "the client stopped reading"));
      }
      await this.#cleanup(job);
    }
  }

  async *#results(job: Job, plan: PhysicalPlan, signal: AbortSignal): AsyncIterable<RecordBatch> {
    const final = job.stages.get(FINAL_STAGE)!;
    const schema = physicalSchema(plan);
    for (let p = 0; p < final.tasks.length; p++) {
      this.#trace(job, `fetch result ${p}`);
      let delivered = 0;
      for (let attempt = 0;; attempt++) {
        await this.#waitFor(job, () => final.tasks[p].phase === "succeeded");
        const t = final.tasks[p];
        const decoder = new FlightDataDecoder();
        let seen = 0;
        try {
          for await (
            const m of this.#peers.doGet(t.address!, {
              job: job.id,
              stage: FINAL_STAGE,
              map: p,
              bucket: 0,
            }, signal)
          ) {
            const b = decoder.push(m.header, m.body);
            if (!b) continue;
            if (seen++ < delivered) continue;
            delivered++;
            yield fromArrowBatch(b, schema);
          }
          break;
        } catch (e) {
          if (signal.aborted || job.state !== "running") throw job.error ?? e;
          if (attempt >= (this.#opts.maxAttempts ?? 4)) throw e;
          // The executor holding the result is gone: compute that partition again.
          this.#opts.log(
            "WARN",
            `query ${job.id}: fetching result partition ${p} failed (${
              toSpiceError(e).message
            }); re-running it`,
          );
          const ex = t.executor ? this.executors.get(t.executor) : undefined;
          if (ex && Date.now() - ex.lastHeartbeat > this.#timeout / 2) {
            this.#lose(ex, "result fetch failed");
          } else if (t.phase === "succeeded") {
            t.phase = "pending";
            t.attempt++;
            t.executor = null;
            t.address = null;
          }
          this.#schedule();
        }
      }
    }
  }

  /** Waits until `cond` holds or the job ends (woken by task state changes, bounded by a poll). */
  async #waitFor(job: Job, cond: () => boolean): Promise<void> {
    while (!cond()) {
      if (job.state !== "running") {
        throw job.error ?? new SpiceError("CANCELLED", "query cancelled");
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        job.finished.promise.catch(() => {}),
        new Promise<void>((r) => job.waiters.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, 250))),
      ]);
      clearTimeout(timer);
    }
  }

  #trace(job: Job, msg: string): void {
    if (TRACE) {
      this.#opts.log("INFO", `trace ${job.id.slice(0, 8)} +${Date.now() - job.createdAt}ms ${msg}`);
    }
  }

  #wake(job: Job): void {
    const w = job.waiters;
    job.waiters = [];
    for (const f of w) f();
  }

  /** Cancels a job and its tasks everywhere. */
  cancel(jobId: string, reason?: unknown): boolean {
    const job = this.#jobs.get(jobId);
    if (!job || job.state !== "running") return false;
    job.state = "cancelled";
    job.error = reason instanceof SpiceError
      ? reason
      : new SpiceError("CANCELLED", `query ${jobId} was cancelled`);
    job.finished.reject(job.error);
    for (const id of job.executorsUsed) {
      const e = this.executors.get(id);
      if (e) unary(e.client, "CancelJob", { job_id: job.id }, 5000, e.id).catch(() => {});
    }
    return true;
  }

  #fail(job: Job, err: SpiceError): void {
    if (job.state !== "running") return;
    job.state = "failed";
    job.error = err;
    job.finished.reject(err);
    this.#opts.log("WARN", `query ${job.id} failed: ${err.code}: ${err.message}`);
    for (const id of job.executorsUsed) {
      const e = this.executors.get(id);
      if (e) unary(e.client, "CancelJob", { job_id: job.id }, 5000, e.id).catch(() => {});
    }
  }

  async #cleanup(job: Job): Promise<void> {
    this.#described.set(job.id, this.describeJob(job.id));
    if (this.#described.size > 50) this.#described.delete(this.#described.keys().next().value!);
    const summary = this.jobDetails(job.id)!;
    this.#summaries.set(job.id, summary);
    if (this.#summaries.size > 200) this.#summaries.delete(this.#summaries.keys().next().value!);
    try {
      this.#opts.onJobEnd?.(job.id, summary);
    } catch { /* observers do not stop the cleanup */ }
    this.#jobs.delete(job.id);
    this.#affinity.forgetJob(job.id);
    await Promise.all([...job.executorsUsed].map(async (id) => {
      const e = this.executors.get(id);
      if (e) await unary(e.client, "RemoveJobData", { job_id: job.id }, 5000, e.id).catch(() => {});
    }));
  }

  /** A task outcome from an executor. */
  report(r: {
    executor_id: string;
    job_id: string;
    stage_id: number;
    partition: number;
    attempt: number;
    state: string;
    error_code: string;
    error_message: string;
    result_json: Uint8Array;
  }): void {
    const e = this.executors.get(r.executor_id);
    const key = `${r.job_id}/${r.stage_id}/${r.partition}/${r.attempt}`;
    e?.running.delete(key);
    this.#affinity.finished(key, r.state === "succeeded");
    if (e) e.freeSlots = Math.min(e.slots, e.freeSlots + 1);
    const job = this.#jobs.get(r.job_id);
    if (!job || job.state !== "running") return;
    const s = job.stages.get(r.stage_id);
    const t = s?.tasks[r.partition];
    // Stale attempts (a lost executor coming back) are ignored.
    if (
      !s || !t || t.attempt !== r.attempt || t.executor !== r.executor_id || t.phase !== "running"
    ) return;
    this.#trace(job, `report stage ${r.stage_id} part ${r.partition} ${r.state}`);
    if (r.state === "succeeded") {
      const result = decodePlan<TaskResult>(r.result_json);
      t.phase = "succeeded";
      t.result = result;
      job.metrics.merge(result.metrics as [number, OperatorMetrics][]);
      const pe = job.perExecutor.get(r.executor_id) ?? { tasks: 0, ms: 0 };
      pe.tasks++;
      pe.ms += result.elapsedMs;
      job.perExecutor.set(r.executor_id, pe);
      const te = this.tasksPerExecutor.get(r.executor_id) ?? { tasks: 0, seconds: 0 };
      te.tasks++;
      te.seconds += result.elapsedMs / 1000;
      this.tasksPerExecutor.set(r.executor_id, te);
      this.#wake(job);
      this.#schedule();
      return;
    }
    const code = r.error_code || "INTERNAL";
    const extra = r.result_json?.byteLength
      ? decodePlan<{ lostExecutor?: string | null; lostStage?: number | null }>(r.result_json)
      : {};
    if (code === "CANCELLED" && job.state !== "running") return;
    if (!RETRYABLE.has(code)) {
      this.#fail(job, new SpiceError(code as never, r.error_message));
      return;
    }
    t.failures++;
    if (t.failures >= (this.#opts.maxAttempts ?? 4)) {
      this.#fail(
        job,
        new SpiceError(code as never, `${r.error_message} (after ${t.failures} attempts)`),
      );
      return;
    }
    // A lost map output: re-run the producer tasks that were on that executor.
    if (extra.lostExecutor && extra.lostStage !== null && extra.lostStage !== undefined) {
      const lost = this.executors.get(extra.lostExecutor);
      if (
        lost &&
        (Date.now() - lost.lastHeartbeat > this.#timeout / 2 ||
          /ECONNREFUSED/.test(r.error_message))
      ) {
        this.#lose(lost, "its shuffle output could not be fetched");
      }
      const producer = job.stages.get(extra.lostStage);
      for (const pt of producer?.tasks ?? []) {
        if (pt.executor === extra.lostExecutor && pt.phase === "succeeded") {
          pt.phase = "pending";
          pt.attempt++;
          pt.executor = null;
          pt.address = null;
        }
      }
    }
    t.phase = "pending";
    t.attempt++;
    t.executor = null;
    t.address = null;
    this.#schedule();
  }

  // ---------------------------------------------------------------------------
  // placement

  #scheduling = false;

  #schedule(): void {
    if (this.#scheduling) return;
    this.#scheduling = true;
    try {
      for (const job of this.#jobs.values()) {
        if (job.state !== "running") continue;
        for (const id of job.order) {
          const s = job.stages.get(id)!;
          if (!s.stage.inputs.every((i) => this.#stageDone(job.stages.get(i)!))) continue;
          for (const t of s.tasks) {
            if (t.phase !== "pending") continue;
            const e = this.#placeTask(job, s, t);
            if (e === null) return; // no free slot anywhere
            if (e === undefined) continue; // waiting for the executor that holds its data
            this.#launch(job, s, t, e);
          }
        }
      }
    } finally {
      this.#scheduling = false;
    }
  }

  /** The live executor with the most free slots (spreads tasks across executors). */
  #pickExecutor(): ExecutorInfo | null {
    let best: ExecutorInfo | null = null;
    for (const e of this.executors.values()) {
      const free = e.slots - e.running.size;
      if (free <= 0) continue;
      if (
        !best || free > best.slots - best.running.size ||
        (free === best.slots - best.running.size && e.tasksLaunched < best.tasksLaunched)
      ) {
        best = e;
      }
    }
    return best;
  }

  /**
   * Where a task goes: a task that reads accelerated data goes to the
   * executor that owns the data (it may wait `localityWaitMs` for a slot
   * there); any other task to `#pickExecutor`. Null when no executor has a
   * free slot; undefined while the task waits for its executor.
   */
  #placeTask(job: Job, s: StageState, t: TaskState): ExecutorInfo | null | undefined {
    const any = this.#pickExecutor();
    if (!any) return null;
    const want = this.#affinity.preferred(
      job.id,
      s.stage.id,
      s.stage.plan,
      t.partition,
      [...this.executors.keys()],
    );
    if (want === null) return any;
    const e = this.executors.get(want);
    if (e && e.slots - e.running.size > 0) return e;
    const key = `${job.id}/${s.stage.id}/${t.partition}/${t.attempt}`;
    return this.#affinity.waitedMs(key) < (this.#opts.localityWaitMs ?? 3000) ? undefined : any;
  }

  /** Units an executor should drop (sent back in its heartbeat reply), or null. */
  shardDirectives(id: string): UnitReport | null {
    if (!this.executors.has(id)) return null;
    return this.#affinity.directives(id, [...this.executors.keys()]);
  }

  #launch(job: Job, s: StageState, t: TaskState, e: ExecutorInfo): void {
    const kept: Parameters<UnitAffinity["launched"]>[2] = [];
    const inputs: Record<number, InputLocations> = {};
    for (const i of s.stage.inputs) {
      inputs[i] = {
        maps: job.stages.get(i)!.tasks.map((mt) => ({
          executorId: mt.executor!,
          address: mt.address!,
        })),
      };
    }
    const desc: TaskDescriptor = {
      job: job.id,
      stage: s.stage.id,
      partition: t.partition,
      attempt: t.attempt,
      plan: trimForPartition(
        s.stage.plan,
        t.partition,
        this.#affinity.assigner(job.id, e.id, [...this.executors.keys()], kept),
      ),
      output: s.stage.output,
      inputs,
    };
    const key = `${job.id}/${s.stage.id}/${t.partition}/${t.attempt}`;
    this.#affinity.launched(key, e.id, kept);
    t.phase = "running";
    t.executor = e.id;
    t.address = e.address;
    t.startedAt = Date.now();
    e.running.add(key);
    e.tasksLaunched++;
    job.executorsUsed.add(e.id);
    const attempt = t.attempt;
    this.#trace(job, `launch stage ${s.stage.id} part ${t.partition} on ${e.id}`);
    unary<unknown, { accepted: boolean; message: string }>(
      e.client,
      "LaunchTask",
      { task_json: encodePlan(desc) },
      30_000,
      e.id,
    )
      .then((res) => {
        if (!res.accepted) this.#requeue(job, t, e, key, attempt);
      })
      .catch((err) => {
        const msg = toSpiceError(err).message;
        this.#opts.log("WARN", `launching a task on ${e.id} failed: ${msg}`);
        this.#requeue(job, t, e, key, attempt);
        // Nothing listens there any more: the process is gone. Waiting for the heartbeat
        // timeout would only send task after task to it (it always looks free).
        if (/ECONNREFUSED/.test(msg) && this.executors.get(e.id) === e) {
          this.#lose(e, `it refused a connection (${msg})`);
        }
      });
  }

  #requeue(job: Job, t: TaskState, e: ExecutorInfo, key: string, attempt: number): void {
    e.running.delete(key);
    if (
      job.state !== "running" || t.attempt !== attempt || t.phase !== "running" ||
      t.executor !== e.id
    ) return;
    t.phase = "pending";
    t.executor = null;
    t.address = null;
    // Try again shortly (the executor may have been busy with another scheduler's view of its slots).
    setTimeout(() => this.#schedule(), 50);
  }

  // ---------------------------------------------------------------------------
  // status

  /** Executors for /v1/status. */
  executorStatus(): Record<string, unknown>[] {
    return [...this.executors.values()].map((e) => ({
      id: e.id,
      address: e.address,
      slots: e.slots,
      free_slots: Math.max(0, e.slots - e.running.size),
      running_tasks: e.running.size,
      last_heartbeat: new Date(e.lastHeartbeat).toISOString(),
      last_heartbeat_age_ms: Date.now() - e.lastHeartbeat,
      registered_at: e.registeredAt.toISOString(),
      state: e.ready ? "ready" : "loading",
      tasks_launched: e.tasksLaunched,
      accelerated_units: this.#affinity.heldUnits(e.id),
      counters: e.counters,
    }));
  }

  readonly #summaries = new Map<string, Record<string, unknown>>();

  /**
   * A job's stages (task counts by phase, tasks and time per executor) and
   * its tasks and time per executor, for /v1/status and /v1/queries; after
   * the job ends, the summary kept at its end (the most recent 200).
   */
  jobDetails(jobId: string): Record<string, unknown> | null {
    const job = this.#jobs.get(jobId);
    if (!job) return this.#summaries.get(jobId) ?? null;
    const msOf = (v: { tasks: number; ms: number }) => ({
      tasks: v.tasks,
      ms: Math.round(v.ms * 10) / 10,
    });
    return {
      job_state: job.state,
      stages: job.order.map((id) => {
        const s = job.stages.get(id)!;
        const count = (ph: TaskPhase) => s.tasks.filter((t) => t.phase === ph).length;
        const per = new Map<string, { tasks: number; ms: number }>();
        for (const t of s.tasks) {
          if (!t.result || !t.executor) continue;
          const v = per.get(t.executor) ?? { tasks: 0, ms: 0 };
          v.tasks++;
          v.ms += t.result.elapsedMs;
          per.set(t.executor, v);
        }
        return {
          stage: id,
          tasks: s.tasks.length,
          pending: count("pending"),
          running: count("running"),
          succeeded: count("succeeded"),
          inputs: s.stage.inputs,
          output: s.stage.output.kind === "hash"
            ? `hash(${s.stage.output.partitions})`
            : s.stage.output.kind,
          executors: Object.fromEntries([...per].map(([e, v]) => [e, msOf(v)])),
        };
      }),
      executors: Object.fromEntries([...job.perExecutor].map(([e, v]) => [e, msOf(v)])),
    };
  }

  readonly #described = new Map<string, Map<number, string>>();

  /** Per-stage task distribution for EXPLAIN ANALYZE, keyed by the stage root node id. */
  describeJob(jobId: string): Map<number, string> {
    const job = this.#jobs.get(jobId);
    const out = new Map<number, string>();
    if (!job) return this.#described.get(jobId) ?? out;
    for (const s of job.stages.values()) {
      const per = new Map<string, { tasks: number; ms: number }>();
      for (const t of s.tasks) {
        if (!t.result || !t.executor) continue;
        const v = per.get(t.executor) ?? { tasks: 0, ms: 0 };
        v.tasks++;
        v.ms += t.result.elapsedMs;
        per.set(t.executor, v);
      }
      const text = [...per].map(([id, v]) => `${id}: ${v.tasks} tasks ${v.ms.toFixed(1)}ms`).join(
        "; ",
      );
      out.set(s.stage.plan.id, `stage=${s.stage.id} tasks=${s.tasks.length} [${text}]`);
    }
    return out;
  }

  /**
   * Stops the timers and cancels the running jobs. The channels stay open for
   * the process exit to close (see grpc.ts).
   */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    for (const job of this.#jobs.values()) {
      this.cancel(job.id, new SpiceError("CANCELLED", "scheduler stopping"));
    }
  }
}
