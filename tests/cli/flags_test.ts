import assert from "node:assert/strict";
import { SpiceError } from "../../src/errors.ts";
import {
  checkClusterSecurity,
  type Flags,
  formatHostPort,
  HELP_TEXT,
  INSECURE_WARNING,
  parseFlags,
  parseHostPort,
  VERSION,
} from "../../src/cli/mod.ts";

/** Parses with an empty environment, so the host's NODE_ADVERTISE_ADDRESS cannot leak in. */
function parse(...argv: string[]): Flags {
  return parseFlags(argv, {});
}

/** The one-line message of the CONFIG error that `argv` produces. */
function errorOf(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseFlags(argv, env);
  } catch (e) {
    assert.ok(e instanceof SpiceError, `expected a SpiceError, got ${e}`);
    assert.equal(e.code, "CONFIG");
    assert.ok(!e.message.includes("\n"), `message should be one line: ${e.message}`);
    return e.message;
  }
  assert.fail(`expected ${JSON.stringify(argv)} to be refused`);
}

const MTLS = [
  "--node-mtls-ca-certificate-file",
  "ca.pem",
  "--node-mtls-certificate-file",
  "node.pem",
  "--node-mtls-key-file",
  "node.key",
];

Deno.test("no flags: Spice's defaults, standalone", () => {
  const f = parse();
  assert.deepEqual(f.http, { host: "127.0.0.1", port: 8090 });
  assert.deepEqual(f.flight, { host: "127.0.0.1", port: 50051 });
  assert.deepEqual(f.metrics, { host: "127.0.0.1", port: 9090 });
  assert.deepEqual(f.nodeBindAddress, { host: "0.0.0.0", port: 50052 });
  assert.equal(f.role, "standalone");
  assert.equal(f.schedulerAddress, undefined);
  assert.equal(f.nodeAdvertiseAddress, undefined);
  assert.deepEqual(f.mtls, {});
  assert.equal(f.allowInsecureConnections, false);
  assert.equal(f.executorSlots, navigator.hardwareConcurrency);
  assert.equal(f.tls, undefined);
  assert.equal(f.spicepod, "./spicepod.yaml");
  assert.equal(f.spicepodExplicit, false);
  assert.equal(f.help, false);
  assert.equal(f.version, false);
  assert.equal(f.explicit.size, 0);
});

Deno.test("the result is frozen", () => {
  const f = parse("--http", "0.0.0.0:8090");
  assert.ok(Object.isFrozen(f));
  assert.ok(Object.isFrozen(f.http));
  assert.ok(Object.isFrozen(f.mtls));
  assert.throws(() => {
    (f as { role: string }).role = "executor";
  }, TypeError);
});

Deno.test("listen addresses: --http, --flight, --metrics, both = and space forms", () => {
  const f = parse("--http", "0.0.0.0:18090", "--flight=localhost:15051", "--metrics", "10.0.0.7:0");
  assert.deepEqual(f.http, { host: "0.0.0.0", port: 18090 });
  assert.deepEqual(f.flight, { host: "localhost", port: 15051 });
  assert.deepEqual(f.metrics, { host: "10.0.0.7", port: 0 });
  assert.deepEqual([...f.explicit].sort(), ["flight", "http", "metrics"]);
});

Deno.test("IPv6 addresses in brackets; the host is stored without them", () => {
  const f = parse("--http", "[::1]:8090", "--flight", "[2001:db8::7]:50051");
  assert.deepEqual(f.http, { host: "::1", port: 8090 });
  assert.equal(formatHostPort(f.http), "[::1]:8090");
  assert.equal(formatHostPort(f.flight), "[2001:db8::7]:50051");
  assert.deepEqual(parse("--metrics", "[::ffff:127.0.0.1]:9090").metrics.host, "::ffff:127.0.0.1");
});

