/**
 * The Flight SQL service: the ten FlightService RPCs over a `QueryEngine`.
 *
 * - GetFlightInfo / PollFlightInfo / GetSchema describe a command: a SQL
 *   statement (planned, not run, to learn its schema), a prepared statement,
 *   or a catalog command (GetCatalogs, GetDbSchemas, GetTables, ...).
 * - DoGet redeems the ticket: statements run on the engine and stream back
 *   batch by batch; catalog commands answer from the catalog.
 * - DoAction creates and closes prepared statements and cancels queries;
 *   DoPut binds parameter batches to a prepared statement.
 * - Handshake exchanges Basic credentials for a bearer token.
 *
 * Every RPC first checks the API key (when keys are configured), and every
 * failure leaves as a gRPC status built from a `SpiceError`.
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import * as arrow from "apache-arrow";
import { toArrowSchema } from "../../arrow/interop.ts";
import { type Schema, UTF8 } from "../../arrow/types.ts";
import { type ErrorCode, SpiceError, toSpiceError } from "../../errors.ts";
import { physicalSchema } from "../../physical/plan.ts";
import type { QueryEngine } from "../../query/mod.ts";
import type { Parameters } from "../../sql/binder.ts";
import { type AuthResult, checkAuthorization, checkKey } from "./auth.ts";
import { FlightDataDecoder, ipcSchemaBytes } from "./ipc.ts";
import {
  getCatalogs,
  getDbSchemas,
  getSqlInfo,
  getTables,
  getTableTypes,
  type MetadataResult,
} from "./metadata.ts";
import {
  decodeMessage,
  encodeMessage,
  flightMessage,
  packAny,
  sqlMessage,
  unpackAny,
} from "./proto.ts";
import {
  cancelledError,
  type CancelOutcome,
  decodeHandle,
  encodeHandle,
  nullParameters,
  parameterSchema,
  parameterSets,
  type PreparedStatement,
  PreparedStatements,
  RunningQueries,
  type StatementHandle,
} from "./statements.ts";
import { toServiceError, unsupported } from "./status.ts";
import { FlightDataSink, type StreamStats } from "./stream.ts";

/** What the server reports about each statement it ran (for logs, metrics and tests). */
export interface QueryInfo extends StreamStats {
  /** The query id (the statement handle's id). */
  readonly queryId: string;
  /** The SQL text. */
  readonly sql: string;
  /** Wall time from DoGet to the end of the stream, in milliseconds. */
  readonly durationMs: number;
  /** The failure, when the query did not complete. */
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

/** Settings of the service. */
export interface FlightServiceOptions {
  /** The engine that plans and runs statements. */
  readonly engine: QueryEngine;
  /** Accepted API keys; null, undefined or empty = no authentication. */
  readonly apiKeys?: readonly string[] | null;
  /** Called once per statement run by DoGet, after its stream ends. */
  readonly onQuery?: (info: QueryInfo) => void;
  /**
   * Admission control (the runtime's query gate, shared with HTTP): resolves
   * with a release function when the statement may run.
   */
  readonly admit?: (signal: AbortSignal) => Promise<() => void>;
  /** runtime.query.timeout: a statement running longer ends with TIMEOUT. */
  readonly queryTimeoutMs?: number | null;
}

/** Full names of the Flight SQL messages the service reads and writes. */
const T = {
  statementQuery: sqlMessage("CommandStatementQuery"),
  preparedQuery: sqlMessage("CommandPreparedStatementQuery"),
  ticketStatement: sqlMessage("TicketStatementQuery"),
  getCatalogs: sqlMessage("CommandGetCatalogs"),
  getDbSchemas: sqlMessage("CommandGetDbSchemas"),
  getTables: sqlMessage("CommandGetTables"),
  getTableTypes: sqlMessage("CommandGetTableTypes"),
  getSqlInfo: sqlMessage("CommandGetSqlInfo"),
  getPrimaryKeys: sqlMessage("CommandGetPrimaryKeys"),
  getExportedKeys: sqlMessage("CommandGetExportedKeys"),
  getImportedKeys: sqlMessage("CommandGetImportedKeys"),
  getCrossReference: sqlMessage("CommandGetCrossReference"),
  createPrepared: sqlMessage("ActionCreatePreparedStatementRequest"),
  createPreparedResult: sqlMessage("ActionCreatePreparedStatementResult"),
  closePrepared: sqlMessage("ActionClosePreparedStatementRequest"),
  cancelQuery: sqlMessage("ActionCancelQueryRequest"),
  cancelQueryResult: sqlMessage("ActionCancelQueryResult"),
  doPutPreparedResult: sqlMessage("DoPutPreparedStatementResult"),
} as const;

/** The actions ListActions reports (Flight SQL's names). */
export const ACTIONS: readonly { type: string; description: string }[] = [
  {
    type: "CreatePreparedStatement",
    description: "Creates a reusable prepared statement from SQL.",
  },
  {
    type: "ClosePreparedStatement",
    description: "Closes a prepared statement and frees its resources.",
  },
  { type: "CancelFlightInfo", description: "Cancels the query of a FlightInfo." },
  {
    type: "CancelQuery",
    description: "Cancels the query of a FlightInfo (deprecated Flight SQL form).",
  },
];

/** Decoded protobuf messages as proto-loader returns them (snake_case, enums as names). */
type Msg = Record<string, unknown>;
interface DescriptorMsg {
  type?: string;
  cmd?: Uint8Array;
  path?: string[];
}

const EMPTY = new Uint8Array(0);

/** The result schema of EXPLAIN (the engine's; planning alone does not give it). */
const EXPLAIN_SCHEMA: Schema = {
  fields: [
    { name: "plan_type", type: UTF8, nullable: false },
    { name: "plan", type: UTF8, nullable: false },
  ],
};

/** Empty results with the specification's schemas, for key commands (spiced has no keys). */
function keysSchema(kind: "primary" | "foreign"): arrow.Schema {
  const utf8 = (n: string, nullable: boolean) => new arrow.Field(n, new arrow.Utf8(), nullable);
  const i32 = (n: string) => new arrow.Field(n, new arrow.Int32(), false);
  const u8 = (n: string) => new arrow.Field(n, new arrow.Uint8(), false);
  if (kind === "primary") {
    return new arrow.Schema([
      utf8("catalog_name", true),
      utf8("db_schema_name", true),
      utf8("table_name", false),
      utf8("column_name", false),
      utf8("key_name", true),
      i32("key_sequence"),
    ]);
  }
  return new arrow.Schema([
    utf8("pk_catalog_name", true),
    utf8("pk_db_schema_name", true),
    utf8("pk_table_name", false),
    utf8("pk_column_name", false),
    utf8("fk_catalog_name", true),
    utf8("fk_db_schema_name", true),
    utf8("fk_table_name", false),
    utf8("fk_column_name", false),
    i32("key_sequence"),
    utf8("fk_key_name", true),
    utf8("pk_key_name", true),
    u8("update_rule"),
    u8("delete_rule"),
  ]);
}

function emptyResult(schema: arrow.Schema): MetadataResult {
  const children = schema.fields.map((f) =>
    arrow.makeData({ type: f.type, length: 0 } as never) as arrow.Data
  );
  const data = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length: 0,
    nullCount: 0,
    children,
  });
  return { schema, batch: new arrow.RecordBatch(schema, data) };
}

