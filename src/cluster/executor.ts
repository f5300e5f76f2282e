/**
 * The executor role: registers with the scheduler and heartbeats (with its
 * free slots and counters), runs the tasks the scheduler pushes, keeps their
 * shuffle output, and serves it to peers with Arrow Flight DoGet. It
 * re-registers when the scheduler restarts, and keeps retrying while the
 * scheduler is unreachable.
 *
 * @module
 */

import type { Catalog } from "../catalog/mod.ts";
import { clusterChannelCredentials, clusterServerCredentials } from "./mtls.ts";
import { SpiceError, toSpiceError } from "../errors.ts";
import { MetricsSink } from "../exec/context.ts";
import { decodePlan, encodePlan } from "../distributed/codec.ts";
import { ShuffleStore } from "../distributed/shuffle_store.ts";
import { runTask, type TaskDescriptor } from "../distributed/task.ts";
import {
  bindServer,
  CHANNEL_OPTIONS,
  clientConstructor,
  type ClusterSecurity,
  grpc,
  handleUnary,
  serviceDefinition,
  shutdownServer,
  toGrpcError,
  unary,
} from "./grpc.ts";
import { PeerClients, RemoteExchanges, type ShuffleTicket } from "./shuffle_client.ts";

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
  readonly version: string;
  readonly log: (level: "INFO" | "WARN" | "ERROR", msg: string) => void;
  readonly heartbeatIntervalMs?: number;
  readonly shuffleMemoryBytes?: number;
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
  };
  #server: grpc.Server | null = null;
  #port = 0;
  #scheduler: grpc.Client;
  readonly #peers: PeerClients;
  readonly #running = new Map<string, RunningTask>();
  readonly #shared = new Map<string, Map<string, Promise<unknown>>>();
  #registered = false;
  #stopped = false;
  #heartbeat: ReturnType<typeof setTimeout> | null = null;
  #lastSchedulerError = "";

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
        this.#shared.delete(req.job_id);
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
      Handshake: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
        call.destroy(toGrpcError(new SpiceError("NOT_SUPPORTED", "no handshake on executors"))),
      ListFlights: (call: grpc.ServerWritableStream<unknown, unknown>) =>
        call.destroy(
          toGrpcError(new SpiceError("NOT_SUPPORTED", "no flights listed by executors")),
        ),
      GetFlightInfo: unimplemented,
      PollFlightInfo: unimplemented,
      GetSchema: unimplemented,
      DoPut: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
        call.destroy(toGrpcError(new SpiceError("NOT_SUPPORTED", "no DoPut on executors"))),
      DoExchange: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
        call.destroy(toGrpcError(new SpiceError("NOT_SUPPORTED", "no DoExchange on executors"))),
      DoAction: (call: grpc.ServerWritableStream<unknown, unknown>) =>
        call.destroy(toGrpcError(new SpiceError("NOT_SUPPORTED", "no actions on executors"))),
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
    try {
      let ticket: ShuffleTicket;
      try {
        ticket = JSON.parse(new TextDecoder().decode(call.request.ticket));
      } catch {
        throw new SpiceError("INVALID_ARGUMENT", "malformed shuffle ticket");
      }
      if (typeof ticket?.job !== "string" || typeof ticket.stage !== "number") {
        throw new SpiceError("INVALID_ARGUMENT", "malformed shuffle ticket");
      }
      const messages = await this.store.read(ticket);
      for (const m of messages) {
        if (call.cancelled) return;
        const ok = call.write({ data_header: m.header, data_body: m.body });
        // Respect back-pressure: wait for the transport to drain.
        if (!ok) await new Promise((r) => call.once("drain", r));
      }
      call.end();
    } catch (e) {
      call.destroy(toGrpcError(e));
    }
  }

  #launch(taskJson: Uint8Array): Promise<{ accepted: boolean; message: string }> {
    if (this.#stopped) return Promise.resolve({ accepted: false, message: "executor is stopping" });
    if (this.#running.size >= this.opts.slots) {
      return Promise.resolve({ accepted: false, message: "no free slot" });
    }
    const desc = decodePlan<TaskDescriptor>(taskJson);
    const key = `${desc.job}/${desc.stage}/${desc.partition}/${desc.attempt}`;
    const t: RunningTask = { desc, controller: new AbortController() };
    this.#running.set(key, t);
    void this.#run(t, () => this.#running.delete(key));
    return Promise.resolve({ accepted: true, message: "" });
  }

  /** Runs a task; `release` frees its slot before the outcome is reported (so the next task fits). */
  async #run(t: RunningTask, release: () => void): Promise<void> {
    const { desc } = t;
    let shared = this.#shared.get(desc.job);
    if (!shared) this.#shared.set(desc.job, shared = new Map());
    const metrics = new MetricsSink();
    const exchanges = new RemoteExchanges(desc, {
      executorId: this.id,
      store: this.store,
      peers: this.#peers,
      onFetch: (_rows, bytes) => (this.counters.shuffleBytesFetched += bytes),
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
    this.counters.taskSeconds += (performance.now() - t0) / 1000;
    const s = this.store.stats;
    this.counters.shuffleBytesWritten = s.bytesWritten;
    this.counters.shuffleRowsWritten = s.rowsWritten;
    this.counters.shuffleBytesRead = s.bytesRead;
    this.counters.shuffleRowsRead = s.rowsRead;
    release();
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
    try {
      const res = await unary<
        unknown,
        { accepted: boolean; heartbeat_interval_ms: number; message: string }
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

  #loop(): void {
    const interval = this.opts.heartbeatIntervalMs ?? 2000;
    const tick = async () => {
      if (this.#stopped) return;
      if (!this.#registered) {
        await this.#register();
      } else {
        try {
          const res = await unary<unknown, { reregister: boolean }>(
            this.#scheduler,
            "Heartbeat",
            {
              executor_id: this.id,
              free_slots: Math.max(0, this.opts.slots - this.#running.size),
              running_tasks: this.#running.size,
              metrics_json: new TextEncoder().encode(
                JSON.stringify({ ...this.counters, ready: this.opts.ready() }),
              ),
            },
            5000,
            "scheduler",
          );
          if (res.reregister) {
            this.opts.log(
              "INFO",
              "scheduler does not know this executor (it restarted?): registering again",
            );
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

  /** Deregisters (best effort), cancels tasks, and stops serving. */
  async stop(): Promise<void> {
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
    this.#scheduler.close();
    this.#peers.close();
    if (this.#server) await shutdownServer(this.#server);
    for (const job of this.store.jobs()) await this.store.removeJob(job);
  }
}
