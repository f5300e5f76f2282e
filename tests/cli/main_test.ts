/**
 * The spiced process on bad input: a bad flag, role, address or spicepod
 * prints one line naming it and exits non-zero; --help and --version.
 */

import assert from "node:assert/strict";
import { runSpiced } from "../support/spiced.ts";

function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  return lines[0];
}

Deno.test("an unknown flag names the flag and exits 2", async () => {
  const r = await runSpiced(["--htpp", "127.0.0.1:1"]);
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /--htpp/);
});

Deno.test("a bad address names the flag and the value", async () => {
  const r = await runSpiced(["--http", "localhost:99999"]);
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /--http.*99999/);
});

Deno.test("a bad role names the role", async () => {
  const r = await runSpiced(["--role", "worker"]);
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /worker/);
});

Deno.test("a cluster node without mTLS files or --allow-insecure-connections refuses to start", async () => {
  const r = await runSpiced(["--role", "scheduler"]);
  assert.equal(r.code, 2);
  const line = oneLine(r.stderr);
  assert.match(line, /--node-mtls-ca-certificate-file/);
  assert.match(line, /--allow-insecure-connections/);
});

Deno.test("--version and --help", async () => {
  const v = await runSpiced(["--version"]);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^spiced \d+\.\d+\.\d+/);
  const h = await runSpiced(["--help"]);
  assert.equal(h.code, 0);
  for (
    const f of [
      "--http",
      "--flight",
      "--metrics",
      "--role",
      "--scheduler-address",
      "--node-bind-address",
    ]
  ) {
    assert.ok(h.stdout.includes(f), `help mentions ${f}`);
  }
});

Deno.test("a bad spicepod names the dataset and field and exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/spicepod.yaml`,
      "version: v1\nkind: Spicepod\nname: x\ndatasets:\n  - from: tpch:lineitem\n    name: li\n    acceleration: {enabled: true, engine: duckdb}\n",
    );
    const r = await runSpiced([], { cwd: dir });
    assert.equal(r.code, 2);
    const line = oneLine(r.stderr);
    assert.match(line, /dataset "li"/);
    assert.match(line, /acceleration\.engine/);
    assert.match(line, /duckdb/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing data path names the dataset and exits non-zero", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/spicepod.yaml`,
      "version: v1\nkind: Spicepod\nname: x\ndatasets:\n  - from: file:nowhere/\n    name: t\n",
    );
    const r = await runSpiced(["--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"], { cwd: dir });
    assert.notEqual(r.code, 0);
    const line = r.stderr.trim().split("\n").at(-1)!;
    assert.match(line, /dataset "t"/);
    assert.match(line, /nowhere/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an explicit --spicepod that does not exist is an error", async () => {
  const r = await runSpiced(["--spicepod", "/no/such/spicepod.yaml"]);
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /spicepod not found: \/no\/such\/spicepod\.yaml/);
});
