/**
 * `spice sql`: the pieces of the REPL (statement splitting, key parsing, line
 * editing, table layout, endpoint parsing), and the real command driven with
 * piped stdin and with `--query` against an in-process Flight SQL server.
 */

import * as arrow from "apache-arrow";
import assert from "node:assert/strict";
import { Catalog } from "../../src/catalog/mod.ts";
import { TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
import { TpchTableProvider } from "../../src/connectors/tpch/provider.ts";
import { QueryEngine } from "../../src/query/mod.ts";
import { type FlightServer, startFlightServer } from "../../src/server/flight/mod.ts";
import { FlightSqlClient, parseEndpoint } from "../../src/cli/spice/flight_client.ts";
import {
  INTERRUPTED,
  LineEditor,
  LineState,
  parseKeys,
  PipedLines,
} from "../../src/cli/spice/line_editor.ts";
import { runRepl } from "../../src/cli/spice/repl.ts";
import { splitStatements, StatementBuffer } from "../../src/cli/spice/statement_buffer.ts";
import {
  displayWidth,
  renderTable,
  rowCountLine,
  tableFromBatches,
} from "../../src/cli/spice/table.ts";

const ROOT = new URL("../../", import.meta.url);
const SPICE = decodeURIComponent(new URL("spice.ts", ROOT).pathname);
const enc = new TextEncoder();
const dec = new TextDecoder();

// ---------------------------------------------------------------------------
// pure parts

Deno.test("splitStatements: semicolons outside quotes and comments end statements", () => {
  assert.deepEqual(splitStatements("select 1; select 2;"), {
    statements: ["select 1", "select 2"],
    rest: "",
  });
  assert.deepEqual(splitStatements("select ';' as s; sel"), {
    statements: ["select ';' as s"],
    rest: " sel",
  });
  assert.deepEqual(splitStatements(`select "a;b" from t -- x;\n;`).statements, [
    `select "a;b" from t -- x;`,
  ]);
  assert.deepEqual(splitStatements("select /* ; */ 1;").statements, ["select /* ; */ 1"]);
  assert.deepEqual(splitStatements("select 'it''s;' ;").statements, ["select 'it''s;'"]);
  assert.deepEqual(splitStatements(";;  ;").statements, []);
  // An unterminated literal keeps the statement open.
  assert.deepEqual(splitStatements("select 'abc;").statements, []);
});

Deno.test("StatementBuffer: multi-line statements", () => {
  const b = new StatementBuffer();
  assert.ok(b.empty);
  assert.deepEqual(b.push("SELECT a,"), []);
  assert.ok(!b.empty);
  assert.deepEqual(b.push("  b FROM t;  SELECT 2"), ["SELECT a,\n  b FROM t"]);
  assert.equal(b.takeRest(), "SELECT 2");
  assert.ok(b.empty);
  b.push("SELECT 'x");
  b.clear();
  assert.ok(b.empty);
});

Deno.test("parseKeys: escape sequences, control keys, split input", () => {
  assert.deepEqual(parseKeys("ab\x1b[D\x7f\r").keys, [
    { kind: "text", text: "ab" },
    { kind: "key", name: "left" },
    { kind: "key", name: "backspace" },
    { kind: "key", name: "enter" },
  ]);
  assert.deepEqual(
    parseKeys("\x1b[A\x1b[B\x1b[H\x1b[F\x1b[3~\x1bOH\x01\x05\x03\x04").keys.map((k) =>
      "name" in k ? k.name : k.text
    ),
    [
      "up",
      "down",
      "home",
      "end",
      "delete",
      "home",
      "home",
      "end",
      "interrupt",
      "eof",
    ],
  );
  // A sequence cut by a read boundary waits for the rest.
  const first = parseKeys("x\x1b[");
  assert.deepEqual(first.keys, [{ kind: "text", text: "x" }]);
  assert.equal(first.rest, "\x1b[");
  assert.deepEqual(parseKeys(first.rest + "C").keys, [{ kind: "key", name: "right" }]);
  // A pasted CRLF is one Enter.
  assert.equal(parseKeys("a\r\nb").keys.length, 3);
});

Deno.test("LineState: cursor editing", () => {
  const s = new LineState();
  s.insert("SELCT 1");
  s.home();
  s.right();
  s.right();
  s.right();
  s.insert("E");
  assert.equal(s.text, "SELECT 1");
  s.end();
  s.backspace();
  s.insert("42");
  assert.equal(s.text, "SELECT 42");
  s.wordLeft();
  s.killToEnd();
  assert.equal(s.text, "SELECT ");
  s.insert("héllo wörld");
  s.deleteWordBack();
  assert.equal(s.text, "SELECT héllo ");
  s.home();
  s.deleteForward();
  assert.equal(s.text, "ELECT héllo ");
  s.end();
  s.killToStart();
  assert.equal(s.text, "");
});

/** A fake terminal: stdin chunks in order, stdout captured. */
function fakeTerminal(chunks: string[]) {
  const raw: boolean[] = [];
  let out = "";
  const input = {
    setRaw(mode: boolean) {
      raw.push(mode);
    },
    read(p: Uint8Array): Promise<number | null> {
      const next = chunks.shift();
      if (next === undefined) return Promise.resolve(null);
      const bytes = enc.encode(next);
      p.set(bytes);
      return Promise.resolve(bytes.length);
    },
  };
  const output = {
    writeSync(p: Uint8Array) {
      out += dec.decode(p);
      return p.length;
    },
  };
  return { input, output, raw, out: () => out };
}

Deno.test("LineEditor: editing keys, history, Ctrl-C and Ctrl-D on a fake terminal", async () => {
  const term = fakeTerminal([
    "SELEC 1",
    "\x1b[D\x1b[D", // left, left
    "T\r", // -> "SELECT 1"
    "SELECT 2\r",
    "\x1b[A\x1b[A\r", // up twice: "SELECT 1"
    "junk\x03", // Ctrl-C
    "\x04", // Ctrl-D on an empty line
  ]);
  const ed = new LineEditor(term.input, term.output);
  assert.equal(await ed.read("sql> "), "SELECT 1");
  assert.equal(await ed.read("sql> "), "SELECT 2");
  assert.equal(await ed.read("sql> "), "SELECT 1");
  assert.equal(await ed.read("sql> "), INTERRUPTED);
  assert.equal(await ed.read("sql> "), null);
  assert.ok(term.out().includes("sql> SELECT 1"));
  // Raw mode is on only while a line is read.
  assert.equal(term.raw.at(-1), false);
  assert.equal(term.raw.filter((m) => m).length, term.raw.filter((m) => !m).length);
});

Deno.test("PipedLines: lines without prompts, last line without newline", async () => {
  const stream = ReadableStream.from([enc.encode("a\r\nb"), enc.encode("c\n\nd")]);
  const lines = new PipedLines(stream);
  const got: (string | null)[] = [];
  for (let i = 0; i < 5; i++) got.push(await lines.read("sql> ") as string | null);
  assert.deepEqual(got, ["a", "bc", "", "d", null]);
});

Deno.test("renderTable: header, rules, right-aligned numbers, NULL", () => {
  const t = arrow.tableFromArrays({ id: Int32Array.from([1, 22, 333]), name: ["a", "日本", "c"] });
  const schema = new arrow.Schema([
    t.schema.fields[0],
    new arrow.Field("name", new arrow.Utf8(), true),
  ]);
  const batch = new arrow.RecordBatch(
    schema,
    arrow.makeData({
      type: new arrow.Struct(schema.fields),
      length: 3,
      nullCount: 0,
      children: [
        t.getChildAt(0)!.data[0],
        arrow.vectorFromArray(["a", "日本", null], new arrow.Utf8()).data[0],
      ],
    }),
  );
  const text = renderTable(tableFromBatches(schema, [batch]));
  assert.equal(
    text,
    [
      "+-----+------+",
      "|  id | name |",
      "+-----+------+",
      "|   1 | a    |",
      "|  22 | 日本 |",
      "| 333 | NULL |",
      "+-----+------+",
      "",
    ].join("\n"),
  );
  for (const line of text.trim().split("\n")) assert.equal(displayWidth(line), 14);
  assert.equal(rowCountLine(1, 2.5), "1 row in 2.5 ms");
  assert.equal(rowCountLine(12, 31.2, 10), "12 rows in 31 ms (showing the first 10)");
});

Deno.test("parseEndpoint: grpc://, grpc+tls://, host:port", () => {
  assert.deepEqual(parseEndpoint("grpc://127.0.0.1:50051"), {
    host: "127.0.0.1",
    port: 50051,
    tls: false,
  });
  assert.deepEqual(parseEndpoint("grpc+tls://example.com:443"), {
    host: "example.com",
    port: 443,
    tls: true,
  });
  assert.deepEqual(parseEndpoint("localhost:50051"), {
    host: "localhost",
    port: 50051,
    tls: false,
  });
  assert.deepEqual(parseEndpoint("grpc://[::1]:1"), { host: "::1", port: 1, tls: false });
  assert.throws(() => parseEndpoint("http://x:1"), /grpc:\/\//);
  assert.throws(() => parseEndpoint("nohost"), /--flight-endpoint/);
});

// ---------------------------------------------------------------------------
// against a server

function tpchEngine(): QueryEngine {
  const cat = new Catalog();
  for (const t of TPCH_TABLES) cat.register(t, new TpchTableProvider(t, 0.01));
  return new QueryEngine(cat);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A spice.ts ...args` with `input` on stdin; killed after `timeoutMs`. */
async function runSpice(args: string[], input = "", timeoutMs = 90_000): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SPICE, ...args],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  try {
    const w = child.stdin.getWriter();
    await w.write(enc.encode(input));
    await w.close();
    const out = await child.output();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }
}

async function withServer(
  opts: { apiKeys?: string[]; tls?: { cert: Uint8Array; key: Uint8Array } },
  fn: (server: FlightServer) => Promise<void>,
): Promise<void> {
  const server = await startFlightServer({
    engine: tpchEngine(),
    host: "127.0.0.1",
    port: 0,
    ...opts,
  });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

const TEST = { sanitizeOps: false, sanitizeResources: false };

Deno.test({ ...TEST, name: "spice sql: REPL with piped stdin" }, async () => {
  await withServer({}, async (server) => {
    const input = [
      ".tables",
      "SELECT n_nationkey, n_name",
      "FROM nation",
      "WHERE n_nationkey < 3",
      "ORDER BY n_nationkey;",
      "SELEC oops;",
      ".schema region",
      ".exit",
      "SELECT 'after exit' AS never;",
    ].join("\n") + "\n";
    const r = await runSpice(["sql", "--flight-endpoint", `127.0.0.1:${server.port}`], input);
    assert.equal(r.code, 0, r.stderr);
    // .tables
    for (const t of TPCH_TABLES) assert.match(r.stdout, new RegExp(`\\| ${t}\\s+\\|`));
    assert.match(r.stdout, /8 rows in [\d.]+ ms/);
    // The multi-line query: aligned table, numbers right-aligned, row count.
    const lines = r.stdout.split("\n");
    const start = lines.findIndex((l) => /\| n_nationkey \| n_name\s+\|/.test(l));
    assert.ok(start > 0, r.stdout);
    const table = lines.slice(start - 1, start + 6);
    assert.deepEqual(table.map((l) => l.length), table.map(() => table[0].length));
    assert.match(table[3], /^\|\s+0 \| ALGERIA\s+\|$/);
    assert.match(table[5], /^\|\s+2 \| BRAZIL\s+\|$/);
    assert.match(lines[start + 6], /^3 rows in [\d.]+ ms$/);
    // The bad query reports and the REPL goes on.
    assert.match(r.stderr, /^Error: .*SELEC/m);
    assert.match(r.stdout, /\| r_regionkey \| INTEGER/);
    // Nothing after .exit ran.
    assert.doesNotMatch(r.stdout, /after exit/);
    // No prompts when stdin is not a terminal.
    assert.doesNotMatch(r.stdout, /sql> /);
  });
});

Deno.test({ ...TEST, name: "spice sql --query: one-shot success and failure" }, async () => {
  await withServer({}, async (server) => {
    const endpoint = `grpc://127.0.0.1:${server.port}`;
    const ok = await runSpice([
      "sql",
      "--flight-endpoint",
      endpoint,
      "-q",
      "SELECT count(*) AS n FROM region",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\|\s+n \|/);
    assert.match(ok.stdout, /\|\s+5 \|/);
    assert.match(ok.stdout, /1 row in/);
    const bad = await runSpice([
      "sql",
      "--flight-endpoint",
      endpoint,
      "--query",
      "SELECT * FROM missing_table",
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /^Error: .*missing_table/m);
    const usage = await runSpice(["sql", "--no-such-flag"]);
    assert.equal(usage.code, 2);
  });
});

Deno.test({ ...TEST, name: "spice sql: --api-key" }, async () => {
  await withServer({ apiKeys: ["k3y"] }, async (server) => {
    const endpoint = `127.0.0.1:${server.port}`;
    const denied = await runSpice(["sql", "--flight-endpoint", endpoint, "-q", "SELECT 1"]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^Error: missing or invalid API key/m);
    const ok = await runSpice([
      "sql",
      "--flight-endpoint",
      endpoint,
      "--api-key",
      "k3y",
      "-q",
      "SELECT 1 AS x",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\|\s+1 \|/);
  });
});

async function hasOpenssl(): Promise<boolean> {
  try {
    const r = await new Deno.Command("openssl", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

Deno.test({
  ...TEST,
  name: "spice sql: grpc+tls:// with --tls-root-cert",
  ignore: !await hasOpenssl(),
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cert = `${dir}/cert.pem`;
    const key = `${dir}/key.pem`;
    const gen = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(gen.success, dec.decode(gen.stderr));
    const tls = { cert: await Deno.readFile(cert), key: await Deno.readFile(key) };
    await withServer({ tls }, async (server) => {
      const r = await runSpice([
        "sql",
        "--flight-endpoint",
        `grpc+tls://localhost:${server.port}`,
        "--tls-root-cert",
        cert,
        "-q",
        "SELECT r_name FROM region ORDER BY r_name LIMIT 1",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\| AFRICA\s+\|/);
      // Plaintext against the TLS port fails, with an error rather than a hang.
      const plain = await runSpice([
        "sql",
        "--flight-endpoint",
        `127.0.0.1:${server.port}`,
        "-q",
        "SELECT 1",
      ]);
      assert.notEqual(plain.code, 0);
      assert.match(plain.stderr, /^Error:/m);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({ ...TEST, name: "runRepl in process: dot commands and errors" }, async () => {
  await withServer({}, async (server) => {
    const client = new FlightSqlClient({ endpoint: `127.0.0.1:${server.port}` });
    let out = "";
    let err = "";
    const lines = [
      "help",
      ".nope",
      "show tables;",
      ".schema NATION",
      ".schema nope",
      "SELECT 1 AS a;",
      "SELECT 2 AS b",
    ];
    try {
      await runRepl({
        client,
        input: {
          interactive: false,
          read: () => Promise.resolve(lines.shift() ?? null),
          close() {},
        },
        out: (s) => out += s,
        err: (s) => err += s,
      });
    } finally {
      client.close();
    }
    assert.match(out, /\.tables\s+list the tables/);
    assert.match(err, /Error: unknown command \.nope/);
    assert.match(out, /\| supplier\s+\|/);
    assert.match(out, /\| n_nationkey \| INTEGER/);
    assert.match(err, /Error: table "nope" not found/);
    assert.match(out, /\|\s+a \|/);
    // The last statement had no ';' and ran at end of input.
    assert.match(out, /\|\s+b \|/);
  });
});
