/**
 * Smoke test of `deno task bench`: a tiny run (SF 0.01, two queries, one
 * repetition) writes a report with every field. No timing is asserted:
 * times on a shared machine say nothing about correctness.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { tpchParquet } from "../support/tpch_data.ts";

const SCRIPT = new URL("../../scripts/bench.ts", import.meta.url).pathname;

Deno.test("bench writes a JSON report with every field", async () => {
  const data = await tpchParquet(0.01);
  const dir = await Deno.makeTempDir({ prefix: "bench-test-" });
  try {
    const out = join(dir, "tpch.json");
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        SCRIPT,
        ...["--sf", "0.01", "--queries", "1,6", "--reps", "1", "--warmup", "0"],
        ...["--data", data, "--out", out],
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(r.stdout);
    const stderr = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, `bench failed:\n${stdout}\n${stderr}`);
    assert.match(stdout, /geometric mean of ratios/);

    const report = JSON.parse(await Deno.readTextFile(out));
    for (
      const key of [
        "benchmark",
        "date",
        "sf",
        "machine",
        "options",
        "engines",
        "load",
        "memory",
        "queries",
        "summary",
      ]
    ) {
      assert.ok(key in report, `report lacks ${key}`);
    }
    assert.equal(report.sf, 0.01);
    assert.equal(typeof report.machine.cores, "number");
    assert.equal(typeof report.machine.deno, "string");
    assert.deepEqual(report.queries.map((q: { query: number }) => q.query), [1, 6]);
    for (const q of report.queries) {
      for (const engine of [q.ours, q.duckdb]) {
        assert.equal(engine.error, null);
        assert.equal(engine.timesMs.length, 1);
        assert.equal(typeof engine.medianMs, "number");
      }
      assert.equal(q.rowsMatch, true, `Q${q.query}: row counts differ`);
      assert.equal(typeof q.ratio, "number");
    }
    assert.equal(report.load.ours.tables.length, 8);
    assert.equal(report.load.duckdb.tables.length, 8);
    assert.equal(typeof report.load.ratio, "number");
    assert.equal(typeof report.summary.geomeanRatio, "number");
    assert.equal(report.summary.maxRatio.query === 1 || report.summary.maxRatio.query === 6, true);
    assert.ok(report.memory.ours.dataBytes > 0);
    assert.ok(report.memory.rss.peakSampledBytes > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
