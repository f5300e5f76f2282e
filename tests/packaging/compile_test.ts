/**
 * `deno task compile` (scripts/compile.ts): what goes into each binary, the
 * task's arguments, and the one line it prints when deno compile cannot
 * download its denort runtime.
 */

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  binaries,
  checkDenortBin,
  compileArgs,
  denortMessage,
  isDenortDownloadFailure,
  parseCompileArgs,
  TARGETS,
  UsageError,
} from "../../scripts/compile.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SCRIPT = join(ROOT, "scripts/compile.ts");

async function runCompile(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", SCRIPT, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(240_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("arguments: targets, output directory, flags", () => {
  const o = parseCompileArgs(
    ["--target", "aarch64-apple-darwin", "--target=x86_64-unknown-linux-gnu", "--out", "build"],
    "/repo",
  );
  assert.deepEqual(o.targets, ["aarch64-apple-darwin", "x86_64-unknown-linux-gnu"]);
  assert.equal(o.out, "/repo/build");
  assert.equal(o.check, true);
  assert.equal(parseCompileArgs([], "/repo").out, "/repo/dist");
  assert.equal(parseCompileArgs(["--no-check"], "/r").check, false);
  assert.throws(() => parseCompileArgs(["--target", "x86_64-pc-windows-msvc"]), UsageError);
  assert.throws(() => parseCompileArgs(["--target"]), UsageError);
  assert.throws(() => parseCompileArgs(["--bogus"]), UsageError);
  assert.equal(TARGETS.length, 4);
});

Deno.test("each binary's deno compile command: assets, target, output path", async () => {
  const { build } = await binaries(ROOT);
  const spiced = build.find((b) => b.name === "spiced")!;
  assert.equal(spiced.entry, "main.ts");
  assert.ok(spiced.include.includes("proto"));
  assert.ok(spiced.include.includes("spicepod.yaml"));
  // Workers are started by URL: their entry must be included explicitly.
  assert.ok(spiced.include.includes("src/parallel/worker.ts"));
  const host = compileArgs(spiced, undefined, { out: "/o", check: true, excludes: [] });
  assert.deepEqual(host.slice(0, 2), ["compile", "--allow-all"]);
  assert.equal(host[host.indexOf("--output") + 1], "/o/spiced");
  assert.equal(host.at(-1), "main.ts");
  assert.ok(!host.includes("--target"));
  const cross = compileArgs(spiced, "aarch64-apple-darwin", {
    out: "/o",
    check: false,
    excludes: ["node_modules/x"],
  });
  assert.equal(cross[cross.indexOf("--target") + 1], "aarch64-apple-darwin");
  assert.equal(cross[cross.indexOf("--output") + 1], "/o/aarch64-apple-darwin/spiced");
  assert.ok(cross.includes("--no-check"));
  assert.equal(cross[cross.indexOf("--exclude") + 1], "node_modules/x");
});

