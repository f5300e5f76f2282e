/**
 * A small Flight SQL client for `spice sql`: statements through
 * GetFlightInfo + DoGet, the table list through CommandGetTables, over
 * grpc-js, with results decoded to apache-arrow batches.
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import type * as arrow from "apache-arrow";
import { Buffer } from "node:buffer";
import { codeFromGrpc, type ErrorCode, SpiceError } from "../../errors.ts";
import { parseHostPort } from "../flags.ts";
import { FlightDataDecoder, schemaFromIpcBytes } from "../../server/flight/ipc.ts";
import { flightPackage, packAny, sqlMessage } from "../../server/flight/proto.ts";
import { ERROR_CODE_HEADER } from "../../server/flight/status.ts";

/** Where the client connects. */
export interface FlightEndpoint {
  readonly host: string;
  readonly port: number;
  /** True for `grpc+tls://`. */
  readonly tls: boolean;
}

/** The default `--flight-endpoint`. */
export const DEFAULT_FLIGHT_ENDPOINT = "localhost:50051";

/**
 * Parses `grpc://host:port`, `grpc+tls://host:port` or `host:port` (IPv6 in
 * brackets). `grpc+tcp://` is accepted as a synonym of `grpc://`.
 */
export function parseEndpoint(text: string): FlightEndpoint {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*?)\/?$/i.exec(text.trim());
  let tls = false;
  let rest = text.trim();
  if (m) {
    const scheme = m[1].toLowerCase();
    if (scheme === "grpc+tls" || scheme === "grpcs") tls = true;
    else if (scheme !== "grpc" && scheme !== "grpc+tcp") {
      throw new SpiceError(
        "CONFIG",
        `invalid --flight-endpoint ${JSON.stringify(text)}: scheme must be grpc:// or grpc+tls://`,
      );
    }
    rest = m[2];
  }
  const hp = parseHostPort(rest, "--flight-endpoint");
  return { host: hp.host, port: hp.port, tls };
}

/** Options of a client. */
export interface FlightClientOptions {
  /** `grpc://host:port`, `grpc+tls://host:port` or `host:port`. */
  readonly endpoint: string;
  /** Sent as `authorization: Bearer <key>` on every call. */
  readonly apiKey?: string | null;
  /** PEM root certificate(s) for TLS; the system roots when absent. */
  readonly tlsRootCert?: Uint8Array | null;
}

/** A statement's result as it streams in. */
export interface StatementResult {
  /** The result schema (from FlightInfo). */
  readonly schema: arrow.Schema;
  /** The batches, endpoint by endpoint. */
  readonly batches: AsyncIterable<arrow.RecordBatch>;
}

/** One table of the server's catalog. */
export interface TableEntry {
  readonly catalog: string | null;
  readonly dbSchema: string | null;
  readonly name: string;
  readonly type: string;
  /** The table's schema, when asked for. */
  readonly schema?: arrow.Schema;
}

type Msg = Record<string, unknown>;
// deno-lint-ignore no-explicit-any
type GrpcClient = any;

/** Turns a gRPC failure into a SpiceError with the server's code and message. */
export function fromServiceError(e: unknown): SpiceError {
  if (e instanceof SpiceError) return e;
  const se = e as Partial<grpc.ServiceError>;
  if (typeof se?.code === "number") {
    const header = se.metadata?.get(ERROR_CODE_HEADER)[0];
    const code = typeof header === "string" ? header as ErrorCode : codeFromGrpc(se.code);
    return new SpiceError(code, se.details || se.message || `gRPC status ${se.code}`, { cause: e });
  }
  return new SpiceError("INTERNAL", e instanceof Error ? e.message : String(e), { cause: e });
}

/** A Flight SQL client (one gRPC channel). */
export class FlightSqlClient {
  readonly #client: GrpcClient;
  readonly #apiKey: string | null;

