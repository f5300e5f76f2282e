/**
 * Command-line flags of `spiced`, the same flags as the Spice.ai runtime's.
 *
 * `parseFlags` turns argv into a typed, frozen `Flags` and refuses anything it
 * does not understand: an unknown flag, a positional argument, a malformed
 * address, a flag that does not fit the chosen role. Every refusal is a
 * `SpiceError("CONFIG")` whose message is one line naming the flag and the bad
 * value, because it is printed as-is at start-up and the user must be able to
 * fix the command line from that line alone.
 *
 * `checkClusterSecurity` is kept apart from parsing: whether a cluster may run
 * without mutual TLS is a policy decision the runtime reports (and may log as
 * a warning), not a syntax error.
 *
 * @module
 */

import { parseArgs } from "node:util";
import meta from "../../deno.json" with { type: "json" };
import { SpiceError } from "../errors.ts";

/** The runtime's version, from deno.json, printed by `--version`. */
export const VERSION: string = meta.version;

/** A listening or connecting address: host (IPv6 without brackets) and port. */
export interface HostPort {
  /** A hostname, an IPv4 address, or an IPv6 address without its brackets. */
  readonly host: string;
  /** 0..65535; 0 asks the operating system for a free port. */
  readonly port: number;
}

/** What this process is: one node of a cluster, or everything in one process. */
export type Role = "standalone" | "scheduler" | "executor";

/** Where an executor finds its scheduler. */
export interface SchedulerAddress {
  /** `https` is the normal form (with mTLS); `http` needs --allow-insecure-connections. */
  readonly scheme: "http" | "https";
  /** Hostname or IP (IPv6 without brackets). */
  readonly host: string;
  /** The scheduler's cluster port. */
  readonly port: number;
  /** The normalised URL, `scheme://host:port` (IPv6 in brackets), for gRPC clients and logs. */
  readonly url: string;
}

/** Certificate files for mutual TLS between cluster nodes; each is given or not. */
export interface MtlsFiles {
  /** `--node-mtls-ca-certificate-file`: the cluster CA that signs every node's certificate. */
  readonly caFile?: string;
  /** `--node-mtls-certificate-file`: this node's certificate. */
  readonly certFile?: string;
  /** `--node-mtls-key-file`: this node's private key. */
  readonly keyFile?: string;
}

/** TLS for the client-facing HTTP and Flight endpoints. */
export interface TlsFiles {
  /** `--tls-certificate-file`. */
  readonly certFile: string;
  /** `--tls-key-file`. */
  readonly keyFile: string;
}

/** The parsed, validated command line. Frozen: configuration does not change after start-up. */
export interface Flags {
  /** `--http`: the HTTP API (/v1/sql, /health, ...). */
  readonly http: HostPort;
  /** `--flight`: the Arrow Flight (SQL) endpoint. */
  readonly flight: HostPort;
  /** `--metrics`: the Prometheus metrics endpoint. */
  readonly metrics: HostPort;
  /** `--role`; absent means standalone. */
  readonly role: Role;
  /** `--scheduler-address`; present exactly when role is executor. */
  readonly schedulerAddress?: SchedulerAddress;
  /** `--node-bind-address`: where the cluster gRPC server of this node listens. */
  readonly nodeBindAddress: HostPort;
  /** `--node-advertise-address` (or env NODE_ADVERTISE_ADDRESS): HOST or HOST:PORT peers use to reach this node. */
  readonly nodeAdvertiseAddress?: string;
  /** The `--node-mtls-*` files, as given (existence is checked by the mTLS module). */
  readonly mtls: MtlsFiles;
  /** `--allow-insecure-connections`: cluster traffic without mTLS, for development. */
  readonly allowInsecureConnections: boolean;
  /** `--executor-slots`: how many tasks run at once; defaults to the number of CPU cores. */
  readonly executorSlots: number;
  /** `--tls-certificate-file` and `--tls-key-file`, both or neither. */
  readonly tls?: TlsFiles;
  /** `--spicepod`: path of spicepod.yaml (or of its directory). */
  readonly spicepod: string;
  /** Whether `--spicepod` was given (a missing default spicepod may be fine, a missing explicit one is not). */
  readonly spicepodExplicit: boolean;
  /** `--help` / `-h`. */
  readonly help: boolean;
  /** `--version` / `-V`. */
  readonly version: boolean;
  /**
   * Long names (without the leading `--`) of the flags given on the command
   * line, e.g. `"http"`, `"node-bind-address"`. A default port that another
   * spiced on the same host already holds may move to a free port; an
   * explicit one never moves, so the runtime needs to know which is which.
   */
  readonly explicit: ReadonlySet<string>;
}