/** What GetFlightInfo / GetSchema learn about a command. */
interface Described {
  readonly schema: arrow.Schema;
  /** The ticket bytes DoGet redeems. */
  readonly ticket: Uint8Array;
  /** Rows, when known without running (-1 otherwise). */
  readonly totalRecords: number;
}

function headerValues(md: grpc.Metadata, name: string): string[] {
  return md.get(name).map((v) => typeof v === "string" ? v : new TextDecoder().decode(v));
}

/** Implements FlightService for grpc-js. */
export class FlightSqlService {
  readonly #engine: QueryEngine;
  readonly #keys: readonly string[] | null;
  readonly #onQuery?: (info: QueryInfo) => void;
  readonly #admit?: (signal: AbortSignal) => Promise<() => void>;
  readonly #timeoutMs: number | null;
  readonly #prepared = new PreparedStatements();
  readonly #running = new RunningQueries();

  /** A service over an engine. */
  constructor(opts: FlightServiceOptions) {
    this.#engine = opts.engine;
    this.#keys = opts.apiKeys && opts.apiKeys.length > 0 ? [...opts.apiKeys] : null;
    this.#onQuery = opts.onQuery;
    this.#admit = opts.admit;
    this.#timeoutMs = opts.queryTimeoutMs ?? null;
  }

