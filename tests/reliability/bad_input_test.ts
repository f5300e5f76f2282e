/**
 * Malformed input against a real standalone spiced: SQL (garbage,
 * unterminated literals, deep nesting, huge IN lists, unsupported
 * statements, type errors) and HTTP (methods, content types, JSON, empty,
 * oversized and non-UTF-8 bodies, Accept, paths, raw garbage on the socket).
 * Each gets a clear JSON error with a stable code and the status its code
 * maps to; after each batch the process is alive and answers a valid query
 * correctly.
 */

import assert from "node:assert/strict";
import { alive, spicepodDir, track } from "../support/reliability.ts";
import { type SpicedProcess, sql, startSpiced } from "../support/spiced.ts";

/** One malformed request and what must come back. */
interface Case {
  readonly name: string;
  readonly send: (base: string) => Promise<Response>;
  /** The HTTP status expected. */
  readonly status: number;
  /** The error code expected (when the status is an error); a regexp for the message. */
  readonly code?: string;
  readonly message?: RegExp;
}

const post = (body: BodyInit, headers: Record<string, string> = {}) => (base: string) =>
  fetch(`${base}/v1/sql`, { method: "POST", body, headers });
const json = (body: string) => post(body, { "content-type": "application/json" });
const q = (text: string) => (base: string) => sql(base, text);