/** Defaults, as in Spice.ai. Kept as text so that they go through the same parser as flags. */
const DEFAULTS = {
  http: "127.0.0.1:8090",
  flight: "127.0.0.1:50051",
  metrics: "127.0.0.1:9090",
  nodeBindAddress: "0.0.0.0:50052",
  spicepod: "./spicepod.yaml",
} as const;

/** The flag table: one source for parseArgs, the help text and "expected ..." hints. */
const FLAGS = {
  "http": {
    type: "string",
    meta: "HOST:PORT",
    help: `HTTP API address [default: ${DEFAULTS.http}]`,
  },
  "flight": {
    type: "string",
    meta: "HOST:PORT",
    help: `Arrow Flight (SQL) address [default: ${DEFAULTS.flight}]`,
  },
  "metrics": {
    type: "string",
    meta: "HOST:PORT",
    help: `Prometheus metrics address [default: ${DEFAULTS.metrics}]`,
  },
  "role": {
    type: "string",
    meta: "ROLE",
    help: "scheduler or executor; omit to run everything in one process (standalone)",
  },
  "scheduler-address": {
    type: "string",
    meta: "URL",
    help: "Scheduler to join, https://HOST:PORT (required with --role executor)",
  },
  "node-bind-address": {
    type: "string",
    meta: "HOST:PORT",
    help: `Cluster gRPC listen address [default: ${DEFAULTS.nodeBindAddress}]`,
  },
  "node-advertise-address": {
    type: "string",
    meta: "HOST[:PORT]",
    help: "Address other nodes use to reach this one [env: NODE_ADVERTISE_ADDRESS]",
  },
  "node-mtls-ca-certificate-file": {
    type: "string",
    meta: "PATH",
    help: "Cluster CA certificate (PEM) for mutual TLS",
  },
  "node-mtls-certificate-file": {
    type: "string",
    meta: "PATH",
    help: "This node's certificate (PEM), signed by the cluster CA",
  },
  "node-mtls-key-file": { type: "string", meta: "PATH", help: "This node's private key (PEM)" },
  "allow-insecure-connections": {
    type: "boolean",
    meta: "",
    help: "Allow cluster traffic without mTLS (development only)",
  },
  "executor-slots": {
    type: "string",
    meta: "N",
    help: "Tasks an executor runs at once [default: number of CPU cores]",
  },
  "tls-certificate-file": {
    type: "string",
    meta: "PATH",
    help: "TLS certificate (PEM) for the HTTP and Flight endpoints",
  },
  "tls-key-file": {
    type: "string",
    meta: "PATH",
    help: "TLS private key (PEM) for the HTTP and Flight endpoints",
  },
  "spicepod": {
    type: "string",
    meta: "PATH",
    help: `spicepod.yaml, or the directory holding it [default: ${DEFAULTS.spicepod}]`,
  },
  "help": { type: "boolean", short: "h", meta: "", help: "Print help" },
  "version": { type: "boolean", short: "V", meta: "", help: "Print version" },
} as const satisfies Record<
  string,
  { type: "string" | "boolean"; short?: string; meta: string; help: string }
>;

type FlagName = keyof typeof FLAGS;

/** "expected ..." hints for error messages, by kind of value. */
const EXPECT_HOST_PORT = (example: string) => `expected HOST:PORT, e.g. ${example}`;
const EXPECT: Partial<Record<FlagName, string>> = {
  "http": EXPECT_HOST_PORT(DEFAULTS.http),
  "flight": EXPECT_HOST_PORT(DEFAULTS.flight),
  "metrics": EXPECT_HOST_PORT(DEFAULTS.metrics),
  "node-bind-address": EXPECT_HOST_PORT(DEFAULTS.nodeBindAddress),
  "role": "expected scheduler or executor",
  "scheduler-address":
    "expected https://HOST:PORT or http://HOST:PORT, e.g. https://scheduler:50052",
  "node-advertise-address": "expected HOST or HOST:PORT, e.g. executor-1.cluster.local:50052",
  "executor-slots": "expected a positive integer, e.g. 8",
};

function pad(s: string, width: number): string {
  return s.length >= width ? s + "  " : s + " ".repeat(width - s.length);
}