Deno.test("an unbracketed IPv6 address is refused with a hint to use brackets", () => {
  assert.equal(
    errorOf(["--http", "::1:8090"]),
    'invalid value for --http: "::1:8090" (expected HOST:PORT, e.g. 127.0.0.1:8090; write IPv6 addresses in brackets, e.g. [::1]:8090)',
  );
});

Deno.test("bad HOST:PORT values name the flag and the value", () => {
  assert.equal(
    errorOf(["--http", "abc"]),
    'invalid value for --http: "abc" (expected HOST:PORT, e.g. 127.0.0.1:8090)',
  );
  assert.equal(
    errorOf(["--flight", "127.0.0.1:65536"]),
    'invalid value for --flight: "127.0.0.1:65536" (expected HOST:PORT, e.g. 127.0.0.1:50051)',
  );
  assert.match(
    errorOf(["--metrics", "127.0.0.1:-1"]),
    /^invalid value for --metrics: "127\.0\.0\.1:-1"/,
  );
  assert.match(errorOf(["--metrics", ":9090"]), /^invalid value for --metrics: ":9090"/);
  assert.match(errorOf(["--http", "300.1.1.1:80"]), /^invalid value for --http: "300\.1\.1\.1:80"/);
  assert.match(errorOf(["--http", "bad host:80"]), /^invalid value for --http: "bad host:80"/);
  assert.match(errorOf(["--http", "host:80x"]), /^invalid value for --http: "host:80x"/);
  assert.match(errorOf(["--http", "[::1]"]), /^invalid value for --http: "\[::1\]"/);
  assert.match(
    errorOf(["--node-bind-address", "0.0.0.0"]),
    /^invalid value for --node-bind-address: "0\.0\.0\.0" \(expected HOST:PORT, e\.g\. 0\.0\.0\.0:50052\)$/,
  );
});

Deno.test("parseHostPort and formatHostPort round-trip", () => {
  for (
    const text of ["127.0.0.1:8090", "localhost:50052", "[::1]:0", "my-host.svc.cluster.local:443"]
  ) {
    assert.equal(formatHostPort(parseHostPort(text)), text);
  }
  assert.throws(() => parseHostPort("nope"), {
    name: "SpiceError",
    message: 'invalid address "nope" (expected HOST:PORT, e.g. 127.0.0.1:8090)',
  });
  assert.throws(() => parseHostPort("::1:80", "peer"), {
    message:
      'invalid value for peer: "::1:80" (expected HOST:PORT, e.g. 127.0.0.1:8090; write IPv6 addresses in brackets, e.g. [::1]:8090)',
  });
});

Deno.test("a missing flag value names the flag and what it expects", () => {
  assert.equal(
    errorOf(["--http"]),
    "missing value for --http (expected HOST:PORT, e.g. 127.0.0.1:8090)",
  );
  // The next word is a flag, so the value was forgotten.
  assert.equal(
    errorOf(["--spicepod", "--help"]),
    "missing value for --spicepod (expected PATH)",
  );
});

Deno.test("unknown flags are refused, with a suggestion for near misses", () => {
  assert.equal(errorOf(["--foo"]), "unknown flag --foo (see --help)");
  assert.equal(errorOf(["-x"]), "unknown flag -x (see --help)");
  assert.equal(
    errorOf(["--schedular-address", "https://s:50052"]),
    "unknown flag --schedular-address (did you mean --scheduler-address? see --help)",
  );
});

Deno.test("a positional argument is an error naming it", () => {
  assert.equal(
    errorOf(["./app"]),
    'unexpected argument "./app": spiced takes no positional arguments; use --spicepod ./app',
  );
  assert.match(errorOf(["--", "x"]), /^unexpected argument "x"/);
});

Deno.test("a boolean flag with a value is refused", () => {
  assert.equal(
    errorOf(["--allow-insecure-connections=false"]),
    "--allow-insecure-connections does not take a value (give --allow-insecure-connections alone)",
  );
});

Deno.test("a flag given twice is refused", () => {
  assert.equal(
    errorOf(["--http", "127.0.0.1:1", "--http=127.0.0.1:2"]),
    "--http is given more than once",
  );
});

