/**
 * A bad spicepod or a bad flag stops spiced before it serves: one line on
 * stderr that names the file, field or flag, and exit status 2. Real
 * processes, a few at a time.
 */

import assert from "node:assert/strict";
import { runSpiced } from "../support/spiced.ts";

const HEAD = "version: v1\nkind: Spicepod\nname: t\n";
const NATION = "datasets:\n  - from: tpch:nation\n    name: nation\n";

/** A spicepod (file contents) and what its one error line must say. */
interface PodCase {
  readonly name: string;
  readonly pod: string | Uint8Array;
  readonly error: RegExp;
  /** Extra files or directories to create next to the spicepod. */
  readonly setup?: (dir: string) => Promise<void>;
  /** Run with `--spicepod <this>` (relative to the directory) instead of the default. */
  readonly path?: string;
}

const podCases: PodCase[] = [
  { name: "missing version", pod: "kind: Spicepod\nname: t\n", error: /version/ },
  { name: "unknown version", pod: HEAD.replace("v1", "v9"), error: /version.*v9/ },
  { name: "wrong kind", pod: HEAD.replace("Spicepod", "Dataset"), error: /kind/ },
  { name: "missing name", pod: "version: v1\nkind: Spicepod\n", error: /name/ },
  { name: "datasets not a list", pod: HEAD + "datasets: 5\n", error: /datasets/ },
  {
    name: "dataset without from",
    pod: HEAD + "datasets:\n  - name: x\n",
    error: /from/,
  },
  {
    name: "dataset without name",
    pod: HEAD + "datasets:\n  - from: tpch:nation\n",
    error: /name/,
  },
  {
    name: "unknown scheme",
    pod: HEAD + "datasets:\n  - from: ftp://host/x\n    name: x\n",
    error: /from.*ftp/,
  },
  {
    name: "unknown acceleration engine",
    pod: NATION.replace("datasets:", HEAD + "datasets:") +
      "    acceleration: { enabled: true, engine: duckdb }\n",
    error: /unknown engine "duckdb"/,
  },
  {
    name: "acceleration of the wrong type",
    pod: HEAD + NATION + "    acceleration: yes\n",
    error: /acceleration/,
  },
  {
    name: "negative refresh interval",
    pod: HEAD + NATION + "    acceleration: { refresh_check_interval: -1m }\n",
    error: /refresh_check_interval/,
  },
  {
    name: "unknown file format",
    pod: HEAD + "datasets:\n  - from: file:x.xml\n    name: x\n    params: { file_format: xml }\n",
    error: /file_format|xml/,
  },
  {
    name: "scale factor not a number",
    pod: HEAD + NATION + "    params: { scale_factor: abc }\n",
    error: /scale_factor/,
  },
  {
    name: "timeout not a duration",
    pod: HEAD + "runtime:\n  query:\n    timeout: soon\n",
    error: /timeout/,
  },
  {
    name: "negative max_concurrent",
    pod: HEAD + "runtime:\n  query:\n    max_concurrent: -1\n",
    error: /max_concurrent/,
  },
  {
    name: "max_request_body not a size",
    pod: HEAD + "runtime:\n  query:\n    max_request_body: lots\n",
    error: /max_request_body/,
  },
  {
    name: "memory_limit a list",
    pod: HEAD + "runtime:\n  query:\n    memory_limit: [1]\n",
    error: /memory_limit/,
  },
  {
    name: "runtime.tls",
    pod: HEAD + "runtime:\n  tls:\n    enabled: true\n",
    error: /runtime\.tls/,
  },
  { name: "unclosed bracket", pod: "version: [v1\n", error: /spicepod/ },
  { name: "tab indentation", pod: HEAD + "datasets:\n\t- from: tpch:nation\n", error: /spicepod/ },
  {
    name: "alias bomb",
    pod: HEAD +
      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    error: /spicepod/,
  },
  {
    name: "missing environment variable",
    pod: HEAD + "runtime:\n  query:\n    timeout: ${env:SPICED_TEST_SURELY_MISSING}\n",
    error: /SPICED_TEST_SURELY_MISSING/,
  },
  {
    name: "duplicate dataset names",
    pod: HEAD + NATION + "  - from: tpch:region\n    name: nation\n",
    error: /nation/,
  },
  { name: "empty file", pod: "", error: /spicepod/ },
  {
    name: "binary garbage",
    pod: new Uint8Array(Array.from({ length: 512 }, (_, i) => (i * 151 + 7) % 256)),
    error: /spicepod/,
  },
  {
    name: "a dataset path that does not exist",
    pod: HEAD +
      "datasets:\n  - from: file:nowhere/\n    name: x\n    params: { file_format: parquet }\n",
    error: /no such file or directory.*nowhere/,
  },
  {
    name: "a dataset file that does not exist",
    pod: HEAD +
      "datasets:\n  - from: file:nothing.csv\n    name: x\n    params: { file_format: csv }\n",
    error: /nothing\.csv/,
  },
  {
    name: "the spicepod path is a directory without a spicepod",
    pod: HEAD,
    path: "emptydir",
    setup: (d) => Deno.mkdir(`${d}/emptydir`),
    error: /spicepod not found/,
  },
  {
    name: "a spicepod file that cannot be read (it is a directory)",
    pod: HEAD,
    path: "pod.yaml",
    setup: (d) => Deno.mkdir(`${d}/pod.yaml`),
    error: /spicepod/,
  },
  {
    name: "an explicit spicepod that does not exist",
    pod: HEAD,
    path: "missing.yaml",
    error: /spicepod not found.*missing\.yaml/,
  },
];

