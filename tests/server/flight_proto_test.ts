/**
 * Byte-level checks of proto/Flight.proto and proto/FlightSql.proto against
 * the Arrow specification: messages encoded by protobufjs (through
 * proto-loader) must equal hand-computed protobuf encodings built from the
 * specification's field numbers, and hand-built bytes must decode to the
 * expected fields. The service's method paths and streaming kinds are checked
 * too, since clients in other languages address them by name.
 */

import * as protoLoader from "@grpc/proto-loader";
import { deepStrictEqual as assertEquals } from "node:assert/strict";

const PROTO_DIR = new URL("../../proto/", import.meta.url);

function protoFile(name: string): string {
  return decodeURIComponent(new URL(name, PROTO_DIR).pathname);
}

const pkg = protoLoader.loadSync([protoFile("Flight.proto"), protoFile("FlightSql.proto")], {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
});

interface Codec {
  serialize(v: object): Uint8Array;
  deserialize(b: Uint8Array): Record<string, unknown>;
}

function codec(name: string): Codec {
  const c = pkg[name] as unknown as Codec | undefined;
  if (!c?.serialize) throw new Error(`no message ${name} in the protos`);
  return c;
}

const F = (n: string) => `arrow.flight.protocol.${n}`;
const S = (n: string) => `arrow.flight.protocol.sql.${n}`;

// ---------------------------------------------------------------------------
// a hand encoder/decoder for the protobuf wire format (varint and length-delimited fields)

function varint(n: bigint | number): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

function tag(field: number, wire: 0 | 2): number[] {
  return varint((field << 3) | wire);
}

function bytesField(field: number, data: Uint8Array | number[] | string): number[] {
  const b = typeof data === "string" ? [...new TextEncoder().encode(data)] : [...data];
  return [...tag(field, 2), ...varint(b.length), ...b];
}

function varintField(field: number, v: number | bigint): number[] {
  return [...tag(field, 0), ...varint(v)];
}

