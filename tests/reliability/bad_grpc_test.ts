/**
 * Nonsense over gRPC from a client that holds a valid cluster certificate:
 * random bytes as messages, malformed tasks and plans, bad shuffle tickets,
 * path tricks in job ids, RPCs executors do not serve; and garbage Flight SQL
 * commands to the scheduler's Flight endpoint. Each gets an error status (or
 * is ignored where that is the protocol), no process crashes, and the cluster
 * answers a valid query correctly after each batch.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { clientConstructor, grpc, unary } from "../../src/cluster/grpc.ts";
import { encodeMessage, packAny, sqlMessage } from "../../src/server/flight/proto.ts";
import { startCluster, type TestCluster } from "../support/cluster.ts";
import { alive, getJson, spicepodDir, track } from "../support/reliability.ts";
import { sql } from "../support/spiced.ts";

const GEN = new URL("../../scripts/gen_certs.sh", import.meta.url).pathname;

async function makeCerts(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "spiced-pki-" });
  const out = await new Deno.Command("bash", {
    args: [GEN, `${dir}/pki`, "localhost"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return `${dir}/pki`;
}

function bytes(seed: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

const text = (s: string) => new TextEncoder().encode(s);

/** A unary call whose request is raw bytes (no protobuf encoding on our side). */
function rawUnary(
  address: string,
  creds: grpc.ChannelCredentials,
  path: string,
  body: Uint8Array,
): Promise<string> {
  const Ctor = grpc.makeGenericClientConstructor({
    Call: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Uint8Array) => Buffer.from(b),
      requestDeserialize: (b: Buffer) => new Uint8Array(b),
      responseSerialize: (b: Uint8Array) => Buffer.from(b),
      responseDeserialize: (b: Buffer) => new Uint8Array(b),
    },
  }, "Raw");
  const c = new Ctor(address, creds);
  return new Promise<string>((resolve) => {
    const deadline = new Date(Date.now() + 5000);
    (c as unknown as {
      Call(b: Uint8Array, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: unknown) => void): void;
    }).Call(body, new grpc.Metadata(), { deadline }, (e) => {
      c.close();
      resolve(e ? `error ${(e as grpc.ServiceError).code}` : "ok");
    });
  });
}

/** A unary call through the real protocol definitions; "ok" or the error's message. */
async function call(
  client: grpc.Client,
  method: string,
  req: unknown,
): Promise<{ ok: boolean; text: string; res?: Record<string, unknown> }> {
  try {
    const res = await unary<unknown, Record<string, unknown>>(client, method, req, 10_000, "peer");
    return { ok: true, text: "ok", res };
  } catch (e) {
    return { ok: false, text: (e as Error).message };
  }
}

