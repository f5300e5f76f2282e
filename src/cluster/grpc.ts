/**
 * gRPC plumbing of the cluster: the protocol definitions, channel and server
 * credentials (mutual TLS, or plaintext in insecure mode), clients with
 * bounded deadlines, and errors that keep their stable code across the wire.
 *
 * Cluster connections are never closed while a process lives. Closing a
 * gRPC channel or shutting a server down sends HTTP/2 GOAWAY frames, and
 * Deno 2.9.6's node:http2 crashes the process that receives one on a session
 * that has served streams (an nghttp2 assertion in find_stream_on_goaway_func,
 * or a segmentation fault; denoland/deno#36788). Measured here: SIGTERM on
 * both executors after 44 TPC-H queries killed the scheduler in 3 runs of 5,
 * SIGKILL in none. So channels are kept per address for the process's life
 * (with no idle timeout, which would close them), and a stopping node leaves
 * its connections to the process exit, which closes the sockets as a SIGKILL
 * does: peers treat that as a lost connection and carry on.
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { codeFromGrpc, grpcStatus, SpiceError, toSpiceError } from "../errors.ts";
import { LOADER_OPTIONS, protoPath } from "../server/flight/proto.ts";

/** How a node secures its cluster channels. */
export type ClusterSecurity =
  | { readonly mode: "insecure" }
  | {
    readonly mode: "mtls";
    readonly ca: Uint8Array;
    readonly cert: Uint8Array;
    readonly key: Uint8Array;
  };

let pkg: grpc.GrpcObject | null = null;

/** The loaded cluster and Flight protocol definitions. */
export function clusterProto(): grpc.GrpcObject {
  pkg ??= grpc.loadPackageDefinition(
    protoLoader.loadSync([protoPath("cluster.proto"), protoPath("Flight.proto")], LOADER_OPTIONS),
  );
  return pkg;
}

/** A service definition by path (e.g. "spiced.cluster.SchedulerService"). */
export function serviceDefinition(path: string): grpc.ServiceDefinition {
  let o: unknown = clusterProto();
  for (const part of path.split(".")) o = (o as Record<string, unknown>)[part];
  return (o as { service: grpc.ServiceDefinition }).service;
}

/** A client constructor by path. */
export function clientConstructor(path: string): grpc.ServiceClientConstructor {
  let o: unknown = clusterProto();
  for (const part of path.split(".")) o = (o as Record<string, unknown>)[part];
  return o as grpc.ServiceClientConstructor;
}

/**
 * Channel and server options of the cluster. Messages up to 256 MiB: shuffle
 * batches are bounded, but plans of many files can be large. The receive
 * window is 16 MiB rather than HTTP/2's default 64 KiB: with the default, a
 * shuffle fetch waits a round trip for every 64 KiB and moved 120 MB/s under
 * mTLS here; with 16 MiB it moves about 300 MB/s (scripts/bench/shuffle.ts).
 *
 * Channels never go idle: see the module documentation.
 */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": 256 * 1024 * 1024,
  "grpc.max_send_message_length": 256 * 1024 * 1024,
  "grpc.keepalive_time_ms": 30_000,
  "grpc-node.flow_control_window": 16 * 1024 * 1024,
  "grpc.client_idle_timeout_ms": 2 ** 31 - 1,
};

/** A gRPC error from a SpiceError (the code travels in the status and in metadata). */
export function toGrpcError(e: unknown): grpc.ServiceError {
  const se = toSpiceError(e);
  const md = new grpc.Metadata();
  md.set("spiced-error-code", se.code);
  return Object.assign(new Error(se.message), {
    code: grpcStatus(se.code),
    details: se.message,
    metadata: md,
  }) as grpc.ServiceError;
}

/** A SpiceError from a gRPC error (stable code restored from metadata when present). */
export function fromGrpcError(e: unknown, peer: string): SpiceError {
  const ge = e as grpc.ServiceError;
  const code = ge?.metadata?.get("spiced-error-code")?.[0];
  if (typeof code === "string") return new SpiceError(code as never, ge.details || ge.message);
  if (ge?.code === grpc.status.UNAVAILABLE || ge?.code === grpc.status.DEADLINE_EXCEEDED) {
    return new SpiceError("UNAVAILABLE", `${peer} unreachable: ${ge.details || ge.message}`);
  }
  if (typeof ge?.code === "number") {
    return new SpiceError(codeFromGrpc(ge.code), ge.details || ge.message);
  }
  return toSpiceError(e);
}

/** Calls a unary method with a deadline; resolves with the response. */
export function unary<Req, Res>(
  client: grpc.Client,
  method: string,
  request: Req,
  timeoutMs: number,
  peer: string,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const deadline = new Date(Date.now() + timeoutMs);
    (client as unknown as Record<
      string,
      (r: Req, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: unknown, r: Res) => void) => void
    >)[
      method
    ](request, new grpc.Metadata(), { deadline }, (err, res) => {
      if (err) reject(fromGrpcError(err, peer));
      else resolve(res);
    });
  });
}

/** Wraps an async handler as a grpc-js unary handler. */
export function handleUnary<Req, Res>(
  f: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // A handler that throws before returning its promise (say, on a malformed
    // request) must answer with an error, not escape into grpc-js and end the process.
    let p: Promise<Res>;
    try {
      p = f(call.request, call);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then((r) => callback(null, r), (e) => callback(toGrpcError(e)));
  };
}

/** Binds a gRPC server; resolves with the bound port. */
export function bindServer(
  server: grpc.Server,
  address: string,
  creds: grpc.ServerCredentials,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

export { grpc };
