/**
 * The scheduler's gRPC server: SchedulerService on --node-bind-address,
 * forwarding to the Scheduler state machine.
 *
 * @module
 */

import { clusterServerCredentials } from "./mtls.ts";
import {
  bindServer,
  CHANNEL_OPTIONS,
  type ClusterSecurity,
  grpc,
  handleUnary,
  serviceDefinition,
} from "./grpc.ts";
import type { Scheduler } from "./scheduler.ts";

/** Starts the scheduler's cluster endpoint; resolves with the bound port and a stop function. */
export async function startSchedulerService(
  scheduler: Scheduler,
  address: string,
  security: ClusterSecurity,
  log: (msg: string) => void,
): Promise<{ port: number; stop(): Promise<void> }> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(serviceDefinition("spiced.cluster.SchedulerService"), {
    RegisterExecutor: handleUnary((r: { executor_id: string; address: string; slots: number }) =>
      Promise.resolve(scheduler.register(r.executor_id, r.address, r.slots))
    ),
    Heartbeat: handleUnary((
      r: { executor_id: string; free_slots: number; metrics_json: Uint8Array },
    ) => {
      const known = scheduler.heartbeat(r.executor_id, r.free_slots, r.metrics_json);
      // Accelerated units the executor should drop (no longer its own, or an old generation).
      const drop = known ? scheduler.shardDirectives(r.executor_id) : null;
      return Promise.resolve({
        reregister: !known,
        directives_json: drop
          ? new TextEncoder().encode(JSON.stringify({ drop_units: drop }))
          : new Uint8Array(0),
      });
    }),
    ReportTask: handleUnary((r: Parameters<Scheduler["report"]>[0]) => {
      scheduler.report(r);
      return Promise.resolve({});
    }),
    DeregisterExecutor: handleUnary((r: { executor_id: string }) => {
      scheduler.deregister(r.executor_id);
      return Promise.resolve({});
    }),
  });
  const port = await bindServer(server, address, clusterServerCredentials(server, security, log));
  // Left for the process exit to close (see grpc.ts): a graceful
  // shutdown's GOAWAY frames would crash the executors that receive them.
  return { port, stop: () => Promise.resolve() };
}
