/**
 * The admission gate alone: at most max_concurrent run, the rest wait in
 * FIFO order in a bounded queue for a bounded time, beyond the queue a clear
 * RESOURCES_EXHAUSTED, aborts leave the queue, and close/idle for shutdown.
 */

import assert from "node:assert/strict";
import { Admission } from "../../src/server/admission.ts";
import { httpStatus, SpiceError } from "../../src/errors.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

Deno.test("at most max_concurrent run; the queue is served in FIFO order", async () => {
  const gate = new Admission({ maxConcurrent: 2, maxQueued: 10 });
  const order: number[] = [];
  const releases: (() => void)[] = [];
  const all = Array.from({ length: 5 }, (_, i) =>
    gate.acquire().then((rel) => {
      order.push(i);
      releases.push(rel);
    }));
  await tick();
  assert.deepEqual(order, [0, 1]);
  assert.equal(gate.stats.running, 2);
  assert.equal(gate.stats.queued, 3);
  releases[0]();
  releases[0](); // idempotent: frees one slot only
  await tick();
  assert.deepEqual(order, [0, 1, 2]);
  assert.equal(gate.stats.running, 2);
  releases[1]();
  releases[2]();
  await tick();
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  for (const r of releases) r();
  await Promise.all(all);
  assert.equal(gate.stats.running, 0);
  assert.equal(gate.stats.admitted, 5);
});

Deno.test("beyond the queue: RESOURCES_EXHAUSTED at once (HTTP 429) with a clear message", async () => {
  const gate = new Admission({ maxConcurrent: 1, maxQueued: 1 });
  const first = await gate.acquire();
  const queued = gate.acquire();
  await assert.rejects(gate.acquire(), (e: unknown) => {
    assert.ok(e instanceof SpiceError);
    assert.equal(e.code, "RESOURCES_EXHAUSTED");
    assert.equal(httpStatus(e.code), 429);
    assert.match(e.message, /too many concurrent queries: 1 running and 1 queued/);
    assert.match(e.message, /max_concurrent is 1/);
    return true;
  });
  assert.equal(gate.stats.rejected, 1);
  first();
  (await queued)();
});

Deno.test("a query waits in the queue at most queueTimeoutMs", async () => {
  const gate = new Admission({ maxConcurrent: 1, queueTimeoutMs: 50 });
  const rel = await gate.acquire();
  const t0 = Date.now();
  await assert.rejects(gate.acquire(), /waited 50 ms for one of 1 query slots/);
  assert.ok(Date.now() - t0 >= 45);
  assert.equal(gate.stats.queued, 0);
  assert.equal(gate.stats.timedOut, 1);
  rel();
  (await gate.acquire())();
});

Deno.test("an aborted waiter leaves the queue with its signal's reason", async () => {
  const gate = new Admission({ maxConcurrent: 1 });
  const rel = await gate.acquire();
  const ctrl = new AbortController();
  const waiting = gate.acquire(ctrl.signal);
  await tick();
  assert.equal(gate.stats.queued, 1);
  ctrl.abort(new SpiceError("TIMEOUT", "query exceeded its timeout of 5 ms"));
  await assert.rejects(waiting, /exceeded its timeout/);
  assert.equal(gate.stats.queued, 0);
  rel();
  assert.equal(gate.stats.running, 0);
  // An already aborted signal is refused without queueing.
  await assert.rejects(gate.acquire(AbortSignal.abort(new Error("gone"))), /gone/);
});

Deno.test("without max_concurrent the gate only counts", async () => {
  const gate = new Admission({});
  const rels = await Promise.all(Array.from({ length: 100 }, () => gate.acquire()));
  assert.equal(gate.stats.running, 100);
  assert.equal(gate.stats.maxConcurrent, null);
  for (const r of rels) r();
  assert.equal(gate.stats.running, 0);
});

Deno.test("close refuses queued and new queries with UNAVAILABLE; idle waits for the running", async () => {
  const gate = new Admission({ maxConcurrent: 1 });
  const rel = await gate.acquire();
  const queued = gate.acquire();
  gate.close("shutting down");
  await assert.rejects(queued, (e: unknown) => (e as SpiceError).code === "UNAVAILABLE");
  await assert.rejects(gate.acquire(), /shutting down/);
  assert.equal(await gate.idle(20), false);
  const idle = gate.idle(1000);
  setTimeout(rel, 10);
  assert.equal(await idle, true);
  assert.equal(await gate.idle(0), true);
});