/** The `--help` text: usage and a flag table in the style of Spice's (clap) help. */
export const HELP_TEXT: string = (() => {
  const rows = Object.entries(FLAGS).map(([name, f]) => {
    const short = "short" in f ? `-${f.short}, ` : "    ";
    const value = f.meta ? ` <${f.meta}>` : "";
    return [`  ${short}--${name}${value}`, f.help];
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `spiced ${VERSION}: the Spice.ai runtime, standalone or as a distributed cluster`,
    "",
    "Usage: spiced [OPTIONS]",
    "",
    "Options:",
    ...rows.map(([left, right]) => pad(left, width) + right),
    "",
    "Cluster nodes (--role scheduler|executor) talk gRPC over mutual TLS: give the three",
    "--node-mtls-* files, or --allow-insecure-connections for development.",
    "",
  ].join("\n");
})();

function configError(message: string): SpiceError {
  return new SpiceError("CONFIG", message);
}

function invalidValue(flag: string, value: string, expected: string): SpiceError {
  return configError(`invalid value for ${flag}: ${JSON.stringify(value)} (${expected})`);
}

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isIPv4(s: string): boolean {
  const m = IPV4.exec(s);
  return m !== null && m.slice(1).every((part) => Number(part) <= 255);
}

/** IPv6 text form (RFC 4291 section 2.2), optionally ending in dotted IPv4; no zone ids. */
function isIPv6(s: string): boolean {
  if (s.length === 0 || s.length > 45) return false;
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groupsOf = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  const all = [...head, ...tail];
  let count = all.length;
  const last = all[all.length - 1];
  if (last !== undefined && last.includes(".")) {
    if (!isIPv4(last)) return false;
    all.pop();
    count += 1; // an embedded IPv4 address takes two groups
  }
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** RFC 1123 hostnames; underscores allowed because container runtimes hand them out. */
function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  // All-numeric dotted text is an IPv4 attempt, not a hostname: "127.1" or "1.2.3.999" is a typo.
  if (/^[\d.]+$/.test(s)) return false;
  return s.split(".").every((label) =>
    label.length <= 63 && /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(label)
  );
}

function isHost(s: string): boolean {
  return isIPv4(s) || isHostname(s);
}

function parsePort(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const port = Number(s);
  return port <= 65535 ? port : undefined;
}

/**
 * Splits `HOST:PORT` / `[IPV6]:PORT`. `portRequired: false` also accepts a
 * bare host (and a bare IPv6 address, which cannot be confused with a port).
 * Returns a reason when the text is invalid, so that callers can add a hint.
 */
function splitHostPort(
  text: string,
  portRequired: boolean,
): { host: string; port?: number } | { reason: "ipv6" | "invalid" } {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return { reason: "invalid" };
    const host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (!isIPv6(host)) return { reason: "invalid" };
    if (rest === "" && !portRequired) return { host };
    if (!rest.startsWith(":")) return { reason: "invalid" };
    const port = parsePort(rest.slice(1));
    return port === undefined ? { reason: "invalid" } : { host, port };
  }
  const colons = text.split(":").length - 1;
  if (colons === 0) return !portRequired && isHost(text) ? { host: text } : { reason: "invalid" };
  if (colons > 1) {
    // An unbracketed IPv6 address: with a port it is ambiguous ("::1:8090"), so ask for brackets.
    if (!portRequired && isIPv6(text)) return { host: text };
    return { reason: "ipv6" };
  }
  const [host, portText] = text.split(":");
  const port = parsePort(portText);
  if (!isHost(host) || port === undefined) return { reason: "invalid" };
  return { host, port };
}

const IPV6_HINT = "; write IPv6 addresses in brackets, e.g. [::1]:8090";

/**
 * Parses `HOST:PORT`: a hostname, IPv4 address or bracketed IPv6 address
 * (`[::1]:8090`) and a port 0..65535. For use beyond the flags (peer addresses
 * in cluster messages, tests).
 *
 * @param what the flag or setting the text came from, for the error message.
 * @throws {SpiceError} code CONFIG, e.g. `invalid address "nope" (expected HOST:PORT, ...)`.
 */
export function parseHostPort(text: string, what?: string): HostPort {
  const r = splitHostPort(text, true);
  if ("reason" in r || r.port === undefined) {
    const hint = "reason" in r && r.reason === "ipv6" ? IPV6_HINT : "";
    const expected = `expected HOST:PORT, e.g. 127.0.0.1:8090${hint}`;
    if (what !== undefined) throw invalidValue(what, text, expected);
    throw configError(`invalid address ${JSON.stringify(text)} (${expected})`);
  }
  return Object.freeze({ host: r.host, port: r.port });
}