Deno.test("--role scheduler and --role standalone", () => {
  assert.equal(parse("--role", "scheduler").role, "scheduler");
  assert.equal(parse("--role", "standalone").role, "standalone");
  assert.ok(parse("--role", "scheduler").explicit.has("role"));
});

Deno.test("an unknown --role names the value", () => {
  assert.equal(
    errorOf(["--role", "worker"]),
    'invalid --role "worker" (expected scheduler or executor)',
  );
});

Deno.test("--role executor with --scheduler-address, --executor-slots", () => {
  const f = parse(
    "--role",
    "executor",
    "--scheduler-address",
    "https://scheduler.spice.svc:50052",
    "--executor-slots",
    "6",
  );
  assert.equal(f.role, "executor");
  assert.deepEqual(f.schedulerAddress, {
    scheme: "https",
    host: "scheduler.spice.svc",
    port: 50052,
    url: "https://scheduler.spice.svc:50052",
  });
  assert.equal(f.executorSlots, 6);
});

Deno.test("--scheduler-address: IPv6, trailing slash, http scheme", () => {
  const f = parse("--role", "executor", "--scheduler-address", "http://[fd00::5]:50052/");
  assert.equal(f.schedulerAddress?.scheme, "http");
  assert.equal(f.schedulerAddress?.host, "fd00::5");
  assert.equal(f.schedulerAddress?.url, "http://[fd00::5]:50052");
});

Deno.test("--role executor requires --scheduler-address", () => {
  assert.equal(
    errorOf(["--role", "executor"]),
    "--role executor requires --scheduler-address (e.g. --scheduler-address https://scheduler:50052)",
  );
});

Deno.test("bad --scheduler-address values name the flag and the value", () => {
  const expected = "expected https://HOST:PORT or http://HOST:PORT, e.g. https://scheduler:50052";
  assert.equal(
    errorOf(["--role", "executor", "--scheduler-address", "scheduler:50052"]),
    `invalid value for --scheduler-address: "scheduler:50052" (${expected}; the scheme is required)`,
  );
  assert.equal(
    errorOf(["--role", "executor", "--scheduler-address", "https://scheduler"]),
    `invalid value for --scheduler-address: "https://scheduler" (${expected})`,
  );
  assert.equal(
    errorOf(["--role", "executor", "--scheduler-address", "grpc://scheduler:50052"]),
    `invalid value for --scheduler-address: "grpc://scheduler:50052" (${expected})`,
  );
  assert.match(
    errorOf(["--role", "executor", "--scheduler-address", "https://s:50052/path"]),
    /^invalid value for --scheduler-address: "https:\/\/s:50052\/path"/,
  );
});

Deno.test("--scheduler-address is refused on roles other than executor", () => {
  assert.equal(
    errorOf(["--role", "scheduler", "--scheduler-address", "https://s:50052"]),
    "--scheduler-address is only used with --role executor (this node is scheduler)",
  );
  assert.equal(
    errorOf(["--scheduler-address", "https://s:50052"]),
    "--scheduler-address is only used with --role executor (this node is standalone)",
  );
});

Deno.test("--executor-slots must be a positive integer, on an executor", () => {
  const base = ["--role", "executor", "--scheduler-address", "https://s:50052"];
  for (const bad of ["0", "1.5", "four", "+4", "0x10"]) {
    assert.equal(
      errorOf([...base, "--executor-slots", bad]),
      `invalid value for --executor-slots: ${
        JSON.stringify(bad)
      } (expected a positive integer, e.g. 8)`,
    );
  }
  assert.equal(
    errorOf([...base, "--executor-slots", "-1"]),
    "missing value for --executor-slots (expected a positive integer, e.g. 8)",
  );
  assert.equal(
    errorOf(["--executor-slots", "4"]),
    "--executor-slots is only used with --role executor (this node is standalone)",
  );
});

