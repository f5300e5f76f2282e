/**
 * The Flight SQL server end to end, through a client written here from the
 * Arrow Flight SQL specification and independent of the server's helpers: its
 * own proto-loader load of the protos, its own `google.protobuf.Any` packing,
 * and its own FlightData -> Arrow IPC reassembly.
 */

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import * as arrow from "apache-arrow";
import assert from "node:assert/strict";
import { batchesToIPC } from "../../src/arrow/interop.ts";
import { Catalog } from "../../src/catalog/mod.ts";
import { TPCH_QUERIES, TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
import { TpchTableProvider } from "../../src/connectors/tpch/provider.ts";
import type { RecordBatch } from "../../src/arrow/batch.ts";
import { QueryEngine } from "../../src/query/mod.ts";
import {
  MAX_IN_FLIGHT,
  MAX_MESSAGE_BYTES,
  MAX_MESSAGE_ROWS,
  type QueryInfo,
  startFlightServer,
} from "../../src/server/flight/mod.ts";

// ---------------------------------------------------------------------------
// the spec client

const PROTO_DIR = new URL("../../proto/", import.meta.url);
const protoFile = (name: string) => decodeURIComponent(new URL(name, PROTO_DIR).pathname);
const pkgDef = protoLoader.loadSync([protoFile("Flight.proto"), protoFile("FlightSql.proto")], {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
// deno-lint-ignore no-explicit-any
type Any = any;
const FlightService =
  (grpc.loadPackageDefinition(pkgDef) as Any).arrow.flight.protocol.FlightService;

function codec(
  name: string,
): { serialize(v: object): Uint8Array; deserialize(b: Uint8Array): Any } {
  return pkgDef[name] as Any;
}
const sql = (n: string) => `arrow.flight.protocol.sql.${n}`;
const flight = (n: string) => `arrow.flight.protocol.${n}`;

const enc = new TextEncoder();
const dec = new TextDecoder();

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** google.protobuf.Any { string type_url = 1; bytes value = 2; }, encoded by hand. */
function packAny(typeName: string, message: object): Uint8Array {
  const url = enc.encode(`type.googleapis.com/${typeName}`);
  const value = codec(typeName).serialize(message);
  return new Uint8Array([
    0x0a,
    ...varint(url.length),
    ...url,
    0x12,
    ...varint(value.length),
    ...value,
  ]);
}

/** Decodes an Any by hand: its type name and value bytes. */
function unpackAny(bytes: Uint8Array): { typeName: string; value: Uint8Array } {
  let i = 0;
  let url = "";
  let value = new Uint8Array(0);
  const readVarint = () => {
    let v = 0;
    let mul = 1;
    while (true) {
      const b = bytes[i++];
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
  };
  while (i < bytes.length) {
    const key = readVarint();
    const len = readVarint();
    const data = bytes.slice(i, i + len);
    i += len;
    if (key === 0x0a) url = dec.decode(data);
    else if (key === 0x12) value = data;
  }
  return { typeName: url.slice(url.lastIndexOf("/") + 1), value };
}

/** One IPC message in stream framing: 0xFFFFFFFF, padded length, flatbuffer, padding, body. */
function ipcFrame(header: Uint8Array, body: Uint8Array): Uint8Array {
  const padded = Math.ceil(header.length / 8) * 8;
  const out = new Uint8Array(8 + padded + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xffffffff, true);
  view.setInt32(4, padded, true);
  out.set(header, 8);
  out.set(body, 8 + padded);
  return out;
}

const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** FlightData messages -> one Arrow table (the IPC stream they were cut from). */
function flightDataToTable(messages: Any[]): arrow.Table {
  const frames = messages.map((m) =>
    ipcFrame(new Uint8Array(m.data_header), new Uint8Array(m.data_body))
  );
  return arrow.tableFromIPC(concat([...frames, EOS]));
}

/** An IPC-encapsulated schema (FlightInfo.schema, SchemaResult.schema, table_schema) -> Arrow schema. */
function decodeSchema(bytes: Uint8Array): arrow.Schema {
  return arrow.tableFromIPC(concat([new Uint8Array(bytes), EOS])).schema;
}

/** An Arrow stream cut into FlightData messages (for DoPut). */
function tableToFlightData(
  table: arrow.Table,
): { data_header: Uint8Array; data_body: Uint8Array }[] {
  const bytes = arrow.tableToIPC(table, "stream");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { data_header: Uint8Array; data_body: Uint8Array }[] = [];
  let off = 0;
  while (off < bytes.length) {
    const len = view.getInt32(off + 4, true);
    if (len === 0) break;
    const header = bytes.slice(off + 8, off + 8 + len);
    const bodyLength = Number(arrow.Message.decode(header).bodyLength);
    out.push({
      data_header: header,
      data_body: bytes.slice(off + 8 + len, off + 8 + len + bodyLength),
    });
    off += 8 + len + bodyLength;
  }
  return out;
}

const DEADLINE_MS = 60_000;
const deadline = () => Date.now() + DEADLINE_MS;

/** A minimal Flight SQL client over the raw grpc-js service. */
class SpecClient {
  readonly raw: Any;
  readonly key: string | null;

  constructor(port: number, key: string | null = null) {
    this.raw = new FlightService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    this.key = key;
  }

  md(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.key !== null) md.set("authorization", `Bearer ${this.key}`);
    return md;
  }

  unary(method: string, req: object): Promise<Any> {
    return new Promise((resolve, reject) => {
      this.raw[method](
        req,
        this.md(),
        { deadline: deadline() },
        (e: Any, r: Any) => e ? reject(e) : resolve(r),
      );
    });
  }

  collect(call: Any): Promise<Any[]> {
    return new Promise((resolve, reject) => {
      const out: Any[] = [];
      call.on("data", (d: Any) => out.push(d));
      call.on("end", () => resolve(out));
      call.on("error", reject);
    });
  }

  getFlightInfo(typeName: string, cmd: object): Promise<Any> {
    return this.unary("GetFlightInfo", { type: "CMD", cmd: packAny(typeName, cmd) });
  }

  doGet(ticket: Uint8Array): Promise<Any[]> {
    return this.collect(this.raw.DoGet({ ticket }, this.md(), { deadline: deadline() }));
  }

  async doAction(type: string, body: Uint8Array): Promise<Uint8Array[]> {
    const results = await this.collect(
      this.raw.DoAction({ type, body }, this.md(), { deadline: deadline() }),
    );
    return results.map((r) => new Uint8Array(r.body));
  }

  /** GetFlightInfo then DoGet on every endpoint. */
  async fetch(
    typeName: string,
    cmd: object,
  ): Promise<{ info: Any; messages: Any[]; table: arrow.Table }> {
    const info = await this.getFlightInfo(typeName, cmd);
    const messages: Any[] = [];
    for (const ep of info.endpoint) {
      messages.push(...await this.doGet(new Uint8Array(ep.ticket.ticket)));
    }
    return { info, messages, table: flightDataToTable(messages) };
  }

  close(): void {
    this.raw.close();
  }
}

// ---------------------------------------------------------------------------
// helpers

function tpchEngine(sf: number): QueryEngine {
  const cat = new Catalog();
  for (const t of TPCH_TABLES) cat.register(t, new TpchTableProvider(t, sf));
  return new QueryEngine(cat);
}

/** Rows of an Arrow table as plain values (bigints, decimals and dates as text). */
function rowsOf(table: arrow.Table): unknown[][] {
  const cols = table.schema.fields.map((_, i) => table.getChildAt(i)!);
  const rows: unknown[][] = [];
  for (let r = 0; r < table.numRows; r++) {
    rows.push(cols.map((c) => {
      const v = c.get(r);
      if (v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean") {
        return v;
      }
      return String(v);
    }));
  }
  return rows;
}

async function engineTable(engine: QueryEngine, text: string): Promise<arrow.Table> {
  const r = await engine.query(text);
  const batches: RecordBatch[] = [];
  for await (const b of r.batches) batches.push(b);
  return arrow.tableFromIPC(batchesToIPC(r.schema, batches));
}

function assertSameRows(actual: unknown[][], expected: unknown[][]): void {
  assert.equal(actual.length, expected.length, "row count");
  for (let r = 0; r < actual.length; r++) {
    for (let c = 0; c < expected[r].length; c++) {
      const a = actual[r][c];
      const e = expected[r][c];
      if (typeof a === "number" && typeof e === "number" && !Number.isInteger(e)) {
        // Parallel float sums may add in another order: compare to 1e-9 relative.
        assert.ok(
          Math.abs(a - e) <= 1e-9 * Math.max(1, Math.abs(e)),
          `row ${r} col ${c}: ${a} vs ${e}`,
        );
      } else {
        assert.deepEqual(a, e, `row ${r} col ${c}`);
      }
    }
  }
}

/** Rejects unless the promise fails with a gRPC status; returns the error. */
async function grpcError(p: Promise<unknown>, code: number): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    const se = e as grpc.ServiceError;
    assert.equal(se.code, code, `expected gRPC status ${code}, got ${se.code}: ${se.details}`);
    return se;
  }
  throw new Error(`expected gRPC status ${code}, but the call succeeded`);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const TEST = { sanitizeOps: false, sanitizeResources: false };

// ---------------------------------------------------------------------------

Deno.test({
  ...TEST,
  name: "flight sql: statements, catalog commands, prepared statements, errors",
}, async (t) => {
  const engine = tpchEngine(0.01);
  const infos: QueryInfo[] = [];
  const server = await startFlightServer({
    engine,
    host: "127.0.0.1",
    port: 0,
    onQuery: (i) => infos.push(i),
  });
  assert.ok(server.port > 0);
  const client = new SpecClient(server.port);
  try {
    await t.step("handshake", async () => {
      const call = client.raw.Handshake(client.md(), { deadline: deadline() });
      const done = client.collect(call);
      call.write({ protocol_version: "1", payload: new Uint8Array(0) });
      call.end();
      const responses = await done;
      assert.equal(responses.length, 1);
      assert.equal(responses[0].protocol_version, "1");
    });

    await t.step("ListActions names the Flight SQL actions", async () => {
      const actions = await client.collect(
        client.raw.ListActions({}, client.md(), { deadline: deadline() }),
      );
      const types = actions.map((a: Any) => a.type);
      for (
        const a of [
          "CreatePreparedStatement",
          "ClosePreparedStatement",
          "CancelFlightInfo",
          "CancelQuery",
        ]
      ) {
        assert.ok(types.includes(a), a);
      }
    });

    for (const q of [1, 6]) {
      await t.step(`TPC-H Q${q}: GetFlightInfo + DoGet equals engine.query`, async () => {
        const text = TPCH_QUERIES[q - 1];
        const { info, messages, table } = await client.fetch(sql("CommandStatementQuery"), {
          query: text,
        });
        assert.equal(info.total_records, "-1");
        assert.equal(info.endpoint.length, 1);
        // The ticket holds a TicketStatementQuery.
        const ticket = unpackAny(new Uint8Array(info.endpoint[0].ticket.ticket));
        assert.equal(ticket.typeName, sql("TicketStatementQuery"));
        assert.ok(
          codec(sql("TicketStatementQuery")).deserialize(ticket.value).statement_handle.length > 0,
        );
        // FlightInfo.schema is the IPC schema of the result, and the stream starts with it.
        const infoSchema = decodeSchema(new Uint8Array(info.schema));
        assert.deepEqual(infoSchema.fields.map(String), table.schema.fields.map(String));
        assert.equal(
          arrow.Message.decode(new Uint8Array(messages[0].data_header)).headerType,
          arrow.MessageHeader.Schema,
        );
        const expected = await engineTable(engine, text);
        assert.deepEqual(
          table.schema.fields.map((f) => f.name),
          expected.schema.fields.map((f) => f.name),
        );
        assert.ok(table.numRows > 0);
        assertSameRows(rowsOf(table), rowsOf(expected));
      });
    }

    await t.step("GetSchema and PollFlightInfo", async () => {
      const cmd = packAny(sql("CommandStatementQuery"), {
        query: "SELECT n_name, n_nationkey + 1 AS k FROM nation",
      });
      const res = await client.unary("GetSchema", { type: "CMD", cmd });
      const schema = decodeSchema(new Uint8Array(res.schema));
      assert.deepEqual(schema.fields.map((f) => f.name), ["n_name", "k"]);
      assert.equal(schema.fields[0].type.typeId, arrow.Type.Utf8);
      const poll = await client.unary("PollFlightInfo", { type: "CMD", cmd });
      assert.equal(poll.progress, 1);
      assert.equal(poll.flight_descriptor, null); // complete: nothing left to poll
      const messages = await client.doGet(new Uint8Array(poll.info.endpoint[0].ticket.ticket));
      assert.equal(flightDataToTable(messages).numRows, 25);
    });

    await t.step("GetCatalogs, GetDbSchemas, GetTableTypes", async () => {
      const catalogs = await client.fetch(sql("CommandGetCatalogs"), {});
      assert.deepEqual(catalogs.table.schema.fields.map(String), ["catalog_name: Utf8"]);
      assert.deepEqual(rowsOf(catalogs.table), [["spice"]]);
      const schemas = await client.fetch(sql("CommandGetDbSchemas"), {});
      assert.deepEqual(schemas.table.schema.fields.map((f) => f.name), [
        "catalog_name",
        "db_schema_name",
      ]);
      assert.deepEqual(rowsOf(schemas.table), [["spice", "public"]]);
      const none = await client.fetch(sql("CommandGetDbSchemas"), {
        db_schema_filter_pattern: "x%",
      });
      assert.equal(none.table.numRows, 0);
      const types = await client.fetch(sql("CommandGetTableTypes"), {});
      assert.deepEqual(rowsOf(types.table), [["TABLE"]]);
    });

    await t.step("GetTables: LIKE filter and include_schema", async () => {
      const all = await client.fetch(sql("CommandGetTables"), {
        include_schema: false,
        table_types: [],
      });
      assert.deepEqual(
        all.table.schema.fields.map((f) => f.name),
        ["catalog_name", "db_schema_name", "table_name", "table_type"],
      );
      assert.deepEqual(rowsOf(all.table).map((r) => r[2]), [...TPCH_TABLES].sort());
      const some = await client.fetch(sql("CommandGetTables"), {
        table_name_filter_pattern: "%item",
        include_schema: true,
        table_types: ["TABLE"],
      });
      assert.equal(some.table.schema.fields[4].name, "table_schema");
      assert.equal(some.table.schema.fields[4].type.typeId, arrow.Type.Binary);
      const rows = rowsOf(some.table);
      assert.deepEqual(rows.map((r) => r.slice(0, 4)), [["spice", "public", "lineitem", "TABLE"]]);
      const bytes = some.table.getChild("table_schema")!.get(0) as Uint8Array;
      const schema = decodeSchema(bytes);
      const expected = engine.catalog.get("lineitem")!.schema.fields.map((f) => f.name);
      assert.deepEqual(schema.fields.map((f) => f.name), expected);
      const one = await client.fetch(sql("CommandGetTables"), {
        table_name_filter_pattern: "n_tion",
      });
      assert.deepEqual(rowsOf(one.table).map((r) => r[2]), ["nation"]);
      const views = await client.fetch(sql("CommandGetTables"), { table_types: ["VIEW"] });
      assert.equal(views.table.numRows, 0);
    });

    await t.step("GetSqlInfo: server info ids in the dense union", async () => {
      const { table } = await client.fetch(sql("CommandGetSqlInfo"), {
        info: [0, 1, 2, 3, 508, 9999],
      });
      assert.deepEqual(table.schema.fields.map((f) => f.name), ["info_name", "value"]);
      const infoName = table.schema.fields[0].type as arrow.Int;
      assert.ok(
        arrow.DataType.isInt(infoName) && !infoName.isSigned && infoName.bitWidth === 32,
        "uint32",
      );
      const union = table.schema.fields[1].type as arrow.DenseUnion;
      assert.ok(
        arrow.DataType.isUnion(union) && union.mode === arrow.UnionMode.Dense,
        "dense union",
      );
      assert.deepEqual(
        union.children.map((c) => c.name),
        [
          "string_value",
          "bool_value",
          "bigint_value",
          "int32_bitmask",
          "string_list",
          "int32_to_int32_list_map",
        ],
      );
      const values = new Map<number, unknown>();
      for (let r = 0; r < table.numRows; r++) {
        values.set(table.getChild("info_name")!.get(r), table.getChild("value")!.get(r));
      }
      assert.equal(values.get(0), "spiced");
      assert.equal(typeof values.get(1), "string");
      assert.match(values.get(2) as string, /^\d+\.\d+\.\d+/);
      assert.equal(values.get(3), true);
      assert.ok([...(values.get(508) as arrow.Vector)].includes("EXPLAIN"));
      assert.equal(values.has(9999), false, "unknown ids are left out");
      const everything = await client.fetch(sql("CommandGetSqlInfo"), { info: [] });
      assert.ok(everything.table.numRows >= 10);
    });

    await t.step("prepared statement with a bound parameter", async () => {
      const [created] = await client.doAction(
        "CreatePreparedStatement",
        packAny(sql("ActionCreatePreparedStatementRequest"), {
          query: "SELECT n_name FROM nation WHERE n_nationkey = $1",
        }),
      );
      const any = unpackAny(created);
      assert.equal(any.typeName, sql("ActionCreatePreparedStatementResult"));
      const result = codec(sql("ActionCreatePreparedStatementResult")).deserialize(any.value);
      const handle = new Uint8Array(result.prepared_statement_handle);
      assert.deepEqual(
        decodeSchema(new Uint8Array(result.dataset_schema)).fields.map((f) => f.name),
        ["n_name"],
      );
      assert.deepEqual(
        decodeSchema(new Uint8Array(result.parameter_schema)).fields.map((f) => f.name),
        ["$1"],
      );

      // DoPut binds one parameter set: $1 = 7.
      const params = arrow.tableFromArrays({ "$1": Int32Array.from([7]) });
      const put = client.raw.DoPut(client.md(), { deadline: deadline() });
      const putResults = client.collect(put);
      const descriptor = {
        type: "CMD",
        cmd: packAny(sql("CommandPreparedStatementQuery"), { prepared_statement_handle: handle }),
      };
      tableToFlightData(params).forEach((m, i) =>
        put.write(i === 0 ? { ...m, flight_descriptor: descriptor } : m)
      );
      put.end();
      const [putResult] = await putResults;
      const dp = codec(sql("DoPutPreparedStatementResult")).deserialize(
        new Uint8Array(putResult.app_metadata),
      );
      const newHandle = dp.prepared_statement_handle
        ? new Uint8Array(dp.prepared_statement_handle)
        : handle;

      const { table } = await client.fetch(sql("CommandPreparedStatementQuery"), {
        prepared_statement_handle: newHandle,
      });
      assert.deepEqual(rowsOf(table), [["GERMANY"]]);

      const closed = await client.doAction(
        "ClosePreparedStatement",
        packAny(sql("ActionClosePreparedStatementRequest"), {
          prepared_statement_handle: newHandle,
        }),
      );
      assert.equal(closed.length, 0);
      const gone = await grpcError(
        client.getFlightInfo(sql("CommandPreparedStatementQuery"), {
          prepared_statement_handle: newHandle,
        }),
        grpc.status.NOT_FOUND,
      );
      assert.match(gone.details, /prepared statement/);
    });

    await t.step("prepared statement without parameters runs as is", async () => {
      const [created] = await client.doAction(
        "CreatePreparedStatement",
        packAny(sql("ActionCreatePreparedStatementRequest"), {
          query: "SELECT count(*) AS n FROM region",
        }),
      );
      const result = codec(sql("ActionCreatePreparedStatementResult")).deserialize(
        unpackAny(created).value,
      );
      assert.equal(result.parameter_schema.length, 0);
      const { table } = await client.fetch(sql("CommandPreparedStatementQuery"), {
        prepared_statement_handle: result.prepared_statement_handle,
      });
      assert.deepEqual(rowsOf(table), [["5"]]); // count(*) is BIGINT: read as bigint
    });

    await t.step("errors: bad SQL, unknown table, unknown command", async () => {
      const bad = "SELEC 1";
      const parserMessage = await engine.plan(bad).then(() => "", (e) => (e as Error).message);
      assert.ok(parserMessage !== "");
      const e1 = await grpcError(
        client.getFlightInfo(sql("CommandStatementQuery"), { query: bad }),
        grpc.status.INVALID_ARGUMENT,
      );
      assert.equal(e1.details, parserMessage);
      const e2 = await grpcError(
        client.getFlightInfo(sql("CommandStatementQuery"), {
          query: "SELECT * FROM no_such_table",
        }),
        grpc.status.NOT_FOUND,
      );
      assert.match(e2.details, /no_such_table/);
      await grpcError(
        client.getFlightInfo(sql("CommandStatementSubstraitPlan"), {}),
        grpc.status.UNIMPLEMENTED,
      );
      await grpcError(
        client.unary("GetFlightInfo", { type: "CMD", cmd: new Uint8Array([1, 2, 3]) }),
        grpc.status.INVALID_ARGUMENT,
      );
      await grpcError(
        client.doGet(new Uint8Array([0x0a, 0x01, 0x78])),
        grpc.status.INVALID_ARGUMENT,
      );
    });

    await t.step("cancel: CancelFlightInfo stops a running DoGet", async () => {
      infos.length = 0;
      const text = "SELECT l_orderkey, l_comment FROM lineitem CROSS JOIN nation";
      const info = await client.getFlightInfo(sql("CommandStatementQuery"), { query: text });
      const call = client.raw.DoGet(info.endpoint[0].ticket, client.md(), { deadline: deadline() });
      let received = 0;
      const ended = new Promise<grpc.ServiceError | null>((resolve) => {
        call.on("error", (e: grpc.ServiceError) => resolve(e));
        call.on("end", () => resolve(null));
      });
      // Read two messages, then stop reading: the server soon blocks on back-pressure.
      await withTimeout(
        new Promise<void>((resolve) => {
          call.on("data", () => {
            if (++received === 2) {
              call.pause();
              resolve();
            }
          });
        }),
        DEADLINE_MS,
        "first messages",
      );
      const [res] = await client.doAction(
        "CancelFlightInfo",
        codec(flight("CancelFlightInfoRequest")).serialize({ info }),
      );
      assert.equal(
        codec(flight("CancelFlightInfoResult")).deserialize(res).status,
        "CANCEL_STATUS_CANCELLED",
      );
      call.resume();
      const err = await withTimeout(ended, DEADLINE_MS, "cancelled stream");
      assert.ok(err, "the stream ends with an error");
      assert.equal(err.code, grpc.status.CANCELLED);
      assert.equal(err.details, "query cancelled");
      // The server stopped early: it never produced the whole result.
      await withTimeout(
        (async () => {
          while (infos.length === 0) await new Promise((r) => setTimeout(r, 10));
        })(),
        DEADLINE_MS,
        "query info",
      );
      assert.equal(infos[0].error?.code, "CANCELLED");
      assert.ok(infos[0].rows < 1_500_400, `server stopped early (sent ${infos[0].rows} rows)`);
      assert.ok(infos[0].maxInFlight <= MAX_IN_FLIGHT);
    });

    await t.step("cancel: CancelQuery before DoGet means DoGet fails", async () => {
      const info = await client.getFlightInfo(sql("CommandStatementQuery"), { query: "SELECT 1" });
      const [res] = await client.doAction(
        "CancelQuery",
        packAny(sql("ActionCancelQueryRequest"), {
          info: codec(flight("FlightInfo")).serialize(info),
        }),
      );
      const any = unpackAny(res);
      assert.equal(any.typeName, sql("ActionCancelQueryResult"));
      assert.equal(
        codec(sql("ActionCancelQueryResult")).deserialize(any.value).result,
        "CANCEL_RESULT_CANCELLED",
      );
      await grpcError(
        client.doGet(new Uint8Array(info.endpoint[0].ticket.ticket)),
        grpc.status.CANCELLED,
      );
    });
  } finally {
    client.close();
    await withTimeout(server.close(), 10_000, "server close");
  }
});

Deno.test(
  { ...TEST, name: "flight sql: a 1.5M-row result streams in bounded messages" },
  async () => {
    const engine = tpchEngine(0.01);
    const infos: QueryInfo[] = [];
    const server = await startFlightServer({
      engine,
      host: "127.0.0.1",
      port: 0,
      onQuery: (i) => infos.push(i),
    });
    const client = new SpecClient(server.port);
    try {
      const info = await client.getFlightInfo(sql("CommandStatementQuery"), {
        query: "SELECT l_orderkey, n_nationkey FROM lineitem CROSS JOIN nation",
      });
      // Count rows message by message, keeping nothing: the client's memory is bounded too.
      const call = client.raw.DoGet(info.endpoint[0].ticket, client.md(), { deadline: deadline() });
      let messages = 0;
      let rows = 0;
      let maxRows = 0;
      let maxBody = 0;
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          call.on("data", (m: Any) => {
            messages++;
            const msg = arrow.Message.decode(new Uint8Array(m.data_header));
            if (msg.isRecordBatch()) {
              const n = Number(msg.header().length);
              rows += n;
              maxRows = Math.max(maxRows, n);
              maxBody = Math.max(maxBody, m.data_body.length);
            }
          });
          call.on("end", resolve);
          call.on("error", reject);
        }),
        DEADLINE_MS,
        "large DoGet",
      );
      assert.equal(rows, 1_500_400);
      assert.ok(messages > 20, `${messages} messages`);
      assert.ok(
        maxRows <= MAX_MESSAGE_ROWS,
        `at most ${MAX_MESSAGE_ROWS} rows a message (saw ${maxRows})`,
      );
      assert.ok(maxBody <= MAX_MESSAGE_BYTES + 4096, `bounded message bodies (saw ${maxBody})`);
      const server_ = infos.at(-1)!;
      assert.equal(server_.rows, 1_500_400);
      assert.equal(server_.messages, messages);
      assert.ok(server_.maxInFlight <= MAX_IN_FLIGHT, `in flight ${server_.maxInFlight}`);
      assert.ok(server_.maxMessageBytes <= MAX_MESSAGE_BYTES + 4096);
    } finally {
      client.close();
      await withTimeout(server.close(), 10_000, "server close");
    }
  },
);

