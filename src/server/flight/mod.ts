/**
 * The Arrow Flight SQL endpoint: JDBC, ADBC, Python and `spice sql` clients
 * send SQL over gRPC and receive Arrow record batches.
 *
 * ```ts
 * import { startFlightServer } from "./mod.ts";
 * const server = await startFlightServer({ engine, host: "0.0.0.0", port: 50051, apiKeys: ["secret"] });
 * console.log(`Flight SQL on port ${server.port}`);
 * await server.close();
 * ```
 *
 * @module
 */

export { type FlightServer, type FlightServerOptions, startFlightServer } from "./server.ts";
export { ACTIONS, type QueryInfo } from "./service.ts";
export { MAX_IN_FLIGHT, MAX_MESSAGE_BYTES, MAX_MESSAGE_ROWS, type StreamStats } from "./stream.ts";
export { flightPackage, protoPath } from "./proto.ts";