/** A deterministic pseudo-random generator (so failures reproduce). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomText(seed: number, n: number): string {
  const r = rng(seed);
  const alphabet = "selectfromwhere()*,;'\"-+/<>=!@#$%^&{}[]|\\ \n\t0123456789abcXYZ";
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

const sqlCases: Case[] = [
  // garbage
  { name: "punctuation", send: q("!!!"), status: 400, code: "SQL_PARSE" },
  { name: "NUL bytes", send: q("\u0000\u0001select"), status: 400, code: "SQL_PARSE" },
  { name: "misspelt keyword", send: q("selec 1"), status: 400, code: "SQL_PARSE" },
  { name: "select from nothing", send: q("select from"), status: 400, code: "SQL_PARSE" },
  {
    name: "misspelt FROM",
    send: q("select * fro nation"),
    status: 400,
    code: "SQL_PARSE",
    message: /line 1, column/,
  },
  { name: "dangling operator", send: q("select 1 +"), status: 400, code: "SQL_PARSE" },
  { name: "unbalanced (", send: q("select (1"), status: 400, code: "SQL_PARSE" },
  { name: "unbalanced )", send: q("select 1)"), status: 400, code: "SQL_PARSE" },
  { name: "dangling OR", send: q("select * from nation where n_name = 'x' or"), status: 400 },
  { name: "bare WITH", send: q("with"), status: 400, code: "SQL_PARSE" },
  // sqlparser-rs falls back to reading `case` as a column name: a clear 400, if an odd message.
  { name: "bare CASE", send: q("select case"), status: 400 },
  { name: "CAST without type", send: q("select cast(1 as)"), status: 400, code: "SQL_PARSE" },
  { name: "two statements", send: q("select 1; select 2"), status: 400, message: /one statement/ },
  { name: "empty statement", send: q(""), status: 400, code: "SQL_PARSE", message: /empty/ },
  { name: "blank statement", send: q("  \n\t "), status: 400, code: "SQL_PARSE" },
  { name: "only a comment", send: q("-- nothing here"), status: 400, code: "SQL_PARSE" },
  { name: "emoji", send: q("select 💥 from 🚀"), status: 400, code: "SQL_PARSE" },
  { name: "random text 1", send: q(randomText(1, 2000)), status: 400 },
  { name: "random text 2", send: q(randomText(2, 2000)), status: 400 },
  { name: "random text 3", send: q(randomText(3, 5000)), status: 400 },
  // unterminated
  {
    name: "unterminated string",
    send: q("select 'abc"),
    status: 400,
    code: "SQL_PARSE",
    message: /Unterminated string/,
  },
  { name: "unterminated identifier", send: q('select "abc'), status: 400, code: "SQL_PARSE" },
  { name: "unterminated comment", send: q("select 1 /* no end"), status: 400, code: "SQL_PARSE" },
  { name: "unterminated dollar string", send: q("select $$x"), status: 400 },
  // deep nesting and size
  {
    name: "5000 nested parentheses",
    send: q("select " + "(".repeat(5000) + "1" + ")".repeat(5000)),
    status: 400,
    code: "SQL_PARSE",
    message: /recursion limit/,
  },
  {
    name: "100000 nested parentheses",
    send: q("select " + "(".repeat(100_000) + "1" + ")".repeat(100_000)),
    status: 400,
    code: "SQL_PARSE",
  },
  {
    name: "5000 nested function calls",
    send: q("select " + "abs(".repeat(5000) + "1" + ")".repeat(5000)),
    status: 400,
    code: "SQL_PARSE",
  },
  {
    name: "60 nested subqueries",
    send: q("select * from " + "(select * from ".repeat(60) + "nation" + ") t".repeat(60)),
    status: 400,
    code: "SQL_PARSE",
  },
  {
    // A WASM stack overflow inside the parser: the instance is replaced, later queries parse.
    name: "a chain of 2000 additions",
    send: q("select " + Array(2000).fill("1").join("+")),
    status: 400,
    code: "SQL_PARSE",
    message: /too deeply nested or too long/,
  },
  {
    name: "a chain of 5000 ANDs",
    send: q(
      "select count(*) from nation where " + Array(5000).fill("n_nationkey >= 0").join(" and "),
    ),
    status: 400,
    code: "SQL_PARSE",
  },
  {
    name: "a chain of 3000 string concatenations",
    send: q("select " + Array(3000).fill("'a'").join(" || ")),
    status: 400,
    code: "SQL_PARSE",
  },
  {
    // Parses, then overflows the JavaScript stack while binding: a clear error, not a crash.
    name: "5000 UNION ALL branches",
    send: q(Array(5000).fill("select 1 as x").join(" union all ")),
    status: 400,
    code: "NOT_SUPPORTED",
    message: /too deeply nested/,
  },
  { name: "5000 NOTs", send: q("select " + "not ".repeat(5000) + "true"), status: 400 },
  {
    name: "a 100k-character identifier",
    send: q(`select ${"x".repeat(100_000)} from nation`),
    status: 400,
    code: "COLUMN_NOT_FOUND",
  },
  // unsupported
  { name: "INSERT", send: q("insert into nation values (1)"), status: 400, code: "NOT_SUPPORTED" },
  { name: "UPDATE", send: q("update nation set n_name = 'x'"), status: 400 },
  { name: "DELETE", send: q("delete from nation"), status: 400 },
  { name: "CREATE TABLE", send: q("create table t (a int)"), status: 400, code: "NOT_SUPPORTED" },
  { name: "DROP TABLE", send: q("drop table nation"), status: 400 },
  {
    name: "WITH RECURSIVE",
    send: q("with recursive t(n) as (select 1 union all select n+1 from t) select * from t"),
    status: 400,
    code: "NOT_SUPPORTED",
  },
  { name: "LATERAL", send: q("select * from nation, lateral (select 1)"), status: 400 },
  { name: "SET", send: q("set x = 1"), status: 400 },
  { name: "BEGIN", send: q("begin"), status: 400 },
  { name: "COPY", send: q("copy nation to 'x.csv'"), status: 400 },
  // binding and type errors
  { name: "unknown table", send: q("select * from nosuch"), status: 400, code: "TABLE_NOT_FOUND" },
  {
    name: "unknown column",
    send: q("select nosuch from nation"),
    status: 400,
    code: "COLUMN_NOT_FOUND",
  },
  { name: "unknown function", send: q("select nosuch(1)"), status: 400, code: "PLAN" },
  {
    name: "VARCHAR + INTEGER",
    send: q("select n_name + 1 from nation"),
    status: 400,
    code: "TYPE",
  },
  { name: "SUM of text", send: q("select sum(n_name) from nation"), status: 400 },
  { name: "bad DATE literal", send: q("select date '2020-13-45'"), status: 400 },
  { name: "CAST('abc' AS DATE)", send: q("select cast('abc' as date)"), status: 400, code: "TYPE" },
  {
    name: "ungrouped column",
    send: q("select n_name, count(*) from nation"),
    status: 400,
    code: "PLAN",
  },
  { name: "ORDER BY 99", send: q("select n_name from nation order by 99"), status: 400 },
  { name: "LIMIT -1", send: q("select n_name from nation limit -1"), status: 400, code: "PLAN" },
  { name: "LIMIT 'a'", send: q("select n_name from nation limit 'a'"), status: 400 },
  {
    name: "integer beyond 2^53",
    send: q("select 9223372036854775807 + 1"),
    status: 400,
    code: "NOT_SUPPORTED",
  },
  {
    name: "missing parameter",
    send: q("select $1"),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /missing value for parameter \$1/,
  },
  { name: "abs() without arguments", send: q("select abs()"), status: 400 },
  { name: "JOIN ... ON nothing", send: q("select * from nation join region on"), status: 400 },
];

const ELEVEN_MIB = new Uint8Array(11 * 1024 * 1024).fill(0x20);

const httpCases: Case[] = [
  // methods
  { name: "GET /v1/sql", send: (b) => fetch(`${b}/v1/sql`), status: 405 },
  {
    name: "PUT /v1/sql",
    send: (b) => fetch(`${b}/v1/sql`, { method: "PUT", body: "select 1" }),
    status: 405,
  },
  { name: "DELETE /v1/sql", send: (b) => fetch(`${b}/v1/sql`, { method: "DELETE" }), status: 405 },
  {
    name: "PATCH /v1/sql",
    send: (b) => fetch(`${b}/v1/sql`, { method: "PATCH", body: "x" }),
    status: 405,
  },
  { name: "POST /health", send: (b) => fetch(`${b}/health`, { method: "POST" }), status: 405 },
  {
    name: "POST /v1/datasets",
    send: (b) => fetch(`${b}/v1/datasets`, { method: "POST" }),
    status: 405,
  },
  {
    name: "DELETE /v1/status",
    send: (b) => fetch(`${b}/v1/status`, { method: "DELETE" }),
    status: 405,
  },
  {
    name: "GET on a refresh endpoint",
    send: (b) => fetch(`${b}/v1/datasets/nation/acceleration/refresh`),
    status: 405,
  },
  // content types
  {
    name: "application/xml body",
    send: post("<sql>select 1</sql>", { "content-type": "application/xml" }),
    status: 415,
    message: /unsupported Content-Type application\/xml/,
  },
  { name: "image/png body", send: post("select 1", { "content-type": "image/png" }), status: 415 },
  {
    name: "multipart body",
    send: post("--x\r\n\r\nselect 1\r\n--x--", {
      "content-type": "multipart/form-data; boundary=x",
    }),
    status: 415,
  },
  // JSON
  {
    name: "truncated JSON",
    send: json('{"sql": "select 1"'),
    status: 400,
    message: /invalid JSON/,
  },
  { name: "JSON sql not a string", send: json('{"sql": 1}'), status: 400, message: /"sql" string/ },
  { name: "JSON array", send: json("[]"), status: 400, message: /must be an object/ },
  { name: "JSON null", send: json("null"), status: 400 },
  { name: "JSON string", send: json('"select 1"'), status: 400 },
  { name: "JSON without sql", send: json('{"query": "select 1"}'), status: 400 },
  {
    name: "parameters a number",
    send: json('{"sql": "select 1", "parameters": 5}'),
    status: 400,
    message: /"parameters" must be/,
  },
  {
    name: "parameter an object",
    send: json('{"sql": "select $1", "parameters": [{"a": 1}]}'),
    status: 400,
    message: /parameter values/,
  },
  {
    name: "parameter an array",
    send: json('{"sql": "select $1", "parameters": [[1]]}'),
    status: 400,
  },
  {
    // Valid JSON (V8 parses deep nesting without recursion): the extra field is ignored.
    name: "JSON nested 100000 deep",
    send: json('{"sql": "select 1", "x": ' + "[".repeat(100_000) + "]".repeat(100_000) + "}"),
    status: 200,
  },
  // The UTF-8 decoder drops a leading byte-order mark.
  { name: "JSON with a BOM", send: json('\uFEFF{"sql": "select 1"}'), status: 200 },
  {
    name: "JSON with duplicate keys (the last wins)",
    send: json('{"sql": "select nosuch", "sql": "select 1"}'),
    status: 200,
  },
  {
    name: "named parameter missing",
    send: json('{"sql": "select :p", "parameters": {"q": 1}}'),
    status: 400,
  },
  // empty, oversized, invalid UTF-8
  { name: "empty text body", send: post(""), status: 400, message: /empty SQL statement/ },
  { name: "empty JSON body", send: json(""), status: 400, message: /invalid JSON/ },
  {
    name: "11 MiB body (default limit 10 MiB)",
    send: post(ELEVEN_MIB),
    status: 413,
    message: /exceeds the limit of 10485760 bytes/,
  },
  {
    name: "invalid UTF-8",
    send: post(new Uint8Array([0x73, 0x65, 0x6c, 0xff, 0xfe, 0x20, 0x31])),
    status: 400,
    message: /not valid UTF-8/,
  },
  {
    name: "invalid UTF-8 in JSON",
    send: (b) =>
      fetch(`${b}/v1/sql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
      }),
    status: 400,
  },
  // Accept
  {
    name: "Accept: image/png",
    send: (b) => sql(b, "select 1", { accept: "image/png" }),
    status: 406,
    code: "NOT_ACCEPTABLE",
  },
  {
    name: "Accept: application/xml",
    send: (b) => sql(b, "select 1", { accept: "application/xml" }),
    status: 406,
  },
  {
    name: "Accept: garbage",
    send: (b) => sql(b, "select 1", { accept: ";;;,,,===" }),
    status: 406,
  },
  // paths
  { name: "GET /", send: (b) => fetch(`${b}/nosuchpage`), status: 404 },
  { name: "GET /v2/sql", send: (b) => fetch(`${b}/v2/sql`), status: 404 },
  {
    name: "POST /v1/sql/extra",
    send: (b) => fetch(`${b}/v1/sql/extra`, { method: "POST" }),
    status: 404,
  },
  { name: "unknown query id", send: (b) => fetch(`${b}/v1/queries/nosuch`), status: 404 },
  {
    name: "cancel unknown query",
    send: (b) => fetch(`${b}/v1/queries/nosuch`, { method: "DELETE" }),
    status: 404,
  },
  {
    name: "refresh an unknown dataset",
    send: (b) => fetch(`${b}/v1/datasets/nosuch/acceleration/refresh`, { method: "POST" }),
    status: 404,
  },
  {
    name: "malformed percent-encoding in a query id",
    send: (b) => fetch(`${b}/v1/queries/%E0%A4%A`),
    status: 400,
  },
  {
    name: "malformed percent-encoding in a dataset name",
    send: (b) => fetch(`${b}/v1/datasets/%ZZ%E0/acceleration/refresh`, { method: "POST" }),
    status: 400,
    code: "INVALID_ARGUMENT",
  },
  { name: "path traversal", send: (b) => fetch(`${b}/v1/../../../etc/passwd`), status: 404 },
  { name: "a 16 KiB path", send: (b) => fetch(`${b}/${"a".repeat(16384)}`), status: 404 },
  // headers
  {
    name: "bad timeout header",
    send: (b) => sql(b, "select 1", { headers: { "X-Spice-Query-Timeout": "-5s" } }),
    status: 400,
    message: /invalid query timeout header/,
  },
  {
    name: "a 32 KiB header",
    send: (b) => sql(b, "select 1", { headers: { "x-junk": "j".repeat(32768) } }),
    status: 200,
  },
];

/** Sends a case and checks the answer; returns the problem, or null. */
async function check(base: string, c: Case): Promise<string | null> {
  let r: Response;
  try {
    r = await c.send(base);
  } catch (e) {
    return `request failed: ${(e as Error).message}`;
  }
  const text = await r.text();
  if (r.status !== c.status) {
    return `status ${r.status} (wanted ${c.status}): ${text.slice(0, 300)}`;
  }
  if (c.status < 400) return null;
  let err: { code?: string; message?: string } | undefined;
  try {
    err = JSON.parse(text).error;
  } catch {
    return `not a JSON error body: ${text.slice(0, 200)}`;
  }
  if (!err || typeof err.code !== "string" || typeof err.message !== "string" || !err.message) {
    return `no {error: {code, message}}: ${text.slice(0, 200)}`;
  }
  if (err.code === "INTERNAL") return `INTERNAL error: ${err.message}`;
  if (c.code && err.code !== c.code) return `code ${err.code} (wanted ${c.code}): ${err.message}`;
  if (c.message && !c.message.test(err.message)) return `message "${err.message}" !~ ${c.message}`;
  return null;
}

