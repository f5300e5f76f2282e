/**
 * The Kubernetes manifests in deploy/kubernetes agree with spiced and with
 * each other: every node's command line is one spiced accepts (parsed by the
 * runtime's own `parseFlags`, with the pod's environment), every address flag
 * has its containerPort and Service port, the probes hit the HTTP port, the
 * files the flags name are mounted, the executors find the scheduler and
 * advertise their headless-Service names, the spicepod in the ConfigMap is
 * valid, and the openssl commands of certificates.md make certificates that
 * the nodes accept and that match the names they are dialled by.
 */

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { checkClusterSecurity, type Flags, HELP_TEXT, parseFlags } from "../../src/cli/mod.ts";
import { loadClusterSecurity } from "../../src/cluster/security.ts";
import { parseSpicepod } from "../../src/spicepod/mod.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DIR = join(ROOT, "deploy/kubernetes");

// deno-lint-ignore no-explicit-any
type Obj = any;

interface Manifest {
  readonly file: string;
  readonly obj: Obj;
}

async function loadManifests(): Promise<Manifest[]> {
  const out: Manifest[] = [];
  const files = (await Array.fromAsync(Deno.readDir(DIR)))
    .filter((e) => e.isFile && e.name.endsWith(".yaml"))
    .map((e) => e.name)
    .sort();
  for (const file of files) {
    const docs = parseAllDocuments(await Deno.readTextFile(join(DIR, file)));
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      assert.deepEqual(doc.errors.map(String), [], `${file}: YAML errors`);
      const obj = doc.toJS();
      if (obj !== null && obj !== undefined) out.push({ file, obj });
    }
  }
  return out;
}

const MANIFESTS = await loadManifests();
const KUSTOMIZATION = MANIFESTS.find((m) => m.obj.kind === "Kustomization")!.obj;
const NAMESPACE: string = KUSTOMIZATION.namespace;
const WORKLOADS = MANIFESTS.filter((m) => ["Deployment", "StatefulSet"].includes(m.obj.kind));
const SERVICES = MANIFESTS.filter((m) => m.obj.kind === "Service").map((m) => m.obj);
const CONFIGMAPS = MANIFESTS.filter((m) => m.obj.kind === "ConfigMap").map((m) => m.obj);

function workload(component: string): Obj {
  const w = WORKLOADS.find((m) =>
    m.obj.spec.template.metadata.labels["app.kubernetes.io/component"] === component
  );
  assert.ok(w, `a workload for the ${component}`);
  return w.obj;
}

/** The spiced container of a workload (the only container). */
function container(w: Obj): Obj {
  const cs = w.spec.template.spec.containers;
  assert.equal(cs.length, 1, `${w.metadata.name}: one container`);
  return cs[0];
}

/** The pod's environment as the kubelet makes it: fieldRefs filled in, $(VAR) expanded in order. */
function podEnv(w: Obj): Record<string, string> {
  const podName = w.kind === "StatefulSet" ? `${w.metadata.name}-0` : `${w.metadata.name}-abc12`;
  const env: Record<string, string> = {};
  for (const e of container(w).env ?? []) {
    if (e.valueFrom?.fieldRef) {
      const path = e.valueFrom.fieldRef.fieldPath;
      env[e.name] = path === "metadata.name"
        ? podName
        : path === "metadata.namespace"
        ? NAMESPACE
        : `<${path}>`;
    } else if (e.value !== undefined) {
      env[e.name] = expand(String(e.value), env);
    }
  }
  return env;
}

/** Kubernetes' $(VAR) expansion in args and env values; an unknown $(VAR) stays as written. */
function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => env[name] ?? m);
}

/** argv of spiced in the container: command (after the binary) plus args, expanded. */
function argv(w: Obj): string[] {
  const c = container(w);
  const env = podEnv(w);
  const command: string[] = c.command ?? [];
  if (command.length > 0) {
    assert.match(command[0], /(^|\/)spiced$/, `${w.metadata.name}: command runs spiced`);
  }
  return [...command.slice(1), ...(c.args ?? [])].map((a) => expand(String(a), env));
}

function flagsOf(w: Obj): Flags {
  return parseFlags(argv(w), podEnv(w));
}

function containerPort(c: Obj, ref: string | number): number | undefined {
  if (typeof ref === "number") {
    return c.ports.some((p: Obj) => p.containerPort === ref) ? ref : undefined;
  }
  return c.ports.find((p: Obj) => p.name === ref)?.containerPort;
}

