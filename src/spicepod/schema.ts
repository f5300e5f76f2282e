/**
 * The spicepod.yaml schema: YAML text -> a validated, normalised `Spicepod`.
 *
 * Everything is checked here, at start-up, so that a typo fails the start
 * with one line naming the file, the dataset and the field, instead of
 * surfacing later as a missing table or a query against the wrong data.
 * Unknown keys inside a dataset are errors (they are almost always typos of
 * keys that matter); unknown top-level and `runtime` keys are ignored with a
 * warning, because Spice spicepods carry sections (models, views, ...) that
 * spiced has no use for but that should not stop it.
 *
 * @module
 */

import { isAbsolute, normalize, resolve } from "node:path";
import { parseDocument } from "yaml";
import { SpiceError } from "../errors.ts";
import { parseByteSize } from "./byte_size.ts";
import { parseDuration } from "./duration.ts";
import { type EnvLookup, envLookup, substituteEnv } from "./env.ts";

/** Runtime settings; `null` means "not configured" (the runtime picks its default). */
export interface RuntimeSpec {
  /** API keys from `runtime.auth.api-key.keys`, or `null` when API-key auth is off. */
  readonly apiKeys: readonly string[] | null;
  /** `runtime.query.timeout` in milliseconds. */
  readonly queryTimeoutMs: number | null;
  /** `runtime.query.memory_limit` in bytes. */
  readonly memoryLimitBytes: number | null;
  /** `runtime.query.max_concurrent`: queries running at once. */
  readonly maxConcurrent: number | null;
  /** `runtime.query.max_request_body` in bytes. */
  readonly maxRequestBodyBytes: number | null;
}

/** Where a dataset's data comes from, by the scheme of its `from`. */
export type DatasetScheme = "file" | "s3" | "tpch";

/** A dataset's `acceleration` block. */
export interface AccelerationSpec {
  /** `enabled`; defaults to true when the block is present, as in Spice. */
  readonly enabled: boolean;
  /** The only engine: Arrow record batches in memory. */
  readonly engine: "arrow";
  /** `refresh_check_interval` in milliseconds, or `null` for no periodic refresh. */
  readonly refreshCheckIntervalMs: number | null;
}

/** One validated dataset. */
export interface DatasetSpec {
  /** The table name (a SQL identifier, unique case-insensitively). */
  readonly name: string;
  /** `from`, after `${env:...}` substitution, as written. */
  readonly from: string;
  /** The source kind, from the `from` prefix. */
  readonly scheme: DatasetScheme;
  /**
   * file: the absolute path (relative `from` paths resolve against the
   * spicepod's directory); s3: `bucket/prefix`; tpch: the table name (lower case).
   */
  readonly path: string;
  /** `description`, when given. */
  readonly description?: string;
  /** `params`, every value as a string (numbers and booleans as written by `String`), as Spice does. */
  readonly params: Readonly<Record<string, string>>;
  /** `partition_cols`: hive partition columns, in directory order. */
  readonly partitionCols: readonly string[];
  /** `acceleration`, or `null` when the block is absent. */
  readonly acceleration: AccelerationSpec | null;
}

/** A validated spicepod. */
export interface Spicepod {
  /** `v1` or `v1beta1`. */
  readonly version: string;
  /** Always `Spicepod`. */
  readonly kind: string;
  /** The app's name. */
  readonly name: string;
  /** Runtime settings. */
  readonly runtime: RuntimeSpec;
  /** The datasets, in file order. */
  readonly datasets: readonly DatasetSpec[];
  /** Things ignored or worth telling the user, one line each, for the start-up log. */
  readonly warnings: readonly string[];
  /** The directory relative `file:` paths were resolved against. */
  readonly baseDir: string;
}

/** Options of `parseSpicepod`. */
export interface ParseSpicepodOptions {
  /** The directory of the spicepod: relative `file:` paths resolve against it. */
  baseDir: string;
  /** Variables for `${env:VAR}`; the process environment when absent. */
  env?: Record<string, string | undefined>;
  /** The name errors start with; `spicepod.yaml` when absent. */
  fileName?: string;
}

