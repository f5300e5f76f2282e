import assert from "node:assert/strict";
import { join } from "node:path";
import { SpiceError } from "../../src/errors.ts";
import {
  loadSpicepod,
  parseByteSize,
  parseDuration,
  parseSpicepod,
  type Spicepod,
  substituteEnv,
} from "../../src/spicepod/mod.ts";

const BASE = "/srv/app";

/** Parses with a fixed base directory and an explicit (empty by default) environment. */
function parse(text: string, env: Record<string, string> = {}): Spicepod {
  return parseSpicepod(text, { baseDir: BASE, env });
}

/** The one-line message of the CONFIG error that parsing `text` produces. */
function errorOf(text: string, env: Record<string, string> = {}): string {
  try {
    parse(text, env);
  } catch (e) {
    assert.ok(e instanceof SpiceError, `expected a SpiceError, got ${e}`);
    assert.equal(e.code, "CONFIG");
    assert.ok(!e.message.includes("\n"), `message should be one line: ${e.message}`);
    return e.message;
  }
  assert.fail("expected the spicepod to be refused");
}

const HEAD = "version: v1\nkind: Spicepod\nname: app\n";

/** A spicepod with one dataset whose body is `lines` (indented under the list item). */
function withDataset(...lines: string[]): string {
  return `${HEAD}datasets:\n  - ${lines.join("\n    ")}\n`;
}

Deno.test("the full example from the docs parses and normalises", () => {
  const pod = parse(
    `version: v1
kind: Spicepod
name: my_app
runtime:
  auth:
    api-key:
      enabled: true
      keys: ["\${env:SPICE_KEY}", "literal-key"]
  query:
    timeout: 30s
    memory_limit: 2GiB
    max_concurrent: 16
    max_request_body: 1MiB
datasets:
  - from: file:data/lineitem/
    name: lineitem
    description: optional text
    params:
      file_format: parquet
      scale_factor: 0.01
      hive_partitioning_enabled: true
    partition_cols: [year, month]
    acceleration:
      enabled: true
      engine: arrow
      refresh_check_interval: 10s
`,
    { SPICE_KEY: "from-env" },
  );
  assert.deepEqual(pod, {
    version: "v1",
    kind: "Spicepod",
    name: "my_app",
    runtime: {
      apiKeys: ["from-env", "literal-key"],
      queryTimeoutMs: 30_000,
      memoryLimitBytes: 2 * 1024 ** 3,
      maxConcurrent: 16,
      maxRequestBodyBytes: 1024 ** 2,
    },
    datasets: [{
      name: "lineitem",
      from: "file:data/lineitem/",
      scheme: "file",
      path: "/srv/app/data/lineitem",
      description: "optional text",
      params: { file_format: "parquet", scale_factor: "0.01", hive_partitioning_enabled: "true" },
      partitionCols: ["year", "month"],
      acceleration: { enabled: true, engine: "arrow", refreshCheckIntervalMs: 10_000 },
    }],
    warnings: [],
    baseDir: "/srv/app",
  });
  assert.ok(Object.isFrozen(pod.datasets[0].params));
});

Deno.test("minimal spicepod: no runtime, no datasets", () => {
  const pod = parse(HEAD);
  assert.deepEqual(pod.datasets, []);
  assert.deepEqual(pod.runtime, {
    apiKeys: null,
    queryTimeoutMs: null,
    memoryLimitBytes: null,
    maxConcurrent: null,
    maxRequestBodyBytes: null,
  });
  assert.equal(parse("version: v1beta1\nkind: Spicepod\nname: x\ndatasets:\n").version, "v1beta1");
});

