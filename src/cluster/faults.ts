/**
 * Test-only fault injection for the cluster's failure handling. Nothing here
 * is active unless its environment variable is set; production deployments
 * must not set them.
 *
 * - `SPICED_FAULT_DOGET_FAIL_AFTER=<N>`: the executor's Flight DoGet handler
 *   aborts ONE shuffle stream of an intermediate stage (not the final
 *   stage's results, which the scheduler reads) with UNAVAILABLE after
 *   sending N messages, once per process. The consumer's fetch retry
 *   (src/cluster/shuffle_client.ts) must resume it; tests/chaos uses it.
 *
 * @module
 */

import { SpiceError } from "../errors.ts";

/** A one-shot fault: `hit(n)` is true once, the first time n reaches the threshold. */
export interface DoGetFault {
  /** True when the stream that has sent `sent` messages must be cut now (once per process). */
  hit(sent: number): boolean;
}

/** The DoGet fault from `SPICED_FAULT_DOGET_FAIL_AFTER`, or null when unset. */
export function doGetFaultFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): DoGetFault | null {
  const v = env("SPICED_FAULT_DOGET_FAIL_AFTER");
  if (v === undefined || v === "") return null;
  const after = Number(v);
  if (!Number.isInteger(after) || after < 0) {
    throw new SpiceError(
      "CONFIG",
      `SPICED_FAULT_DOGET_FAIL_AFTER must be a non-negative integer (messages), got "${v}"`,
    );
  }
  let fired = false;
  return {
    hit(sent: number): boolean {
      if (fired || sent < after) return false;
      fired = true;
      return true;
    },
  };
}

/** The error an injected fault ends a stream with. */
export function injectedFault(what: string): SpiceError {
  return new SpiceError("UNAVAILABLE", `injected fault (SPICED_FAULT_DOGET_FAIL_AFTER): ${what}`);
}
