/**
 * Cluster security with real processes: a cluster whose certificates come
 * from scripts/gen_certs.sh (the usual openssl commands: RSA 4096, CN = host,
 * no extensions) answers queries; the scheduler and executors refuse a client
 * with no certificate, one signed by another CA, an expired one, and a
 * plaintext client, before serving any RPC, logging the peer; start-up errors
 * name the file.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { clientConstructor, grpc, unary } from "../../src/cluster/grpc.ts";
import { TPCH_QUERIES } from "../../src/connectors/tpch/mod.ts";
import { startCluster, type TestCluster } from "../support/cluster.ts";
import { runSpiced, sql } from "../support/spiced.ts";

const GEN = new URL("../../scripts/gen_certs.sh", import.meta.url).pathname;

async function sh(cmd: string[], cwd?: string): Promise<void> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

interface Pki {
  dir: string;
  args: string[];
}

async function makePki(): Promise<Pki> {
  const dir = await Deno.makeTempDir();
  await sh(["bash", GEN, `${dir}/good`, "localhost"]);
  await sh(["bash", GEN, `${dir}/other`, "localhost"]); // a second, unrelated CA
  // An expired certificate from the good CA.
  await sh([
    "openssl",
    "req",
    "-newkey",
    "rsa:2048",
    "-keyout",
    "expired.key",
    "-out",
    "expired.csr",
    "-nodes",
    "-subj",
    "/CN=localhost",
  ], `${dir}/good`);
  await sh([
    "openssl",
    "x509",
    "-req",
    "-in",
    "expired.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "expired.crt",
    "-days",
    "-1",
  ], `${dir}/good`);
  return {
    dir,
    args: [
      "--node-mtls-ca-certificate-file",
      `${dir}/good/ca.crt`,
      "--node-mtls-certificate-file",
      `${dir}/good/localhost.crt`,
      "--node-mtls-key-file",
      `${dir}/good/localhost.key`,
    ],
  };
}

const read = (p: string) => Buffer.from(Deno.readFileSync(p));

async function attempt(
  address: string,
  service: string,
  method: string,
  creds: grpc.ChannelCredentials,
): Promise<string> {
  const Ctor = clientConstructor(service);
  const c = new Ctor(address, creds, { "grpc.max_reconnect_backoff_ms": 200 });
  try {
    await unary(c, method, { executor_id: "intruder", job_id: "x" }, 3000, address);
    return "served";
  } catch (e) {
    return (e as Error).message;
  } finally {
    c.close();
  }
}

Deno.test({
  name: "mTLS cluster: TPC-H over mutual TLS, and every kind of intruder refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const pki = await makePki();
    const dir = await Deno.makeTempDir();
    let cluster: TestCluster | null = null;
    try {
      cluster = await startCluster({
        executors: 2,
        cwd: dir,
        securityArgs: pki.args,
        scheme: "https",
        advertise: "localhost",
      });
      const c = cluster;
      await t.step("a TPC-H query runs over the mTLS cluster", async () => {
        const r = await sql(c.scheduler.http, TPCH_QUERIES[2]);
        assert.equal(r.status, 200);
        const rows = await r.json();
        assert.equal(rows.length, 10);
        const st = await (await fetch(`${c.scheduler.http}/v1/status`)).json();
        assert.equal(st.insecure, false);
        assert.equal(st.executors.length, 2);
      });
      const g = `${pki.dir}/good`, o = `${pki.dir}/other`;
      const intruders: [string, grpc.ChannelCredentials][] = [
        [
          "no client certificate",
          grpc.credentials.createSsl(
            read(`${g}/ca.crt`),
            null,
            null,
            {
              rejectUnauthorized: false,
              checkServerIdentity: () => undefined,
            } as grpc.VerifyOptions,
          ),
        ],
        [
          "a certificate from another CA",
          grpc.credentials.createSsl(
            read(`${g}/ca.crt`),
            read(`${o}/localhost.key`),
            read(`${o}/localhost.crt`),
            {
              rejectUnauthorized: false,
              checkServerIdentity: () => undefined,
            } as grpc.VerifyOptions,
          ),
        ],
        [
          "an expired certificate",
          grpc.credentials.createSsl(
            read(`${g}/ca.crt`),
            read(`${g}/expired.key`),
            read(`${g}/expired.crt`),
            {
              rejectUnauthorized: false,
              checkServerIdentity: () => undefined,
            } as grpc.VerifyOptions,
          ),
        ],
        ["a plaintext client", grpc.credentials.createInsecure()],
      ];
      const st = await (await fetch(`${c.scheduler.http}/v1/status`)).json();
      const executorAddress = st.executors[0].address as string;
      const targets: [string, string, string, () => string[]][] = [
        [
          "scheduler",
          `localhost:${c.clusterPort}`,
          "spiced.cluster.SchedulerService",
          () => c.scheduler.logs,
        ],
        [
          "executor",
          executorAddress,
          "spiced.cluster.ExecutorService",
          () => c.executors.flatMap((e) => e.logs),
        ],
      ];
      for (const [who, address, service, logs] of targets) {
        for (const [name, creds] of intruders) {
          await t.step(`the ${who} refuses ${name}`, async () => {
            const before = logs().filter((l) => l.includes("refused cluster connection")).length;
            const outcome = await attempt(
              address,
              service,
              service.endsWith("SchedulerService") ? "Heartbeat" : "RemoveJobData",
              creds,
            );
            assert.notEqual(outcome, "served", `${name} was served by the ${who}`);
            // The refusal is logged with the peer's address.
            const end = Date.now() + 3000;
            let lines: string[] = [];
            while (Date.now() < end) {
              lines = logs().filter((l) => l.includes("refused cluster connection")).slice(before);
              if (lines.length) break;
              await new Promise((r) => setTimeout(r, 50));
            }
            assert.ok(lines.length > 0, `no refusal logged for ${name}`);
            assert.match(lines[0], /refused cluster connection from (127\.0\.0\.1|::1|\?)/);
          });
        }
      }
      await t.step("the cluster still answers after the intruders", async () => {
        const r = await sql(c.scheduler.http, "select count(*) as n from nation");
        assert.deepEqual(await r.json(), [{ n: 25 }]);
      });
    } finally {
      await cluster?.stop();
      await Deno.remove(pki.dir, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("start-up refuses missing, unreadable and mismatched certificate files, naming the file", async () => {
  const pki = await makePki();
  try {
    const g = `${pki.dir}/good`;
    const base = [
      "--role",
      "scheduler",
      "--http",
      "127.0.0.1:0",
      "--metrics",
      "127.0.0.1:0",
      "--node-bind-address",
      "127.0.0.1:0",
    ];
    const missing = await runSpiced([
      ...base,
      "--node-mtls-ca-certificate-file",
      `${g}/nope.crt`,
      "--node-mtls-certificate-file",
      `${g}/localhost.crt`,
      "--node-mtls-key-file",
      `${g}/localhost.key`,
    ]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /--node-mtls-ca-certificate-file .*nope\.crt: cannot read the file \(no such file\)/,
    );
    const mismatch = await runSpiced([
      ...base,
      "--node-mtls-ca-certificate-file",
      `${g}/ca.crt`,
      "--node-mtls-certificate-file",
      `${g}/localhost.crt`,
      "--node-mtls-key-file",
      `${g}/expired.key`,
    ]);
    assert.equal(mismatch.code, 2);
    assert.match(
      mismatch.stderr,
      /--node-mtls-key-file .*expired\.key does not match the certificate/,
    );
    const notPem = await runSpiced([
      ...base,
      "--node-mtls-ca-certificate-file",
      `${g}/ca.key`,
      "--node-mtls-certificate-file",
      `${g}/localhost.crt`,
      "--node-mtls-key-file",
      `${g}/localhost.key`,
    ]);
    assert.equal(notPem.code, 2);
    assert.match(notPem.stderr, /--node-mtls-ca-certificate-file .*ca\.key: not a PEM certificate/);
    const plain = await runSpiced([
      "--role",
      "executor",
      "--scheduler-address",
      "http://localhost:50052",
      ...pki.args,
    ]);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /http:\/\//);
    assert.match(plain.stderr, /--allow-insecure-connections/);
  } finally {
    await Deno.remove(pki.dir, { recursive: true }).catch(() => {});
  }
});