/** The process is alive and still answers a valid query correctly. */
async function stillServing(s: SpicedProcess): Promise<void> {
  assert.ok(alive(s), `spiced exited:\n${s.logs.slice(-20).join("\n")}`);
  const r = await sql(s.http, "select count(*) as n, sum(n_regionkey) as r from nation");
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), [{ n: 25, r: 50 }]);
}

async function runBatch(s: SpicedProcess, cases: Case[]): Promise<void> {
  const problems: string[] = [];
  for (const c of cases) {
    const p = await check(s.http, c);
    if (p) problems.push(`${c.name}: ${p}`);
  }
  await stillServing(s);
  assert.deepEqual(problems, [], `malformed inputs answered wrongly:\n${problems.join("\n")}`);
}

/** Writes raw bytes on a TCP connection and reads what comes back (bounded). */
async function raw(
  base: string,
  bytes: Uint8Array,
  opts: { close?: boolean } = {},
): Promise<string> {
  const url = new URL(base);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    await conn.write(bytes);
    if (opts.close) await conn.closeWrite();
    const buf = new Uint8Array(4096);
    const n = await Promise.race([
      conn.read(buf),
      new Promise<null>((r) => setTimeout(() => r(null), 3000)),
    ]);
    return n ? new TextDecoder().decode(buf.subarray(0, n)) : "";
  } catch {
    return "";
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

let server: SpicedProcess | null = null;
let dir = "";

Deno.test({
  name: "malformed SQL and HTTP: clear errors, the server keeps serving",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    dir = await spicepodDir();
    server = track(await startSpiced([], { cwd: dir }));
    const s = server;
    try {
      await s.ready();
      assert.ok(sqlCases.length + httpCases.length >= 100);
      await t.step(`${sqlCases.length} malformed SQL statements`, async () => {
        await runBatch(s, sqlCases);
      });

      await t.step("a 100k-item IN list is answered correctly", async () => {
        const keys = Array.from({ length: 100_000 }, (_, i) => i + 1).join(",");
        const r = await sql(
          s.http,
          `select count(*) as n from orders where o_orderkey in (${keys})`,
        );
        assert.equal(r.status, 200, await r.clone().text());
        // At scale factor 0.01 every order key is below 60001.
        assert.deepEqual(await r.json(), [{ n: 15000 }]);
        await stillServing(s);
      });

      await t.step(`${httpCases.length} malformed HTTP requests`, async () => {
        await runBatch(s, httpCases);
      });

      await t.step("raw garbage, truncated and abandoned requests on the socket", async () => {
        const enc = new TextEncoder();
        const junk = await raw(s.http, enc.encode("GARBAGE\r\n\r\n"));
        assert.ok(junk === "" || /^HTTP\/1\.[01] 4\d\d/.test(junk), `answered: ${junk}`);
        await raw(s.http, new Uint8Array(Array.from({ length: 2048 }, (_, i) => (i * 7919) % 256)));
        // Content-Length promises more than is sent, then the client half-closes.
        await raw(
          s.http,
          enc.encode("POST /v1/sql HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nselect"),
          { close: true },
        );
        // A request line that never ends, left open while others are served.
        const url = new URL(s.http);
        const slow = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
        await slow.write(enc.encode("POST /v1/sql HTTP/1.1\r\nHost: x\r\nContent-Le"));
        await stillServing(s);
        slow.close();
        await stillServing(s);
      });
    } finally {
      await s.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
