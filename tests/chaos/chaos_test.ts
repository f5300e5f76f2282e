/**
 * Faults on a real cluster (127.0.0.1, a scheduler and 3 executors, TPC-H
 * scale factor 0.01), every answer compared with the standalone engine:
 *
 * - SIGKILL of a random executor at a random moment of each multi-stage
 *   TPC-H query (the killed one is restarted between queries); then of all
 *   executors at once: a clear error, not a hang;
 * - SIGSTOP of an executor past the heartbeat timeout, then SIGCONT: the
 *   query finishes without it, its stale reports are ignored, it registers
 *   again and takes work;
 * - SIGKILL of the scheduler mid-query: the client gets an error at once,
 *   executors register with the new scheduler, new queries succeed;
 * - a shuffle stream cut mid-way (test-only SPICED_FAULT_DOGET_FAIL_AFTER):
 *   the consumer retries and the answer is right.
 *
 * Bounded for the normal suite; `deno task chaos` runs the full version
 * (SPICED_CHAOS_QUERIES=20). SPICED_CHAOS_SEED picks the random choices; on
 * a failed query SPICED_CHAOS_DUMP=<file> saves the scheduler's log (with
 * SPICED_TRACE=1, every task launch and report).
 */

import assert from "node:assert/strict";
import { TPCH_QUERIES, TPCH_QUERY_ORDERED } from "../../src/connectors/tpch/mod.ts";
import type { Cell } from "../support/compare.ts";
import { canonicalRows } from "../support/compare.ts";
import { startCluster, type TestCluster } from "../support/cluster.ts";
import {
  diffRows,
  getJson,
  httpRows,
  referenceRows,
  spicepodDir,
  standaloneEngine,
  track,
  waitFor,
} from "../support/reliability.ts";
import { type SpicedProcess, sql } from "../support/spiced.ts";

const QUERIES = Number(Deno.env.get("SPICED_CHAOS_QUERIES") ?? 4);
const SEED = Number(Deno.env.get("SPICED_CHAOS_SEED") ?? Date.now() % 100_000);
/** Multi-stage TPC-H queries (joins, aggregations, sorts), 1-based. */
const MULTI_STAGE = [18, 9, 5, 7, 3, 10, 21, 8, 13, 2, 16, 20, 12, 4, 11, 17, 22, 14, 15, 19];
const ENV = {
  SPICED_TRACE: Deno.env.get("SPICED_TRACE") ?? "",
  SPICED_HEARTBEAT_INTERVAL_MS: "300",
  SPICED_HEARTBEAT_TIMEOUT_MS: "2500",
  SPICED_NO_EXECUTOR_TIMEOUT_MS: "8000",
  SPICED_SHUFFLE_IDLE_TIMEOUT_MS: "3000",
};

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The cluster address an executor process serves on (from its start-up line). */
function addressOf(p: SpicedProcess): string {
  for (const l of p.logs) {
    const m = /cluster on (\S+?)(?:,|$| )/.exec(l);
    if (m) return m[1];
  }
  throw new Error("executor address not in its log");
}

/** Waits until the scheduler lists exactly these executors, all ready. */
async function waitForMembers(c: TestCluster, procs: SpicedProcess[], ms = 30_000): Promise<void> {
  const want = new Set(procs.map(addressOf));
  await waitFor(
    async () => {
      const st = await getJson(`${c.scheduler.http}/v1/status`).catch(() => null);
      const ex = (st?.executors ?? []) as { address: string; state: string }[];
      return ex.length === want.size && ex.every((e) => want.has(e.address) && e.state === "ready");
    },
    ms,
    `the scheduler to list exactly ${[...want].join(", ")}`,
  );
}

async function expected(engine: ReturnType<typeof standaloneEngine>, q: number): Promise<Cell[][]> {
  return await referenceRows(engine, TPCH_QUERIES[q - 1]);
}