/** Fields of a message as (number, wire type, raw value) in wire order. */
function readFields(
  bytes: Uint8Array,
): { field: number; wire: number; value: bigint | Uint8Array }[] {
  const out: { field: number; wire: number; value: bigint | Uint8Array }[] = [];
  let i = 0;
  const readVarint = () => {
    let shift = 0n;
    let v = 0n;
    while (true) {
      const b = bytes[i++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < bytes.length) {
    const key = Number(readVarint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: readVarint() });
    else if (wire === 2) {
      const len = Number(readVarint());
      out.push({ field, wire, value: bytes.slice(i, i + len) });
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

function u8(a: number[]): Uint8Array {
  return new Uint8Array(a);
}

function bytesOf(v: unknown): number[] {
  return [...(v as Uint8Array)];
}

// ---------------------------------------------------------------------------

Deno.test("CommandStatementQuery: query = 1, transaction_id = 2", () => {
  const expected = bytesField(1, "SELECT 1");
  assertEquals([...codec(S("CommandStatementQuery")).serialize({ query: "SELECT 1" })], expected);
  const withTx = [...expected, ...bytesField(2, [7, 8])];
  const decoded = codec(S("CommandStatementQuery")).deserialize(u8(withTx));
  assertEquals(decoded.query, "SELECT 1");
  assertEquals(bytesOf(decoded.transaction_id), [7, 8]);
});

Deno.test("FlightDescriptor: type = 1 (CMD = 2, PATH = 1), cmd = 2, path = 3", () => {
  const c = codec(F("FlightDescriptor"));
  const cmd = [...varintField(1, 2), ...bytesField(2, [0xde, 0xad])];
  assertEquals([...c.serialize({ type: "CMD", cmd: u8([0xde, 0xad]) })], cmd);
  const path = [...varintField(1, 1), ...bytesField(3, "a"), ...bytesField(3, "bc")];
  assertEquals([...c.serialize({ type: "PATH", path: ["a", "bc"] })], path);
  const back = c.deserialize(u8(path));
  assertEquals(back.type, "PATH");
  assertEquals(back.path, ["a", "bc"]);
});

Deno.test("FlightData: flight_descriptor = 1, data_header = 2, app_metadata = 3, data_body = 1000", () => {
  const c = codec(F("FlightData"));
  const descriptor = [...varintField(1, 2), ...bytesField(2, [1])];
  const expected = [
    ...bytesField(1, descriptor),
    ...bytesField(2, [1, 2, 3]),
    ...bytesField(3, [9]),
    // Field 1000, wire type 2: key 8002 = varint c2 3e.
    0xc2,
    0x3e,
    2,
    4,
    5,
  ];
  const encoded = c.serialize({
    flight_descriptor: { type: "CMD", cmd: u8([1]) },
    data_header: u8([1, 2, 3]),
    app_metadata: u8([9]),
    data_body: u8([4, 5]),
  });
  assertEquals([...encoded], expected);
  // And the other way: hand bytes decode to the same fields.
  const back = c.deserialize(u8(expected));
  assertEquals(bytesOf(back.data_header), [1, 2, 3]);
  assertEquals(bytesOf(back.data_body), [4, 5]);
  assertEquals(bytesOf(back.app_metadata), [9]);
  assertEquals((back.flight_descriptor as Record<string, unknown>).type, "CMD");
  assertEquals(
    readFields(u8(expected)).map((f) => f.field),
    [1, 2, 3, 1000],
  );
});

Deno.test("FlightInfo, FlightEndpoint, Ticket, SchemaResult field numbers", () => {
  const info = codec(F("FlightInfo")).serialize({
    schema: u8([1]),
    flight_descriptor: { type: "CMD", cmd: u8([2]) },
    endpoint: [{
      ticket: { ticket: u8([3]) },
      location: [{ uri: "grpc://h:1" }],
      app_metadata: u8([4]),
    }],
    total_records: "-1",
    total_bytes: "5",
    ordered: true,
    app_metadata: u8([6]),
  });
  const endpoint = [
    ...bytesField(1, bytesField(1, [3])),
    ...bytesField(2, bytesField(1, "grpc://h:1")),
    ...bytesField(4, [4]),
  ];
  assertEquals([...info], [
    ...bytesField(1, [1]),
    ...bytesField(2, [...varintField(1, 2), ...bytesField(2, [2])]),
    ...bytesField(3, endpoint),
    ...varintField(4, -1n), // int64 -1: ten-byte varint
    ...varintField(5, 5),
    ...varintField(6, 1),
    ...bytesField(7, [6]),
  ]);
  assertEquals(
    [...codec(F("SchemaResult")).serialize({ schema: u8([1, 2]) })],
    bytesField(1, [1, 2]),
  );
});

Deno.test("Handshake, Action, Result, PutResult, BasicAuth, CancelFlightInfo", () => {
  assertEquals(
    [...codec(F("HandshakeRequest")).serialize({ protocol_version: "1", payload: u8([7]) })],
    [...varintField(1, 1), ...bytesField(2, [7])],
  );
  assertEquals(
    [...codec(F("BasicAuth")).serialize({ username: "u", password: "p" })],
    [...bytesField(2, "u"), ...bytesField(3, "p")],
  );
  assertEquals(
    [...codec(F("Action")).serialize({ type: "CancelFlightInfo", body: u8([1]) })],
    [...bytesField(1, "CancelFlightInfo"), ...bytesField(2, [1])],
  );
  assertEquals([...codec(F("Result")).serialize({ body: u8([1]) })], bytesField(1, [1]));
  assertEquals([...codec(F("PutResult")).serialize({ app_metadata: u8([1]) })], bytesField(1, [1]));
  assertEquals(
    [...codec(F("CancelFlightInfoResult")).serialize({ status: "CANCEL_STATUS_CANCELLED" })],
    varintField(1, 1),
  );
  assertEquals(
    [...codec(F("CancelFlightInfoResult")).serialize({ status: "CANCEL_STATUS_NOT_CANCELLABLE" })],
    varintField(1, 3),
  );
  assertEquals(
    [...codec(F("ActionType")).serialize({ type: "a", description: "b" })],
    [...bytesField(1, "a"), ...bytesField(2, "b")],
  );
});

Deno.test("Flight SQL catalog commands", () => {
  assertEquals(
    [
      ...codec(S("CommandGetTables")).serialize({
        catalog: "spice",
        db_schema_filter_pattern: "p%",
        table_name_filter_pattern: "n%",
        table_types: ["TABLE"],
        include_schema: true,
      }),
    ],
    [
      ...bytesField(1, "spice"),
      ...bytesField(2, "p%"),
      ...bytesField(3, "n%"),
      ...bytesField(4, "TABLE"),
      ...varintField(5, 1),
    ],
  );
  // proto3 repeated scalars are packed: one length-delimited field of varints.
  assertEquals(
    [...codec(S("CommandGetSqlInfo")).serialize({ info: [0, 1, 508] })],
    bytesField(1, [0, 1, ...varint(508)]),
  );
  assertEquals(
    [...codec(S("CommandGetDbSchemas")).serialize({ catalog: "c", db_schema_filter_pattern: "%" })],
    [...bytesField(1, "c"), ...bytesField(2, "%")],
  );
  // Empty commands encode to nothing.
  assertEquals([...codec(S("CommandGetCatalogs")).serialize({})], []);
  assertEquals([...codec(S("CommandGetTableTypes")).serialize({})], []);
  // proto3 `optional`: an explicitly empty catalog is present on the wire.
  assertEquals([...codec(S("CommandGetDbSchemas")).serialize({ catalog: "" })], bytesField(1, ""));
});

Deno.test("Flight SQL statements, prepared statements and cancellation", () => {
  assertEquals(
    [...codec(S("TicketStatementQuery")).serialize({ statement_handle: u8([1, 2]) })],
    bytesField(1, [1, 2]),
  );
  assertEquals(
    [
      ...codec(S("CommandPreparedStatementQuery")).serialize({
        prepared_statement_handle: u8([3]),
      }),
    ],
    bytesField(1, [3]),
  );
  assertEquals(
    [
      ...codec(S("ActionCreatePreparedStatementRequest")).serialize({
        query: "q",
        transaction_id: u8([1]),
      }),
    ],
    [...bytesField(1, "q"), ...bytesField(2, [1])],
  );
  assertEquals(
    [
      ...codec(S("ActionCreatePreparedStatementResult")).serialize({
        prepared_statement_handle: u8([1]),
        dataset_schema: u8([2]),
        parameter_schema: u8([3]),
      }),
    ],
    [...bytesField(1, [1]), ...bytesField(2, [2]), ...bytesField(3, [3])],
  );
  assertEquals(
    [
      ...codec(S("ActionClosePreparedStatementRequest")).serialize({
        prepared_statement_handle: u8([1]),
      }),
    ],
    bytesField(1, [1]),
  );
  assertEquals(
    [...codec(S("ActionCancelQueryRequest")).serialize({ info: u8([5]) })],
    bytesField(1, [5]),
  );
  assertEquals(
    [...codec(S("ActionCancelQueryResult")).serialize({ result: "CANCEL_RESULT_CANCELLED" })],
    varintField(1, 1),
  );
  assertEquals(
    [...codec(S("DoPutPreparedStatementResult")).serialize({ prepared_statement_handle: u8([9]) })],
    bytesField(1, [9]),
  );
  assertEquals(
    [...codec(S("DoPutUpdateResult")).serialize({ record_count: "3" })],
    varintField(1, 3),
  );
  assertEquals(
    [...codec(S("CommandStatementUpdate")).serialize({ query: "u" })],
    bytesField(1, "u"),
  );
});

Deno.test("google.protobuf.Any packing matches the hand encoding", () => {
  const anyPkg = protoLoader.loadSync("google/protobuf/any.proto", { keepCase: true });
  const any = anyPkg["google.protobuf.Any"] as unknown as Codec;
  const value = codec(S("CommandStatementQuery")).serialize({ query: "SELECT 1" });
  const url = "type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery";
  const expected = [...bytesField(1, url), ...bytesField(2, value)];
  assertEquals([...any.serialize({ type_url: url, value })], expected);
  const fields = readFields(u8(expected));
  assertEquals(new TextDecoder().decode(fields[0].value as Uint8Array), url);
  assertEquals(
    codec(S("CommandStatementQuery")).deserialize(fields[1].value as Uint8Array).query,
    "SELECT 1",
  );
});

Deno.test("enum numbers of the specification", () => {
  const enumValues = (name: string) => {
    const def = pkg[name] as unknown as { type: { value: { name: string; number: number }[] } };
    return Object.fromEntries(def.type.value.map((v) => [v.name, v.number]));
  };
  const info = enumValues(S("SqlInfo"));
  assertEquals(info.FLIGHT_SQL_SERVER_NAME, 0);
  assertEquals(info.FLIGHT_SQL_SERVER_VERSION, 1);
  assertEquals(info.FLIGHT_SQL_SERVER_ARROW_VERSION, 2);
  assertEquals(info.FLIGHT_SQL_SERVER_READ_ONLY, 3);
  assertEquals(info.FLIGHT_SQL_SERVER_CANCEL, 9);
  assertEquals(info.FLIGHT_SQL_SERVER_STATEMENT_TIMEOUT, 100);
  assertEquals(info.SQL_DDL_CATALOG, 500);
  assertEquals(info.SQL_KEYWORDS, 508);
  assertEquals(info.SQL_STORED_FUNCTIONS_USING_CALL_SYNTAX_SUPPORTED, 576);
  const cancel = enumValues(F("CancelStatus"));
  assertEquals(cancel, {
    CANCEL_STATUS_UNSPECIFIED: 0,
    CANCEL_STATUS_CANCELLED: 1,
    CANCEL_STATUS_CANCELLING: 2,
    CANCEL_STATUS_NOT_CANCELLABLE: 3,
  });
  assertEquals(enumValues(S("XdbcDataType")).XDBC_WVARCHAR, -9);
});

Deno.test("FlightService methods: paths and streaming kinds", () => {
  const service = pkg[F("FlightService")] as unknown as Record<
    string,
    { path: string; requestStream: boolean; responseStream: boolean }
  >;
  const kinds = Object.fromEntries(
    Object.entries(service).map(([name, m]) => [name, [m.path, m.requestStream, m.responseStream]]),
  );
  const p = (m: string) => `/arrow.flight.protocol.FlightService/${m}`;
  assertEquals(kinds, {
    Handshake: [p("Handshake"), true, true],
    ListFlights: [p("ListFlights"), false, true],
    GetFlightInfo: [p("GetFlightInfo"), false, false],
    PollFlightInfo: [p("PollFlightInfo"), false, false],
    GetSchema: [p("GetSchema"), false, false],
    DoGet: [p("DoGet"), false, true],
    DoPut: [p("DoPut"), true, true],
    DoExchange: [p("DoExchange"), true, true],
    DoAction: [p("DoAction"), false, true],
    ListActions: [p("ListActions"), false, true],
  });
});
