/**
 * The HTTP API of a real spiced process serving the built-in sample spicepod:
 * readiness, every response format, parameters, errors (and that the server
 * keeps serving after them), datasets and status.
 */

import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { type SpicedProcess, sql, startSpiced } from "../support/spiced.ts";
import { tpchRowCount } from "../../src/connectors/tpch/mod.ts";

let server: SpicedProcess | null = null;
let dir = "";

async function spiced(): Promise<SpicedProcess> {
  if (!server) {
    dir = await Deno.makeTempDir();
    server = await startSpiced([], { cwd: dir });
    await server.ready();
  }
  return server;
}

Deno.test({
  name: "HTTP API",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s = await spiced();
    try {
      await t.step("health and readiness", async () => {
        const h = await fetch(`${s.http}/health`);
        assert.equal(h.status, 200);
        assert.equal(await h.text(), "ok");
        const r = await fetch(`${s.http}/v1/ready`);
        assert.equal(r.status, 200);
        await r.body?.cancel();
      });

      await t.step("the README's curl query answers the right count", async () => {
        const r = await sql(s.http, "SELECT COUNT(*) FROM lineitem", { json: true });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get("content-type"), "application/json");
        const rows = await r.json();
        assert.equal(rows.length, 1);
        assert.equal(Object.values(rows[0])[0], tpchRowCount("lineitem", 0.01));
      });

      const q =
        "select n_nationkey, n_name, cast(n_regionkey as decimal(10,2)) as r from nation where n_nationkey < 3 order by 1";
      await t.step("JSON rows by default", async () => {
        const rows = await (await sql(s.http, q)).json();
        assert.deepEqual(rows, [
          { n_nationkey: 0, n_name: "ALGERIA", r: 0 },
          { n_nationkey: 1, n_name: "ARGENTINA", r: 1 },
          { n_nationkey: 2, n_name: "BRAZIL", r: 1 },
        ]);
      });

      await t.step("Spice's schema+data JSON", async () => {
        const r = await sql(s.http, q, { accept: "application/vnd.spiceai.sql.v1+json" });
        assert.equal(r.headers.get("content-type"), "application/vnd.spiceai.sql.v1+json");
        const body = await r.json();
        assert.deepEqual(body.schema.fields.map((f: { name: string }) => f.name), [
          "n_nationkey",
          "n_name",
          "r",
        ]);
        assert.equal(body.schema.fields[2].data_type, "DECIMAL(10,2)");
        assert.equal(body.data.length, 3);
        assert.equal(body.row_count, 3);
      });

      await t.step("CSV", async () => {
        const r = await sql(s.http, q, { accept: "text/csv" });
        assert.match(r.headers.get("content-type")!, /^text\/csv/);
        assert.equal(
          await r.text(),
          "n_nationkey,n_name,r\r\n0,ALGERIA,0.00\r\n1,ARGENTINA,1.00\r\n2,BRAZIL,1.00\r\n",
        );
      });

      await t.step("aligned text table", async () => {
        const text = await (await sql(s.http, q, { accept: "text/plain" })).text();
        const lines = text.trim().split("\n");
        assert.match(lines[1], /^\| n_nationkey \| n_name +\| r +\|$/);
        assert.match(lines[3], /^\| +0 \| ALGERIA +\| 0\.00 \|$/);
        assert.equal(lines.at(-1), "(3 rows)");
      });

      await t.step("Arrow IPC stream", async () => {
        const r = await sql(
          s.http,
          "select l_orderkey, l_shipdate from lineitem where l_orderkey <= 7 order by 1, 2",
          {
            accept: "application/vnd.apache.arrow.stream",
          },
        );
        assert.equal(r.headers.get("content-type"), "application/vnd.apache.arrow.stream");
        const table = arrow.tableFromIPC(new Uint8Array(await r.arrayBuffer()));
        assert.deepEqual(table.schema.fields.map((f) => f.name), ["l_orderkey", "l_shipdate"]);
        assert.ok(table.numRows > 5);
        assert.equal(String(table.schema.fields[1].type), "Date32<DAY>");
      });

      await t.step("positional and named parameters are bound, never spliced", async () => {
        const a = await (await sql(s.http, "select n_name from nation where n_nationkey = $1", {
          params: [7],
        })).json();
        assert.deepEqual(a, [{ n_name: "GERMANY" }]);
        const b =
          await (await sql(s.http, "select count(*) as c from nation where n_name = :name", {
            params: { name: "x' or '1'='1" },
          })).json();
        assert.deepEqual(b, [{ c: 0 }]);
        const c = await sql(s.http, "select $1 + 1", { params: [] });
        assert.equal(c.status, 400);
        assert.match((await c.json()).error.message, /parameter \$1/);
      });

      await t.step("malformed SQL: 400 with the parser's line and column", async () => {
        const r = await sql(s.http, "select *\nfrom nation\nwher n_name = 'x'");
        assert.equal(r.status, 400);
        const e = (await r.json()).error;
        assert.equal(e.code, "SQL_PARSE");
        assert.equal(e.line, 3);
        assert.match(e.message, /line 3, column \d+/);
      });

      await t.step("unknown table: 400 naming it and the tables that exist", async () => {
        const r = await sql(s.http, "select * from lineitems");
        assert.equal(r.status, 400);
        const e = (await r.json()).error;
        assert.equal(e.code, "TABLE_NOT_FOUND");
        assert.match(e.message, /"lineitems"/);
        assert.match(e.message, /lineitem, nation/);
      });

      await t.step("unknown column, type error, data error", async () => {
        const a = await sql(s.http, "select nope from nation");
        assert.equal(a.status, 400);
        assert.match((await a.json()).error.message, /column "nope" not found/);
        const b = await sql(s.http, "select n_name + 1 from nation");
        assert.equal(b.status, 400);
        assert.equal((await b.json()).error.code, "TYPE");
        // A value that does not convert is the statement's fault: 400, as DuckDB's Conversion Error.
        const c = await sql(s.http, "select cast(n_name as integer) from nation");
        assert.equal(c.status, 400);
        const ce = (await c.json()).error;
        assert.equal(ce.code, "DATA");
        assert.match(ce.message, /could not convert string 'ALGERIA'/);
        const d = await sql(s.http, "select 1 + 'a'");
        assert.equal(d.status, 400);
        assert.match((await d.json()).error.message, /could not convert string 'a'/);
      });

      await t.step("wrong method, content type and body", async () => {
        const a = await fetch(`${s.http}/v1/sql`);
        assert.equal(a.status, 405);
        assert.equal(a.headers.get("allow"), "POST");
        await a.body?.cancel();
        const b = await fetch(`${s.http}/v1/sql`, {
          method: "POST",
          headers: { "content-type": "application/xml" },
          body: "<a/>",
        });
        assert.equal(b.status, 415);
        await b.body?.cancel();
        const c = await fetch(`${s.http}/v1/sql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{",
        });
        assert.equal(c.status, 400);
        assert.match((await c.json()).error.message, /invalid JSON/);
        const d = await sql(s.http, "");
        assert.equal(d.status, 400);
        await d.body?.cancel();
        const e = await sql(s.http, "select 1", { accept: "image/png" });
        assert.equal(e.status, 406);
        await e.body?.cancel();
      });

      await t.step("still serving after every error", async () => {
        const rows = await (await sql(s.http, "select count(*) as n from region")).json();
        assert.deepEqual(rows, [{ n: 5 }]);
      });

      await t.step("/v1/datasets lists the sample datasets with their rows", async () => {
        const ds = await (await fetch(`${s.http}/v1/datasets`)).json();
        assert.equal(ds.length, 8);
        const li = ds.find((d: { name: string }) => d.name === "lineitem");
        assert.equal(li.from, "tpch:lineitem");
        assert.equal(li.status, "ready");
        assert.equal(li.rows, tpchRowCount("lineitem", 0.01));
        assert.deepEqual(li.acceleration, {
          enabled: true,
          engine: "arrow",
          refresh_check_interval_ms: null,
        });
      });

      await t.step("/v1/status: role, version, uptime, endpoints", async () => {
        const st = await (await fetch(`${s.http}/v1/status`)).json();
        assert.equal(st.role, "standalone");
        assert.match(st.version, /^\d+\.\d+\.\d+/);
        assert.equal(typeof st.uptime_seconds, "number");
        assert.equal(`http://${st.endpoints.http}`, s.http);
        assert.ok(st.endpoints.metrics);
      });

      await t.step("EXPLAIN returns logical and physical plans as trees", async () => {
        const rows =
          await (await sql(s.http, "explain select count(*) from lineitem where l_quantity > 10"))
            .json();
        assert.deepEqual(rows.map((r: { plan_type: string }) => r.plan_type), [
          "logical_plan",
          "physical_plan",
        ]);
        assert.match(rows[0].plan, /Aggregate:.*\n\s+Filter:.*\n\s+TableScan: lineitem/);
        assert.match(rows[1].plan, /AggregateExec: mode=final[\s\S]*ScanExec: lineitem/);
      });

      await t.step("Prometheus metrics count the queries", async () => {
        const text = await (await fetch(`${s.metrics}/metrics`)).text();
        assert.match(text, /spiced_queries_total\{status="finished",protocol="http"[^}]*\} \d+/);
        assert.match(text, /spiced_queries_total\{status="failed"/);
      });
    } finally {
      await s.stop();
      server = null;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