Deno.test("--node-bind-address and --node-advertise-address", () => {
  const f = parse(
    "--role",
    "scheduler",
    "--node-bind-address",
    "[::]:6000",
    "--node-advertise-address",
    "scheduler-0.spice:6000",
  );
  assert.deepEqual(f.nodeBindAddress, { host: "::", port: 6000 });
  assert.equal(f.nodeAdvertiseAddress, "scheduler-0.spice:6000");
  // HOST alone is fine: the port then comes from the bind address.
  assert.equal(parse("--node-advertise-address", "10.1.2.3").nodeAdvertiseAddress, "10.1.2.3");
  assert.equal(parse("--node-advertise-address", "[fd00::1]").nodeAdvertiseAddress, "[fd00::1]");
  assert.equal(
    errorOf(["--node-advertise-address", "host:99999"]),
    'invalid value for --node-advertise-address: "host:99999" (expected HOST or HOST:PORT, e.g. executor-1.cluster.local:50052)',
  );
});

Deno.test("NODE_ADVERTISE_ADDRESS from the environment, overridden by the flag", () => {
  const env = { NODE_ADVERTISE_ADDRESS: "executor-3.spice.svc" };
  assert.equal(parseFlags([], env).nodeAdvertiseAddress, "executor-3.spice.svc");
  assert.equal(parseFlags([], env).explicit.has("node-advertise-address"), false);
  assert.equal(
    parseFlags(["--node-advertise-address", "other:1"], env).nodeAdvertiseAddress,
    "other:1",
  );
  assert.equal(parseFlags([], { NODE_ADVERTISE_ADDRESS: "" }).nodeAdvertiseAddress, undefined);
  assert.equal(
    errorOf([], { NODE_ADVERTISE_ADDRESS: "bad host" }),
    'invalid value for NODE_ADVERTISE_ADDRESS: "bad host" (expected HOST or HOST:PORT, e.g. executor-1.cluster.local:50052)',
  );
});

Deno.test("mTLS files and --allow-insecure-connections are recorded", () => {
  const f = parse("--role", "scheduler", ...MTLS, "--allow-insecure-connections");
  assert.deepEqual(f.mtls, { caFile: "ca.pem", certFile: "node.pem", keyFile: "node.key" });
  assert.equal(f.allowInsecureConnections, true);
});

Deno.test("--tls-certificate-file and --tls-key-file: both or neither", () => {
  const f = parse("--tls-certificate-file", "tls.crt", "--tls-key-file", "tls.key");
  assert.deepEqual(f.tls, { certFile: "tls.crt", keyFile: "tls.key" });
  assert.equal(
    errorOf(["--tls-certificate-file", "tls.crt"]),
    "--tls-certificate-file requires --tls-key-file (TLS needs both)",
  );
  assert.equal(
    errorOf(["--tls-key-file", "tls.key"]),
    "--tls-key-file requires --tls-certificate-file (TLS needs both)",
  );
});

Deno.test("--spicepod sets the path and marks it explicit; empty paths are refused", () => {
  const f = parse("--spicepod", "/etc/spice/spicepod.yaml");
  assert.equal(f.spicepod, "/etc/spice/spicepod.yaml");
  assert.equal(f.spicepodExplicit, true);
  assert.equal(
    errorOf(["--spicepod="]),
    'invalid value for --spicepod: "" (expected a file path)',
  );
});

Deno.test("--help and --version, long and short, skip value validation", () => {
  assert.equal(parse("--help").help, true);
  assert.equal(parse("-h").help, true);
  assert.equal(parse("--version").version, true);
  assert.equal(parse("-V").version, true);
  // The user asked to read; a bad role elsewhere on the line must not hide the help.
  assert.equal(parse("--help", "--role", "worker").help, true);
  // Unknown flags are still refused, so a typo is not mistaken for help output.
  assert.equal(errorOf(["--help", "--bogus"]), "unknown flag --bogus (see --help)");
});

