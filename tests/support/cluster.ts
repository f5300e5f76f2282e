/**
 * A real cluster for tests: a scheduler and N executor processes on
 * 127.0.0.1, insecure (plaintext) unless certificates are given, with short
 * heartbeat timeouts so that failure tests run in seconds.
 *
 * @module
 */

import { type SpicedProcess, startSpiced } from "./spiced.ts";

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Options of a test cluster. */
export interface ClusterOptions {
  readonly executors: number;
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Extra flags for every node (e.g. mTLS files); default: --allow-insecure-connections. */
  readonly securityArgs?: string[];
  /** The scheduler address scheme executors use (default http). */
  readonly scheme?: "http" | "https";
  readonly executorSlots?: number;
  /** The host executors advertise (default 127.0.0.1; mTLS needs the certificate's name). */
  readonly advertise?: string;
}

/** A running cluster. */
export interface TestCluster {
  scheduler: SpicedProcess;
  readonly executors: SpicedProcess[];
  readonly clusterPort: number;
  /** Starts one more executor. */
  addExecutor(): Promise<SpicedProcess>;
  /** Restarts the scheduler on the same ports. */
  restartScheduler(signal?: Deno.Signal): Promise<void>;
  /** Waits until the scheduler reports `n` executors registered (bounded). */
  waitForExecutors(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a scheduler and executors. */
export async function startCluster(opts: ClusterOptions): Promise<TestCluster> {
  const clusterPort = freePort();
  const security = opts.securityArgs ?? ["--allow-insecure-connections"];
  const env = {
    SPICED_HEARTBEAT_INTERVAL_MS: "300",
    SPICED_HEARTBEAT_TIMEOUT_MS: "2500",
    SPICED_NO_EXECUTOR_TIMEOUT_MS: "8000",
    ...(opts.env ?? {}),
  };
  const httpPort = freePort();
  const schedulerArgs = [
    "--role",
    "scheduler",
    "--node-bind-address",
    `127.0.0.1:${clusterPort}`,
    "--http",
    `127.0.0.1:${httpPort}`,
    ...security,
  ];
  const started: SpicedProcess[] = [];
  const execArgs = () => [
    "--role",
    "executor",
    "--scheduler-address",
    `${opts.scheme ?? "http"}://${
      opts.scheme === "https" ? "localhost" : "127.0.0.1"
    }:${clusterPort}`,
    "--node-bind-address",
    "127.0.0.1:0",
    "--node-advertise-address",
    opts.advertise ?? "127.0.0.1",
    ...(opts.executorSlots ? ["--executor-slots", String(opts.executorSlots)] : []),
    ...security,
  ];
  try {
    const scheduler = await startSpiced(schedulerArgs, { cwd: opts.cwd, env });
    started.push(scheduler);
    const executors = await Promise.all(
      Array.from({ length: opts.executors }, () => startSpiced(execArgs(), { cwd: opts.cwd, env })),
    );
    started.push(...executors);
    const cluster: TestCluster = {
      scheduler,
      executors,
      clusterPort,
      async addExecutor() {
        const e = await startSpiced(execArgs(), { cwd: opts.cwd, env });
        executors.push(e);
        return e;
      },
      async restartScheduler(signal: Deno.Signal = "SIGKILL") {
        await cluster.scheduler.stop(signal);
        cluster.scheduler = await startSpiced(schedulerArgs, { cwd: opts.cwd, env });
      },
      async waitForExecutors(n: number, timeoutMs = 30_000) {
        const end = Date.now() + timeoutMs;
        while (Date.now() < end) {
          const r = await fetch(`${cluster.scheduler.http}/v1/status`).catch(() => null);
          if (r?.ok) {
            const st = await r.json();
            if (
              (st.executors ?? []).filter((e: { state: string }) => e.state === "ready").length >= n
            ) return;
          } else await r?.body?.cancel();
          await new Promise((res) => setTimeout(res, 100));
        }
        throw new Error(`scheduler did not see ${n} ready executors in ${timeoutMs} ms`);
      },
      async stop() {
        await Promise.all([cluster.scheduler, ...executors].map((p) => p.stop().catch(() => {})));
      },
    };
    await cluster.waitForExecutors(opts.executors);
    return cluster;
  } catch (e) {
    await Promise.all(started.map((p) => p.stop().catch(() => {})));
    throw e;
  }
}