Deno.test("version, kind and name are checked", () => {
  assert.equal(
    errorOf("kind: Spicepod\nname: a\n"),
    'spicepod.yaml: missing required field "version"',
  );
  assert.equal(
    errorOf("version: v2\nkind: Spicepod\nname: a\n"),
    'spicepod.yaml: version: unsupported version "v2" (supported: v1, v1beta1)',
  );
  assert.equal(
    errorOf("version: v1\nkind: Pod\nname: a\n"),
    'spicepod.yaml: kind: expected "Spicepod", got "Pod"',
  );
  assert.equal(
    errorOf("version: v1\nkind: Spicepod\nname: ''\n"),
    "spicepod.yaml: name: must not be empty",
  );
  assert.equal(
    errorOf("version: 1\nkind: Spicepod\nname: a\n"),
    "spicepod.yaml: version: expected a string, got number 1",
  );
});

Deno.test("an empty file or a non-mapping is refused", () => {
  assert.equal(
    errorOf(""),
    "spicepod.yaml: the file is empty (expected at least version, kind and name)",
  );
  assert.match(
    errorOf("- a\n- b\n"),
    /^spicepod\.yaml: expected a mapping with version, kind and name/,
  );
});

Deno.test("YAML syntax errors name the line and column", () => {
  assert.match(
    errorOf(`${HEAD}datasets:\n  - from: [file:x\n    name: a\n`),
    /^spicepod\.yaml: line \d+, column \d+: invalid YAML: /,
  );
  assert.equal(
    errorOf("version: v1\nversion: v1\n"),
    "spicepod.yaml: line 2, column 1: invalid YAML: Map keys must be unique",
  );
});

Deno.test("unknown top-level and runtime keys are ignored with warnings", () => {
  const pod = parse(
    `${HEAD}models: []\nviews: []\nruntime:\n  results_cache:\n    enabled: true\n`,
  );
  assert.deepEqual(pod.warnings, [
    'spicepod.yaml: ignoring unsupported top-level key "models"',
    'spicepod.yaml: ignoring unsupported top-level key "views"',
    'spicepod.yaml: ignoring unsupported key "runtime.results_cache"',
  ]);
});

Deno.test("ignored sections are not substituted, so their unset variables do not matter", () => {
  const pod = parse(`${HEAD}secrets:\n  - from: \${env:NOT_SET}\n`);
  assert.equal(pod.warnings.length, 1);
});

Deno.test("runtime.tls and unknown auth providers are refused rather than ignored", () => {
  assert.equal(
    errorOf(`${HEAD}runtime:\n  tls:\n    enabled: true\n`),
    "spicepod.yaml: runtime.tls: not supported in spicepod.yaml; use --tls-certificate-file and --tls-key-file",
  );
  assert.equal(
    errorOf(`${HEAD}runtime:\n  auth:\n    jwt: {}\n`),
    'spicepod.yaml: runtime.auth: unsupported auth provider "jwt" (supported: api-key)',
  );
});

Deno.test("api-key auth: disabled gives null, enabled needs keys, keys must be strings", () => {
  const off = parse(
    `${HEAD}runtime:\n  auth:\n    api-key:\n      enabled: false\n      keys: [a]\n`,
  );
  assert.equal(off.runtime.apiKeys, null);
  // Writing the block with keys means wanting it.
  const implicit = parse(`${HEAD}runtime:\n  auth:\n    api-key:\n      keys: [k1]\n`);
  assert.deepEqual(implicit.runtime.apiKeys, ["k1"]);
  assert.equal(
    errorOf(`${HEAD}runtime:\n  auth:\n    api-key:\n      enabled: true\n      keys: []\n`),
    "spicepod.yaml: runtime.auth.api-key.keys: at least one key is required when api-key auth is enabled",
  );
  assert.equal(
    errorOf(`${HEAD}runtime:\n  auth:\n    api-key:\n      keys: [12345]\n`),
    "spicepod.yaml: runtime.auth.api-key.keys[0]: expected a string (quote the key), got number 12345",
  );
});