Deno.test("--dry-run: runtime packages and their WASM stay, test-only packages go", async () => {
  const r = await runCompile(["--dry-run", "--target", "x86_64-unknown-linux-gnu"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const spiced = lines.find((l) => l.includes("/x86_64-unknown-linux-gnu/spiced "))!;
  assert.ok(spiced, r.stdout);
  assert.match(spiced, /--include proto /);
  assert.match(spiced, /--include spicepod\.yaml /);
  assert.match(spiced, / main\.ts$/);
  const excludes = [...spiced.matchAll(/--exclude (\S+)/g)].map((m) => m[1]);
  // Test-only dependencies of deno.json are not shipped (DuckDB's native bindings alone are ~140 MB).
  for (const dev of ["@duckdb+node-api", "node-sql-parser", "playwright-core", "s3rver"]) {
    assert.ok(excludes.some((e) => e.includes(`.deno/${dev}@`)), `${dev} is excluded`);
  }
  // The runtime's packages are shipped whole: parquet-wasm and sqlparser-ts read their .wasm
  // next to their JS at run time.
  for (
    const pkg of ["parquet-wasm", "@guanmingchiu+sqlparser-ts", "apache-arrow", "@grpc+grpc-js"]
  ) {
    assert.ok(
      !excludes.some((e) => e.includes(`.deno/${pkg}@`) && !/\/(tests?|examples?|bench)$/.test(e)),
      `${pkg} is kept`,
    );
  }
  // bintrees' test data crashes deno compile 2.9.6 (stack overflow); it must stay out.
  assert.ok(excludes.some((e) => /bintrees@[^/]+\/node_modules\/bintrees\/test$/.test(e)));
  if (await Deno.stat(join(ROOT, "spice.ts")).then(() => true, () => false)) {
    const spice = lines.find((l) => l.includes("/x86_64-unknown-linux-gnu/spice "));
    assert.ok(spice, r.stdout);
    assert.match(spice, /--include proto /);
    assert.match(spice, / spice\.ts$/);
  }
});

Deno.test("recognises deno compile's denort download failure, and nothing else", () => {
  const failure = [
    "Compile main.ts to dist/spiced",
    "Download https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip",
    "error: Writing deno compile executable to temporary file 'dist/spiced.tmp-1'",
    "",
    "Caused by:",
    "    0: Setting up base binary.",
    "    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known",
  ].join("\n");
  assert.ok(isDenortDownloadFailure(failure));
  assert.ok(isDenortDownloadFailure(`\x1b[31merror\x1b[0m: ${failure}`));
  assert.ok(!isDenortDownloadFailure("error: TS2322 [ERROR]: Type 'string' is not assignable"));
  assert.ok(!isDenortDownloadFailure('error: Module not found "file:///repo/main.ts".'));
  assert.equal(
    denortMessage("aarch64-apple-darwin"),
    "deno compile needs the denort runtime for aarch64-apple-darwin, which could not be downloaded (no network access to dl.deno.land); set DENORT_BIN=/path/to/denort to use a local copy",
  );
});

Deno.test("DENORT_BIN: must exist, must not be the deno CLI, one target per run", async () => {
  assert.equal(await checkDenortBin(undefined, []), undefined);
  assert.match((await checkDenortBin("/nonexistent/denort", []))!, /does not exist/);
  assert.match((await checkDenortBin(Deno.execPath(), []))!, /is the deno CLI, not denort/);
  const fake = await Deno.makeTempFile();
  try {
    assert.equal(await checkDenortBin(fake, ["aarch64-apple-darwin"]), undefined);
    assert.match(
      (await checkDenortBin(fake, ["aarch64-apple-darwin", "x86_64-apple-darwin"]))!,
      /one target per run/,
    );
  } finally {
    await Deno.remove(fake);
  }
  const r = await runCompile(["--dry-run"], { DENORT_BIN: Deno.execPath() });
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^error: DENORT_BIN=.* is the deno CLI, not denort/);
});

// A cached denort for the target would make the download (and so the failure) not happen.
const DENO_DIR = await (async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
})();
const FAIL_TARGET = "aarch64-apple-darwin";
async function isFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isFile, () => false);
}
const denortCached = await isFile(
  join(DENO_DIR, "dl", "release", `v${Deno.version.deno}`, `denort-${FAIL_TARGET}.zip`),
);

Deno.test({
  name: "without access to dl.deno.land the task prints one line and exits 1",
  ignore: denortCached,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "spiced-compile-" });
    try {
      // A proxy on a closed local port makes the download fail the same way on any machine;
      // the npm registry stays direct in case node_modules needs setting up.
      const r = await runCompile(["--no-check", "--target", FAIL_TARGET, "--out", out], {
        HTTPS_PROXY: "http://127.0.0.1:9",
        HTTP_PROXY: "http://127.0.0.1:9",
        NO_PROXY: "registry.npmjs.org,npmjs.org",
      });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.stderr.trimEnd(), denortMessage(FAIL_TARGET));
      assert.equal(r.stdout, "");
      // No half-written binary or empty target folder is left behind.
      assert.deepEqual(await Array.fromAsync(Deno.readDir(out)), []);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