  /** Cancels every running query (on server shutdown). */
  cancelAll(): void {
    this.#running.cancelAll();
  }

  /** The handlers to register with `grpc.Server.addService`. */
  handlers(): grpc.UntypedServiceImplementation {
    return {
      Handshake: (call: grpc.ServerDuplexStream<Msg, Msg>) => this.#handshake(call),
      ListFlights: this.#serverStream(() => Promise.resolve()),
      GetFlightInfo: this.#unary(async (req: DescriptorMsg) =>
        this.#flightInfo(req, await this.#describe(req))
      ),
      PollFlightInfo: this.#unary(async (req: DescriptorMsg) => ({
        // Statements run at DoGet, so a poll is complete at once: no next descriptor.
        info: this.#flightInfo(req, await this.#describe(req)),
        progress: 1,
      })),
      GetSchema: this.#unary(async (req: DescriptorMsg) => ({
        schema: ipcSchemaBytes((await this.#describe(req)).schema),
      })),
      DoGet: this.#serverStream((call) => this.#doGet(call)),
      DoPut: this.#bidiStream((call) => this.#doPut(call)),
      DoExchange: this.#bidiStream(() => Promise.reject(unsupported("DoExchange"))),
      DoAction: this.#serverStream((call) => this.#doAction(call)),
      ListActions: this.#serverStream((call) => {
        for (const a of ACTIONS) call.write(a);
        return Promise.resolve();
      }),
    };
  }

  // -------------------------------------------------------------------------
  // plumbing: authentication and error mapping around each kind of RPC

  #auth(call: { metadata: grpc.Metadata }): AuthResult {
    return checkAuthorization(this.#keys, headerValues(call.metadata, "authorization"));
  }

  #unary<Req, Res>(fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const auth = this.#auth(call);
      if (!auth.ok) return callback(toServiceError(auth.error));
      fn(call.request).then(
        (res) => callback(null, res),
        (e) => callback(toServiceError(e)),
      );
    };
  }

  #serverStream<Req>(
    fn: (call: grpc.ServerWritableStream<Req, Msg>) => Promise<void>,
  ): grpc.handleServerStreamingCall<Req, Msg> {
    return (call) => {
      const auth = this.#auth(call);
      if (!auth.ok) {
        call.emit("error", toServiceError(auth.error));
        return;
      }
      fn(call).then(
        () => {
          if (!call.cancelled) call.end();
        },
        (e) => {
          if (!call.cancelled) call.emit("error", toServiceError(e));
        },
      );
    };
  }

  #bidiStream(
    fn: (call: grpc.ServerDuplexStream<Msg, Msg>) => Promise<void>,
  ): grpc.handleBidiStreamingCall<Msg, Msg> {
    return (call) => {
      const auth = this.#auth(call);
      if (!auth.ok) {
        call.emit("error", toServiceError(auth.error));
        return;
      }
      fn(call).then(
        () => {
          if (!call.cancelled) call.end();
        },
        (e) => {
          if (!call.cancelled) call.emit("error", toServiceError(e));
        },
      );
    };
  }

  // -------------------------------------------------------------------------
  // Handshake

  /**
   * Accepts `authorization: Basic` (or Bearer) in the header, or a BasicAuth /
   * raw key payload in the first request, and answers with the bearer token in
   * the `authorization` response header (and as the payload).
   */
  #handshake(call: grpc.ServerDuplexStream<Msg, Msg>): void {
    const fromHeader = checkAuthorization(
      this.#keys,
      headerValues(call.metadata, "authorization"),
      {
        allowBasic: true,
      },
    );
    let headerSent = false;
    const accept = (key: string | null) => {
      if (headerSent) return;
      const md = new grpc.Metadata();
      if (key !== null) md.set("authorization", `Bearer ${key}`);
      call.sendMetadata(md);
      headerSent = true;
    };
    const run = async () => {
      await consume(call, (req) => {
        let auth = fromHeader;
        if (!auth.ok) {
          auth = checkKey(this.#keys, payloadKey(req.payload as Uint8Array | undefined));
        }
        if (!auth.ok) throw auth.error;
        accept(auth.key);
        call.write({
          protocol_version: req.protocol_version ?? "0",
          payload: auth.key === null ? EMPTY : new TextEncoder().encode(auth.key),
        });
      });
      if (!headerSent) {
        if (!fromHeader.ok) throw fromHeader.error;
        accept(fromHeader.key);
      }
    };
    run().then(
      () => {
        if (!call.cancelled) call.end();
      },
      (e) => {
        if (!call.cancelled) call.emit("error", toServiceError(e));
      },
    );
  }

  // -------------------------------------------------------------------------
  // describing commands: GetFlightInfo, PollFlightInfo, GetSchema

  #flightInfo(desc: DescriptorMsg, d: Described): Msg {
    return {
      schema: ipcSchemaBytes(d.schema),
      flight_descriptor: desc,
      endpoint: [{ ticket: { ticket: d.ticket }, location: [] }],
      total_records: String(d.totalRecords),
      total_bytes: "-1",
      ordered: false,
      app_metadata: EMPTY,
    };
  }

  async #describe(desc: DescriptorMsg): Promise<Described> {
    if (desc.type !== "CMD") {
      throw unsupported(
        `${desc.type ?? "UNKNOWN"} flight descriptors (Flight SQL uses CMD descriptors)`,
      );
    }
    const cmdBytes = new Uint8Array(desc.cmd ?? EMPTY);
    const cmd = unpackAny(cmdBytes);
    switch (cmd.typeName) {
      case T.statementQuery: {
        const q = decodeMessage<{ query?: string; transaction_id?: Uint8Array }>(
          T.statementQuery,
          cmd.value,
        );
        if (q.transaction_id !== undefined) throw unsupported("transactions");
        const sql = q.query ?? "";
        const schema = await this.#planSchema(sql, undefined);
        const handle: StatementHandle = { id: crypto.randomUUID(), sql };
        return { schema, ticket: statementTicket(handle), totalRecords: -1 };
      }
      case T.preparedQuery: {
        const stmt = this.#preparedOf(cmd.value);
        const sets = stmt.bound ?? undefined;
        const schema = await this.#planSchema(stmt.sql, sets?.[0]);
        const handle: StatementHandle = { id: crypto.randomUUID(), sql: stmt.sql, params: sets };
        return { schema, ticket: statementTicket(handle), totalRecords: -1 };
      }
      default: {
        const r = this.#metadata(cmd.typeName, cmd.value);
        // Catalog commands are cheap: the ticket is the command itself, run again at DoGet.
        return { schema: r.schema, ticket: cmdBytes, totalRecords: r.batch.numRows };
      }
    }
  }

  /** The result schema of a statement, from its plan (EXPLAIN has a fixed one). */
  async #planSchema(sql: string, params: Parameters | undefined): Promise<arrow.Schema> {
    const planned = await this.#engine.plan(sql, params);
    return toArrowSchema(
      planned.kind === "explain" ? EXPLAIN_SCHEMA : physicalSchema(planned.physical),
    );
  }

  #preparedOf(value: Uint8Array) {
    const p = decodeMessage<{ prepared_statement_handle?: Uint8Array }>(T.preparedQuery, value);
    return this.#prepared.get(p.prepared_statement_handle ?? EMPTY);
  }

  /** Runs a catalog command (unknown commands are refused). */
  #metadata(typeName: string, value: Uint8Array): MetadataResult {
    switch (typeName) {
      case T.getCatalogs:
        return getCatalogs();
      case T.getDbSchemas:
        return getDbSchemas(decodeMessage(T.getDbSchemas, value));
      case T.getTables:
        return getTables(this.#engine.catalog, decodeMessage(T.getTables, value));
      case T.getTableTypes:
        return getTableTypes();
      case T.getSqlInfo: {
        const m = decodeMessage<{ info?: number[] }>(T.getSqlInfo, value);
        return getSqlInfo(m.info ?? []);
      }
      case T.getPrimaryKeys:
        return emptyResult(keysSchema("primary"));
      case T.getExportedKeys:
      case T.getImportedKeys:
      case T.getCrossReference:
        return emptyResult(keysSchema("foreign"));
      case T.ticketStatement:
        throw new SpiceError("INVALID_ARGUMENT", "a statement ticket is for DoGet, not a command");
      default:
        if (typeName.startsWith(sqlMessage(""))) {
          throw unsupported(typeName.slice(sqlMessage("").length));
        }
        throw new SpiceError("INVALID_ARGUMENT", `unknown command type ${typeName}`);
    }
  }

  // -------------------------------------------------------------------------
  // DoGet

  async #doGet(call: grpc.ServerWritableStream<Msg, Msg>): Promise<void> {
    const ticket = new Uint8Array((call.request.ticket as Uint8Array | undefined) ?? EMPTY);
    const cmd = unpackAny(ticket);
    if (cmd.typeName === T.ticketStatement) {
      const t = decodeMessage<{ statement_handle?: Uint8Array }>(T.ticketStatement, cmd.value);
      return this.#runStatement(call, decodeHandle(new Uint8Array(t.statement_handle ?? EMPTY)));
    }
    const result = this.#metadata(cmd.typeName, cmd.value);
    const ctrl = new AbortController();
    call.on("cancelled", () => ctrl.abort(cancelledError()));
    const sink = new FlightDataSink(call, ctrl.signal);
    await sink.start(result.schema);
    await sink.writeArrow(result.batch);
  }

  /** Runs a statement (once per parameter set) and streams its batches. */
  async #runStatement(
    call: grpc.ServerWritableStream<Msg, Msg>,
    handle: StatementHandle,
  ): Promise<void> {
    const started = performance.now();
    const ctrl = this.#running.begin(handle.id);
    // The client going away (or its deadline passing) cancels the query.
    const onCancel = () => ctrl.abort(cancelledError());
    call.on("cancelled", onCancel);
    const ms = this.#timeoutMs;
    const timer = ms
      ? setTimeout(
        () => ctrl.abort(new SpiceError("TIMEOUT", `query exceeded its timeout of ${ms} ms`)),
        ms,
      )
      : undefined;
    const sink = new FlightDataSink(call, ctrl.signal);
    let error: SpiceError | undefined;
    let release: (() => void) | undefined;
    try {
      release = await this.#admit?.(ctrl.signal);
      let schema: arrow.Schema | null = null;
      for (const params of handle.params ?? [undefined]) {
        const result = await this.#engine.query(handle.sql, {
          params,
          signal: ctrl.signal,
          queryId: handle.id,
        });
        const s = toArrowSchema(result.schema);
        if (schema === null) {
          schema = s;
          await sink.start(schema);
        } else if (!sameTypes(schema, s)) {
          throw new SpiceError(
            "INVALID_ARGUMENT",
            "parameter sets give results of different types; bind one set at a time",
          );
        }
        await sink.writeEngine(result.batches);
      }
    } catch (e) {
      // An abort surfaces as whatever the engine threw; report it as the cancel it was.
      error = ctrl.signal.aborted ? toSpiceError(ctrl.signal.reason) : toSpiceError(e);
      throw error;
    } finally {
      clearTimeout(timer);
      release?.();
      call.off("cancelled", onCancel);
      this.#running.end(handle.id, ctrl);
      this.#onQuery?.({
        ...sink.stats,
        queryId: handle.id,
        sql: handle.sql,
        durationMs: performance.now() - started,
        error: error && { code: error.code, message: error.message },
      });
    }
  }

  // -------------------------------------------------------------------------
  // DoPut: parameter binding

  async #doPut(call: grpc.ServerDuplexStream<Msg, Msg>): Promise<void> {
    // A holder, since the statement is set inside the message callback.
    const target: { stmt: PreparedStatement | null } = { stmt: null };
    const decoder = new FlightDataDecoder();
    const sets: Parameters[] = [];
    let first = true;
    await consume(call, (msg) => {
      if (first) {
        first = false;
        const desc = msg.flight_descriptor as DescriptorMsg | undefined;
        if (!desc || desc.type !== "CMD") {
          throw new SpiceError(
            "INVALID_ARGUMENT",
            "DoPut needs a CMD flight descriptor in its first message",
          );
        }
        const cmd = unpackAny(new Uint8Array(desc.cmd ?? EMPTY));
        if (cmd.typeName !== T.preparedQuery) {
          // spiced is read-only: updates and ingestion are refused.
          throw unsupported(`DoPut with ${cmd.typeName.slice(cmd.typeName.lastIndexOf(".") + 1)}`);
        }
        target.stmt = this.#preparedOf(cmd.value);
      }
      const header = new Uint8Array((msg.data_header as Uint8Array | undefined) ?? EMPTY);
      const body = new Uint8Array((msg.data_body as Uint8Array | undefined) ?? EMPTY);
      const batch = decoder.push(header, body);
      if (batch) {
        for (const set of parameterSets(batch, target.stmt!.parameters)) {
          sets.push(set);
          if (sets.length > MAX_PARAMETER_SETS) {
            throw new SpiceError(
              "INVALID_ARGUMENT",
              `too many parameter sets (at most ${MAX_PARAMETER_SETS})`,
            );
          }
        }
      }
    });
    const stmt = target.stmt;
    if (!stmt) throw new SpiceError("INVALID_ARGUMENT", "DoPut stream was empty");
    stmt.bound = sets;
    call.write({
      app_metadata: encodeMessage(T.doPutPreparedResult, {
        prepared_statement_handle: new TextEncoder().encode(stmt.handle),
      }),
    });
  }

  // -------------------------------------------------------------------------
  // DoAction

  async #doAction(call: grpc.ServerWritableStream<Msg, Msg>): Promise<void> {
    const type = String(call.request.type ?? "");
    const body = new Uint8Array((call.request.body as Uint8Array | undefined) ?? EMPTY);
    switch (type) {
      case "CreatePreparedStatement": {
        const req = this.#actionBody<{ query?: string; transaction_id?: Uint8Array }>(
          body,
          T.createPrepared,
        );
        if (req.transaction_id !== undefined) throw unsupported("transactions");
        const result = await this.#createPrepared(req.query ?? "");
        call.write({ body: packAny(T.createPreparedResult, result) });
        return;
      }
      case "ClosePreparedStatement": {
        const req = this.#actionBody<{ prepared_statement_handle?: Uint8Array }>(
          body,
          T.closePrepared,
        );
        this.#prepared.close(req.prepared_statement_handle ?? EMPTY);
        return;
      }
      case "CancelFlightInfo": {
        const req = decodeMessage<{ info?: Msg }>(flightMessage("CancelFlightInfoRequest"), body);
        const outcome = this.#cancel(req.info);
        call.write({
          body: encodeMessage(flightMessage("CancelFlightInfoResult"), {
            status: `CANCEL_STATUS_${outcome}`,
          }),
        });
        return;
      }
      case "CancelQuery": {
        const req = this.#actionBody<{ info?: Uint8Array }>(body, T.cancelQuery);
        const info = decodeMessage<Msg>(
          flightMessage("FlightInfo"),
          new Uint8Array(req.info ?? EMPTY),
        );
        const outcome = this.#cancel(info);
        call.write({ body: packAny(T.cancelQueryResult, { result: `CANCEL_RESULT_${outcome}` }) });
        return;
      }
      default:
        throw unsupported(`action ${JSON.stringify(type)}`);
    }
  }

  /** Decodes an action body: a Flight SQL request packed in an Any of the expected type. */
  #actionBody<R>(body: Uint8Array, fullName: string): R {
    const any = unpackAny(body);
    if (any.typeName !== fullName) {
      throw new SpiceError(
        "INVALID_ARGUMENT",
        `expected ${fullName} in the action body, got ${any.typeName}`,
      );
    }
    return decodeMessage<R>(fullName, any.value);
  }

  async #createPrepared(sql: string): Promise<Msg> {
    const stmt = this.#prepared.create(sql);
    let datasetSchema: Uint8Array = EMPTY;
    try {
      // With NULL for every parameter the statement binds and its result schema is a fair guess
      // (the specification asks for the server's best guess).
      datasetSchema = ipcSchemaBytes(await this.#planSchema(sql, nullParameters(stmt.parameters)));
    } catch (e) {
      const err = toSpiceError(e);
      // Errors of the statement itself are the client's to see; NULL-typing trouble is not.
      const own = stmt.parameters.kind === "none" ||
        ["SQL_PARSE", "TABLE_NOT_FOUND", "COLUMN_NOT_FOUND", "NOT_SUPPORTED"].includes(err.code);
      if (own) {
        this.#prepared.close(stmt.handle);
        throw err;
      }
    }
    return {
      prepared_statement_handle: new TextEncoder().encode(stmt.handle),
      dataset_schema: datasetSchema,
      parameter_schema: stmt.parameters.kind === "none"
        ? EMPTY
        : ipcSchemaBytes(parameterSchema(stmt.parameters)),
    };
  }

  /** Cancels the statements behind a FlightInfo's tickets. */
  #cancel(info: Msg | undefined): CancelOutcome {
    const endpoints = (info?.endpoint as { ticket?: { ticket?: Uint8Array } }[] | undefined) ?? [];
    let outcome: CancelOutcome = "NOT_CANCELLABLE";
    for (const ep of endpoints) {
      const bytes = ep.ticket?.ticket;
      if (!bytes) continue;
      const any = unpackAny(new Uint8Array(bytes));
      if (any.typeName !== T.ticketStatement) continue; // catalog commands finish at once
      const t = decodeMessage<{ statement_handle?: Uint8Array }>(T.ticketStatement, any.value);
      const handle = decodeHandle(new Uint8Array(t.statement_handle ?? EMPTY));
      if (this.#running.cancel(handle.id) === "CANCELLED") outcome = "CANCELLED";
    }
    return outcome;
  }
}