Deno.test({ ...TEST, name: "flight sql: API keys" }, async () => {
  const engine = tpchEngine(0.01);
  const server = await startFlightServer({
    engine,
    host: "127.0.0.1",
    port: 0,
    apiKeys: ["secret-1", "secret-2"],
  });
  const anon = new SpecClient(server.port);
  const wrong = new SpecClient(server.port, "guess");
  const right = new SpecClient(server.port, "secret-2");
  try {
    const cmd = { query: "SELECT 1 AS one" };
    const e1 = await grpcError(
      anon.getFlightInfo(sql("CommandStatementQuery"), cmd),
      grpc.status.UNAUTHENTICATED,
    );
    const e2 = await grpcError(
      wrong.getFlightInfo(sql("CommandStatementQuery"), cmd),
      grpc.status.UNAUTHENTICATED,
    );
    // The HTTP API's wording, and nothing about the configured keys.
    for (const e of [e1, e2]) assert.equal(e.details, "missing or invalid API key");
    await grpcError(anon.doGet(new Uint8Array([1])), grpc.status.UNAUTHENTICATED);
    await grpcError(
      anon.collect(anon.raw.ListActions({}, anon.md(), { deadline: deadline() })),
      grpc.status.UNAUTHENTICATED,
    );
    const { table } = await right.fetch(sql("CommandStatementQuery"), cmd);
    assert.deepEqual(rowsOf(table), [[1]]);

    // Handshake with Basic credentials returns the bearer token in the response header.
    const md = new grpc.Metadata();
    md.set("authorization", `Basic ${btoa("user:secret-1")}`);
    const call = anon.raw.Handshake(md, { deadline: deadline() });
    const header = new Promise<grpc.Metadata>((resolve) => call.on("metadata", resolve));
    const done = anon.collect(call);
    call.end();
    await done;
    const auth = (await header).get("authorization")[0] as string;
    assert.equal(auth, "Bearer secret-1");
    const viaToken = new SpecClient(server.port, auth.slice("Bearer ".length));
    try {
      const r = await viaToken.fetch(sql("CommandGetCatalogs"), {});
      assert.equal(r.table.numRows, 1);
    } finally {
      viaToken.close();
    }

    // A wrong password in Handshake is refused.
    const bad = new grpc.Metadata();
    bad.set("authorization", `Basic ${btoa("user:nope")}`);
    const badCall = anon.raw.Handshake(bad, { deadline: deadline() });
    const badDone = anon.collect(badCall);
    badCall.end();
    await grpcError(badDone, grpc.status.UNAUTHENTICATED);

    // Handshake payload auth: a BasicAuth message.
    const payloadCall = anon.raw.Handshake(new grpc.Metadata(), { deadline: deadline() });
    const payloadDone = anon.collect(payloadCall);
    payloadCall.write({
      protocol_version: "0",
      payload: codec(flight("BasicAuth")).serialize({ username: "u", password: "secret-2" }),
    });
    payloadCall.end();
    const [resp] = await payloadDone;
    assert.equal(dec.decode(new Uint8Array(resp.payload)), "secret-2");
  } finally {
    anon.close();
    wrong.close();
    right.close();
    await withTimeout(server.close(), 10_000, "server close");
  }
});
