/**
 * Errors on the Flight wire: a `SpiceError` becomes a gRPC status whose code
 * comes from the one shared table (`grpcStatus`) and whose details are the
 * error's message, exactly the text HTTP clients see.
 *
 * @module
 */

import { Metadata, type ServiceError } from "@grpc/grpc-js";
import { grpcStatus, SpiceError, toSpiceError } from "../../errors.ts";

/** The header that carries the stable error code next to the gRPC status. */
export const ERROR_CODE_HEADER = "x-spice-error-code";

/** A gRPC status object for any thrown value (grpc-js sends `code` and `details`). */
export function toServiceError(
  e: unknown,
): Partial<ServiceError> & { code: number; details: string } {
  const err = toSpiceError(e);
  const metadata = new Metadata();
  // The stable code survives the wire, so clients need not parse messages.
  metadata.set(ERROR_CODE_HEADER, err.code);
  return { code: grpcStatus(err.code), details: err.message, message: err.message, metadata };
}

/** The error for a Flight SQL command or action the server does not implement. */
export function unsupported(what: string): SpiceError {
  return new SpiceError("NOT_SUPPORTED", `not supported: ${what}`);
}