/** `host:port`, with an IPv6 host in brackets: the inverse of `parseHostPort`. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

function hostPortFlag(flag: FlagName, text: string): HostPort {
  const r = splitHostPort(text, true);
  if ("reason" in r || r.port === undefined) {
    const hint = "reason" in r && r.reason === "ipv6" ? IPV6_HINT : "";
    throw invalidValue(`--${flag}`, text, EXPECT[flag]! + hint);
  }
  return Object.freeze({ host: r.host, port: r.port });
}

function schedulerAddressFlag(text: string): SchedulerAddress {
  const flag = "--scheduler-address";
  const m = /^(https?):\/\/([^/?#]*)\/?$/.exec(text);
  if (!m) {
    const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? "" : "; the scheme is required";
    throw invalidValue(flag, text, EXPECT["scheduler-address"]! + hint);
  }
  const r = splitHostPort(m[2], true);
  if ("reason" in r || r.port === undefined) {
    const hint = "reason" in r && r.reason === "ipv6" ? IPV6_HINT : "";
    throw invalidValue(flag, text, EXPECT["scheduler-address"]! + hint);
  }
  const scheme = m[1] as "http" | "https";
  const url = `${scheme}://${formatHostPort({ host: r.host, port: r.port })}`;
  return Object.freeze({ scheme, host: r.host, port: r.port, url });
}

function advertiseAddress(source: string, text: string): string {
  const r = splitHostPort(text, false);
  if ("reason" in r) {
    const hint = r.reason === "ipv6"
      ? "; write IPv6 addresses in brackets, e.g. [fd00::1]:50052"
      : "";
    throw invalidValue(source, text, EXPECT["node-advertise-address"]! + hint);
  }
  return text;
}

// ---------------------------------------------------------------------------
// argv
// ---------------------------------------------------------------------------

/**
 * Edit distance counting a swap of neighbours as one edit (optimal string
 * alignment), for "did you mean" on a mistyped flag: `--htpp` is one slip from `--http`.
 */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

function suggestFlag(raw: string): string | undefined {
  const name = raw.replace(/^-+/, "").split("=")[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of Object.keys(FLAGS)) {
    const d = distance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 4))
    ? `--${best}`
    : undefined;
}

/** Rewrites node:util's multi-line parseArgs errors as one-line CONFIG errors. */
function translateParseError(e: unknown): SpiceError {
  const err = e as { code?: string; message?: string };
  const message = String(err.message ?? e);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? "";
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const suggestion = suggestFlag(quoted);
    return configError(
      suggestion
        ? `unknown flag ${quoted} (did you mean ${suggestion}? see --help)`
        : `unknown flag ${quoted} (see --help)`,
    );
  }
  if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    // The quoted part is e.g. "--http <value>" or "-h, --help": take the long name.
    const long = /--[a-z][a-z-]*/.exec(quoted)?.[0] ?? quoted;
    const name = long.slice(2) as FlagName;
    if (name in FLAGS && FLAGS[name].type === "boolean") {
      return configError(`${long} does not take a value (give ${long} alone)`);
    }
    const spec = name in FLAGS ? FLAGS[name] : undefined;
    const expected = EXPECT[name] ?? (spec?.meta ? `expected ${spec.meta}` : "expected a value");
    // "argument missing" and "argument is ambiguous" (the next word starts with "-") both
    // mean the value was not where it should be.
    return configError(`missing value for ${long} (${expected})`);
  }
  return configError(message.split("\n")[0]);
}

const parseOptions = Object.fromEntries(
  Object.entries(FLAGS).map((
    [name, f],
  ) => [name, "short" in f ? { type: f.type, short: f.short } : { type: f.type }]),
) as { [K in FlagName]: { type: (typeof FLAGS)[K]["type"]; short?: string } };

function defaultEnv(): Record<string, string | undefined> {
  // Only the one variable the flags read; without --allow-env it is simply absent.
  try {
    return { NODE_ADVERTISE_ADDRESS: Deno.env.get("NODE_ADVERTISE_ADDRESS") };
  } catch {
    return {};
  }
}

function defaultSlots(): number {
  const n = globalThis.navigator?.hardwareConcurrency;
  return Number.isInteger(n) && n > 0 ? n : 1;
}