const VERSIONS = ["v1", "v1beta1"];
const TOP_LEVEL_KEYS = ["version", "kind", "name", "runtime", "datasets"];
const DATASET_KEYS = ["from", "name", "description", "params", "partition_cols", "acceleration"];
const ACCELERATION_KEYS = ["enabled", "engine", "refresh_check_interval"];
const QUERY_KEYS = ["timeout", "memory_limit", "max_concurrent", "max_request_body"];
const API_KEY_KEYS = ["enabled", "keys"];
const ENGINES = ["arrow"];
const FILE_FORMATS = ["parquet", "csv"];
const TPCH_TABLES = [
  "customer",
  "lineitem",
  "nation",
  "orders",
  "part",
  "partsupp",
  "region",
  "supplier",
];

/**
 * Keys that are valid in a Spice.ai spicepod but that spiced does not
 * implement. They get "not supported" rather than "unknown", so that a user
 * porting a spicepod is not sent hunting for a typo.
 */
const SPICE_ONLY_DATASET_KEYS = new Set([
  "time_column",
  "time_format",
  "time_partition_column",
  "time_partition_format",
  "metadata",
  "columns",
  "ready_state",
  "replication",
  "mode",
  "embeddings",
  "dependsOn",
  "invalid_type_action",
  "unsupported_type_action",
  "check_availability",
  "vectors",
]);
const SPICE_ONLY_ACCELERATION_KEYS = new Set([
  "mode",
  "refresh_mode",
  "refresh_sql",
  "refresh_data_window",
  "refresh_append_overlap",
  "refresh_retry_enabled",
  "refresh_retry_max_attempts",
  "refresh_jitter_enabled",
  "refresh_jitter_max",
  "retention_check_enabled",
  "retention_period",
  "retention_check_interval",
  "on_zero_results",
  "params",
  "indexes",
  "primary_key",
  "on_conflict",
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Obj = Record<string, unknown>;

/**
 * Where an error is: the file, then (maybe) a dataset or section, then a field.
 * Joined with ": " so that every message reads
 * `spicepod.yaml: dataset "lineitem": acceleration.engine: unknown engine ...`.
 */
class Reader {
  constructor(readonly file: string, readonly lookup: EnvLookup) {}

  fail(where: string | null, field: string | null, message: string): never {
    throw new SpiceError("CONFIG", [this.file, where, field, message].filter(Boolean).join(": "));
  }

  /** Runs `fn`, re-throwing its CONFIG error with the location in front. */
  at<T>(where: string | null, field: string | null, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof SpiceError && e.code === "CONFIG") this.fail(where, field, e.message);
      throw e;
    }
  }

  /** A string value, with `${env:...}` substituted. */
  string(where: string | null, field: string, value: unknown): string {
    if (typeof value !== "string") {
      this.fail(where, field, `expected a string, got ${describe(value)}`);
    }
    return this.at(where, field, () => substituteEnv(value, this.lookup));
  }

  nonEmptyString(where: string | null, field: string, value: unknown): string {
    const s = this.string(where, field, value);
    if (s.trim() === "") this.fail(where, field, "must not be empty");
    return s;
  }

  /** A boolean, or the strings "true"/"false" (what `${env:...}` produces). */
  boolean(where: string | null, field: string, value: unknown): boolean {
    if (typeof value === "boolean") return value;
    if (typeof value === "string") {
      const s = this.string(where, field, value).trim().toLowerCase();
      if (s === "true") return true;
      if (s === "false") return false;
    }
    this.fail(where, field, `expected true or false, got ${describe(value)}`);
  }

  /** A positive integer, or a string of digits (what `${env:...}` produces). */
  positiveInt(where: string | null, field: string, value: unknown): number {
    let n = NaN;
    if (typeof value === "number") n = value;
    else if (typeof value === "string") {
      const s = this.string(where, field, value).trim();
      if (/^\d+$/.test(s)) n = Number(s);
    }
    if (!Number.isSafeInteger(n) || n < 1) {
      this.fail(where, field, `expected a positive integer, got ${describe(value)}`);
    }
    return n;
  }

  /** A positive duration with a unit, in milliseconds. */
  duration(where: string | null, field: string, value: unknown): number {
    if (typeof value !== "string") {
      this.fail(
        where,
        field,
        `expected a duration with a unit such as 30s, got ${describe(value)}`,
      );
    }
    const s = this.string(where, field, value);
    const ms = this.at(where, field, () => parseDuration(s));
    if (ms <= 0) this.fail(where, field, `must be longer than zero, got ${JSON.stringify(s)}`);
    return ms;
  }

  /** A positive byte size: a number of bytes or a string with a unit. */
  byteSize(where: string | null, field: string, value: unknown): number {
    if (typeof value !== "string" && typeof value !== "number") {
      this.fail(where, field, `expected a size such as 2GiB, got ${describe(value)}`);
    }
    const v = typeof value === "string" ? this.string(where, field, value) : value;
    const bytes = this.at(where, field, () => parseByteSize(v));
    if (bytes <= 0) this.fail(where, field, `must be larger than zero, got ${JSON.stringify(v)}`);
    return bytes;
  }

  /** A mapping, or `null` when the value is absent or empty (`key:` with nothing after it). */
  optionalMapping(where: string | null, field: string, value: unknown): Obj | null {
    if (value === undefined || value === null) return null;
    if (!isMapping(value)) this.fail(where, field, `expected a mapping, got ${describe(value)}`);
    return value;
  }

  /** Refuses keys outside `allowed`, suggesting the closest one. */
  knownKeys(
    where: string | null,
    field: string | null,
    obj: Obj,
    allowed: readonly string[],
    spiceOnly: ReadonlySet<string> = new Set(),
  ): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const supported = `supported: ${allowed.join(", ")}`;
      if (spiceOnly.has(key)) {
        this.fail(where, field, `field "${key}" is not supported by spiced (${supported})`);
      }
      const near = closest(key, allowed);
      this.fail(
        where,
        field,
        near
          ? `unknown field "${key}" (did you mean "${near}"?)`
          : `unknown field "${key}" (${supported})`,
      );
    }
  }
}