Deno.test("runtime.query: bad values and typos name the field", () => {
  assert.equal(
    errorOf(`${HEAD}runtime:\n  query:\n    timeout: 30\n`),
    "spicepod.yaml: runtime.query.timeout: expected a duration with a unit such as 30s, got number 30",
  );
  assert.equal(
    errorOf(`${HEAD}runtime:\n  query:\n    memory_limit: 2XB\n`),
    'spicepod.yaml: runtime.query.memory_limit: invalid byte size "2XB" (expected bytes such as 1048576, 512KiB, 1MiB, 2GiB or 2GB)',
  );
  assert.equal(
    errorOf(`${HEAD}runtime:\n  query:\n    max_concurrent: 0\n`),
    "spicepod.yaml: runtime.query.max_concurrent: expected a positive integer, got number 0",
  );
  assert.equal(
    errorOf(`${HEAD}runtime:\n  query:\n    memory_limt: 1GiB\n`),
    'spicepod.yaml: runtime.query: unknown field "memory_limt" (did you mean "memory_limit"?)',
  );
  assert.equal(
    errorOf(`${HEAD}runtime:\n  query:\n    timeout: 0s\n`),
    'spicepod.yaml: runtime.query.timeout: must be longer than zero, got "0s"',
  );
});

Deno.test("numbers and booleans may come from ${env:...} as strings", () => {
  const pod = parse(
    `${HEAD}runtime:\n  query:\n    max_concurrent: \${env:N}\n    memory_limit: \${env:MEM}\n` +
      `datasets:\n  - from: tpch:nation\n    name: nation\n    acceleration:\n      enabled: \${env:ACC}\n`,
    { N: "8", MEM: "512MiB", ACC: "false" },
  );
  assert.equal(pod.runtime.maxConcurrent, 8);
  assert.equal(pod.runtime.memoryLimitBytes, 512 * 1024 ** 2);
  assert.equal(pod.datasets[0].acceleration?.enabled, false);
});

Deno.test("${env:VAR}, ${ env:VAR } and ${secrets:VAR} are substituted in every string", () => {
  const pod = parse(
    withDataset(
      "from: s3://${env:BUCKET}/tpch/lineitem/",
      "name: ${ env:TABLE }",
      "description: table ${secrets:TABLE} in ${env:BUCKET}",
      "params:",
      "  s3_secret: ${secrets:S3_SECRET}",
    ),
    { BUCKET: "lake", TABLE: "lineitem", S3_SECRET: "shh" },
  );
  const ds = pod.datasets[0];
  assert.equal(ds.from, "s3://lake/tpch/lineitem/");
  assert.equal(ds.path, "lake/tpch/lineitem/");
  assert.equal(ds.name, "lineitem");
  assert.equal(ds.description, "table lineitem in lake");
  assert.equal(ds.params.s3_secret, "shh");
});

Deno.test("a missing variable names the variable and the field", () => {
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: orders", "params:", "  key: ${env:API_TOKEN}")),
    'spicepod.yaml: dataset "orders": params.key: environment variable "API_TOKEN" is not set (referenced as ${env:API_TOKEN})',
  );
  assert.equal(
    errorOf(`${HEAD}runtime:\n  auth:\n    api-key:\n      keys: ["\${env:SPICE_KEY}"]\n`),
    'spicepod.yaml: runtime.auth.api-key.keys[0]: environment variable "SPICE_KEY" is not set (referenced as ${env:SPICE_KEY})',
  );
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: ${env:NAME}")),
    'spicepod.yaml: datasets[0]: name: environment variable "NAME" is not set (referenced as ${env:NAME})',
  );
});

Deno.test("an unknown secret store is an error, not literal text", () => {
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: orders", "params:", "  k: ${keyring:K}")),
    'spicepod.yaml: dataset "orders": params.k: unsupported secret store "keyring" in ${keyring:K} (supported: ${env:VAR}, ${secrets:VAR})',
  );
});

