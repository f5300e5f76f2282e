/**
 * `--cluster N`: our engine as a scheduler and N executors on this machine,
 * queried through the scheduler's HTTP API.
 *
 * Not available yet: `src/cluster/` has no scheduler or executor, and
 * `main.ts --role scheduler` refuses to start. When it can, this module is
 * the only one to change: `startClusterEngine` spawns (with `spawnSpiced`
 * from `http_runner.ts`)
 *
 *   deno run -A main.ts --role scheduler --spicepod <tpch spicepod>
 *       --node-bind-address 127.0.0.1:<port> --allow-insecure-connections
 *   deno run -A main.ts --role executor --scheduler-address http://127.0.0.1:<port>
 *       --node-bind-address 127.0.0.1:0 --allow-insecure-connections --executor-slots <k>
 *
 * (N executors), waits until N executors are registered, and returns an
 * `HttpEngine` over the scheduler's HTTP URL whose `close` stops every
 * process. The harness needs nothing else: queries go over `POST /v1/sql`
 * with `Accept: application/vnd.apache.arrow.stream` as for `--http-url`.
 *
 * @module
 */

import type { BenchEngine } from "./engine.ts";

/** The message printed for `--cluster` while the cluster roles do not exist. */
export const CLUSTER_UNAVAILABLE = "cluster benchmark: not available yet " +
  "(src/cluster/ does not provide a scheduler and executors; --role scheduler refuses to start)";

/** Thrown when the cluster benchmark cannot run in this build. */
export class ClusterUnavailableError extends Error {
  /** The error with the standard message. */
  constructor() {
    super(CLUSTER_UNAVAILABLE);
  }
}

/** Whether this build has the cluster roles (a `src/cluster/mod.ts` to start them). */
export async function clusterAvailable(): Promise<boolean> {
  try {
    await Deno.stat(new URL("../../src/cluster/mod.ts", import.meta.url));
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a scheduler and `executors` executors over the TPC-H tables of
 * `dataDir` and returns an engine that queries the scheduler. Throws
 * `ClusterUnavailableError` until the cluster roles exist.
 */
export async function startClusterEngine(
  _dataDir: string,
  _opts: { executors: number; tables: readonly string[] },
): Promise<BenchEngine> {
  if (!(await clusterAvailable())) throw new ClusterUnavailableError();
  // The roles exist but the spawning described above is not written yet:
  // fail clearly rather than benchmark a half-started cluster.
  throw new Error(
    "cluster benchmark: src/cluster/ exists now, but scripts/bench/cluster.ts does not start " +
      "a cluster yet (its module documentation says how)",
  );
}
