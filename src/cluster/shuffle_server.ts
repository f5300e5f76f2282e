/**
 * Serving shuffle output: the DoGet side of the executor's Flight service.
 * Parses the ticket a peer sends and writes a bucket's stored Arrow IPC
 * messages to the call as FlightData, respecting the transport's
 * back-pressure. Shared by the executor and the shuffle benchmark, so that
 * what is measured is what runs.
 *
 * @module
 */

import { SpiceError } from "../errors.ts";
import type { IpcMessage } from "../server/flight/ipc.ts";
import type { grpc } from "./grpc.ts";
import type { ShuffleTicket } from "./shuffle_client.ts";

/** The shuffle ticket in a DoGet request (INVALID_ARGUMENT when it is not one). */
export function parseShuffleTicket(bytes: Uint8Array | undefined): ShuffleTicket {
  let t: ShuffleTicket;
  try {
    t = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array(0)));
  } catch {
    throw new SpiceError("INVALID_ARGUMENT", "malformed shuffle ticket");
  }
  if (
    typeof t?.job !== "string" || typeof t.stage !== "number" || typeof t.map !== "number" ||
    typeof t.bucket !== "number"
  ) {
    throw new SpiceError("INVALID_ARGUMENT", "malformed shuffle ticket");
  }
  return t;
}

/**
 * Writes `messages` to a DoGet call and ends it. Waits for `drain` whenever
 * the transport's buffer is full, so a slow reader holds the writer back
 * instead of the whole bucket being queued in memory twice. `beforeEach` is
 * called with the number of messages sent so far and may throw to cut the
 * stream (fault injection in tests). Returns false when the peer cancelled.
 */
export async function writeShuffleMessages(
  call: grpc.ServerWritableStream<unknown, unknown>,
  messages: readonly IpcMessage[],
  beforeEach?: (sent: number) => void,
): Promise<boolean> {
  let sent = 0;
  for (const m of messages) {
    if (call.cancelled) return false;
    beforeEach?.(sent);
    const ok = call.write({ data_header: m.header, data_body: m.body });
    sent++;
    if (!ok) await drained(call);
  }
  call.end();
  return true;
}

function drained(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise<void>((r) => {
    const done = () => {
      call.off("drain", done);
      call.off("cancelled", done);
      call.off("close", done);
      r();
    };
    call.on("drain", done);
    call.on("cancelled", done);
    call.on("close", done);
  });
}
