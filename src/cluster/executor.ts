/**
 * The executor role: registers with the scheduler and heartbeats (with its
 * free slots and counters), runs the tasks the scheduler pushes, keeps their
 * shuffle output, and serves it to peers with Arrow Flight DoGet. It
 * re-registers when the scheduler restarts, and keeps retrying while the
 * scheduler is unreachable.
 *
 * @module
 */

import { QueryMemory } from "../exec/memory.ts";
import type { Catalog } from "../catalog/mod.ts";
import { clusterChannelCredentials, clusterServerCredentials } from "./mtls.ts";
import { SpiceError, toSpiceError } from "../errors.ts";
import { MetricsSink } from "../exec/context.ts";
import { decodePlan, encodePlan } from "../distributed/codec.ts";
import { checkJobId, ShuffleStore } from "../distributed/shuffle_store.ts";
import { runTask, type TaskDescriptor } from "../distributed/task.ts";
import { FINAL_STAGE } from "../distributed/stages.ts";
import {
  bindServer,
  CHANNEL_OPTIONS,
  clientConstructor,
  type ClusterSecurity,
  grpc,
  handleUnary,
  serviceDefinition,
  toGrpcError,
  unary,
} from "./grpc.ts";
import { PeerClients, RemoteExchanges } from "./shuffle_client.ts";
import { parseShuffleTicket, writeShuffleMessages } from "./shuffle_server.ts";
import { doGetFaultFromEnv, injectedFault } from "./faults.ts";

/** Executor settings. */
export interface ExecutorOptions {
  readonly id: string;
  /** Where to listen (host:port; port 0 picks one). */
  readonly bindHost: string;
  readonly bindPort: number;
  /** Host peers use to reach this executor (the port is the bound one). */
  readonly advertiseHost: string;
  readonly slots: number;
  /** host:port of the scheduler. */
  readonly scheduler: string;
  readonly security: ClusterSecurity;
  readonly catalog: Catalog;
  /** True once this node's datasets are loaded (reported in heartbeats). */
  readonly ready: () => boolean;
  /** The accelerated units held here, reported in heartbeats (src/cluster/affinity.ts). */
  readonly shardHoldings?: () => unknown;
  /** Drops the accelerated units the scheduler says are no longer this executor's. */
  readonly dropShards?: (units: Record<string, Record<string, number[]>>) => void;
  readonly version: string;
  readonly log: (level: "INFO" | "WARN" | "ERROR", msg: string) => void;
  readonly heartbeatIntervalMs?: number;
  readonly shuffleMemoryBytes?: number;
  /** runtime.query.memory_limit: what one query's tasks may hold on this executor. */
  readonly memoryLimitBytes?: number | null;
  readonly spillDir?: string;
  readonly batchSize?: number;
}

/** Counters reported to the scheduler for cluster-scope metrics. */
export interface ExecutorCounters {
  tasksSucceeded: number;
  tasksFailed: number;
  taskSeconds: number;
  shuffleBytesWritten: number;
  shuffleRowsWritten: number;
  shuffleBytesRead: number;
  shuffleRowsRead: number;
  shuffleBytesFetched: number;
  shuffleBytesSpilled: number;
  /** Shuffle fetches that failed and were tried again. */
  shuffleFetchRetries: number;
}

/** One finished task, as told to `onTaskEnd` listeners. */
export interface TaskEnd {
  readonly job: string;
  readonly stage: number;
  readonly partition: number;
  readonly state: "succeeded" | "failed" | "cancelled";
  readonly seconds: number;
}

interface RunningTask {
  readonly desc: TaskDescriptor;
  readonly controller: AbortController;
}