/** Flags and what the one error line must name. */
const flagCases: { name: string; args: string[]; error: RegExp }[] = [
  { name: "unknown flag", args: ["--htpp", "127.0.0.1:1"], error: /--htpp/ },
  { name: "port out of range", args: ["--http", "localhost:99999"], error: /--http.*99999/ },
  { name: "unknown role", args: ["--role", "worker"], error: /worker/ },
  { name: "zero executor slots", args: ["--executor-slots", "0"], error: /--executor-slots/ },
  {
    name: "executor slots not a number",
    args: ["--executor-slots", "abc"],
    error: /--executor-slots/,
  },
  {
    name: "executor without a scheduler",
    args: ["--role", "executor", "--allow-insecure-connections"],
    error: /--scheduler-address/,
  },
  {
    name: "scheduler address with a bad scheme",
    args: [
      "--role",
      "executor",
      "--scheduler-address",
      "ftp://x:1",
      "--allow-insecure-connections",
    ],
    error: /--scheduler-address/,
  },
  {
    name: "a flag without its value",
    args: ["--http"],
    error: /--http/,
  },
  { name: "a stray argument", args: ["serve-now"], error: /serve-now/ },
  {
    name: "TLS certificate without a key",
    args: ["--tls-certificate-file", "/nonexistent.crt"],
    error: /--tls/,
  },
  {
    name: "mTLS files that do not exist",
    args: [
      "--role",
      "scheduler",
      "--node-mtls-ca-certificate-file",
      "/nonexistent/ca.crt",
      "--node-mtls-certificate-file",
      "/nonexistent/node.crt",
      "--node-mtls-key-file",
      "/nonexistent/node.key",
    ],
    error: /nonexistent/,
  },
  { name: "malformed metrics address", args: ["--metrics", "1.2.3.4.5:80:1"], error: /--metrics/ },
];

function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n").filter((l) => l.trim() !== "");
  if (lines.length !== 1) throw new Error(`expected one line, got ${lines.length}:\n${stderr}`);
  return lines[0];
}

/** Runs `f` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let x = queue.shift(); x !== undefined; x = queue.shift()) await f(x);
  }));
}

Deno.test("bad spicepods: one line naming the problem, exit 2", async () => {
  const problems: string[] = [];
  await pool(podCases, 4, async (c) => {
    const dir = await Deno.makeTempDir({ prefix: "spiced-badpod-" });
    try {
      if (typeof c.pod === "string") await Deno.writeTextFile(`${dir}/spicepod.yaml`, c.pod);
      else await Deno.writeFile(`${dir}/spicepod.yaml`, c.pod);
      await c.setup?.(dir);
      const args = ["--http", "127.0.0.1:0", "--flight", "127.0.0.1:0", "--metrics", "127.0.0.1:0"];
      if (c.path) args.push("--spicepod", c.path);
      const r = await runSpiced(args, { cwd: dir });
      if (r.code !== 2) {
        problems.push(`${c.name}: exit ${r.code}\n${r.stderr.slice(0, 500)}`);
        return;
      }
      const line = oneLine(r.stderr);
      if (!line.startsWith("error: ")) problems.push(`${c.name}: no "error:" prefix: ${line}`);
      if (!c.error.test(line)) problems.push(`${c.name}: "${line}" !~ ${c.error}`);
    } catch (e) {
      problems.push(`${c.name}: ${(e as Error).message}`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
  assert.deepEqual(problems, [], problems.join("\n"));
});

Deno.test("bad flags: one line naming the flag, exit 2", async () => {
  const problems: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "spiced-badflag-" });
  try {
    await pool(flagCases, 4, async (c) => {
      const r = await runSpiced(c.args, { cwd: dir });
      if (r.code !== 2) {
        problems.push(`${c.name}: exit ${r.code}\n${r.stderr.slice(0, 500)}`);
        return;
      }
      try {
        const line = oneLine(r.stderr);
        if (!c.error.test(line)) problems.push(`${c.name}: "${line}" !~ ${c.error}`);
      } catch (e) {
        problems.push(`${c.name}: ${(e as Error).message}`);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  assert.deepEqual(problems, [], problems.join("\n"));
});
