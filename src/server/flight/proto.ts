/**
 * The Arrow Flight and Flight SQL protocol definitions, loaded at run time from
 * `proto/Flight.proto` and `proto/FlightSql.proto`, and the protobuf helpers
 * the server and the `spice sql` client share: message (de)serialisation by
 * full name, and `google.protobuf.Any` packing of Flight SQL commands.
 *
 * @module
 */

import * as protoLoader from "@grpc/proto-loader";
import { SpiceError } from "../../errors.ts";

/** The protobuf package of Arrow Flight. */
export const FLIGHT_PACKAGE = "arrow.flight.protocol";
/** The protobuf package of Flight SQL. */
export const FLIGHT_SQL_PACKAGE = "arrow.flight.protocol.sql";
/** The prefix of every `Any` type URL (the protobuf convention). */
export const TYPE_URL_PREFIX = "type.googleapis.com/";

/**
 * The file path of one of the repository's `.proto` files.
 *
 * This is the only place that knows where the definitions live, so that
 * packaging (which embeds them) has to change this function alone.
 */
export function protoPath(name: string): string {
  const url = new URL(`../../../proto/${name}`, import.meta.url);
  if (url.protocol !== "file:") {
    throw new SpiceError(
      "INTERNAL",
      `proto file ${name} is not on the local file system (${url.href})`,
    );
  }
  // Deno's URL -> path conversion, which also handles Windows drive letters.
  return decodeURIComponent(Deno.build.os === "windows" ? url.pathname.slice(1) : url.pathname);
}

/**
 * Loader options shared by server and client: snake_case field names as in the
 * specification, 64-bit integers as strings (exact), enums as their names,
 * and scalar defaults filled in so that absent fields read as the spec's zero.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: protoLoader.PackageDefinition | null = null;

/** The Flight and Flight SQL package definition (loaded once per process). */
export function flightPackage(): protoLoader.PackageDefinition {
  // any.proto is bundled with protobufjs (no file needed): commands travel as Any.
  cached ??= protoLoader.loadSync(
    [protoPath("Flight.proto"), protoPath("FlightSql.proto"), "google/protobuf/any.proto"],
    LOADER_OPTIONS,
  );
  return cached;
}

/** A message type of the loaded definitions, by full name. */
interface MessageCodec {
  serialize(value: object): Uint8Array;
  deserialize(bytes: Uint8Array): Record<string, unknown>;
}

function codec(fullName: string): MessageCodec {
  const def = flightPackage()[fullName] as unknown as Partial<MessageCodec> | undefined;
  if (!def || typeof def.serialize !== "function" || typeof def.deserialize !== "function") {
    throw new SpiceError("INTERNAL", `unknown protobuf message ${fullName}`);
  }
  return def as MessageCodec;
}

/** Serialises a message of the given full name (e.g. `arrow.flight.protocol.Ticket`). */
export function encodeMessage(fullName: string, value: object): Uint8Array {
  return new Uint8Array(codec(fullName).serialize(value));
}

/** Decodes a message of the given full name; malformed bytes are an INVALID_ARGUMENT. */
export function decodeMessage<T = Record<string, unknown>>(fullName: string, bytes: Uint8Array): T {
  try {
    // protobufjs reads Node Buffers and Uint8Arrays alike.
    return codec(fullName).deserialize(bytes as unknown as Uint8Array) as T;
  } catch (e) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `malformed ${shortName(fullName)} message: ${(e as Error).message}`,
    );
  }
}

function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf(".") + 1);
}

/** The full name of a Flight SQL message (`CommandStatementQuery` -> `arrow.flight.protocol.sql.CommandStatementQuery`). */
export function sqlMessage(name: string): string {
  return `${FLIGHT_SQL_PACKAGE}.${name}`;
}

/** The full name of an Arrow Flight message. */
export function flightMessage(name: string): string {
  return `${FLIGHT_PACKAGE}.${name}`;
}

/** A decoded `google.protobuf.Any`: the message's full name and its bytes. */
export interface AnyMessage {
  /** The full name after the type URL's last `/`. */
  readonly typeName: string;
  /** The serialised message. */
  readonly value: Uint8Array;
}

/** Packs a Flight SQL message into `Any` bytes (type URL `type.googleapis.com/<full name>`). */
export function packAny(fullName: string, value: object): Uint8Array {
  return encodeMessage("google.protobuf.Any", {
    type_url: TYPE_URL_PREFIX + fullName,
    value: encodeMessage(fullName, value),
  });
}

/** Unpacks `Any` bytes; bytes that are not an `Any` with a type URL are an INVALID_ARGUMENT. */
export function unpackAny(bytes: Uint8Array): AnyMessage {
  const any = decodeMessage<{ type_url?: string; value?: Uint8Array }>(
    "google.protobuf.Any",
    bytes,
  );
  const url = any.type_url ?? "";
  if (url === "") {
    throw new SpiceError("INVALID_ARGUMENT", "command is not a google.protobuf.Any message");
  }
  return {
    typeName: url.slice(url.lastIndexOf("/") + 1),
    value: new Uint8Array(any.value ?? new Uint8Array(0)),
  };
}