Deno.test("substituteEnv leaves ${NAME} without a store alone and does not re-substitute", () => {
  const lookup = (name: string) => ({ A: "${env:B}", B: "b" } as Record<string, string>)[name];
  assert.equal(substituteEnv("cost ${PRICE}", lookup), "cost ${PRICE}");
  assert.equal(substituteEnv("x${env:A}y", lookup), "x${env:B}y");
});

Deno.test("from: file paths resolve against the spicepod's directory", () => {
  const paths = ["file:data/t.parquet", "file:///abs/t.parquet", "file://rel/t.csv", "file:../up/t"]
    .map((from) => parse(withDataset(`from: ${from}`, "name: t")).datasets[0].path);
  assert.deepEqual(paths, [
    "/srv/app/data/t.parquet",
    "/abs/t.parquet",
    "/srv/app/rel/t.csv",
    "/srv/up/t",
  ]);
});

Deno.test("from: s3 and tpch", () => {
  const s3 = parse(withDataset("from: s3://bucket/prefix/", "name: t")).datasets[0];
  assert.equal(s3.scheme, "s3");
  assert.equal(s3.path, "bucket/prefix/");
  const tpch = parse(withDataset("from: tpch:LineItem", "name: t")).datasets[0];
  assert.equal(tpch.scheme, "tpch");
  assert.equal(tpch.path, "lineitem");
  assert.equal(tpch.acceleration, null);
  assert.deepEqual(tpch.partitionCols, []);
  assert.deepEqual(tpch.params, {});
});

Deno.test("from: unsupported sources and bad paths name the dataset", () => {
  assert.equal(
    errorOf(withDataset("from: postgres:public.orders", "name: orders")),
    'spicepod.yaml: dataset "orders": from: unsupported source "postgres:public.orders" (supported: file:PATH, s3://BUCKET/PREFIX/, tpch:TABLE)',
  );
  assert.equal(
    errorOf(withDataset("from: 's3:///prefix'", "name: t")),
    'spicepod.yaml: dataset "t": from: missing bucket in "s3:///prefix" (expected s3://BUCKET/PREFIX/)',
  );
  assert.equal(
    errorOf(withDataset("from: 'file:'", "name: t")),
    'spicepod.yaml: dataset "t": from: missing path after "file:" in "file:"',
  );
  assert.equal(
    errorOf(withDataset("from: tpch:lineitems", "name: t")),
    'spicepod.yaml: dataset "t": from: unknown TPC-H table "lineitems" (tables: customer, lineitem, nation, orders, part, partsupp, region, supplier)',
  );
});

Deno.test("missing required dataset fields", () => {
  assert.equal(
    errorOf(
      `${HEAD}datasets:\n  - from: tpch:nation\n    name: a\n  - from: tpch:region\n    name: b\n  - description: no from\n`,
    ),
    'spicepod.yaml: datasets[2]: missing required field "from"',
  );
  assert.equal(
    errorOf(withDataset("name: orders")),
    'spicepod.yaml: dataset "orders": missing required field "from"',
  );
  assert.equal(
    errorOf(withDataset("from: tpch:orders")),
    'spicepod.yaml: datasets[0]: missing required field "name"',
  );
  assert.equal(
    errorOf(`${HEAD}datasets:\n  - tpch:orders\n`),
    'spicepod.yaml: datasets[0]: expected a mapping with from and name, got "tpch:orders"',
  );
  assert.equal(
    errorOf(`${HEAD}datasets:\n  from: tpch:orders\n`),
    "spicepod.yaml: datasets: expected a list, got a mapping",
  );
});

Deno.test("dataset names must be SQL identifiers, unique case-insensitively", () => {
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: my-orders")),
    'spicepod.yaml: dataset "my-orders": name: "my-orders" is not a valid SQL identifier (letters, digits and underscores, not starting with a digit)',
  );
  assert.match(
    errorOf(withDataset("from: tpch:orders", "name: 1orders")),
    /not a valid SQL identifier/,
  );
  assert.equal(
    parse(withDataset("from: tpch:orders", "name: _Orders_2")).datasets[0].name,
    "_Orders_2",
  );
  assert.equal(
    errorOf(
      `${HEAD}datasets:\n  - from: tpch:orders\n    name: orders\n  - from: tpch:nation\n    name: ORDERS\n`,
    ),
    'spicepod.yaml: dataset "ORDERS": name: duplicate of dataset "orders" (dataset names are case-insensitive)',
  );
});

