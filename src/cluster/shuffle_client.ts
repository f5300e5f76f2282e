/**
 * Reading shuffle input: an `ExchangeSource` for tasks on executors. Each
 * exchange_read node fetches its bucket from every map task's executor with
 * Arrow Flight DoGet (or straight from the local store when the map ran
 * here). A fetch that fails mid-stream is retried from where it stopped; one
 * that keeps failing becomes EXECUTOR_LOST naming the executor, so the
 * scheduler can re-run the lost map output.
 *
 * @module
 */

import { type RecordBatch, recordBatch } from "../arrow/batch.ts";
import { clusterChannelCredentials } from "./mtls.ts";
import { fromArrowBatch, withIpcStorage } from "../arrow/interop.ts";
import { SpiceError, toSpiceError } from "../errors.ts";
import type { ExchangeSource, TaskContext } from "../exec/context.ts";
import { type PhysicalPlan, physicalSchema } from "../physical/plan.ts";
import { FlightDataDecoder, type IpcMessage } from "../server/flight/ipc.ts";
import type { ShuffleStore } from "../distributed/shuffle_store.ts";
import type { TaskDescriptor } from "../distributed/task.ts";
import {
  CHANNEL_OPTIONS,
  clientConstructor,
  type ClusterSecurity,
  fromGrpcError,
  grpc,
} from "./grpc.ts";

/** A DoGet ticket for one shuffle bucket. */
export interface ShuffleTicket {
  readonly job: string;
  readonly stage: number;
  readonly map: number;
  readonly bucket: number;
}

/**
 * How long a DoGet stream may stay silent before it counts as failed (env
 * `SPICED_SHUFFLE_IDLE_TIMEOUT_MS`, default 30 s). Shuffle output is complete
 * before anyone fetches it, so a silent peer is a stopped or partitioned one:
 * without this bound a fetch from a SIGSTOPped executor hangs forever.
 */
export function shuffleIdleTimeoutMs(): number {
  const v = Number(Deno.env.get("SPICED_SHUFFLE_IDLE_TIMEOUT_MS") ?? "");
  return v > 0 ? v : 30_000;
}

/**
 * Clients to peers: one per (service, address), kept for the process's life
 * (closing one would send GOAWAY; see grpc.ts).
 */
export class PeerClients {
  readonly #clients = new Map<string, grpc.Client>();
  readonly #security: ClusterSecurity;
  readonly #idleMs: number;

  /** Clients using these credentials. */
  constructor(security: ClusterSecurity, opts: { idleTimeoutMs?: number } = {}) {
    this.#security = security;
    this.#idleMs = opts.idleTimeoutMs ?? shuffleIdleTimeoutMs();
  }