/**
 * Reads a client stream to its end, handing each message to `onMessage`
 * (event-driven: async iteration of grpc-js server streams does not see the
 * client's half-close under Deno). A throw from `onMessage` fails the read.
 */
function consume(
  call: grpc.ServerDuplexStream<Msg, Msg>,
  onMessage: (m: Msg) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      call.pause();
      reject(e);
    };
    call.on("data", (m: Msg) => {
      if (failed) return;
      try {
        onMessage(m);
      } catch (e) {
        fail(e);
      }
    });
    call.on("end", () => {
      if (!failed) resolve();
    });
    call.on("error", fail);
    call.on("cancelled", () => fail(cancelledError()));
  });
}

/** Parameter sets a DoPut may bind at most (each set is one run of the statement). */
export const MAX_PARAMETER_SETS = 10_000;

function statementTicket(handle: StatementHandle): Uint8Array {
  return packAny(T.ticketStatement, { statement_handle: encodeHandle(handle) });
}

function sameTypes(a: arrow.Schema, b: arrow.Schema): boolean {
  return a.fields.length === b.fields.length &&
    a.fields.every((f, i) => String(f.type) === String(b.fields[i].type));
}

/** The key in a Handshake payload: a BasicAuth message's password, or the payload as text. */
function payloadKey(payload: Uint8Array | undefined): string {
  if (!payload || payload.byteLength === 0) return "";
  const bytes = new Uint8Array(payload);
  try {
    const basic = decodeMessage<{ password?: string }>(flightMessage("BasicAuth"), bytes);
    if (basic.password) return basic.password;
  } catch {
    // not a BasicAuth message: fall through to raw text
  }
  return new TextDecoder().decode(bytes);
}