/** A running executor. */
export class ExecutorNode {
  readonly id: string;
  readonly store: ShuffleStore;
  readonly counters: ExecutorCounters = {
    tasksSucceeded: 0,
    tasksFailed: 0,
    taskSeconds: 0,
    shuffleBytesWritten: 0,
    shuffleRowsWritten: 0,
    shuffleBytesRead: 0,
    shuffleRowsRead: 0,
    shuffleBytesFetched: 0,
    shuffleBytesSpilled: 0,
    shuffleFetchRetries: 0,
  };
  readonly #taskListeners: ((t: TaskEnd) => void)[] = [];
  #server: grpc.Server | null = null;
  #port = 0;
  #scheduler: grpc.Client;
  readonly #peers: PeerClients;
  readonly #running = new Map<string, RunningTask>();
  /**
   * Per job on this executor: the work its tasks share (a broadcast's hash
   * table) and its memory budget, when runtime.query.memory_limit is set.
   */
  readonly #jobs = new Map<
    string,
    { shared: Map<string, Promise<unknown>>; memory: QueryMemory | undefined }
  >();
  #registered = false;
  #stopped = false;
  #heartbeat: ReturnType<typeof setTimeout> | null = null;
  #lastSchedulerError = "";
  /** The scheduler instance last registered with (a new one means the old one's jobs are gone). */
  #schedulerId: string | null = null;
  /** DoGet streams being served now (a graceful stop lets them finish). */
  #streams = 0;
  #stopping: Promise<void> | null = null;
  /** Test-only fault injection (SPICED_FAULT_DOGET_FAIL_AFTER); null in production. */
  readonly #doGetFault = doGetFaultFromEnv();