function selects(service: Obj, w: Obj): boolean {
  const labels = w.spec.template.metadata.labels;
  const selector = service.spec.selector ?? {};
  return Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([k, v]) => labels[k] === v);
}

const ADDRESS_FLAGS = [
  ["http", "http"],
  ["flight", "flight"],
  ["metrics", "metrics"],
  ["node-bind-address", "nodeBindAddress"],
] as const;

Deno.test("every manifest parses and kustomization.yaml lists them all in one namespace", async () => {
  const files = (await Array.fromAsync(Deno.readDir(DIR)))
    .filter((e) => e.name.endsWith(".yaml") && e.name !== "kustomization.yaml")
    .map((e) => e.name)
    .sort();
  assert.deepEqual([...KUSTOMIZATION.resources].sort(), files);
  assert.ok(MANIFESTS.some((m) => m.obj.kind === "Namespace" && m.obj.metadata.name === NAMESPACE));
  for (const { file, obj } of MANIFESTS) {
    if (obj.kind === "Kustomization") continue;
    assert.ok(obj.apiVersion && obj.kind && obj.metadata?.name, `${file}: apiVersion, kind, name`);
    if (obj.kind !== "Namespace") {
      assert.equal(obj.metadata.namespace, NAMESPACE, `${file} ${obj.kind}: namespace`);
    }
  }
  // One image for every node, the one kustomization.yaml retags.
  const images = new Set(WORKLOADS.map((w) => container(w.obj).image.split(":")[0]));
  assert.equal(images.size, 1);
  assert.deepEqual(KUSTOMIZATION.images.map((i: Obj) => i.name), [...images]);
});

