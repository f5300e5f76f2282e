/**
 * `--cluster N`: our engine as a scheduler and N executors on this machine
 * (plaintext, `--allow-insecure-connections`: the benchmark measures the
 * engine, not TLS), queried through the scheduler's HTTP API exactly as
 * `--http-url` queries a standalone spiced: `POST /v1/sql` with
 * `Accept: application/vnd.apache.arrow.stream`.
 *
 * Every node reads the same generated spicepod: the executors load the
 * accelerated tables, the scheduler plans over them without holding data.
 * Load times come from the executors' /v1/datasets (the slowest node per
 * table); memory is the sum of every node's peak RSS.
 *
 * @module
 */

import type { BenchEngine } from "./engine.ts";
import { HttpEngine, spawnSpiced, type SpicedServer, writeTpchSpicepod } from "./http_runner.ts";

/** The message printed for `--cluster` when this build has no cluster roles. */
export const CLUSTER_UNAVAILABLE = "cluster benchmark: not available yet " +
  "(src/cluster/ does not provide a scheduler and executors)";

/** Thrown when the cluster benchmark cannot run in this build. */
export class ClusterUnavailableError extends Error {
  /** The error with the standard message. */
  constructor() {
    super(CLUSTER_UNAVAILABLE);
  }
}

/** Whether this build has the cluster roles (`src/cluster/scheduler.ts` and `executor.ts`). */
export async function clusterAvailable(): Promise<boolean> {
  try {
    await Deno.stat(new URL("../../src/cluster/scheduler.ts", import.meta.url));
    await Deno.stat(new URL("../../src/cluster/executor.ts", import.meta.url));
    return true;
  } catch {
    return false;
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Whether the scheduler's /v1/status lists `n` ready executors (loaded and registered). */
async function executorsReady(url: string, n: number): Promise<boolean> {
  const r = await fetch(`${url}/v1/status`).catch(() => null);
  if (!r?.ok) {
    await r?.body?.cancel();
    return false;
  }
  const st = await r.json() as { executors?: { state: string }[] };
  return (st.executors ?? []).filter((e) => e.state === "ready").length >= n;
}

/**
 * Starts a scheduler and `executors` executors over the TPC-H tables of
 * `dataDir` and returns an engine that queries the scheduler; its `load`
 * waits until every executor has loaded its data and registered, and
 * closing it stops every process. Throws `ClusterUnavailableError` when the roles do not exist.
 */
export async function startClusterEngine(
  dataDir: string,
  opts: { executors: number; tables: readonly string[]; readyTimeoutMs?: number },
): Promise<BenchEngine> {
  if (!(await clusterAvailable())) throw new ClusterUnavailableError();
  const dir = await Deno.makeTempDir({ prefix: "spiced-bench-cluster-" });
  const started: SpicedServer[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((s) => s.stop().catch(() => {})));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const spicepod = await writeTpchSpicepod(dataDir, opts.tables, dir);
    // A fixed port, chosen free, because the executors need it before the scheduler starts.
    const clusterPort = freePort();
    const insecure = "--allow-insecure-connections";
    const spawnedAt = performance.now();
    const scheduler = await spawnSpiced([
      ...["--role", "scheduler", "--spicepod", spicepod],
      ...["--node-bind-address", `127.0.0.1:${clusterPort}`, insecure],
    ]);
    started.push(scheduler);
    const executors = await Promise.all(Array.from({ length: opts.executors }, () =>
      spawnSpiced([
        ...["--role", "executor", "--spicepod", spicepod],
        ...["--scheduler-address", `http://127.0.0.1:${clusterPort}`],
        ...["--node-bind-address", "127.0.0.1:0", "--node-advertise-address", "127.0.0.1"],
        insecure,
      ]).then((e) => {
        started.push(e);
        return e;
      })));
    const servers = [...started];
    return new HttpEngine(scheduler.url, {
      servers: servers.map((s, k) => ({
        ...s,
        // The last process to stop removes the spicepod directory.
        stop: k === 0 ? stopAll : () => Promise.resolve(),
      })),
      loadSources: executors.map((e) => e.url),
      // Ready once every executor has loaded its data and registered (the
      // scheduler's own /v1/ready needs only one).
      ready: () => executorsReady(scheduler.url, opts.executors),
      readyTimeoutMs: opts.readyTimeoutMs,
      spawnedAt,
      description: `cluster: scheduler (pid ${scheduler.pid}) at ${scheduler.url} and ` +
        `${opts.executors} executor(s) (pids ${executors.map((e) => e.pid).join(", ")}), ` +
        `arrow acceleration, results as Arrow IPC stream`,
    });
  } catch (e) {
    await stopAll();
    throw e;
  }
}
