/**
 * Errors with stable codes. Every error a user can see is a `SpiceError`; one
 * table maps its code to an HTTP status and a gRPC status, so that the same
 * failure reads the same over HTTP, Flight SQL and the cluster RPCs.
 *
 * @module
 */

/**
 * The stable error codes. `DATA` is a statement that failed on its values
 * (a string that is not a number, an overflow, a date out of range, a scalar
 * subquery with two rows: SQLSTATE classes 21 and 22), which is the
 * client's to fix, hence HTTP 400; `EXECUTION` is a failure of the engine
 * while running, hence 500.
 */
export type ErrorCode =
  | "SQL_PARSE"
  | "TABLE_NOT_FOUND"
  | "COLUMN_NOT_FOUND"
  | "PLAN"
  | "TYPE"
  | "NOT_SUPPORTED"
  | "INVALID_ARGUMENT"
  | "DATA"
  | "EXECUTION"
  | "EXECUTOR_LOST"
  | "NO_EXECUTORS"
  | "CANCELLED"
  | "TIMEOUT"
  | "RESOURCES_EXHAUSTED"
  | "UNAUTHENTICATED"
  | "NOT_FOUND"
  | "UNAVAILABLE"
  | "CONFIG"
  | "IO"
  | "INTERNAL";

/** An error a user can act on, with a stable code. */
export class SpiceError extends Error {
  /** The stable code. */
  readonly code: ErrorCode;

  /** Makes an error with a code and a message. */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = "SpiceError";
  }
}

const HTTP_STATUS: Record<ErrorCode, number> = {
  SQL_PARSE: 400,
  TABLE_NOT_FOUND: 400,
  COLUMN_NOT_FOUND: 400,
  PLAN: 400,
  TYPE: 400,
  NOT_SUPPORTED: 400,
  INVALID_ARGUMENT: 400,
  DATA: 400,
  EXECUTION: 500,
  EXECUTOR_LOST: 503,
  NO_EXECUTORS: 503,
  CANCELLED: 499,
  TIMEOUT: 504,
  RESOURCES_EXHAUSTED: 429,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  UNAVAILABLE: 503,
  CONFIG: 400,
  IO: 500,
  INTERNAL: 500,
};

/** gRPC status codes (numeric, as on the wire). */
const GRPC_STATUS: Record<ErrorCode, number> = {
  SQL_PARSE: 3, // INVALID_ARGUMENT
  TABLE_NOT_FOUND: 5, // NOT_FOUND
  COLUMN_NOT_FOUND: 3,
  PLAN: 3,
  TYPE: 3,
  NOT_SUPPORTED: 12, // UNIMPLEMENTED
  INVALID_ARGUMENT: 3,
  DATA: 3,
  EXECUTION: 13, // INTERNAL
  EXECUTOR_LOST: 14, // UNAVAILABLE
  NO_EXECUTORS: 14,
  CANCELLED: 1,
  TIMEOUT: 4, // DEADLINE_EXCEEDED
  RESOURCES_EXHAUSTED: 8,
  UNAUTHENTICATED: 16,
  NOT_FOUND: 5,
  UNAVAILABLE: 14,
  CONFIG: 9, // FAILED_PRECONDITION
  IO: 13,
  INTERNAL: 13,
};

/** Wraps any thrown value as a SpiceError (unknown errors become INTERNAL). */
export function toSpiceError(e: unknown): SpiceError {
  if (e instanceof SpiceError) return e;
  // A JavaScript stack overflow (a statement nested deeper than the binder,
  // planner or executor recurse) is the statement's fault, not a crash.
  if (e instanceof RangeError && /call stack size/i.test(e.message)) {
    return new SpiceError(
      "NOT_SUPPORTED",
      "statement too deeply nested: it exceeds the engine's recursion depth; split it (for example fewer UNION branches or a shorter chain of operators per statement)",
      { cause: e },
    );
  }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code in HTTP_STATUS) {
      return new SpiceError(code as ErrorCode, e.message, { cause: e });
    }
    return new SpiceError("INTERNAL", e.message, { cause: e });
  }
  return new SpiceError("INTERNAL", String(e));
}

/** The HTTP status for an error code. */
export function httpStatus(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/** The gRPC status for an error code. */
export function grpcStatus(code: ErrorCode): number {
  return GRPC_STATUS[code];
}

/** The error code for a gRPC status received from a peer (inverse of grpcStatus, best effort). */
export function codeFromGrpc(status: number): ErrorCode {
  switch (status) {
    case 1:
      return "CANCELLED";
    case 3:
      return "INVALID_ARGUMENT";
    case 4:
      return "TIMEOUT";
    case 5:
      return "NOT_FOUND";
    case 8:
      return "RESOURCES_EXHAUSTED";
    case 12:
      return "NOT_SUPPORTED";
    case 14:
      return "UNAVAILABLE";
    case 16:
      return "UNAUTHENTICATED";
    default:
      return "INTERNAL";
  }
}
