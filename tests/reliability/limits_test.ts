/**
 * Limits of a real spiced, each enforced: the per-query timeout (spicepod
 * runtime.query.timeout and the X-Spice-Query-Timeout header) ends a query
 * with TIMEOUT / 504 and its work stops, standalone and on a cluster;
 * runtime.query.max_concurrent admits that many, queues a bounded number
 * (FIFO) and refuses the rest with RESOURCES_EXHAUSTED / 429, over HTTP and
 * Flight SQL alike; runtime.query.max_request_body answers 413.
 */

import assert from "node:assert/strict";
import { FlightSqlClient } from "../../src/cli/spice/flight_client.ts";
import { SpiceError } from "../../src/errors.ts";
import { startCluster } from "../support/cluster.ts";
import { alive, cpuMs, getJson, spicepodDir, track, waitFor } from "../support/reliability.ts";
import { type SpicedProcess, sql, startSpiced } from "../support/spiced.ts";

/** A query that would run for many seconds: the tests cancel it once it served its purpose. */
const HEAVY = "select count(distinct l_comment) as n from big where l_orderkey > 0";
const big = (sf: number) =>
  `  - from: tpch:lineitem\n    name: big\n    params: { scale_factor: ${sf} }\n`;

async function errorOf(r: Response): Promise<{ code: string; message: string }> {
  const body = await r.json();
  assert.ok(body.error, `expected an error body, got ${JSON.stringify(body)}`);
  return body.error;
}

/** Waits until the process burns (almost) no CPU: its queries stopped working. */
async function quiet(p: SpicedProcess, what: string): Promise<void> {
  let last = await cpuMs(p.child.pid);
  await waitFor(
    async () => {
      await new Promise((r) => setTimeout(r, 400));
      const now = await cpuMs(p.child.pid);
      const used = now - last;
      last = now;
      return used < 150; // < ~35% of a core over 400 ms
    },
    8000,
    what,
    0,
  );
}

