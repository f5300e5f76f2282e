/**
 * The executor's shuffle store: buckets kept as batches in memory up to the
 * budget and spilled to the spill directory as Arrow IPC past it; read back
 * the same either way, as batches (a task on the same executor) or as IPC
 * messages (a peer's DoGet); dropped with their files when the job ends.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { batchToRows, type RecordBatch, recordBatch } from "../../src/arrow/batch.ts";
import { columnFromValues } from "../../src/arrow/column.ts";
import { fromArrowBatch } from "../../src/arrow/interop.ts";
import { decimal, INT64, type Schema, UTF8 } from "../../src/arrow/types.ts";
import { ShuffleStore } from "../../src/distributed/shuffle_store.ts";
import { FlightDataDecoder } from "../../src/server/flight/ipc.ts";

const schema: Schema = {
  fields: [
    { name: "k", type: INT64, nullable: false },
    { name: "s", type: UTF8, nullable: true },
    { name: "d", type: decimal(38, 2), nullable: true },
  ],
};

function batch(from: number, n: number): RecordBatch {
  const ks = Array.from({ length: n }, (_, i) => from + i);
  return recordBatch(schema, [
    columnFromValues(INT64, ks),
    columnFromValues(UTF8, ks.map((k) => (k % 7 === 0 ? null : `row ${k} `.repeat(k % 5)))),
    columnFromValues(decimal(38, 2), ks.map((k) => (k % 11 === 0 ? null : BigInt(k) * 101n))),
  ], n);
}

function rowsOf(batches: readonly RecordBatch[]): unknown[][] {
  return batches.flatMap((b) => batchToRows(b));
}

function decode(messages: readonly { header: Uint8Array; body: Uint8Array }[]): RecordBatch[] {
  const d = new FlightDataDecoder();
  const out: RecordBatch[] = [];
  for (const m of messages) {
    const b = d.push(m.header, m.body);
    if (b) out.push(fromArrowBatch(b, schema));
  }
  return out;
}

Deno.test("within the budget, a bucket stays in memory and reads back the same both ways", async () => {
  const spillDir = await Deno.makeTempDir();
  try {
    const store = new ShuffleStore({ memoryBudget: 64 << 20, spillDir });
    const input = [batch(0, 1000), batch(1000, 500)];
    const bytes = await store.put({ job: "j1", stage: 2, map: 0, bucket: 1 }, schema, input);
    assert.ok(bytes > 0);
    assert.equal(store.inMemoryBytes, bytes);
    const key = { job: "j1", stage: 2, map: 0, bucket: 1 };
    assert.deepEqual(rowsOf(await store.batches(key)), rowsOf(input));
    const messages = await store.read(key);
    assert.deepEqual(rowsOf(decode(messages)), rowsOf(input));
    // The encoded messages are kept for the next peer, and counted.
    assert.equal(await store.read(key), messages);
    assert.ok(store.inMemoryBytes > bytes);
    assert.equal(store.stats.bytesSpilled, 0);
    assert.deepEqual([...Deno.readDirSync(spillDir)], []);
    await assert.rejects(
      () => store.batches({ ...key, bucket: 2 }),
      /shuffle output j1\/2\/0\/2 is not on this executor/,
    );
  } finally {
    await Deno.remove(spillDir, { recursive: true });
  }
});

Deno.test("past the budget, buckets spill to the spill directory and read back the same", async () => {
  const spillDir = await Deno.makeTempDir();
  try {
    const first = [batch(0, 2000)];
    const probe = new ShuffleStore({ memoryBudget: Infinity, spillDir });
    const size = await probe.put({ job: "x", stage: 1, map: 0, bucket: 0 }, schema, first);
    // Room for one bucket: the second one spills.
    const store = new ShuffleStore({ memoryBudget: Math.ceil(size * 1.5), spillDir });
    const a = { job: "j2", stage: 3, map: 1, bucket: 0 };
    const b = { job: "j2", stage: 3, map: 1, bucket: 1 };
    const second = [batch(5000, 1500), batch(9000, 700)];
    await store.put(a, schema, first);
    await store.put(b, schema, second);
    assert.equal(store.inMemoryBytes, size, "only the first bucket is held in memory");
    assert.ok(store.stats.bytesSpilled > 0);
    const files = [...Deno.readDirSync(join(spillDir, "j2"))].map((e) => e.name);
    assert.deepEqual(files, ["3-1-1.arrows"]);
    assert.deepEqual(rowsOf(await store.batches(b)), rowsOf(second));
    assert.deepEqual(rowsOf(decode(await store.read(b))), rowsOf(second));
    assert.deepEqual(rowsOf(await store.batches(a)), rowsOf(first));
    assert.deepEqual(store.jobs(), ["j2"]);
    // The job's end drops its buckets and its spill files.
    await store.removeJob("j2");
    assert.equal(store.inMemoryBytes, 0);
    assert.deepEqual(store.jobs(), []);
    assert.throws(() => Deno.statSync(join(spillDir, "j2")), Deno.errors.NotFound);
    await assert.rejects(() => store.read(b), /not on this executor/);
  } finally {
    await Deno.remove(spillDir, { recursive: true });
  }
});
