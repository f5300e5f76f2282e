/**
 * Client-facing security of a real spiced process: with `runtime.auth.api-key`
 * set, /v1/* needs a key (X-API-Key or Authorization: Bearer) and answers 401
 * without naming any key; /health and /v1/ready stay open. With
 * --tls-certificate-file / --tls-key-file the HTTP API speaks HTTPS with that
 * certificate (checked against its CA), and plaintext is not answered.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runSpiced, sql, startSpiced } from "../support/spiced.ts";

const KEY = "k3y-for-tests-1";

async function podDir(withKeys: boolean): Promise<string> {
  const dir = await Deno.makeTempDir();
  const auth = withKeys
    ? `runtime:\n  auth:\n    api-key:\n      enabled: true\n      keys: ["${KEY}", "second-key"]\n`
    : "";
  await Deno.writeTextFile(
    join(dir, "spicepod.yaml"),
    `version: v1\nkind: Spicepod\nname: auth_test\n${auth}datasets:\n` +
      `  - from: tpch:nation\n    name: nation\n    params: { scale_factor: 0.01 }\n`,
  );
  return dir;
}

Deno.test({
  name: "API keys: /v1/sql needs one; 401 without detail; /health stays open",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await podDir(true);
    const s = await startSpiced([], { cwd: dir });
    try {
      await s.ready();
      const health = await fetch(`${s.http}/health`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const refused: Record<string, string>[] = [
        {},
        { "X-API-Key": "wrong" },
        { Authorization: "Bearer wrong" },
      ];
      for (const headers of refused) {
        const r = await fetch(`${s.http}/v1/sql`, { method: "POST", body: "SELECT 1", headers });
        assert.equal(r.status, 401);
        const body = await r.text();
        assert.ok(body.includes("UNAUTHENTICATED"), body);
        assert.ok(!body.includes(KEY) && !body.includes("second-key"), `no key in ${body}`);
      }
      const datasets = await fetch(`${s.http}/v1/datasets`);
      assert.equal(datasets.status, 401);
      await datasets.body?.cancel();
      const accepted: Record<string, string>[] = [
        { "X-API-Key": KEY },
        { Authorization: "Bearer second-key" },
      ];
      for (const headers of accepted) {
        const r = await fetch(`${s.http}/v1/sql`, {
          method: "POST",
          body: "SELECT count(*) AS n FROM nation",
          headers,
        });
        assert.equal(r.status, 200);
        assert.deepEqual(await r.json(), [{ n: 25 }]);
      }
    } finally {
      await s.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A CA and an X.509 v3 server certificate for localhost (HTTPS needs v3). */
async function makeV3Certificate(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const run = async (args: string[]) => {
    const out = await new Deno.Command("openssl", { args, cwd: dir }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  };
  await run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-subj",
    "/CN=test-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]);
  await run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "localhost.key",
    "-out",
    "localhost.csr",
    "-subj",
    "/CN=localhost",
  ]);
  await Deno.writeTextFile(
    join(dir, "ext.cnf"),
    "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await run([
    "x509",
    "-req",
    "-in",
    "localhost.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    "localhost.crt",
    "-extfile",
    "ext.cnf",
  ]);
}

Deno.test({
  name: "--tls-certificate-file with an X.509 v1 certificate: a clear error naming the flag",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await podDir(false);
    try {
      const gen = new URL("../../scripts/gen_certs.sh", import.meta.url).pathname;
      const out = await new Deno.Command("bash", { args: [gen, join(dir, "v1"), "localhost"] })
        .output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const r = await runSpiced([
        "--http",
        "127.0.0.1:0",
        "--flight",
        "127.0.0.1:0",
        "--metrics",
        "127.0.0.1:0",
        "--tls-certificate-file",
        join(dir, "v1/localhost.crt"),
        "--tls-key-file",
        join(dir, "v1/localhost.key"),
      ], { cwd: dir });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr + r.stdout, /--tls-certificate-file .*X\.509 v3/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "--tls-certificate-file: HTTPS with the given certificate; plaintext is refused",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await podDir(false);
    await makeV3Certificate(join(dir, "certs"));
    const s = await startSpiced([
      "--tls-certificate-file",
      join(dir, "certs/localhost.crt"),
      "--tls-key-file",
      join(dir, "certs/localhost.key"),
    ], { cwd: dir });
    const client = Deno.createHttpClient({
      caCerts: [await Deno.readTextFile(join(dir, "certs/ca.crt"))],
    });
    try {
      const port = new URL(s.http).port;
      const https = `https://localhost:${port}`;
      const end = Date.now() + 60_000;
      let ready = false;
      while (!ready && Date.now() < end) {
        const r = await fetch(`${https}/v1/ready`, { client }).catch(() => null);
        await r?.body?.cancel();
        ready = r?.status === 200;
        if (!ready) await new Promise((res) => setTimeout(res, 100));
      }
      assert.ok(ready, s.logs.join("\n"));
      const r = await fetch(`${https}/v1/sql`, {
        method: "POST",
        body: "SELECT count(*) AS n FROM nation",
        client,
      });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), [{ n: 25 }]);
      // Without the CA the certificate is not trusted; plaintext gets no HTTP answer.
      await assert.rejects(fetch(`${https}/health`));
      const plain = await sql(`http://127.0.0.1:${port}`, "SELECT 1").catch((e) => e);
      assert.ok(plain instanceof Error || plain.status !== 200, "plaintext must not be served");
    } finally {
      client.close();
      await s.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