Deno.test("each node's command line is one spiced accepts, with mutual TLS", () => {
  const helpFlags = new Set(HELP_TEXT.match(/--[a-z][a-z-]*/g));
  for (const [component, role] of [["scheduler", "scheduler"], ["executor", "executor"]]) {
    const w = workload(component);
    for (const a of argv(w)) {
      if (a.startsWith("--")) assert.ok(helpFlags.has(a.split("=")[0]), `${a} is in --help`);
      assert.ok(!/\$\(/.test(a), `${w.metadata.name}: unexpanded ${a}`);
    }
    const flags = flagsOf(w);
    assert.equal(flags.role, role);
    const sec = checkClusterSecurity(flags);
    assert.deepEqual(sec, { ok: true }, `${w.metadata.name}: mTLS, no insecure mode`);
    assert.ok(!flags.allowInsecureConnections);
    assert.ok(flags.spicepodExplicit, `${w.metadata.name}: --spicepod is explicit`);
  }
});

Deno.test("address flags, containerPorts and Service ports agree; nothing listens on loopback", () => {
  for (const { obj: w } of WORKLOADS) {
    const c = container(w);
    const flags = flagsOf(w);
    const flagPorts = new Set<number>();
    for (const [flag, key] of ADDRESS_FLAGS) {
      if (!flags.explicit.has(flag)) continue;
      const addr = flags[key];
      assert.equal(addr.host, "0.0.0.0", `${w.metadata.name}: --${flag} must not bind loopback`);
      assert.ok(
        c.ports.some((p: Obj) => p.containerPort === addr.port),
        `${w.metadata.name}: --${flag} port ${addr.port} is a containerPort`,
      );
      flagPorts.add(addr.port);
      const services = SERVICES.filter((s) => selects(s, w));
      assert.ok(services.length > 0, `${w.metadata.name}: a Service selects it`);
      assert.ok(
        services.some((s) =>
          s.spec.ports.some((p: Obj) => containerPort(c, p.targetPort ?? p.port) === addr.port)
        ),
        `${w.metadata.name}: a Service exposes --${flag} (${addr.port})`,
      );
    }
    // http, metrics and the cluster port are needed by probes, Prometheus and the other nodes.
    for (const flag of ["http", "metrics", "node-bind-address"]) {
      assert.ok(flags.explicit.has(flag), `${w.metadata.name}: --${flag} given`);
    }
    for (const p of c.ports) {
      assert.ok(
        flagPorts.has(p.containerPort),
        `${w.metadata.name}: containerPort ${p.containerPort} has a flag`,
      );
    }
    for (const s of SERVICES.filter((s) => selects(s, w))) {
      for (const p of s.spec.ports) {
        assert.ok(
          containerPort(c, p.targetPort ?? p.port) !== undefined,
          `Service ${s.metadata.name} port ${p.name}: targetPort ${p.targetPort} is a containerPort`,
        );
      }
    }
  }
});

Deno.test("probes: /health for liveness and start-up, /v1/ready for readiness, on the HTTP port", () => {
  for (const { obj: w } of WORKLOADS) {
    const c = container(w);
    const http = flagsOf(w).http.port;
    const expected = {
      livenessProbe: "/health",
      startupProbe: "/health",
      readinessProbe: "/v1/ready",
    };
    for (const [probe, path] of Object.entries(expected)) {
      const get = c[probe]?.httpGet;
      assert.ok(get, `${w.metadata.name}: ${probe}`);
      assert.equal(get.path, path, `${w.metadata.name}: ${probe} path`);
      assert.equal(containerPort(c, get.port), http, `${w.metadata.name}: ${probe} port`);
    }
    // Prometheus scrapes the --metrics port.
    const ann = w.spec.template.metadata.annotations ?? {};
    if (ann["prometheus.io/port"]) {
      assert.equal(Number(ann["prometheus.io/port"]), flagsOf(w).metrics.port);
    }
  }
});

Deno.test("the files the flags name are mounted: mTLS from a Secret, the spicepod from the ConfigMap", () => {
  for (const { obj: w } of WORKLOADS) {
    const c = container(w);
    const flags = flagsOf(w);
    const volumes = new Map<string, Obj>(w.spec.template.spec.volumes.map((v: Obj) => [v.name, v]));
    const mountOf = (path: string) => {
      const m = c.volumeMounts.find((m: Obj) =>
        m.subPath ? m.mountPath === path : path.startsWith(m.mountPath.replace(/\/?$/, "/"))
      );
      assert.ok(m, `${w.metadata.name}: ${path} is mounted`);
      return { mount: m, volume: volumes.get(m.name) };
    };
    for (const file of [flags.mtls.caFile!, flags.mtls.certFile!, flags.mtls.keyFile!]) {
      const { volume } = mountOf(file);
      assert.ok(volume?.secret?.secretName, `${w.metadata.name}: ${file} comes from a Secret`);
      assert.ok(["ca.crt", "tls.crt", "tls.key"].includes(file.split("/").pop()!));
    }
    const { mount, volume } = mountOf(flags.spicepod);
    const cm = CONFIGMAPS.find((m) => m.metadata.name === volume?.configMap?.name);
    assert.ok(cm, `${w.metadata.name}: the spicepod's ConfigMap exists`);
    const text = cm.data[mount.subPath ?? flags.spicepod.split("/").pop()!];
    assert.ok(text, `${w.metadata.name}: the ConfigMap has the spicepod key`);
    const pod = parseSpicepod(text, {
      baseDir: "/app",
      env: {},
      fileName: "spicepod-configmap.yaml",
    });
    assert.ok(pod.datasets.length > 0);
    // A read-only root file system needs a writable /tmp.
    if (c.securityContext?.readOnlyRootFilesystem) {
      assert.ok(c.volumeMounts.some((m: Obj) => m.mountPath === "/tmp"), "/tmp is writable");
    }
  }
});

Deno.test("the sample spicepod of the ConfigMap: an S3 parquet dataset accelerated in Arrow", () => {
  const cm = CONFIGMAPS.find((m) => m.metadata.name === "spiced-spicepod")!;
  const pod = parseSpicepod(cm.data["spicepod.yaml"], { baseDir: "/app", env: {} });
  const ds = pod.datasets[0] as Obj;
  assert.match(ds.from, /^s3:\/\/large-bucket\/data\/$/);
  assert.equal(ds.params.file_format, "parquet");
  assert.equal(ds.acceleration.enabled, true);
  assert.equal(ds.acceleration.engine, "arrow");
});

Deno.test("executors reach the scheduler's cluster port and advertise their headless-Service names", () => {
  const scheduler = workload("scheduler");
  const executor = workload("executor");
  const sched = flagsOf(executor).schedulerAddress!;
  assert.equal(sched.scheme, "https");
  const svc = SERVICES.find((s) => s.metadata.name === sched.host.split(".")[0]);
  assert.ok(svc, `a Service named ${sched.host}`);
  assert.ok(selects(svc, scheduler), `${svc.metadata.name} selects the scheduler`);
  const port = svc.spec.ports.find((p: Obj) => p.port === sched.port);
  assert.ok(port, `${svc.metadata.name} has port ${sched.port}`);
  assert.equal(
    containerPort(container(scheduler), port.targetPort ?? port.port),
    flagsOf(scheduler).nodeBindAddress.port,
    "the Service's port leads to the scheduler's --node-bind-address",
  );
  // Executors join before the scheduler is ready (it is ready once an executor has joined).
  assert.equal(svc.spec.publishNotReadyAddresses, true);

  assert.equal(executor.kind, "StatefulSet");
  const headless = SERVICES.find((s) => s.metadata.name === executor.spec.serviceName);
  assert.ok(headless, `the StatefulSet's serviceName ${executor.spec.serviceName} exists`);
  assert.equal(headless.spec.clusterIP, "None");
  assert.equal(headless.spec.publishNotReadyAddresses, true);
  assert.ok(selects(headless, executor));
  assert.equal(
    flagsOf(executor).nodeAdvertiseAddress,
    `${executor.metadata.name}-0.${headless.metadata.name}.${NAMESPACE}.svc.cluster.local`,
  );
});

// ---------------------------------------------------------------------------
// certificates.md
// ---------------------------------------------------------------------------

const HAS_OPENSSL = await new Deno.Command("openssl", {
  args: ["version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

/** The dialled name of each role, as the manifests make it. */
function dialledNames(): Record<string, string> {
  const executor = workload("executor");
  return {
    scheduler: flagsOf(executor).schedulerAddress!.host,
    executor: flagsOf(executor).nodeAdvertiseAddress!,
  };
}

async function handshake(
  dir: string,
  role: string,
  hostname: string,
): Promise<boolean> {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(join(dir, `${role}.crt`)),
    key: await Deno.readTextFile(join(dir, `${role}.key`)),
  });
  const accepted = (async () => {
    try {
      const conn = await listener.accept();
      try {
        await conn.handshake();
      } catch { /* the client refused */ }
      conn.close();
    } catch { /* listener closed */ }
  })();
  let ok = false;
  try {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const tls = await Deno.startTls(tcp, {
      hostname,
      caCerts: [await Deno.readTextFile(join(dir, "ca.crt"))],
    });
    try {
      await tls.handshake();
      ok = true;
    } catch {
      ok = false;
    } finally {
      tls.close();
    }
  } finally {
    listener.close();
    await accepted;
  }
  return ok;
}

Deno.test({
  name:
    "certificates.md's openssl commands make certificates the nodes accept, for the names they are dialled by",
  ignore: !HAS_OPENSSL,
  fn: async () => {
    const doc = await Deno.readTextFile(join(DIR, "certificates.md"));
    const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
    // The CA and node certificate blocks (not kubectl, not the spiced command lines).
    const script = blocks.filter((b) => !b.includes("kubectl") && !/^\s*spiced /.test(b));
    assert.ok(script.length >= 2, "certificates.md has the CA and node blocks");
    const dir = await Deno.makeTempDir({ prefix: "spiced-certs-" });
    try {
      const out = await new Deno.Command("bash", {
        args: ["-euo", "pipefail", "-c", script.join("\n")],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(120_000),
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      for (
        const f of ["ca.crt", "scheduler.crt", "scheduler.key", "executor.crt", "executor.key"]
      ) {
        assert.ok((await Deno.stat(join(dir, f))).isFile, f);
      }
      // The runtime's own start-up check accepts each node's files.
      for (const role of ["scheduler", "executor"]) {
        const flags = parseFlags([
          "--role",
          "scheduler",
          "--node-mtls-ca-certificate-file",
          join(dir, "ca.crt"),
          "--node-mtls-certificate-file",
          join(dir, `${role}.crt`),
          "--node-mtls-key-file",
          join(dir, `${role}.key`),
        ], {});
        await loadClusterSecurity(flags);
      }
      // A TLS client that dials the name from the manifests accepts the certificate; the other
      // role's name is refused (so the names are really checked).
      const names = dialledNames();
      assert.ok(await handshake(dir, "scheduler", names.scheduler), names.scheduler);
      assert.ok(
        await handshake(dir, "scheduler", `${names.scheduler}.${NAMESPACE}.svc.cluster.local`),
      );
      assert.ok(await handshake(dir, "executor", names.executor), names.executor);
      assert.ok(
        await handshake(dir, "executor", names.executor.replace("-0.", "-7.")),
        "the executor certificate covers every replica",
      );
      assert.ok(!(await handshake(dir, "executor", names.scheduler)), "names are checked");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