  /** The client of a peer's service (e.g. "spiced.cluster.ExecutorService"). */
  client(service: string, address: string): grpc.Client {
    const key = `${service} ${address}`;
    let c = this.#clients.get(key);
    if (!c) {
      const Ctor = clientConstructor(service);
      c = new Ctor(address, clusterChannelCredentials(this.#security), CHANNEL_OPTIONS);
      this.#clients.set(key, c);
    }
    return c;
  }

  /** The Flight client of a peer. */
  flight(address: string): grpc.Client {
    return this.client("arrow.flight.protocol.FlightService", address);
  }

  /** Streams the messages of one bucket from a peer. */
  async *doGet(
    address: string,
    ticket: ShuffleTicket,
    signal: AbortSignal,
  ): AsyncIterable<IpcMessage> {
    const client = this.flight(address) as unknown as {
      DoGet(
        req: { ticket: Uint8Array },
        md?: grpc.Metadata,
      ): grpc.ClientReadableStream<{ data_header: Uint8Array; data_body: Uint8Array }>;
    };
    const call = client.DoGet(
      { ticket: new TextEncoder().encode(JSON.stringify(ticket)) },
      new grpc.Metadata(),
    );
    const onAbort = () => call.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
    // Only the wait for the next message is timed, not the consumer's work between messages.
    let idled = false;
    let ended = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const it = call[Symbol.asyncIterator]();
    try {
      for (;;) {
        timer = setTimeout(() => {
          idled = true;
          call.cancel();
        }, this.#idleMs);
        const r = await it.next();
        clearTimeout(timer);
        if (r.done) {
          ended = true;
          break;
        }
        // No copy: the decoder frames header and body into a buffer of its own.
        yield { header: r.value.data_header, body: r.value.data_body };
      }
    } catch (e) {
      if (idled) {
        throw new SpiceError(
          "UNAVAILABLE",
          `${address} sent no shuffle data for ${this.#idleMs} ms (stopped or unreachable)`,
        );
      }
      throw fromGrpcError(e, address);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      // The consumer stopped early: end the call rather than leave it open.
      if (!ended && !idled) call.cancel();
    }
  }

  /** Closes every channel. */
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}

/** Options of shuffle reads. */
export interface ShuffleReadOptions {
  readonly executorId: string;
  readonly store: ShuffleStore;
  readonly peers: PeerClients;
  /** Attempts per map output before giving up (default 3). */
  readonly attempts?: number;
  /** Called for every batch fetched from a peer (for metrics; local reads are not fetches). */
  readonly onFetch?: (rows: number, bytes: number) => void;
  /** Called when a fetch failed and is tried again (for logs and metrics). */
  readonly onRetry?: (info: {
    readonly ticket: ShuffleTicket;
    readonly executorId: string;
    readonly address: string;
    readonly attempt: number;
    readonly delivered: number;
    readonly error: SpiceError;
  }) => void;
}

/** The exchange source of one task. */
export class RemoteExchanges implements ExchangeSource {
  readonly #desc: TaskDescriptor;
  readonly #opts: ShuffleReadOptions;

  /** Reads the inputs listed in a task descriptor. */
  constructor(desc: TaskDescriptor, opts: ShuffleReadOptions) {
    this.#desc = desc;
    this.#opts = opts;
  }

  async *read(node: PhysicalPlan, partition: number, ctx: TaskContext): AsyncIterable<RecordBatch> {
    if (node.op !== "exchange_read") {
      throw new SpiceError("INTERNAL", `${node.op} reached an executor: stages were not split`);
    }
    const loc = this.#desc.inputs[node.exchangeId];
    if (!loc) {
      throw new SpiceError("INTERNAL", `task has no locations for exchange ${node.exchangeId}`);
    }
    const bucket = node.read === "partition" ? partition : 0;
    const schema = physicalSchema(node);
    for (let map = 0; map < loc.maps.length; map++) {
      const ticket: ShuffleTicket = { job: this.#desc.job, stage: node.exchangeId, map, bucket };
      yield* this.#fetchMap(ticket, loc.maps[map], schema, ctx.signal);
    }
  }

  async *#fetchMap(
    ticket: ShuffleTicket,
    where: { executorId: string; address: string },
    schema: ReturnType<typeof physicalSchema>,
    signal: AbortSignal,
  ): AsyncIterable<RecordBatch> {
    const attempts = this.#opts.attempts ?? 3;
    let delivered = 0;
    for (let attempt = 1;; attempt++) {
      const decoder = new FlightDataDecoder();
      let seen = 0;
      try {
        if (where.executorId === this.#opts.executorId) {
          // The map ran here: its batches with no IPC between, in the
          // storage that the maps fetched from peers arrive in.
          const batches = await this.#opts.store.batches(ticket);
          for (let i = delivered; i < batches.length; i++) {
            delivered++;
            yield withIpcStorage(recordBatch(schema, batches[i].columns, batches[i].numRows));
          }
          return;
        }
        for await (const m of this.#opts.peers.doGet(where.address, ticket, signal)) {
          const b = decoder.push(m.header, m.body);
          if (!b) continue;
          // After a retry, skip the batches already handed on.
          if (seen++ < delivered) continue;
          delivered++;
          this.#opts.onFetch?.(b.numRows, m.header.byteLength + m.body.byteLength);
          yield fromArrowBatch(b, schema);
        }
        return;
      } catch (e) {
        if (signal.aborted) throw signal.reason ?? e;
        const se = toSpiceError(e);
        if (
          attempt >= attempts ||
          se.code === "NOT_FOUND" && where.executorId === this.#opts.executorId
        ) {
          throw Object.assign(
            new SpiceError(
              "EXECUTOR_LOST",
              `shuffle fetch of stage ${ticket.stage} map ${ticket.map} from executor ${where.executorId} (${where.address}) failed: ${se.message}`,
            ),
            { lostExecutor: where.executorId, lostStage: ticket.stage },
          );
        }
        this.#opts.onRetry?.({
          ticket,
          executorId: where.executorId,
          address: where.address,
          attempt,
          delivered,
          error: se,
        });
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }
}