function pathFlag(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "") throw invalidValue(flag, value, "expected a file path");
  return value;
}

/**
 * Parses and validates the command line (without the program name).
 *
 * `env` supplies NODE_ADVERTISE_ADDRESS when `--node-advertise-address` is not
 * given; it defaults to the process environment. With `--help` or `--version`
 * the other values are not validated (the user only wants to read), but
 * unknown flags are still refused.
 *
 * @throws {SpiceError} code CONFIG, with a one-line message naming the flag and value.
 */
export function parseFlags(argv: string[], env?: Record<string, string | undefined>): Flags {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: parseOptions,
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
  } catch (e) {
    throw translateParseError(e);
  }
  const { values, positionals, tokens } = parsed;

  // Positionals are allowed by parseArgs only so that the error can name them.
  if (positionals.length > 0) {
    const p = positionals[0];
    const hint = /\.ya?ml$/.test(p) || !p.startsWith("-") ? `; use --spicepod ${p}` : "";
    throw configError(
      `unexpected argument ${JSON.stringify(p)}: spiced takes no positional arguments${hint}`,
    );
  }

  // A flag given twice is almost always a mistake in a script; refuse rather than pick one.
  const explicit = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    if (explicit.has(token.name)) throw configError(`--${token.name} is given more than once`);
    explicit.add(token.name);
  }
  const frozenExplicit: ReadonlySet<string> = Object.freeze(explicit);

  const help = values.help === true;
  const version = values.version === true;
  const slotsDefault = defaultSlots();

  if (help || version) {
    return Object.freeze({
      http: parseHostPort(DEFAULTS.http),
      flight: parseHostPort(DEFAULTS.flight),
      metrics: parseHostPort(DEFAULTS.metrics),
      role: "standalone",
      nodeBindAddress: parseHostPort(DEFAULTS.nodeBindAddress),
      mtls: Object.freeze({}),
      allowInsecureConnections: false,
      executorSlots: slotsDefault,
      spicepod: DEFAULTS.spicepod,
      spicepodExplicit: false,
      help,
      version,
      explicit: frozenExplicit,
    });
  }

  const http = hostPortFlag("http", values.http ?? DEFAULTS.http);
  const flight = hostPortFlag("flight", values.flight ?? DEFAULTS.flight);
  const metrics = hostPortFlag("metrics", values.metrics ?? DEFAULTS.metrics);
  const nodeBindAddress = hostPortFlag(
    "node-bind-address",
    values["node-bind-address"] ?? DEFAULTS.nodeBindAddress,
  );

  let role: Role = "standalone";
  if (values.role !== undefined) {
    if (values.role !== "scheduler" && values.role !== "executor" && values.role !== "standalone") {
      throw configError(
        `invalid --role ${JSON.stringify(values.role)} (expected scheduler or executor)`,
      );
    }
    role = values.role;
  }

  let schedulerAddress: SchedulerAddress | undefined;
  if (values["scheduler-address"] !== undefined) {
    // Only an executor connects to a scheduler; on another role the flag would be silently
    // meaningless, which hides a mistaken --role.
    if (role !== "executor") {
      throw configError(
        `--scheduler-address is only used with --role executor (this node is ${role})`,
      );
    }
    schedulerAddress = schedulerAddressFlag(values["scheduler-address"]);
  } else if (role === "executor") {
    throw configError(
      "--role executor requires --scheduler-address (e.g. --scheduler-address https://scheduler:50052)",
    );
  }

  let executorSlots = slotsDefault;
  if (values["executor-slots"] !== undefined) {
    if (role !== "executor") {
      throw configError(
        `--executor-slots is only used with --role executor (this node is ${role})`,
      );
    }
    const text = values["executor-slots"];
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      throw invalidValue("--executor-slots", text, EXPECT["executor-slots"]!);
    }
    executorSlots = n;
  }

  let nodeAdvertiseAddress: string | undefined;
  if (values["node-advertise-address"] !== undefined) {
    nodeAdvertiseAddress = advertiseAddress(
      "--node-advertise-address",
      values["node-advertise-address"],
    );
  } else {
    const fromEnv = (env ?? defaultEnv()).NODE_ADVERTISE_ADDRESS;
    // An empty variable (e.g. `NODE_ADVERTISE_ADDRESS=` in a manifest) means unset.
    if (fromEnv !== undefined && fromEnv !== "") {
      nodeAdvertiseAddress = advertiseAddress("NODE_ADVERTISE_ADDRESS", fromEnv);
    }
  }

  const mtls: MtlsFiles = Object.freeze({
    ...optional(
      "caFile",
      pathFlag("--node-mtls-ca-certificate-file", values["node-mtls-ca-certificate-file"]),
    ),
    ...optional(
      "certFile",
      pathFlag("--node-mtls-certificate-file", values["node-mtls-certificate-file"]),
    ),
    ...optional("keyFile", pathFlag("--node-mtls-key-file", values["node-mtls-key-file"])),
  });

  const tlsCert = pathFlag("--tls-certificate-file", values["tls-certificate-file"]);
  const tlsKey = pathFlag("--tls-key-file", values["tls-key-file"]);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw configError(
      tlsCert === undefined
        ? "--tls-key-file requires --tls-certificate-file (TLS needs both)"
        : "--tls-certificate-file requires --tls-key-file (TLS needs both)",
    );
  }
  const tls = tlsCert !== undefined && tlsKey !== undefined
    ? Object.freeze({ certFile: tlsCert, keyFile: tlsKey })
    : undefined;

  const spicepod = pathFlag("--spicepod", values.spicepod) ?? DEFAULTS.spicepod;

  return Object.freeze({
    http,
    flight,
    metrics,
    role,
    ...optional("schedulerAddress", schedulerAddress),
    nodeBindAddress,
    ...optional("nodeAdvertiseAddress", nodeAdvertiseAddress),
    mtls,
    allowInsecureConnections: values["allow-insecure-connections"] === true,
    executorSlots,
    ...optional("tls", tls),
    spicepod,
    spicepodExplicit: values.spicepod !== undefined,
    help,
    version,
    explicit: frozenExplicit,
  });
}