Deno.test({
  name: `chaos: SIGKILL a random executor during each of ${QUERIES} multi-stage TPC-H queries`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const random = rng(SEED);
    console.log(`chaos seed ${SEED} (set SPICED_CHAOS_SEED to replay)`);
    const dir = await spicepodDir({ sf: 0.01 });
    const cluster = await startCluster({ executors: 3, cwd: dir, env: ENV });
    const local = standaloneEngine(0.01);
    const outcomes: string[] = [];
    try {
      const live = cluster.executors;
      for (let i = 0; i < QUERIES; i++) {
        const q = MULTI_STAGE[i % MULTI_STAGE.length];
        await t.step(`Q${q}`, async () => {
          const want = await expected(local, q);
          const victim = live[Math.floor(random() * live.length)];
          const delay = Math.floor(random() * 400);
          const t0 = performance.now();
          let done = false;
          const answer = httpRows(cluster.scheduler.http, TPCH_QUERIES[q - 1])
            .finally(() => (done = true));
          await sleep(delay);
          const during = !done;
          await victim.stop("SIGKILL");
          const got = canonicalRows(
            await answer.catch((e) => {
              const dump = Deno.env.get("SPICED_CHAOS_DUMP");
              if (dump) Deno.writeTextFileSync(dump, cluster.scheduler.logs.join("\n"));
              const tail = cluster.scheduler.logs.filter((l) => !/ trace |launching a task/.test(l))
                .slice(-40);
              throw new Error(`${(e as Error).message}\nscheduler log:\n${tail.join("\n")}`);
            }),
          );
          const ms = performance.now() - t0;
          const diff = diffRows(got, want, TPCH_QUERY_ORDERED[q - 1]);
          assert.equal(diff, null, `Q${q} differs after the SIGKILL: ${diff}`);
          outcomes.push(
            `Q${q}: executor killed ${during ? "during" : "after"} the query (at ${delay} ms), ` +
              `answer correct in ${ms.toFixed(0)} ms`,
          );
          // Bring the cluster back to three executors for the next query.
          live.splice(live.indexOf(victim), 1);
          await cluster.addExecutor();
          await waitForMembers(cluster, live);
        });
      }

      await t.step("all executors killed mid-query: a clear error, not a hang", async () => {
        const t0 = Date.now();
        const pending = sql(cluster.scheduler.http, TPCH_QUERIES[17]);
        await sleep(100);
        await Promise.all(live.map((p) => p.stop("SIGKILL")));
        const r = await pending;
        const body = await r.json();
        assert.equal(r.status, 503, JSON.stringify(body));
        assert.equal(body.error.code, "EXECUTOR_LOST");
        assert.match(body.error.message, /executors running query \S+ were lost/);
        const ms = Date.now() - t0;
        assert.ok(ms < 20_000, `answered after ${ms} ms`);
        outcomes.push(`all executors killed: ${body.error.code} after ${ms} ms`);
        // Progress is possible again once executors come back.
        live.splice(0, live.length);
        await Promise.all([cluster.addExecutor(), cluster.addExecutor()]);
        await waitForMembers(cluster, live);
        const got = canonicalRows(await httpRows(cluster.scheduler.http, TPCH_QUERIES[2]));
        assert.equal(diffRows(got, await expected(local, 3), true), null);
      });
    } finally {
      console.log(outcomes.join("\n"));
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "chaos: SIGSTOP an executor past the heartbeat timeout, then SIGCONT",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await spicepodDir({ sf: 0.01 });
    const cluster = await startCluster({ executors: 3, cwd: dir, env: ENV });
    const local = standaloneEngine(0.01);
    const stopped = cluster.executors[1];
    let resumed = false;
    try {
      const q = 9;
      const want = await expected(local, q);
      const pending = httpRows(cluster.scheduler.http, TPCH_QUERIES[q - 1]);
      await sleep(60);
      Deno.kill(stopped.child.pid, "SIGSTOP");
      const t0 = Date.now();
      const got = canonicalRows(await pending);
      assert.equal(
        diffRows(got, want, true),
        null,
        "the query is right without the stopped executor",
      );
      // Stay stopped past the heartbeat timeout: the scheduler drops it.
      await waitFor(
        () => cluster.scheduler.logs.some((l) => /lost: missed heartbeats/.test(l)),
        10_000,
        "the scheduler to drop the stopped executor",
      );
      await sleep(Math.max(0, 3500 - (Date.now() - t0)));
      // Queries run on the other two meanwhile.
      const during = canonicalRows(await httpRows(cluster.scheduler.http, TPCH_QUERIES[17]));
      assert.equal(diffRows(during, await expected(local, 18), true), null);
      // Resume it while a query runs: its stale task reports must not touch the new query.
      const next = httpRows(cluster.scheduler.http, TPCH_QUERIES[4]);
      Deno.kill(stopped.child.pid, "SIGCONT");
      resumed = true;
      const after = canonicalRows(await next);
      assert.equal(diffRows(after, await expected(local, 5), true), null);
      await waitFor(
        () => stopped.logs.some((l) => /registering again|registered with scheduler/.test(l)),
        10_000,
        "the resumed executor to register again",
      );
      await waitForMembers(cluster, cluster.executors);
      // It takes work again, and answers stay right.
      const before = await getJson(`${cluster.scheduler.http}/v1/status`);
      const launched = (st: Record<string, unknown>) =>
        (st.executors as { address: string; tasks_launched: number }[])
          .find((e) => e.address === addressOf(stopped))?.tasks_launched ?? 0;
      for (const n of [3, 10, 18]) {
        const rows = canonicalRows(await httpRows(cluster.scheduler.http, TPCH_QUERIES[n - 1]));
        assert.equal(diffRows(rows, await expected(local, n), TPCH_QUERY_ORDERED[n - 1]), null);
      }
      const afterSt = await getJson(`${cluster.scheduler.http}/v1/status`);
      assert.ok(launched(afterSt) > launched(before), "the resumed executor runs tasks again");
    } finally {
      if (!resumed) Deno.kill(stopped.child.pid, "SIGCONT");
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "chaos: the scheduler is killed mid-query and restarted",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await spicepodDir({ sf: 0.01 });
    const cluster = await startCluster({ executors: 3, cwd: dir, env: ENV });
    const local = standaloneEngine(0.01);
    try {
      track(cluster.scheduler);
      const pending = sql(cluster.scheduler.http, TPCH_QUERIES[8]).then(
        async (r) => `answered ${r.status}: ${(await r.text()).slice(0, 100)}`,
        (e) => `error: ${(e as Error).message}`,
      );
      await sleep(100);
      const t0 = Date.now();
      await cluster.scheduler.stop("SIGKILL");
      const outcome = await Promise.race([pending, sleep(5000).then(() => "hang")]);
      assert.match(outcome, /^error: /, `the client got ${outcome}`);
      assert.ok(Date.now() - t0 < 5000);
      await cluster.restartScheduler("SIGKILL");
      await waitForMembers(cluster, cluster.executors);
      for (const q of [18, 3]) {
        const got = canonicalRows(await httpRows(cluster.scheduler.http, TPCH_QUERIES[q - 1]));
        assert.equal(diffRows(got, await expected(local, q), true), null);
      }
      assert.ok(
        cluster.executors.every((e) =>
          e.logs.some((l) => /registering again|cannot reach scheduler/.test(l))
        ),
        "every executor noticed the restart",
      );
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "chaos: a shuffle stream cut mid-way is retried (SPICED_FAULT_DOGET_FAIL_AFTER)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await spicepodDir({ sf: 0.01 });
    const cluster = await startCluster({
      executors: 3,
      cwd: dir,
      env: { ...ENV, SPICED_FAULT_DOGET_FAIL_AFTER: "1" },
    });
    const local = standaloneEngine(0.01);
    try {
      for (const q of [18, 9, 5]) {
        const got = canonicalRows(await httpRows(cluster.scheduler.http, TPCH_QUERIES[q - 1]));
        assert.equal(diffRows(got, await expected(local, q), true), null, `Q${q}`);
      }
      const logs = cluster.executors.flatMap((e) => e.logs);
      assert.ok(logs.some((l) => /injected fault: cutting the DoGet stream/.test(l)));
      const retries = logs.filter((l) =>
        /shuffle fetch of .* failed after \d+ batches: .*retrying/.test(l)
      );
      assert.ok(retries.length >= 1, "a consumer logged the retry");
      // The retry is counted and reported to the scheduler with the heartbeat.
      await waitFor(
        async () => {
          const st = await getJson(`${cluster.scheduler.http}/v1/status`);
          const n = (st.executors as { counters?: { shuffleFetchRetries?: number } }[])
            .reduce((s, e) => s + (e.counters?.shuffleFetchRetries ?? 0), 0);
          return n >= 1;
        },
        5000,
        "the retry counter in the scheduler's view",
      );
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