Deno.test("unknown dataset keys are errors: typos get a suggestion, Spice-only keys say so", () => {
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: orders", "partiton_cols: [a]")),
    'spicepod.yaml: dataset "orders": unknown field "partiton_cols" (did you mean "partition_cols"?)',
  );
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: orders", "zzz: 1")),
    'spicepod.yaml: dataset "orders": unknown field "zzz" (supported: from, name, description, params, partition_cols, acceleration)',
  );
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: orders", "time_column: ts")),
    'spicepod.yaml: dataset "orders": field "time_column" is not supported by spiced (supported: from, name, description, params, partition_cols, acceleration)',
  );
});

Deno.test("params: scalars become strings; lists and known bad values are refused", () => {
  const ds = parse(
    withDataset(
      "from: file:t.csv",
      "name: t",
      "params:",
      "  file_format: csv",
      "  has_header: false",
      "  n: 10",
    ),
  ).datasets[0];
  assert.deepEqual(ds.params, { file_format: "csv", has_header: "false", n: "10" });
  assert.equal(
    errorOf(withDataset("from: file:t", "name: t", "params:", "  file_format: json")),
    'spicepod.yaml: dataset "t": params.file_format: unsupported file format "json" (supported: parquet, csv)',
  );
  assert.equal(
    errorOf(withDataset("from: file:t", "name: t", "params:", "  cols: [a, b]")),
    'spicepod.yaml: dataset "t": params.cols: expected a string, number or boolean, got a list',
  );
  assert.equal(
    errorOf(withDataset("from: file:t", "name: t", "params:", "  hive_partitioning_enabled: yes")),
    'spicepod.yaml: dataset "t": params.hive_partitioning_enabled: expected true or false, got "yes"',
  );
});

Deno.test("partition_cols must be a list of distinct column names", () => {
  assert.equal(
    errorOf(withDataset("from: file:t", "name: t", "partition_cols: year")),
    'spicepod.yaml: dataset "t": partition_cols: expected a list of column names, got "year"',
  );
  assert.equal(
    errorOf(withDataset("from: file:t", "name: t", "partition_cols: [year, Year]")),
    'spicepod.yaml: dataset "t": partition_cols: column "Year" is listed twice (column names are case-insensitive)',
  );
});

Deno.test("acceleration: defaults, engine, interval, unknown keys", () => {
  const ds =
    parse(withDataset("from: tpch:orders", "name: orders", "acceleration: {}")).datasets[0];
  assert.deepEqual(ds.acceleration, {
    enabled: true,
    engine: "arrow",
    refreshCheckIntervalMs: null,
  });
  assert.equal(
    errorOf(
      withDataset("from: tpch:orders", "name: lineitem", "acceleration:", "  engine: duckdb"),
    ),
    'spicepod.yaml: dataset "lineitem": acceleration.engine: unknown engine "duckdb" (supported: arrow)',
  );
  assert.equal(
    errorOf(
      withDataset(
        "from: tpch:orders",
        "name: o",
        "acceleration:",
        "  refresh_check_interval: soon",
      ),
    ),
    'spicepod.yaml: dataset "o": acceleration.refresh_check_interval: invalid duration "soon" (expected a duration such as 500ms, 10s, 5m, 1h, 1d or 1m30s)',
  );
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: o", "acceleration:", "  enabeld: true")),
    'spicepod.yaml: dataset "o": acceleration: unknown field "enabeld" (did you mean "enabled"?)',
  );
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: o", "acceleration:", "  refresh_mode: full")),
    'spicepod.yaml: dataset "o": acceleration: field "refresh_mode" is not supported by spiced (supported: enabled, engine, refresh_check_interval)',
  );
  assert.equal(
    errorOf(withDataset("from: tpch:orders", "name: o", "acceleration:", "  enabled: maybe")),
    'spicepod.yaml: dataset "o": acceleration.enabled: expected true or false, got "maybe"',
  );
});