Deno.test({
  name: "standalone limits: the query timeout, from the spicepod and the header",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await spicepodDir({
      runtime: "  query: { timeout: 1s }",
      extraDatasets: big(1),
    });
    const s = track(await startSpiced([], { cwd: dir }));
    try {
      await s.ready();
      await t.step("spicepod runtime.query.timeout: 504 TIMEOUT and the work stops", async () => {
        const t0 = Date.now();
        const r = await sql(s.http, HEAVY);
        assert.equal(r.status, 504);
        const e = await errorOf(r);
        assert.equal(e.code, "TIMEOUT");
        assert.match(e.message, /query exceeded its timeout of 1000 ms/);
        assert.ok(Date.now() - t0 < 8000, `the timeout fired late: ${Date.now() - t0} ms`);
        await quiet(s, "the timed-out query to stop using CPU");
        const qs = await getJson(`${s.http}/v1/queries`);
        assert.deepEqual(qs.running, []);
        const rec = (qs.recent as { sql: string; state: string; error: { code: string } }[])
          .find((q) => q.sql === HEAVY)!;
        assert.equal(rec.state, "failed");
        assert.equal(rec.error.code, "TIMEOUT");
      });

      await t.step(
        "X-Spice-Query-Timeout header: shorter than the spicepod's, never longer; bad values 400",
        async () => {
          const r = await sql(s.http, HEAVY, { headers: { "X-Spice-Query-Timeout": "300ms" } });
          assert.equal(r.status, 504);
          assert.match((await errorOf(r)).message, /timeout of 300 ms/);
          // The spicepod's timeout is the operator's ceiling: a client cannot raise it.
          const longer = await sql(s.http, HEAVY, { headers: { "X-Spice-Query-Timeout": "60s" } });
          assert.equal(longer.status, 504);
          assert.match((await errorOf(longer)).message, /timeout of 1000 ms/);
          for (const v of ["soon", "0", "0s"]) {
            const bad = await sql(s.http, "select 1", {
              headers: { "X-Spice-Query-Timeout": v },
            });
            assert.equal(bad.status, 400);
            assert.match(
              (await errorOf(bad)).message,
              new RegExp(`invalid query timeout header "${v}"`),
            );
          }
          // A quick query under the timeout is unaffected.
          const ok = await sql(s.http, "select count(*) as n from nation");
          assert.deepEqual(await ok.json(), [{ n: 25 }]);
        },
      );

      await t.step("Flight SQL statements have the same timeout (TIMEOUT)", async () => {
        const client = new FlightSqlClient({ endpoint: s.flight! });
        try {
          const t0 = Date.now();
          const res = await client.query(HEAVY);
          await assert.rejects(
            (async () => {
              for await (const _ of res.batches) { /* drain */ }
            })(),
            (e: unknown) => {
              assert.ok(e instanceof SpiceError);
              assert.equal(e.code, "TIMEOUT");
              assert.match(e.message, /timeout of 1000 ms/);
              return true;
            },
          );
          const ms = Date.now() - t0;
          assert.ok(ms < 10_000, `the timeout fired after ${ms} ms`);
        } finally {
          client.close();
        }
        await quiet(s, "the timed-out Flight statement to stop using CPU");
      });
      assert.ok(alive(s), "the process is alive");
    } finally {
      await s.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "standalone limits: max_concurrent with a queue, max_request_body",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await spicepodDir({
      runtime: "  query: { max_concurrent: 2, max_request_body: 4KiB }",
      extraDatasets: big(1),
    });
    const s = track(
      await startSpiced([], {
        cwd: dir,
        env: { SPICED_QUERY_QUEUE_SIZE: "2", SPICED_QUERY_QUEUE_TIMEOUT_MS: "60000" },
      }),
    );
    try {
      await s.ready();
      const running = async () =>
        (await getJson(`${s.http}/v1/queries`)).running as { id: string; sql: string }[];
      /** Starts `n` HEAVY queries and waits until all are admitted or queued. */
      const occupy = async (n: number) => {
        const before = (await running()).length;
        const responses = Array.from({ length: n }, () => sql(s.http, HEAVY));
        await waitFor(
          async () => (await running()).length >= before + n,
          20_000,
          `${n} admitted or queued queries`,
        );
        return responses;
      };
      /** Cancels the running HEAVY queries (DELETE /v1/queries/{id}); their clients get 499. */
      const cancelAll = async (responses: Promise<Response>[]) => {
        for (const q of await running()) {
          if (q.sql !== HEAVY) continue;
          const r = await fetch(`${s.http}/v1/queries/${q.id}`, { method: "DELETE" });
          await r.body?.cancel();
        }
        for (const r of await Promise.all(responses)) {
          assert.equal(r.status, 499, await r.clone().text());
          assert.equal((await errorOf(r)).code, "CANCELLED");
        }
        await waitFor(
          async () => (await running()).every((q) => q.sql !== HEAVY),
          10_000,
          "the cancelled queries to end",
        );
      };

      await t.step(
        "max_concurrent 2, queue 2: 2 run, 2 wait, the rest get 429",
        async () => {
          const heavy = await occupy(2); // both slots taken for as long as the test wants
          const waiting = Array.from(
            { length: 4 },
            (_, i) =>
              sql(s.http, `select ${i} as i, count(*) as n from nation`).then(async (r) => ({
                status: r.status,
                body: await r.json(),
                at: Date.now(),
              })),
          );
          // Two wait in the queue; the other two are refused at once, with the slots still busy.
          const settled: { status: number; body: { error: { code: string; message: string } } }[] =
            [];
          for (const p of waiting) {
            p.then((r) => settled.push(r));
          }
          await waitFor(() => settled.length >= 2, 20_000, "two refusals");
          assert.equal(settled.length, 2, "only the two beyond the queue answered so far");
          for (const r of settled) {
            assert.equal(r.status, 429);
            assert.equal(r.body.error.code, "RESOURCES_EXHAUSTED");
            assert.match(
              r.body.error.message,
              /too many concurrent queries: 2 running and 2 queued/,
            );
          }
          // Freeing the slots lets the queued two run.
          const freedAt = Date.now();
          await cancelAll(heavy);
          const all = await Promise.all(waiting);
          const ok = all.filter((r) => r.status === 200);
          assert.equal(ok.length, 2, JSON.stringify(all.map((r) => r.status)));
          for (const r of ok) {
            assert.equal(r.body[0].n, 25);
            assert.ok(r.at >= freedAt, "a queued query ran only once a slot was free");
          }
        },
      );

      await t.step("a query that times out while queued gets 504, not a slot", async () => {
        const running = await occupy(2);
        const r = await sql(s.http, "select 1", { headers: { "X-Spice-Query-Timeout": "200ms" } });
        assert.equal(r.status, 504);
        assert.equal((await errorOf(r)).code, "TIMEOUT");
        await cancelAll(running);
      });

      await t.step("Flight SQL statements pass the same gate (RESOURCES_EXHAUSTED)", async () => {
        const http = await occupy(4);
        const client = new FlightSqlClient({ endpoint: s.flight! });
        try {
          const res = await client.query("select 1 as x");
          await assert.rejects(
            (async () => {
              for await (const _ of res.batches) { /* drain */ }
            })(),
            (e: unknown) => {
              assert.ok(e instanceof SpiceError);
              assert.equal(e.code, "RESOURCES_EXHAUSTED");
              assert.match(e.message, /too many concurrent queries/);
              return true;
            },
          );
          await cancelAll(http);
          // With the slots free again (cancelling freed them), Flight SQL answers.
          const again = await client.query("select 1 as x");
          let rows = 0;
          for await (const b of again.batches) rows += b.numRows;
          assert.equal(rows, 1);
        } finally {
          client.close();
        }
      });

      await t.step("max_request_body 4KiB: 413 with a clear message", async () => {
        const big = "select 1 " + " ".repeat(5000);
        const r = await fetch(`${s.http}/v1/sql`, { method: "POST", body: big });
        assert.equal(r.status, 413);
        const e = await errorOf(r);
        assert.match(
          e.message,
          /exceeds the limit of 4096 bytes \(runtime\.query\.max_request_body\)/,
        );
        // Chunked, with no Content-Length: counted while reading.
        const chunks = new ReadableStream<Uint8Array>({
          start(c) {
            for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(" ".repeat(1000)));
            c.close();
          },
        });
        const r2 = await fetch(`${s.http}/v1/sql`, { method: "POST", body: chunks });
        assert.equal(r2.status, 413);
        await r2.body?.cancel();
        // Exactly at the limit is fine.
        const edge = "select 1 as x" + " ".repeat(4096 - 13);
        const r3 = await fetch(`${s.http}/v1/sql`, { method: "POST", body: edge });
        assert.equal(r3.status, 200, await r3.clone().text());
        assert.deepEqual(await r3.json(), [{ x: 1 }]);
      });
      assert.ok(alive(s), "the process is alive");
    } finally {
      await s.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "cluster: a query timeout answers 504 and the executors stop its tasks",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await spicepodDir({ extraDatasets: big(0.2) });
    const cluster = await startCluster({ executors: 2, cwd: dir });
    try {
      const query = "select l_suppkey, count(*) as n from big where l_comment like '%zzz%' " +
        "group by l_suppkey order by n desc limit 3";
      const r = await sql(cluster.scheduler.http, query, {
        headers: { "X-Spice-Query-Timeout": "800ms" },
      });
      assert.equal(r.status, 504);
      const e = await errorOf(r);
      assert.equal(e.code, "TIMEOUT");
      assert.match(e.message, /timeout of 800 ms/);
      // Every executor's tasks of the query end promptly (cancelled, not run to completion).
      await waitFor(
        async () => {
          for (const ex of cluster.executors) {
            const st = await getJson(`${ex.http}/v1/status`);
            if ((st.running_tasks as number) > 0) return false;
          }
          return true;
        },
        5000,
        "the executors to stop the timed-out query's tasks",
      );
      const st = await getJson(`${cluster.scheduler.http}/v1/status`);
      assert.deepEqual(st.running_queries, []);
      // The cluster keeps serving.
      const ok = await sql(cluster.scheduler.http, "select count(*) as n from orders");
      assert.deepEqual(await ok.json(), [{ n: 15000 }]);
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "runtime.query.memory_limit: a query holding more fails with RESOURCES_EXHAUSTED, others run",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    // 4 MiB: lineitem at SF 0.05 is about 300 thousand rows, some 40 MB as Arrow.
    const dir = await spicepodDir({ sf: 0.05, runtime: "  query: { memory_limit: 4MiB }" });
    const heavy = [
      ["a full sort", "select l_comment from lineitem order by l_comment"],
      [
        "a hash join that builds on lineitem (either side)",
        "select count(*) as n from lineitem a join lineitem b " +
        "on a.l_orderkey = b.l_orderkey and a.l_comment < b.l_comment",
      ],
      ["an aggregate with many groups", "select l_comment, count(*) from lineitem group by 1"],
    ];
    const check = async (base: string) => {
      for (const [what, q] of heavy) {
        const r = await sql(base, q);
        assert.equal(r.status, 429, `${what}: ${r.status}`);
        const e = await errorOf(r);
        assert.equal(e.code, "RESOURCES_EXHAUSTED", what);
        assert.match(
          e.message,
          /exceeded its memory limit of 4 MiB \(runtime\.query\.memory_limit\)/,
        );
      }
      // Queries within the bound run, and the node keeps serving.
      const ok = await sql(base, "select count(*) as n, sum(l_quantity) as q from lineitem");
      assert.equal(ok.status, 200);
      assert.equal((await ok.json())[0].n > 0, true);
      const top = await sql(base, "select l_orderkey from lineitem order by l_orderkey limit 3");
      assert.equal(top.status, 200, "a top-k holds only its k rows");
      await top.body?.cancel();
    };
    try {
      await t.step("standalone (worker threads share one budget)", async () => {
        const s = track(await startSpiced([], { cwd: dir }));
        try {
          await s.ready();
          await check(s.http);
          assert.ok(alive(s));
        } finally {
          await s.stop();
        }
      });
      await t.step("cluster (each executor bounds its share)", async () => {
        const cluster = await startCluster({ executors: 2, cwd: dir });
        try {
          await check(cluster.scheduler.http);
        } finally {
          await cluster.stop();
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