/** `{key: value}` or `{}`, so optional fields are absent rather than `undefined`. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

// ---------------------------------------------------------------------------
// Cluster security policy
// ---------------------------------------------------------------------------

/** The warning logged at start-up when a cluster node runs without mTLS. */
export const INSECURE_WARNING =
  "WARNING: --allow-insecure-connections is set: cluster communication is not encrypted and nodes are not authenticated. Use only for development.";

/** The outcome of `checkClusterSecurity`: start (maybe with a warning to log), or refuse. */
export type SecurityCheck =
  | { readonly ok: true; readonly warning?: string }
  | { readonly ok: false; readonly message: string };

const MTLS_FLAGS = [
  ["caFile", "--node-mtls-ca-certificate-file"],
  ["certFile", "--node-mtls-certificate-file"],
  ["keyFile", "--node-mtls-key-file"],
] as const;

/**
 * Whether a node may start with this transport security. Cluster nodes
 * (scheduler, executor) need mutual TLS (all three `--node-mtls-*` files) unless
 * `--allow-insecure-connections` is given, which is allowed with a warning.
 * A partial set of mTLS files is refused even then, because it is a mistake
 * rather than a choice. Standalone has no cluster channel and always passes.
 *
 * Only the flags are checked here; whether the files exist and hold valid
 * certificates is the mTLS module's job.
 */
export function checkClusterSecurity(flags: Flags): SecurityCheck {
  if (flags.role === "standalone") return { ok: true };
  const role = `--role ${flags.role}`;
  const given = MTLS_FLAGS.filter(([key]) => flags.mtls[key] !== undefined);
  if (given.length > 0 && given.length < MTLS_FLAGS.length) {
    const missing = MTLS_FLAGS.filter(([key]) => flags.mtls[key] === undefined).map(([, f]) => f);
    return {
      ok: false,
      message: `incomplete mTLS configuration for ${role}: missing ${
        missing.join(" and ")
      } (mutual TLS needs --node-mtls-ca-certificate-file, --node-mtls-certificate-file and --node-mtls-key-file)`,
    };
  }
  if (flags.allowInsecureConnections) return { ok: true, warning: INSECURE_WARNING };
  if (given.length === 0) {
    return {
      ok: false,
      message:
        `${role} requires mutual TLS for cluster communication: give --node-mtls-ca-certificate-file, --node-mtls-certificate-file and --node-mtls-key-file (or --allow-insecure-connections for development)`,
    };
  }
  if (flags.schedulerAddress?.scheme === "http") {
    return {
      ok: false,
      message: `--scheduler-address ${flags.schedulerAddress.url} is not encrypted: use https://${
        formatHostPort(flags.schedulerAddress)
      } with mTLS (or --allow-insecure-connections for development)`,
    };
  }
  return { ok: true };
}