function isMapping(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How a wrong value reads in an error: its kind, and short scalars themselves. */
function describe(value: unknown): string {
  if (value === undefined || value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

/**
 * Edit distance counting a swap of neighbours as one edit (optimal string
 * alignment), for "did you mean" on a mistyped key: `enabeld` is one slip from `enabled`.
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

function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(key.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 4)) ? best : undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Parses and validates spicepod.yaml text.
 *
 * `${env:VAR}` references are substituted in every string value the runtime
 * reads (sections that are ignored are not, so an unset variable there does
 * not stop the start).
 *
 * @throws {SpiceError} code CONFIG, one line starting with the file name, e.g.
 *   `spicepod.yaml: datasets[2]: missing required field "from"`.
 */
export function parseSpicepod(text: string, opts: ParseSpicepodOptions): Spicepod {
  const file = opts.fileName ?? "spicepod.yaml";
  // Annotated so that TypeScript treats `r.fail(...)` (returns never) as ending control flow.
  const r: Reader = new Reader(file, envLookup(opts.env));
  const warnings: string[] = [];

  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}` : null;
    // The library's message repeats the position and adds a multi-line excerpt; keep the first line.
    const message = e.message.replace(/ at line \d+, column \d+[\s\S]*$/, "").split("\n")[0];
    r.fail(where, null, `invalid YAML: ${message}`);
  }
  for (const w of doc.warnings) {
    const pos = w.linePos?.[0];
    const message = w.message.replace(/ at line \d+, column \d+[\s\S]*$/, "").split("\n")[0];
    warnings.push(`${file}: ${pos ? `line ${pos.line}, column ${pos.col}: ` : ""}${message}`);
  }
  let root: unknown;
  try {
    root = doc.toJS();
  } catch (e) {
    r.fail(null, null, `invalid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (root === null || root === undefined) {
    r.fail(null, null, "the file is empty (expected at least version, kind and name)");
  }
  if (!isMapping(root)) {
    r.fail(
      null,
      null,
      `expected a mapping with version, kind and name at the top, got ${describe(root)}`,
    );
  }

  for (const key of Object.keys(root)) {
    if (!TOP_LEVEL_KEYS.includes(key)) {
      warnings.push(`${file}: ignoring unsupported top-level key "${key}"`);
    }
  }

  for (const field of ["version", "kind", "name"]) {
    if (root[field] === undefined) r.fail(null, null, `missing required field "${field}"`);
  }
  const version = r.string(null, "version", root.version);
  if (!VERSIONS.includes(version)) {
    r.fail(
      null,
      "version",
      `unsupported version ${JSON.stringify(version)} (supported: v1, v1beta1)`,
    );
  }
  const kind = r.string(null, "kind", root.kind);
  if (kind !== "Spicepod") {
    r.fail(null, "kind", `expected "Spicepod", got ${JSON.stringify(kind)}`);
  }
  const name = r.nonEmptyString(null, "name", root.name);

  const runtime = parseRuntime(r, root.runtime, warnings);
  const datasets = parseDatasets(r, root.datasets, opts.baseDir);

  return deepFreeze({
    version,
    kind,
    name,
    runtime,
    datasets,
    warnings,
    baseDir: resolve(opts.baseDir),
  });
}

function parseRuntime(r: Reader, value: unknown, warnings: string[]): RuntimeSpec {
  const spec = {
    apiKeys: null as string[] | null,
    queryTimeoutMs: null as number | null,
    memoryLimitBytes: null as number | null,
    maxConcurrent: null as number | null,
    maxRequestBodyBytes: null as number | null,
  };
  const runtime = r.optionalMapping(null, "runtime", value);
  if (runtime === null) return spec;

  for (const key of Object.keys(runtime)) {
    if (key === "auth" || key === "query") continue;
    if (key === "tls") {
      // Ignoring this would serve plain text to someone who asked for TLS.
      r.fail(
        null,
        "runtime.tls",
        "not supported in spicepod.yaml; use --tls-certificate-file and --tls-key-file",
      );
    }
    warnings.push(`${r.file}: ignoring unsupported key "runtime.${key}"`);
  }

  const auth = r.optionalMapping(null, "runtime.auth", runtime.auth);
  if (auth !== null) {
    for (const key of Object.keys(auth)) {
      // Configured authentication that is silently not enforced would be worse than refusing.
      if (key !== "api-key") {
        r.fail(null, "runtime.auth", `unsupported auth provider "${key}" (supported: api-key)`);
      }
    }
    const apiKey = r.optionalMapping(null, "runtime.auth.api-key", auth["api-key"]);
    if (apiKey !== null) {
      r.knownKeys(null, "runtime.auth.api-key", apiKey, API_KEY_KEYS);
      // Writing the block means wanting it: enabled unless `enabled: false` says otherwise.
      const enabled = apiKey.enabled === undefined
        ? true
        : r.boolean(null, "runtime.auth.api-key.enabled", apiKey.enabled);
      if (enabled) spec.apiKeys = parseApiKeys(r, apiKey.keys);
    }
  }

  const query = r.optionalMapping(null, "runtime.query", runtime.query);
  if (query !== null) {
    r.knownKeys(null, "runtime.query", query, QUERY_KEYS);
    const f = (k: string) => `runtime.query.${k}`;
    if (query.timeout != null) spec.queryTimeoutMs = r.duration(null, f("timeout"), query.timeout);
    if (query.memory_limit != null) {
      spec.memoryLimitBytes = r.byteSize(null, f("memory_limit"), query.memory_limit);
    }
    if (query.max_concurrent != null) {
      spec.maxConcurrent = r.positiveInt(null, f("max_concurrent"), query.max_concurrent);
    }
    if (query.max_request_body != null) {
      spec.maxRequestBodyBytes = r.byteSize(null, f("max_request_body"), query.max_request_body);
    }
  }
  return spec;
}

function parseApiKeys(r: Reader, value: unknown): string[] {
  const field = "runtime.auth.api-key.keys";
  if (value === undefined || value === null) {
    r.fail(null, field, "at least one key is required when api-key auth is enabled");
  }
  if (!Array.isArray(value)) r.fail(null, field, `expected a list of keys, got ${describe(value)}`);
  if (value.length === 0) {
    r.fail(null, field, "at least one key is required when api-key auth is enabled");
  }
  return value.map((key, i) => {
    // An unquoted numeric key would already have lost leading zeros in YAML: refuse, don't guess.
    if (typeof key !== "string") {
      r.fail(null, `${field}[${i}]`, `expected a string (quote the key), got ${describe(key)}`);
    }
    return r.nonEmptyString(null, `${field}[${i}]`, key);
  });
}

function parseDatasets(r: Reader, value: unknown, baseDir: string): DatasetSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) r.fail(null, "datasets", `expected a list, got ${describe(value)}`);
  const seen = new Map<string, string>();
  return value.map((item, i) => {
    const ds = parseDataset(r, item, i, baseDir);
    const key = ds.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      r.fail(
        `dataset "${ds.name}"`,
        "name",
        `duplicate of dataset "${first}" (dataset names are case-insensitive)`,
      );
    }
    seen.set(key, ds.name);
    return ds;
  });
}