Deno.test("HELP_TEXT lists every flag and VERSION comes from deno.json", () => {
  for (
    const flag of [
      "--http <HOST:PORT>",
      "--flight <HOST:PORT>",
      "--metrics <HOST:PORT>",
      "--role <ROLE>",
      "--scheduler-address <URL>",
      "--node-bind-address <HOST:PORT>",
      "--node-advertise-address <HOST[:PORT]>",
      "--node-mtls-ca-certificate-file <PATH>",
      "--node-mtls-certificate-file <PATH>",
      "--node-mtls-key-file <PATH>",
      "--allow-insecure-connections",
      "--executor-slots <N>",
      "--tls-certificate-file <PATH>",
      "--tls-key-file <PATH>",
      "--spicepod <PATH>",
      "-h, --help",
      "-V, --version",
    ]
  ) {
    assert.ok(HELP_TEXT.includes(flag), `help lists ${flag}`);
  }
  assert.ok(HELP_TEXT.includes("[default: 127.0.0.1:8090]"));
  assert.match(VERSION, /^\d+\.\d+\.\d+/);
  assert.ok(HELP_TEXT.startsWith(`spiced ${VERSION}`));
});

// --- checkClusterSecurity ---------------------------------------------------

Deno.test("security: standalone needs nothing", () => {
  assert.deepEqual(checkClusterSecurity(parse()), { ok: true });
});

Deno.test("security: a cluster node with all three mTLS files is fine", () => {
  assert.deepEqual(checkClusterSecurity(parse("--role", "scheduler", ...MTLS)), { ok: true });
  const executor = parse("--role", "executor", "--scheduler-address", "https://s:50052", ...MTLS);
  assert.deepEqual(checkClusterSecurity(executor), { ok: true });
});

Deno.test("security: a cluster node without mTLS is refused, telling which flags to give", () => {
  assert.deepEqual(checkClusterSecurity(parse("--role", "scheduler")), {
    ok: false,
    message:
      "--role scheduler requires mutual TLS for cluster communication: give --node-mtls-ca-certificate-file, --node-mtls-certificate-file and --node-mtls-key-file (or --allow-insecure-connections for development)",
  });
  const executor = parse("--role", "executor", "--scheduler-address", "http://s:50052");
  const r = checkClusterSecurity(executor);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.message : "", /^--role executor requires mutual TLS/);
});

Deno.test("security: partial mTLS names the missing files, even with insecure allowed", () => {
  const f = parse("--role", "scheduler", "--node-mtls-ca-certificate-file", "ca.pem");
  assert.deepEqual(checkClusterSecurity(f), {
    ok: false,
    message:
      "incomplete mTLS configuration for --role scheduler: missing --node-mtls-certificate-file and --node-mtls-key-file (mutual TLS needs --node-mtls-ca-certificate-file, --node-mtls-certificate-file and --node-mtls-key-file)",
  });
  const g = parse(
    "--role",
    "scheduler",
    "--allow-insecure-connections",
    "--node-mtls-certificate-file",
    "n.pem",
    "--node-mtls-key-file",
    "n.key",
  );
  const r = checkClusterSecurity(g);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.message : "", /missing --node-mtls-ca-certificate-file \(/);
});

Deno.test("security: --allow-insecure-connections starts with the warning", () => {
  const f = parse(
    "--role",
    "executor",
    "--scheduler-address",
    "http://127.0.0.1:50052",
    "--allow-insecure-connections",
  );
  assert.deepEqual(checkClusterSecurity(f), { ok: true, warning: INSECURE_WARNING });
  assert.equal(
    INSECURE_WARNING,
    "WARNING: --allow-insecure-connections is set: cluster communication is not encrypted and nodes are not authenticated. Use only for development.",
  );
});

Deno.test("security: an http:// scheduler address with mTLS files is still refused", () => {
  const f = parse("--role", "executor", "--scheduler-address", "http://s:50052", ...MTLS);
  assert.deepEqual(checkClusterSecurity(f), {
    ok: false,
    message:
      "--scheduler-address http://s:50052 is not encrypted: use https://s:50052 with mTLS (or --allow-insecure-connections for development)",
  });
});
