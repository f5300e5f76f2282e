/**
 * The dashboard end to end: headless Chromium (Debian `chromium`, installed
 * here when missing) driven by playwright-core opens the scheduler's `GET /`
 * of a real 2-executor cluster; both executors, a running query with its
 * stage progress, the finished query and the task distribution chart appear
 * as the page refreshes itself. A screenshot is saved to a temporary
 * directory (its path is printed).
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, findChromium } from "../support/chromium.ts";
import { startCluster } from "../support/cluster.ts";
import { sql } from "../support/spiced.ts";

const JOIN = "SELECT o_orderpriority, COUNT(*) AS n FROM orders JOIN lineitem " +
  "ON l_orderkey = o_orderkey GROUP BY 1 ORDER BY 1";
/** Long enough (a nested-loop join) for the page to see it running. */
const SLOW = "SELECT COUNT(*) AS n FROM orders a JOIN orders b " +
  "ON a.o_totalprice < b.o_totalprice * 0.5 WHERE a.o_orderkey % 40 = 0";

async function spicepodDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "spiced-dashboard-pod-" });
  const datasets = ["lineitem", "orders"].map((t) =>
    `  - from: tpch:${t}\n    name: ${t}\n    params: { scale_factor: 0.01 }\n` +
    `    acceleration: { enabled: true, engine: arrow }\n`
  ).join("");
  await Deno.writeTextFile(
    `${dir}/spicepod.yaml`,
    `version: v1\nkind: Spicepod\nname: dashboard\ndatasets:\n${datasets}`,
  );
  return dir;
}

Deno.test({
  name: "dashboard: executors, running and finished queries, task chart in headless Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const found = await findChromium();
    if ("skip" in found) {
      console.log(`SKIPPED dashboard test: ${found.skip}`);
      return;
    }
    const dir = await spicepodDir();
    const profile = await Deno.makeTempDir({ prefix: "spiced-chromium-profile-" });
    const shots = await Deno.makeTempDir({ prefix: "spiced-dashboard-" });
    const cluster = await startCluster({ executors: 2, cwd: dir, executorSlots: 2 });
    // launchPersistentContext gives Chromium this fresh --user-data-dir.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: found.path,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
    try {
      const base = cluster.scheduler.http;
      const st = await (await fetch(`${base}/v1/status`)).json();
      const ids = (st.executors as { id: string }[]).map((e) => e.id);
      assert.equal(ids.length, 2);

      const page = browser.pages()[0] ?? await browser.newPage();
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`console error: ${m.text()}`);
      });
      const res = await page.goto(`${base}/?refresh=250`);
      assert.equal(res?.status(), 200);
      assert.match(res?.headers()["content-type"] ?? "", /^text\/html/);

      // Both executors, with their slots.
      for (const id of ids) {
        const row = page.locator(`#executors tr[data-executor-id="${id}"]`);
        await row.waitFor({ timeout: 15_000 });
        const text = await row.innerText();
        assert.match(text, /ready/);
        assert.match(text, /0 \/ 2|1 \/ 2|2 \/ 2/);
        assert.match(text, /ms ago|s ago/);
      }
      assert.equal(await page.locator("#role").innerText(), "scheduler");
      assert.equal(await page.locator("#insecure").isVisible(), true);

      // A running query with its stage progress (the page polls every 250 ms).
      const slow = sql(base, SLOW);
      const running = page.locator(`#running tr[data-state="running"]`).filter({
        hasText: "o_totalprice",
      });
      let sawRunning = true;
      try {
        await running.first().locator(".stage").first().waitFor({ timeout: 20_000 });
      } catch {
        sawRunning = false;
      }
      const slowRes = await slow;
      const slowBody = await slowRes.text();
      assert.equal(slowRes.status, 200, slowBody);
      assert.ok(sawRunning, "the slow query appeared among the running ones with its stages");

      // The finished query, with its stages and tasks per executor.
      const r = await sql(base, JOIN);
      assert.equal(r.status, 200);
      const id = r.headers.get("x-spice-query-id")!;
      assert.equal((await r.json()).length, 5);
      const done = page.locator(`#recent tr[data-query-id="${id}"][data-state="finished"]`);
      await done.waitFor({ timeout: 15_000 });
      const text = await done.innerText();
      assert.match(text, /o_orderpriority/);
      assert.match(text, /\d+ stages · \d+ tasks/);
      for (const e of ids) assert.ok(text.includes(e), `tasks of ${e} shown for the query`);

      // The chart: a bar per executor with the tasks distributed to it.
      const bars = page.locator("#distribution-chart g[data-executor-id]");
      assert.equal(await bars.count(), 2);
      for (const e of ids) {
        const tasks = Number(
          await page.locator(`#distribution-chart g[data-executor-id="${e}"]`).getAttribute(
            "data-tasks",
          ),
        );
        assert.ok(tasks > 0, `the chart shows tasks on ${e}`);
      }
      assert.equal(await page.locator("#error").isVisible(), false);

      const shot = `${shots}/dashboard.png`;
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok((await Deno.stat(shot)).size > 1000);
      console.log(`dashboard screenshot: ${shot}`);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close().catch(() => {});
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