  private constructor(private readonly opts: ExecutorOptions) {
    this.id = opts.id;
    this.store = new ShuffleStore({
      memoryBudget: opts.shuffleMemoryBytes ?? 512 * 1024 * 1024,
      spillDir: opts.spillDir ?? `${Deno.env.get("TMPDIR") ?? "/tmp"}/spiced-shuffle-${opts.id}`,
    });
    this.#peers = new PeerClients(opts.security);
    const Ctor = clientConstructor("spiced.cluster.SchedulerService");
    this.#scheduler = new Ctor(
      opts.scheduler,
      clusterChannelCredentials(opts.security, (m) => opts.log("WARN", m)),
      CHANNEL_OPTIONS,
    );
  }

  /** Starts the executor's server and its registration loop. */
  static async start(opts: ExecutorOptions): Promise<ExecutorNode> {
    const node = new ExecutorNode(opts);
    await node.#listen();
    node.#loop();
    return node;
  }

  /** The advertised address (host:port) of this executor. */
  get address(): string {
    return `${this.opts.advertiseHost}:${this.#port}`;
  }

  /** The bound port. */
  get port(): number {
    return this.#port;
  }

  /** Whether the scheduler accepted this executor (last registration or heartbeat). */
  get registered(): boolean {
    return this.#registered;
  }

  /** Calls `f` after every task (for the task duration histogram). */
  onTaskEnd(f: (t: TaskEnd) => void): void {
    this.#taskListeners.push(f);
  }

  /** The counters, with the shuffle store's figures brought up to date. */
  refreshCounters(): ExecutorCounters {
    const s = this.store.stats;
    this.counters.shuffleBytesWritten = s.bytesWritten;
    this.counters.shuffleRowsWritten = s.rowsWritten;
    this.counters.shuffleBytesRead = s.bytesRead;
    this.counters.shuffleRowsRead = s.rowsRead;
    this.counters.shuffleBytesSpilled = s.bytesSpilled;
    return this.counters;
  }

  /** Tasks running now. */
  get runningTasks(): number {
    return this.#running.size;
  }

  async #listen(): Promise<void> {
    const server = new grpc.Server(CHANNEL_OPTIONS);
    server.addService(serviceDefinition("spiced.cluster.ExecutorService"), {
      LaunchTask: handleUnary((req: { task_json: Uint8Array }) => this.#launch(req.task_json)),
      CancelJob: handleUnary((req: { job_id: string }) => {
        this.#cancelJob(req.job_id, "the job was cancelled");
        return Promise.resolve({});
      }),
      RemoveJobData: handleUnary(async (req: { job_id: string }) => {
        this.#cancelJob(req.job_id, "the job ended");
        this.#jobs.delete(req.job_id);
        await this.store.removeJob(req.job_id);
        return {};
      }),
    });
    const unimplemented = (_: unknown, cb?: (e: unknown) => void) => {
      const err = toGrpcError(
        new SpiceError("NOT_SUPPORTED", "executors serve only DoGet for shuffle data"),
      );
      if (cb) cb(err);
    };
    server.addService(serviceDefinition("arrow.flight.protocol.FlightService"), {
      DoGet: (call: grpc.ServerWritableStream<{ ticket: Uint8Array }, unknown>) =>
        void this.#doGet(call),
      // Streams end with emit("error"): destroy() does not send the status to the client.
      Handshake: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
        call.emit(
          "error",
          toGrpcError(new SpiceError("NOT_SUPPORTED", "no handshake on executors")),
        ),
      ListFlights: (call: grpc.ServerWritableStream<unknown, unknown>) =>
        call.emit(
          "error",
          toGrpcError(new SpiceError("NOT_SUPPORTED", "no flights listed by executors")),
        ),
      GetFlightInfo: unimplemented,
      PollFlightInfo: unimplemented,
      GetSchema: unimplemented,
      DoPut: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
        call.emit("error", toGrpcError(new SpiceError("NOT_SUPPORTED", "no DoPut on executors"))),
      DoExchange: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
        call.emit(
          "error",
          toGrpcError(new SpiceError("NOT_SUPPORTED", "no DoExchange on executors")),
        ),
      DoAction: (call: grpc.ServerWritableStream<unknown, unknown>) =>
        call.emit("error", toGrpcError(new SpiceError("NOT_SUPPORTED", "no actions on executors"))),
      ListActions: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    });
    this.#port = await bindServer(
      server,
      `${this.opts.bindHost}:${this.opts.bindPort}`,
      clusterServerCredentials(server, this.opts.security, (m) => this.opts.log("WARN", m)),
    );
    this.#server = server;
  }

  async #doGet(call: grpc.ServerWritableStream<{ ticket: Uint8Array }, unknown>): Promise<void> {
    this.#streams++;
    try {
      const ticket = parseShuffleTicket(call.request.ticket);
      const messages = await this.store.read(ticket);
      // Test-only: cut one intermediate shuffle stream after N messages (see faults.ts).
      const fault = ticket.stage !== FINAL_STAGE ? this.#doGetFault : null;
      await writeShuffleMessages(call, messages, (sent) => {
        if (!fault?.hit(sent)) return;
        this.opts.log(
          "WARN",
          `injected fault: cutting the DoGet stream of job ${ticket.job} stage ${ticket.stage} map ${ticket.map} bucket ${ticket.bucket} after ${sent} messages`,
        );
        throw injectedFault(`stream cut after ${sent} messages`);
      });
    } catch (e) {
      // emit("error") sends the status; destroy() after an await leaves the client waiting.
      if (!call.cancelled) call.emit("error", toGrpcError(e));
    } finally {
      this.#streams--;
    }
  }

  #launch(taskJson: Uint8Array): Promise<{ accepted: boolean; message: string }> {
    if (this.#stopped) return Promise.resolve({ accepted: false, message: "executor is stopping" });
    if (this.#running.size >= this.opts.slots) {
      return Promise.resolve({ accepted: false, message: "no free slot" });
    }
    let desc: TaskDescriptor;
    try {
      const bytes = taskJson ?? new Uint8Array(0);
      checkJsonDepth(bytes, MAX_TASK_JSON_DEPTH);
      desc = checkTask(decodePlan<unknown>(bytes));
    } catch (e) {
      return Promise.reject(e);
    }
    const key = `${desc.job}/${desc.stage}/${desc.partition}/${desc.attempt}`;
    const t: RunningTask = { desc, controller: new AbortController() };
    this.#running.set(key, t);
    void this.#run(t, () => this.#running.delete(key));
    return Promise.resolve({ accepted: true, message: "" });
  }

  /** Runs a task; `release` frees its slot before the outcome is reported (so the next task fits). */
  async #run(t: RunningTask, release: () => void): Promise<void> {
    const { desc } = t;
    let job = this.#jobs.get(desc.job);
    if (!job) {
      const limit = this.opts.memoryLimitBytes ?? null;
      job = { shared: new Map(), memory: limit === null ? undefined : new QueryMemory(limit) };
      this.#jobs.set(desc.job, job);
    }
    const { shared, memory } = job;
    const metrics = new MetricsSink();
    const exchanges = new RemoteExchanges(desc, {
      executorId: this.id,
      store: this.store,
      peers: this.#peers,
      onFetch: (_rows, bytes) => (this.counters.shuffleBytesFetched += bytes),
      onRetry: (r) => {
        this.counters.shuffleFetchRetries++;
        this.opts.log(
          "WARN",
          `shuffle fetch of job ${r.ticket.job} stage ${r.ticket.stage} map ${r.ticket.map} bucket ${r.ticket.bucket} from executor ${r.executorId} (${r.address}) failed after ${r.delivered} batches: ${r.error.message}; retrying (attempt ${
            r.attempt + 1
          })`,
        );
      },
    });
    const t0 = performance.now();
    let report: Record<string, unknown>;
    try {
      const result = await runTask(desc, desc.plan, desc.partition, {
        signal: t.controller.signal,
        catalog: this.opts.catalog,
        exchanges,
        metrics,
        batchSize: this.opts.batchSize ?? 65536,
        shared,
        memory,
      }, this.store);
      this.counters.tasksSucceeded++;
      report = {
        state: "succeeded",
        error_code: "",
        error_message: "",
        result_json: encodePlan(result),
      };
    } catch (e) {
      const se = t.controller.signal.aborted && t.controller.signal.reason instanceof SpiceError
        ? t.controller.signal.reason
        : toSpiceError(e);
      this.counters.tasksFailed++;
      const extra = e as { lostExecutor?: string; lostStage?: number };
      report = {
        state: se.code === "CANCELLED" ? "cancelled" : "failed",
        error_code: se.code,
        error_message: se.message,
        result_json: encodePlan({
          lostExecutor: extra.lostExecutor ?? null,
          lostStage: extra.lostStage ?? null,
        }),
      };
    }
    const seconds = (performance.now() - t0) / 1000;
    this.counters.taskSeconds += seconds;
    this.refreshCounters();
    release();
    const end: TaskEnd = {
      job: desc.job,
      stage: desc.stage,
      partition: desc.partition,
      state: report.state as TaskEnd["state"],
      seconds,
    };
    for (const l of this.#taskListeners) {
      try {
        l(end);
      } catch { /* a listener's failure is not the task's */ }
    }
    await this.#report({
      executor_id: this.id,
      job_id: desc.job,
      stage_id: desc.stage,
      partition: desc.partition,
      attempt: desc.attempt,
      ...report,
    });
  }

  async #report(req: Record<string, unknown>): Promise<void> {
    for (let attempt = 0; attempt < 5 && !this.#stopped; attempt++) {
      try {
        await unary(this.#scheduler, "ReportTask", req, 10_000, "scheduler");
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }

  #cancelJob(job: string, why: string): void {
    for (const t of this.#running.values()) {
      if (t.desc.job === job) t.controller.abort(new SpiceError("CANCELLED", why));
    }
  }

  async #register(): Promise<boolean> {
    if (this.#stopped) return false;
    try {
      const res = await unary<
        unknown,
        { accepted: boolean; heartbeat_interval_ms: number; message: string; scheduler_id?: string }
      >(
        this.#scheduler,
        "RegisterExecutor",
        {
          executor_id: this.id,
          address: this.address,
          slots: this.opts.slots,
          version: this.opts.version,
        },
        5000,
        "scheduler",
      );
      if (!res.accepted) {
        this.opts.log("WARN", `scheduler refused registration: ${res.message}`);
        return false;
      }
      if (this.#stopped) return false;
      const sid = res.scheduler_id || null;
      if (sid && this.#schedulerId && sid !== this.#schedulerId) {
        // A new scheduler: the old one's jobs are gone, and so is the use of their output.
        const jobs = this.store.jobs();
        this.#dropStaleTasks("the scheduler restarted");
        for (const job of jobs) {
          this.#jobs.delete(job);
          await this.store.removeJob(job).catch(() => {});
        }
        if (jobs.length) {
          this.opts.log(
            "INFO",
            `new scheduler instance: dropped the shuffle output of ${jobs.length} jobs of the previous one`,
          );
        }
      }
      if (sid) this.#schedulerId = sid;
      if (!this.#registered) {
        this.opts.log(
          "INFO",
          `registered with scheduler ${this.opts.scheduler} as ${this.id} (${this.address}, ${this.opts.slots} slots)`,
        );
      }
      this.#registered = true;
      this.#lastSchedulerError = "";
      return true;
    } catch (e) {
      const se = toSpiceError(e);
      // Log once per kind of failure, not once per retry.
      const msg = se.code + (se.message.includes("ECONNREFUSED") ? " refused" : "");
      if (msg !== this.#lastSchedulerError) {
        this.opts.log(
          "WARN",
          `cannot reach scheduler ${this.opts.scheduler}: ${se.message}; retrying`,
        );
        this.#lastSchedulerError = msg;
      }
      this.#registered = false;
      return false;
    }
  }

  #applyDirectives(json: Uint8Array | undefined): void {
    if (!json?.byteLength || !this.opts.dropShards) return;
    try {
      const d = JSON.parse(new TextDecoder().decode(json));
      if (d?.drop_units && typeof d.drop_units === "object") this.opts.dropShards(d.drop_units);
    } catch { /* a malformed directive is ignored */ }
  }

  #loop(): void {
    const interval = this.opts.heartbeatIntervalMs ?? 2000;
    const tick = async () => {
      if (this.#stopped) return;
      if (!this.#registered) {
        await this.#register();
      } else {
        try {
          const res = await unary<unknown, { reregister: boolean; directives_json?: Uint8Array }>(
            this.#scheduler,
            "Heartbeat",
            {
              executor_id: this.id,
              free_slots: Math.max(0, this.opts.slots - this.#running.size),
              running_tasks: this.#running.size,
              metrics_json: new TextEncoder().encode(
                JSON.stringify({
                  ...this.refreshCounters(),
                  ready: this.opts.ready(),
                  accel: this.opts.shardHoldings?.(),
                }),
              ),
            },
            5000,
            "scheduler",
          );
          this.#applyDirectives(res.directives_json);
          if (res.reregister && !this.#stopped) {
            this.opts.log(
              "INFO",
              "scheduler does not know this executor (it restarted?): registering again",
            );
            // The scheduler has given up on whatever runs here (it retries those tasks
            // elsewhere); finishing them would only hold slots it believes are free.
            this.#dropStaleTasks("the scheduler dropped this executor");
            this.#registered = false;
            await this.#register();
          }
        } catch (e) {
          this.opts.log("WARN", `heartbeat failed: ${toSpiceError(e).message}`);
          this.#registered = false;
        }
      }
      if (!this.#stopped) {
        this.#heartbeat = setTimeout(tick, this.#registered ? interval : Math.min(interval, 1000));
      }
    };
    void tick();
  }

  /** Cancels every running task: the scheduler no longer counts on them (their reports are stale). */
  #dropStaleTasks(why: string): void {
    if (this.#running.size === 0) return;
    this.opts.log("INFO", `cancelling ${this.#running.size} stale tasks: ${why}`);
    for (const t of this.#running.values()) {
      t.controller.abort(new SpiceError("CANCELLED", `stale task: ${why}`));
    }
  }

  /**
   * Graceful stop: refuses new tasks, deregisters at once (the scheduler
   * drops this executor and runs its tasks and the shuffle output it still
   * needs elsewhere: running tasks are handed back, not lost to a heartbeat
   * timeout), cancels the handed-back tasks, lets the DoGet streams being
   * served finish for at most `graceMs`, then stops.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.#stopped) return await this.stop();
    this.#stopped = true;
    if (this.#heartbeat) clearTimeout(this.#heartbeat);
    const running = this.#running.size;
    if (this.#registered) {
      try {
        await unary(
          this.#scheduler,
          "DeregisterExecutor",
          { executor_id: this.id },
          Math.min(5000, Math.max(500, graceMs)),
          "scheduler",
        );
        this.opts.log(
          "INFO",
          `deregistered from the scheduler; ${running} running tasks handed back`,
        );
      } catch (e) {
        this.opts.log("WARN", `could not deregister: ${toSpiceError(e).message}`);
      }
      this.#registered = false;
    }
    for (const t of this.#running.values()) {
      t.controller.abort(
        new SpiceError("CANCELLED", "executor shutting down: task handed back to the scheduler"),
      );
    }
    const end = Date.now() + graceMs;
    while ((this.#streams > 0 || this.#running.size > 0) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (this.#streams > 0) {
      this.opts.log("WARN", `grace period over: cutting ${this.#streams} shuffle streams`);
    }
    await this.stop();
  }

  /** Deregisters (best effort), cancels tasks, and stops serving. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    if (this.#heartbeat) clearTimeout(this.#heartbeat);
    for (const t of this.#running.values()) {
      t.controller.abort(new SpiceError("CANCELLED", "executor stopping"));
    }
    if (this.#registered) {
      await unary(
        this.#scheduler,
        "DeregisterExecutor",
        { executor_id: this.id },
        2000,
        "scheduler",
      ).catch(() => {});
    }
    // The channels and the server stay open for the process exit to close:
    // a graceful close sends GOAWAY frames, which crash the Deno peers that
    // receive them (see grpc.ts). Stopped, this node refuses tasks
    // and has no shuffle data left to serve.
    for (const job of this.store.jobs()) await this.store.removeJob(job);
  }
}

/** Checks a decoded task descriptor's shape, so that nonsense is refused at launch, not run. */
function checkTask(d: unknown): TaskDescriptor {
  const bad = (what: string) => new SpiceError("INVALID_ARGUMENT", `malformed task: ${what}`);
  if (!d || typeof d !== "object" || Array.isArray(d)) throw bad("not an object");
  const t = d as Record<string, unknown>;
  if (typeof t.job !== "string" || t.job === "") throw bad("job must be a non-empty string");
  checkJobId(t.job);
  for (const k of ["stage", "partition", "attempt"]) {
    if (!Number.isInteger(t[k]) || (t[k] as number) < 0) {
      throw bad(`${k} must be a non-negative integer`);
    }
  }
  const plan = t.plan as Record<string, unknown> | null;
  if (!plan || typeof plan !== "object" || typeof plan.op !== "string") {
    throw bad("plan must be a physical plan node");
  }
  const output = t.output as Record<string, unknown> | null;
  if (!output || typeof output !== "object" || typeof output.kind !== "string") {
    throw bad("output must be an output partitioning");
  }
  if (!t.inputs || typeof t.inputs !== "object" || Array.isArray(t.inputs)) {
    throw bad("inputs must be an object");
  }
  return d as TaskDescriptor;
}

/** Task plans nest a few levels per plan node; far deeper JSON is not a plan. */
const MAX_TASK_JSON_DEPTH = 10_000;

/**
 * Refuses JSON nested deeper than `max` before parsing it: JSON.parse would
 * build every level (20 MB of "[" is 20 million arrays, seconds of work and
 * gigabytes of memory) before finding that the text is not a task at all.
 */
function checkJsonDepth(bytes: Uint8Array, max: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        throw new SpiceError("INVALID_ARGUMENT", `malformed task: JSON nested deeper than ${max}`);
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}