/** A server-streaming call: resolves with the error text, or "ok" with the messages. */
function stream(
  client: grpc.Client,
  method: string,
  req: unknown,
): Promise<{ ok: boolean; text: string; code?: number }> {
  return new Promise((resolve) => {
    const s = (client as unknown as Record<
      string,
      (r: unknown, md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<unknown>
    >)[method](req, new grpc.Metadata(), { deadline: new Date(Date.now() + 10_000) });
    let n = 0;
    s.on("data", () => n++);
    s.on(
      "error",
      (e: grpc.ServiceError) => resolve({ ok: false, text: e.details || e.message, code: e.code }),
    );
    s.on("end", () => resolve({ ok: true, text: `ok (${n} messages)` }));
  });
}

/** A task descriptor as JSON, with overrides. */
function task(over: Record<string, unknown>): Uint8Array {
  return text(JSON.stringify({
    job: "nonsense-job",
    stage: 1,
    partition: 0,
    attempt: 0,
    plan: { op: "values", id: 1, partitions: 1, columns: [], rows: [] },
    output: { kind: "result" },
    inputs: {},
    ...over,
  }));
}

Deno.test({
  name: "nonsense over gRPC from a certified peer: errors, no crash, the cluster keeps serving",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const pki = await makeCerts();
    const dir = await spicepodDir();
    const canary = await Deno.makeTempDir({ prefix: "spiced-canary-" });
    await Deno.writeTextFile(`${canary}/keep`, "must survive");
    let cluster: TestCluster | null = null;
    const read = (p: string) => Buffer.from(Deno.readFileSync(p));
    const creds = grpc.credentials.createSsl(
      read(`${pki}/ca.crt`),
      read(`${pki}/localhost.key`),
      read(`${pki}/localhost.crt`),
    );
    const clients: grpc.Client[] = [];
    try {
      cluster = await startCluster({
        executors: 1,
        cwd: dir,
        securityArgs: [
          "--node-mtls-ca-certificate-file",
          `${pki}/ca.crt`,
          "--node-mtls-certificate-file",
          `${pki}/localhost.crt`,
          "--node-mtls-key-file",
          `${pki}/localhost.key`,
        ],
        scheme: "https",
        advertise: "localhost",
      });
      const c = cluster;
      track(c.scheduler);
      track(c.executors[0]);
      const st = await getJson(`${c.scheduler.http}/v1/status`);
      const executorAddress = (st.executors as { address: string }[])[0].address;
      const schedulerAddress = `localhost:${c.clusterPort}`;
      const client = (address: string, service: string, secure = true) => {
        const Ctor = clientConstructor(service);
        const cl = new Ctor(address, secure ? creds : grpc.credentials.createInsecure());
        clients.push(cl);
        return cl;
      };
      const executor = client(executorAddress, "spiced.cluster.ExecutorService");
      const executorFlight = client(executorAddress, "arrow.flight.protocol.FlightService");
      const scheduler = client(schedulerAddress, "spiced.cluster.SchedulerService");

      const stillServing = async () => {
        assert.ok(
          alive(c.scheduler),
          `scheduler exited:\n${c.scheduler.logs.slice(-20).join("\n")}`,
        );
        assert.ok(
          alive(c.executors[0]),
          `executor exited:\n${c.executors[0].logs.slice(-20).join("\n")}`,
        );
        const r = await sql(
          c.scheduler.http,
          "select count(*) as n from orders where o_orderkey > 0",
        );
        assert.equal(r.status, 200, await r.clone().text());
        assert.deepEqual(await r.json(), [{ n: 15000 }]);
      };
      const problems: string[] = [];
      const expectError = (name: string, r: { ok: boolean; text: string }, re?: RegExp) => {
        if (r.ok) problems.push(`${name}: served (${r.text})`);
        else if (/Deadline exceeded/.test(r.text)) problems.push(`${name}: no answer: ${r.text}`);
        else if (re && !re.test(r.text)) problems.push(`${name}: "${r.text}" !~ ${re}`);
      };
      const flush = () => {
        const p = problems.splice(0);
        assert.deepEqual(p, [], p.join("\n"));
      };

      await t.step("ExecutorService.LaunchTask with nonsense", async () => {
        const launch = (task_json: Uint8Array) => call(executor, "LaunchTask", { task_json });
        expectError("random bytes", await launch(bytes(1, 4096)), /malformed/);
        expectError("JSON null", await launch(text("null")), /malformed task/);
        expectError("JSON array", await launch(text("[]")), /malformed task/);
        expectError("empty object", await launch(text("{}")), /malformed task: job/);
        expectError("empty bytes", await launch(new Uint8Array(0)), /malformed/);
        expectError("negative stage", await launch(task({ stage: -1 })), /stage/);
        expectError("fractional partition", await launch(task({ partition: 0.5 })), /partition/);
        expectError("plan a string", await launch(task({ plan: "scan everything" })), /plan/);
        expectError("no output", await launch(task({ output: null })), /output/);
        expectError("inputs a list", await launch(task({ inputs: [] })), /inputs/);
        expectError("job id with a path", await launch(task({ job: "../../etc" })), /job/);
        expectError(
          "20 MB of unterminated JSON",
          await launch(text("[".repeat(20 * 1024 * 1024))),
          /malformed/,
        );
        // Well-formed shape, nonsense plan: accepted, fails inside the task, reported and ignored.
        for (
          const plan of [
            { op: "nonsense", id: 1, partitions: 1, columns: [] },
            { op: "scan", id: 1, partitions: 1, columns: [], table: "nosuch", scanPartitions: [] },
            { op: "filter", id: 1, partitions: 1, columns: [], input: null },
            { op: "exchange_read", id: 1, partitions: 1, columns: [], exchangeId: 9, read: "all" },
          ]
        ) {
          const r = await launch(task({ plan, job: `nonsense-${plan.op}` }));
          if (!r.ok && !/malformed|INVALID/.test(r.text)) {
            problems.push(`plan ${plan.op}: ${r.text}`);
          }
        }
        const raw = await rawUnary(
          executorAddress,
          creds,
          "/spiced.cluster.ExecutorService/LaunchTask",
          bytes(2, 1024),
        );
        if (raw === "ok") problems.push("raw random protobuf bytes: served");
        flush();
        await stillServing();
      });

      await t.step("job ids and shuffle tickets with nonsense or path tricks", async () => {
        const victim = `../${canary.split("/").pop()}`;
        const rm = await call(executor, "RemoveJobData", { job_id: victim });
        expectError("RemoveJobData with a relative path", rm, /job/);
        const rmAbs = await call(executor, "RemoveJobData", { job_id: canary });
        expectError("RemoveJobData with an absolute path", rmAbs, /job/);
        assert.equal(
          await Deno.readTextFile(`${canary}/keep`),
          "must survive",
          "RemoveJobData deleted a directory outside the spill directory",
        );
        const cancel = await call(executor, "CancelJob", { job_id: "no-such-job" });
        assert.ok(cancel.ok, `CancelJob of an unknown job: ${cancel.text}`);
        const doGet = (ticket: Uint8Array) => stream(executorFlight, "DoGet", { ticket });
        expectError(
          "ticket of random bytes",
          await doGet(bytes(3, 300)),
          /malformed shuffle ticket/,
        );
        expectError("empty ticket", await doGet(new Uint8Array(0)), /malformed/);
        expectError("ticket JSON array", await doGet(text("[1,2]")), /malformed/);
        expectError(
          "ticket with a string stage",
          await doGet(text('{"job":"x","stage":"1"}')),
          /malformed/,
        );
        expectError(
          "ticket of an unknown job",
          await doGet(text('{"job":"x","stage":1,"map":0,"bucket":0}')),
          /not on this executor/,
        );
        expectError(
          "ticket with a path job",
          await doGet(text('{"job":"../../etc","stage":1,"map":0,"bucket":0}')),
        );
        for (const m of ["ListFlights", "DoAction"]) {
          expectError(`executor Flight ${m}`, await stream(executorFlight, m, {}));
        }
        expectError("executor GetFlightInfo", await call(executorFlight, "GetFlightInfo", {}));
        const unknown = await rawUnary(
          executorAddress,
          creds,
          "/spiced.cluster.ExecutorService/Nope",
          bytes(4, 8),
        );
        assert.equal(unknown, `error ${grpc.status.UNIMPLEMENTED}`);
        flush();
        await stillServing();
      });

      await t.step("SchedulerService with nonsense", async () => {
        const reg = await call(scheduler, "RegisterExecutor", {
          executor_id: "",
          address: "",
          slots: 0,
        });
        assert.ok(
          reg.ok && reg.res?.accepted === false,
          `empty registration: ${JSON.stringify(reg)}`,
        );
        const hb = await call(scheduler, "Heartbeat", {
          executor_id: "nobody",
          free_slots: 1000,
          metrics_json: bytes(5, 100),
        });
        assert.ok(hb.ok && hb.res?.reregister === true, `unknown heartbeat: ${JSON.stringify(hb)}`);
        const report = await call(scheduler, "ReportTask", {
          executor_id: "nobody",
          job_id: "nonsense",
          stage_id: 7,
          partition: 3,
          attempt: 9,
          state: "succeeded",
          result_json: bytes(6, 64),
        });
        assert.ok(report.ok, `a stale report is ignored: ${report.text}`);
        const dereg = await call(scheduler, "DeregisterExecutor", { executor_id: "nobody" });
        assert.ok(dereg.ok, dereg.text);
        const raw = await rawUnary(
          schedulerAddress,
          creds,
          "/spiced.cluster.SchedulerService/RegisterExecutor",
          bytes(7, 512),
        );
        if (raw === "ok") problems.push("raw random bytes to RegisterExecutor: served");
        // A registration pointing nowhere: tasks sent there fail to launch and go elsewhere.
        const bogus = await call(scheduler, "RegisterExecutor", {
          executor_id: "bogus-executor",
          address: "localhost:1",
          slots: 64,
          version: "0",
        });
        assert.ok(bogus.ok, bogus.text);
        flush();
        await stillServing();
      });

      await t.step("Flight SQL endpoint with garbage commands", async () => {
        const flight = client(c.scheduler.flight!, "arrow.flight.protocol.FlightService", false);
        const info = (cmd: Uint8Array) => call(flight, "GetFlightInfo", { type: "CMD", cmd });
        expectError("CMD of random bytes", await info(bytes(8, 200)));
        expectError("empty CMD", await info(new Uint8Array(0)));
        expectError(
          "statement query with a garbage payload",
          await info(encodeMessage("google.protobuf.Any", {
            type_url: "type.googleapis.com/" + sqlMessage("CommandStatementQuery"),
            value: bytes(9, 64),
          })),
        );
        expectError(
          "an unknown command type",
          await info(encodeMessage("google.protobuf.Any", {
            type_url: "type.googleapis.com/evil.Command",
            value: bytes(10, 16),
          })),
          /unknown command type/,
        );
        expectError(
          "a statement that does not parse",
          await info(packAny(sqlMessage("CommandStatementQuery"), { query: "selec garbage" })),
          /syntax error/,
        );
        expectError(
          "a PATH descriptor",
          await call(flight, "GetFlightInfo", { type: "PATH", path: ["a", "b"] }),
        );
        expectError(
          "GetSchema garbage",
          await call(flight, "GetSchema", { type: "CMD", cmd: bytes(11, 50) }),
        );
        expectError(
          "DoGet random ticket",
          await stream(flight, "DoGet", { ticket: bytes(12, 100) }),
        );
        expectError(
          "DoGet statement ticket with a garbage handle",
          await stream(flight, "DoGet", {
            ticket: packAny(sqlMessage("TicketStatementQuery"), {
              statement_handle: bytes(13, 40),
            }),
          }),
        );
        expectError(
          "DoAction unknown",
          await stream(flight, "DoAction", { type: "Nope", body: bytes(14, 9) }),
        );
        expectError(
          "DoAction CreatePreparedStatement garbage",
          await stream(flight, "DoAction", {
            type: "CreatePreparedStatement",
            body: bytes(15, 90),
          }),
        );
        expectError(
          "DoAction ClosePreparedStatement garbage",
          await stream(flight, "DoAction", { type: "ClosePreparedStatement", body: bytes(16, 90) }),
        );
        expectError(
          "DoAction CancelQuery garbage",
          await stream(flight, "DoAction", { type: "CancelQuery", body: bytes(17, 90) }),
        );
        expectError(
          "PollFlightInfo garbage",
          await call(flight, "PollFlightInfo", { type: "CMD", cmd: bytes(18, 33) }),
        );
        const raw = await rawUnary(
          c.scheduler.flight!,
          grpc.credentials.createInsecure(),
          "/arrow.flight.protocol.FlightService/GetFlightInfo",
          bytes(19, 300),
        );
        if (raw === "ok") problems.push("raw random bytes to GetFlightInfo: served");
        flush();
        await stillServing();
      });
    } finally {
      for (const cl of clients) cl.close();
      await cluster?.stop();
      for (const d of [dir, canary, pki.replace(/\/pki$/, "")]) {
        await Deno.remove(d, { recursive: true }).catch(() => {});
      }
    }
  },
});