Deno.test("the file name in errors can be set", () => {
  assert.throws(
    () =>
      parseSpicepod("version: v9\nkind: Spicepod\nname: a\n", {
        baseDir: "/",
        env: {},
        fileName: "pods/a.yaml",
      }),
    { message: 'pods/a.yaml: version: unsupported version "v9" (supported: v1, v1beta1)' },
  );
});

// --- durations and sizes ----------------------------------------------------

Deno.test("parseDuration: units and combinations", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1h 30m"), 5_400_000);
  assert.equal(parseDuration("1.5s"), 1_500);
  assert.equal(parseDuration("0s"), 0);
});

Deno.test("parseDuration: a number without a unit and junk are refused", () => {
  for (const bad of ["10", "", "ten s", "10 sec", "-5s", "5s garbage", "1w"]) {
    assert.throws(() => parseDuration(bad), {
      name: "SpiceError",
      message: `invalid duration ${
        JSON.stringify(bad)
      } (expected a duration such as 500ms, 10s, 5m, 1h, 1d or 1m30s)`,
    });
  }
});

Deno.test("parseByteSize: SI and binary units, plain numbers", () => {
  assert.equal(parseByteSize("1024"), 1024);
  assert.equal(parseByteSize(4096), 4096);
  assert.equal(parseByteSize("1KB"), 1000);
  assert.equal(parseByteSize("1KiB"), 1024);
  assert.equal(parseByteSize("2 GiB"), 2 * 2 ** 30);
  assert.equal(parseByteSize("2gb"), 2e9);
  assert.equal(parseByteSize("1.5MiB"), 1.5 * 2 ** 20);
  for (const bad of ["", "1.5", "1.5B", "-1KB", "2XB", "GiB"]) {
    assert.throws(() => parseByteSize(bad), { name: "SpiceError" }, bad);
  }
  assert.throws(() => parseByteSize(1.5), /invalid byte size "1.5"/);
});

// --- loading from disk ------------------------------------------------------

Deno.test("loadSpicepod: a file, a directory, and a missing path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spicepod_test_" });
  try {
    const text = `${HEAD}datasets:\n  - from: file:data/\n    name: t\n`;
    await Deno.writeTextFile(join(dir, "spicepod.yaml"), text);
    const byFile = await loadSpicepod(join(dir, "spicepod.yaml"), {});
    assert.equal(byFile.baseDir, dir);
    assert.equal(byFile.datasets[0].path, join(dir, "data"));
    const byDir = await loadSpicepod(dir, {});
    assert.equal(byDir.datasets[0].path, join(dir, "data"));

    const missing = join(dir, "nope.yaml");
    await assert.rejects(loadSpicepod(missing, {}), {
      name: "SpiceError",
      message: `spicepod not found: ${missing}`,
    });
    const empty = join(dir, "empty");
    await Deno.mkdir(empty);
    await assert.rejects(loadSpicepod(empty, {}), {
      message: `spicepod not found: ${join(empty, "spicepod.yaml")} (nor spicepod.yml)`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadSpicepod: errors start with the path of the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spicepod_test_" });
  try {
    const file = join(dir, "spicepod.yml");
    await Deno.writeTextFile(file, `${HEAD}datasets:\n  - from: nope:x\n    name: t\n`);
    await assert.rejects(loadSpicepod(dir, {}), {
      message:
        `${file}: dataset "t": from: unsupported source "nope:x" (supported: file:PATH, s3://BUCKET/PREFIX/, tpch:TABLE)`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