  /** Opens a channel to the endpoint (lazily: the first call connects). */
  constructor(opts: FlightClientOptions) {
    const ep = parseEndpoint(opts.endpoint);
    const target = ep.host.includes(":") ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
    const creds = ep.tls || opts.tlsRootCert
      ? grpc.credentials.createSsl(opts.tlsRootCert ? Buffer.from(opts.tlsRootCert) : null)
      : grpc.credentials.createInsecure();
    const pkg = grpc.loadPackageDefinition(flightPackage()) as GrpcClient;
    const Service = pkg.arrow.flight.protocol.FlightService;
    this.#client = new Service(target, creds, {
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
      // HTTP/2's default 64 KiB window costs a round trip per 64 KiB of results.
      "grpc-node.flow_control_window": 16 * 1024 * 1024,
    });
    this.#apiKey = opts.apiKey ?? null;
  }

  #metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.#apiKey) md.set("authorization", `Bearer ${this.#apiKey}`);
    return md;
  }

  #unary(method: string, request: Msg, signal?: AbortSignal): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const call = this.#client[method](request, this.#metadata(), (err: unknown, res: Msg) => {
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(fromServiceError(err));
        else resolve(res);
      });
      const onAbort = () => call.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Batches of a DoGet, decoded as they arrive; `signal` cancels the call. */
  async *#doGet(ticket: Uint8Array, signal?: AbortSignal): AsyncIterable<arrow.RecordBatch> {
    const call = this.#client.DoGet({ ticket }, this.#metadata());
    const onAbort = () => call.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    const decoder = new FlightDataDecoder();
    try {
      for await (const msg of call as AsyncIterable<Msg>) {
        const batch = decoder.push(
          new Uint8Array((msg.data_header as Uint8Array | undefined) ?? []),
          new Uint8Array((msg.data_body as Uint8Array | undefined) ?? []),
        );
        if (batch) yield batch;
      }
    } catch (e) {
      if (signal?.aborted) throw new SpiceError("CANCELLED", "query cancelled");
      throw fromServiceError(e);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      call.cancel(); // no-op once the stream has ended; stops it if the consumer left early
    }
  }

  /** Runs a Flight SQL command: GetFlightInfo, then DoGet on every endpoint in order. */
  async command(typeName: string, message: Msg, signal?: AbortSignal): Promise<StatementResult> {
    const info = await this.#unary("GetFlightInfo", {
      type: "CMD",
      cmd: packAny(sqlMessage(typeName), message),
    }, signal);
    const schema = schemaFromIpcBytes(
      new Uint8Array((info.schema as Uint8Array | undefined) ?? []),
    );
    const endpoints = (info.endpoint as { ticket?: { ticket?: Uint8Array } }[] | undefined) ?? [];
    return { schema, batches: this.#endpoints(endpoints, signal) };
  }

  /** Every endpoint's batches, in order (all on this server: locations are not followed). */
  async *#endpoints(
    endpoints: readonly { ticket?: { ticket?: Uint8Array } }[],
    signal?: AbortSignal,
  ): AsyncIterable<arrow.RecordBatch> {
    for (const ep of endpoints) yield* this.#doGet(new Uint8Array(ep.ticket?.ticket ?? []), signal);
  }

  /** Runs one SQL statement. */
  query(sql: string, opts: { signal?: AbortSignal } = {}): Promise<StatementResult> {
    return this.command("CommandStatementQuery", { query: sql }, opts.signal);
  }

  /** The server's tables (CommandGetTables), optionally with their schemas. */
  async tables(opts: { pattern?: string; includeSchema?: boolean } = {}): Promise<TableEntry[]> {
    const msg: Msg = { include_schema: opts.includeSchema ?? false, table_types: [] };
    if (opts.pattern !== undefined) msg.table_name_filter_pattern = opts.pattern;
    const r = await this.command("CommandGetTables", msg);
    const out: TableEntry[] = [];
    for await (const b of r.batches) {
      for (let i = 0; i < b.numRows; i++) {
        const get = (name: string) => b.getChild(name)?.get(i) ?? null;
        const bytes = get("table_schema") as Uint8Array | null;
        out.push({
          catalog: get("catalog_name") as string | null,
          dbSchema: get("db_schema_name") as string | null,
          name: get("table_name") as string,
          type: get("table_type") as string,
          schema: bytes ? schemaFromIpcBytes(bytes) : undefined,
        });
      }
    }
    return out;
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }
}