function parseDataset(r: Reader, item: unknown, index: number, baseDir: string): DatasetSpec {
  if (!isMapping(item)) {
    r.fail(
      `datasets[${index}]`,
      null,
      `expected a mapping with from and name, got ${describe(item)}`,
    );
  }
  // Name the dataset in errors when it has a usable name; otherwise its position.
  const rawName = item.name;
  const where = typeof rawName === "string" && rawName.trim() !== "" && !rawName.includes("${")
    ? `dataset ${JSON.stringify(rawName)}`
    : `datasets[${index}]`;

  r.knownKeys(where, null, item, DATASET_KEYS, SPICE_ONLY_DATASET_KEYS);
  if (item.from === undefined) r.fail(where, null, `missing required field "from"`);
  if (item.name === undefined) r.fail(where, null, `missing required field "name"`);

  const name = r.nonEmptyString(where, "name", item.name);
  if (!IDENTIFIER.test(name)) {
    r.fail(
      where,
      "name",
      `${
        JSON.stringify(name)
      } is not a valid SQL identifier (letters, digits and underscores, not starting with a digit)`,
    );
  }
  const from = r.nonEmptyString(where, "from", item.from);
  const { scheme, path } = parseFrom(r, where, from, baseDir);

  const description = item.description == null
    ? undefined
    : r.string(where, "description", item.description);

  const params: Record<string, string> = {};
  const rawParams = r.optionalMapping(where, "params", item.params);
  for (const [key, v] of Object.entries(rawParams ?? {})) {
    const field = `params.${key}`;
    if (typeof v === "string") params[key] = r.string(where, field, v);
    else if (typeof v === "number" || typeof v === "boolean") params[key] = String(v);
    else r.fail(where, field, `expected a string, number or boolean, got ${describe(v)}`);
  }
  if (params.file_format !== undefined && !FILE_FORMATS.includes(params.file_format)) {
    r.fail(
      where,
      "params.file_format",
      `unsupported file format ${JSON.stringify(params.file_format)} (supported: ${
        FILE_FORMATS.join(", ")
      })`,
    );
  }
  // Spice's spelling of hive partitioning; the value must be a boolean to mean anything.
  const hive = params.hive_partitioning_enabled;
  if (hive !== undefined && hive !== "true" && hive !== "false") {
    r.fail(
      where,
      "params.hive_partitioning_enabled",
      `expected true or false, got ${JSON.stringify(hive)}`,
    );
  }

  const partitionCols = parsePartitionCols(r, where, item.partition_cols);
  const acceleration = parseAcceleration(r, where, item.acceleration);

  return {
    name,
    from,
    scheme,
    path,
    ...(description === undefined ? {} : { description }),
    params,
    partitionCols,
    acceleration,
  };
}

