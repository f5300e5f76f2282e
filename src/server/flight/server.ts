/**
 * Starting and stopping the Flight SQL gRPC server.
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { SpiceError } from "../../errors.ts";
import type { QueryEngine } from "../../query/mod.ts";
import { flightPackage } from "./proto.ts";
import { FlightSqlService, type QueryInfo } from "./service.ts";

/** Options of `startFlightServer`. */
export interface FlightServerOptions {
  /** The engine that plans and runs statements. */
  readonly engine: QueryEngine;
  /** Interface to listen on (IPv6 without brackets). */
  readonly host: string;
  /** Port to listen on; 0 picks a free one (see `FlightServer.port`). */
  readonly port: number;
  /** Accepted API keys; null or empty = no authentication. */
  readonly apiKeys?: readonly string[] | null;
  /** PEM certificate chain and private key; null = plaintext gRPC. */
  readonly tls?: { readonly cert: Uint8Array; readonly key: Uint8Array } | null;
  /** Called once per statement run, after its stream ends. */
  readonly onQuery?: (info: QueryInfo) => void;
  /** Admission control shared with the HTTP API (see `FlightServiceOptions.admit`). */
  readonly admit?: (signal: AbortSignal) => Promise<() => void>;
  /** runtime.query.timeout for statements. */
  readonly queryTimeoutMs?: number | null;
}

/** A running Flight SQL server. */
export interface FlightServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Cancels running queries and stops the server (forcibly after a grace period). */
  close(): Promise<void>;
}

/** How long `close` lets calls finish before cutting them off. */
const SHUTDOWN_GRACE_MS = 2000;

/**
 * Starts a Flight SQL server over `opts.engine`.
 *
 * ```ts
 * const server = await startFlightServer({ engine, host: "127.0.0.1", port: 50051 });
 * // ...
 * await server.close();
 * ```
 */
export async function startFlightServer(opts: FlightServerOptions): Promise<FlightServer> {
  const service = new FlightSqlService({
    engine: opts.engine,
    apiKeys: opts.apiKeys,
    onQuery: opts.onQuery,
    admit: opts.admit,
    queryTimeoutMs: opts.queryTimeoutMs,
  });
  const server = new grpc.Server({
    // Parameter batches arrive in DoPut; results leave in bounded messages.
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
  });
  const definition =
    flightPackage()["arrow.flight.protocol.FlightService"] as grpc.ServiceDefinition;
  server.addService(definition, service.handlers());
  const creds = opts.tls
    ? grpc.ServerCredentials.createSsl(
      // Root certificates only verify client certificates, which are not requested here. With
      // null, grpc-js loads the whole system bundle as `ca`, and Deno's TLS then sends it along
      // with the chain: a Certificate message too large for clients. The server's own chain is
      // a harmless stand-in.
      Buffer.from(opts.tls.cert),
      [{ cert_chain: Buffer.from(opts.tls.cert), private_key: Buffer.from(opts.tls.key) }],
      false,
    )
    : grpc.ServerCredentials.createInsecure();
  const address = opts.host.includes(":")
    ? `[${opts.host}]:${opts.port}`
    : `${opts.host}:${opts.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, creds, (err, bound) => {
      if (err) {
        reject(
          new SpiceError("CONFIG", `cannot listen for Flight on ${address}: ${err.message}`, {
            cause: err,
          }),
        );
      } else resolve(bound);
    });
  });
  let closed: Promise<void> | null = null;
  return {
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        service.cancelAll();
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closed;
    },
  };
}