function parseFrom(
  r: Reader,
  where: string,
  from: string,
  baseDir: string,
): { scheme: DatasetScheme; path: string } {
  if (from.startsWith("file:")) {
    // `file:///abs` is absolute; Spice also accepts `file://rel` and `file:rel` as relative.
    let rest = from.slice("file:".length);
    if (rest.startsWith("//")) rest = rest.slice(2);
    if (rest === "") r.fail(where, "from", `missing path after "file:" in ${JSON.stringify(from)}`);
    return { scheme: "file", path: isAbsolute(rest) ? normalize(rest) : resolve(baseDir, rest) };
  }
  if (from.startsWith("s3://")) {
    const rest = from.slice("s3://".length);
    const bucket = rest.split("/")[0];
    if (bucket === "" || /\s/.test(bucket)) {
      r.fail(
        where,
        "from",
        `missing bucket in ${JSON.stringify(from)} (expected s3://BUCKET/PREFIX/)`,
      );
    }
    return { scheme: "s3", path: rest };
  }
  if (from.startsWith("tpch:")) {
    const table = from.slice("tpch:".length).toLowerCase();
    if (!TPCH_TABLES.includes(table)) {
      r.fail(
        where,
        "from",
        `unknown TPC-H table ${JSON.stringify(from.slice(5))} (tables: ${TPCH_TABLES.join(", ")})`,
      );
    }
    return { scheme: "tpch", path: table };
  }
  r.fail(
    where,
    "from",
    `unsupported source ${
      JSON.stringify(from)
    } (supported: file:PATH, s3://BUCKET/PREFIX/, tpch:TABLE)`,
  );
}

function parsePartitionCols(r: Reader, where: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    r.fail(where, "partition_cols", `expected a list of column names, got ${describe(value)}`);
  }
  const cols = value.map((v, i) => {
    const col = r.nonEmptyString(where, `partition_cols[${i}]`, v);
    if (!IDENTIFIER.test(col)) {
      r.fail(where, `partition_cols[${i}]`, `${JSON.stringify(col)} is not a valid column name`);
    }
    return col;
  });
  const lower = cols.map((c) => c.toLowerCase());
  const dup = lower.findIndex((c, i) => lower.indexOf(c) !== i);
  if (dup >= 0) {
    r.fail(
      where,
      "partition_cols",
      `column ${JSON.stringify(cols[dup])} is listed twice (column names are case-insensitive)`,
    );
  }
  return cols;
}

function parseAcceleration(r: Reader, where: string, value: unknown): AccelerationSpec | null {
  const acc = r.optionalMapping(where, "acceleration", value);
  if (acc === null) return null;
  r.knownKeys(where, "acceleration", acc, ACCELERATION_KEYS, SPICE_ONLY_ACCELERATION_KEYS);
  const enabled = acc.enabled == null
    ? true
    : r.boolean(where, "acceleration.enabled", acc.enabled);
  if (acc.engine != null) {
    const engine = r.string(where, "acceleration.engine", acc.engine);
    if (!ENGINES.includes(engine.toLowerCase())) {
      r.fail(
        where,
        "acceleration.engine",
        `unknown engine ${JSON.stringify(engine)} (supported: ${ENGINES.join(", ")})`,
      );
    }
  }
  const refreshCheckIntervalMs = acc.refresh_check_interval == null
    ? null
    : r.duration(where, "acceleration.refresh_check_interval", acc.refresh_check_interval);
  return { enabled, engine: "arrow", refreshCheckIntervalMs };
}
