/**
 * `deno task compile [--target T ...] [--out DIR] [--no-check] [--dry-run] [--verbose]`
 *
 * Builds self-contained executables with `deno compile`:
 *
 * - `DIR/spiced` from `main.ts` (the runtime), and
 * - `DIR/spice` from `spice.ts` (the `spice sql` client), when that file exists;
 *
 * or, with `--target`, `DIR/<target>/spiced` and `DIR/<target>/spice` for each
 * target (`x86_64-unknown-linux-gnu`, `aarch64-unknown-linux-gnu`,
 * `x86_64-apple-darwin`, `aarch64-apple-darwin`). DIR defaults to `dist`.
 *
 * What goes into a binary:
 *
 * - the module graph of the entry point (deno.json, imported as JSON, is part of it);
 * - the files read at run time, with `--include`: `proto/` (loaded by
 *   @grpc/proto-loader from a path next to `src/server/flight/proto.ts`),
 *   `spicepod.yaml` (the built-in sample, read next to `src/runtime.ts`) and
 *   `src/server/dashboard/` when it exists, and `src/parallel/worker.ts` (the
 *   query workers' entry, started with `new Worker`);
 * - the npm packages the entry point reaches, whole: `deno compile` embeds
 *   every file of a package, so the WebAssembly that parquet-wasm
 *   (`node/parquet_wasm_bg.wasm`, read with fs next to its JS) and sqlparser-ts
 *   (`wasm/sqlparser_rs_wasm_bg.wasm`) load at run time is there without an
 *   `--include`.
 *
 * What is kept out, with `--exclude`:
 *
 * - npm packages the entry point does not reach. With a node_modules
 *   directory, `deno compile` embeds the whole of it, i.e. also the test-only
 *   packages of deno.json (DuckDB's native bindings, node-sql-parser,
 *   playwright-core, s3rver): about 280 MB instead of about 40 MB.
 * - test, example and benchmark folders inside the packages that stay. Besides
 *   being dead weight, one of them breaks the build: `deno compile` 2.9.6
 *   overflows its stack ("thread 'tokio-runtime-worker' has overflowed its
 *   stack") on bintrees' `test/perf/100k` (a 2 MB file of numbers), which
 *   comes in through prom-client.
 *
 * The runtime that a compiled binary runs on (`denort`) is downloaded by
 * `deno compile` from dl.deno.land for each target. Where that host cannot be
 * reached, this script prints one line saying so and exits 1; `DENORT_BIN`
 * (read by `deno compile` itself) points it at a local denort instead.
 *
 * @module
 */

import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The targets a release is built for (`deno compile --target` values). */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
] as const;

/** The repository root (this file lives in `scripts/`). */
export const ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Options of one `deno task compile` run. */
export interface CompileOptions {
  /** `--target`, in order given, without duplicates; empty means the host, into `out` itself. */
  readonly targets: readonly string[];
  /** `--out`: the output directory (absolute). */
  readonly out: string;
  /** `--no-check` turns this off: skip type-checking (faster; CI checks types anyway). */
  readonly check: boolean;
  /** `--dry-run`: print the `deno compile` command lines instead of running them. */
  readonly dryRun: boolean;
  /** `--verbose`: also print deno compile's own output (the embedded file tree). */
  readonly verbose: boolean;
  /** `--help`. */
  readonly help: boolean;
}

/** The usage text of the task. */
export const USAGE: string = [
  "Usage: deno task compile [--target TARGET ...] [--out DIR] [--no-check] [--dry-run] [--verbose]",
  "",
  "Builds DIR/spiced (from main.ts) and DIR/spice (from spice.ts) with deno compile;",
  "with --target, DIR/<TARGET>/spiced and DIR/<TARGET>/spice for each target. DIR defaults to dist.",
  `Targets: ${TARGETS.join(", ")}.`,
  "deno compile downloads its runtime (denort) for each target from dl.deno.land;",
  "set DENORT_BIN=/path/to/denort to use a local copy (one target per run).",
].join("\n");

/** A command-line mistake in the task's arguments. */
export class UsageError extends Error {}

/** Parses the task's arguments; `cwd` resolves a relative `--out`. */
export function parseCompileArgs(
  argv: readonly string[],
  cwd: string = Deno.cwd(),
): CompileOptions {
  const targets: string[] = [];
  let out = "dist";
  let check = true, dryRun = false, verbose = false, help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("-")) throw new UsageError(`missing value for ${name}`);
      i++;
      return v;
    };
    switch (name) {
      case "--target": {
        const t = value();
        if (!(TARGETS as readonly string[]).includes(t)) {
          throw new UsageError(`unknown --target ${t} (expected one of ${TARGETS.join(", ")})`);
        }
        if (!targets.includes(t)) targets.push(t);
        break;
      }
      case "--out":
        out = value();
        break;
      case "--no-check":
        check = false;
        break;
      case "--dry-run":
        dryRun = true;
        break;
      case "--verbose":
        verbose = true;
        break;
      case "--help":
      case "-h":
        help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${arg} (see --help)`);
    }
  }
  return { targets, out: resolve(cwd, out), check, dryRun, verbose, help };
}

/** One executable to build. */
export interface Binary {
  /** The file name of the executable. */
  readonly name: string;
  /** The entry module, relative to the repository root. */
  readonly entry: string;
  /** Files and directories read at run time, relative to the repository root. */
  readonly include: readonly string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The executables of this repository and what each reads at run time. A
 * binary whose entry does not exist (yet) is left out, with a note.
 */
export async function binaries(root: string = ROOT): Promise<{ build: Binary[]; notes: string[] }> {
  const spicedInclude = ["proto", "spicepod.yaml"];
  if (await exists(join(root, "src/server/dashboard"))) spicedInclude.push("src/server/dashboard");
  // The query workers' entry: started with new Worker(url), which deno compile
  // does not follow on its own.
  spicedInclude.push("src/parallel/worker.ts");
  const all: Binary[] = [
    { name: "spiced", entry: "main.ts", include: spicedInclude },
    // The client speaks Flight SQL: it loads the same protos.
    { name: "spice", entry: "spice.ts", include: ["proto"] },
  ];
  const build: Binary[] = [];
  const notes: string[] = [];
  for (const b of all) {
    if (await exists(join(root, b.entry))) build.push(b);
    else notes.push(`skipping ${b.name}: ${b.entry} does not exist`);
  }
  return { build, notes };
}

/** Folders inside npm packages that no runtime code loads (see the module doc for why they go). */
const PACKAGE_DEAD_FOLDERS = new Set([
  "test",
  "tests",
  "__tests__",
  "spec",
  "specs",
  "example",
  "examples",
  "bench",
  "benchmark",
  "benchmarks",
]);

interface DenoInfo {
  modules: { kind?: string; npmPackage?: string }[];
  npmPackages?: Record<string, { dependencies: string[]; localPath?: string }>;
}

/** `node_modules/.deno/<dir>/node_modules/<name>` -> `<dir>`. */
function denoStoreDir(localPath: string): string | undefined {
  return /node_modules[\\/]\.deno[\\/]([^\\/]+)[\\/]/.exec(localPath)?.[1];
}

/** The real (not linked) package folders in a store entry's node_modules: `name` or `@scope/name`. */
async function packageFolders(nodeModules: string): Promise<string[]> {
  const found: string[] = [];
  if (!(await exists(nodeModules))) return found;
  for await (const e of Deno.readDir(nodeModules)) {
    if (e.isSymlink || !e.isDirectory || e.name.startsWith(".")) continue;
    if (!e.name.startsWith("@")) {
      found.push(e.name);
      continue;
    }
    for await (const s of Deno.readDir(join(nodeModules, e.name))) {
      if (s.isDirectory && !s.isSymlink) found.push(join(e.name, s.name));
    }
  }
  return found;
}

/**
 * The `--exclude` paths (relative to `root`) for one entry point: every
 * package folder in `node_modules/.deno` that the entry's module graph does
 * not reach, the top-level `node_modules/<name>` links to them, and the dead
 * folders of the packages that stay.
 */
export async function npmExcludes(entry: string, root: string = ROOT): Promise<string[]> {
  const store = join(root, "node_modules", ".deno");
  // deno info also sets node_modules up (nodeModulesDir "auto") when a fresh clone has none.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `deno info ${entry} failed: ${new TextDecoder().decode(out.stderr).trim().split("\n")[0]}`,
    );
  }
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as DenoInfo;
  if (!(await exists(store))) return []; // no local node_modules: deno embeds from its cache
  const packages = info.npmPackages ?? {};
  const reached = new Set<string>();
  const stack = info.modules.filter((m) => m.kind === "npm" && m.npmPackage).map((m) =>
    m.npmPackage!
  );
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    stack.push(...(packages[id]?.dependencies ?? []));
  }
  const keep = new Map<string, string>(); // store dir -> package folder
  for (const id of reached) {
    const localPath = packages[id]?.localPath;
    const dir = localPath ? denoStoreDir(localPath) : undefined;
    if (dir && localPath) keep.set(dir, localPath);
  }
  // node_modules/.bin links to the command-line scripts of packages (dev tools among them).
  const excludes: string[] = [join("node_modules", ".bin")];
  for await (const e of Deno.readDir(store)) {
    // `.deno/node_modules` holds hoisting links; dot files are deno's own bookkeeping.
    if (!e.isDirectory || e.name === "node_modules" || e.name.startsWith(".")) continue;
    if (keep.has(e.name)) continue;
    // deno compile adds each package of its npm snapshot by the package's own folder,
    // so excluding `.deno/<dir>` alone is not enough: exclude the package folders too.
    const dir = join("node_modules", ".deno", e.name);
    excludes.push(dir);
    for (const pkg of await packageFolders(join(root, dir, "node_modules"))) {
      excludes.push(join(dir, "node_modules", pkg));
    }
  }
  // Top-level links (node_modules/<name>, node_modules/@scope/<name>) to packages that went.
  const top = join(root, "node_modules");
  const links: string[] = [];
  for await (const e of Deno.readDir(top)) {
    if (e.name.startsWith(".")) continue;
    if (e.name.startsWith("@") && e.isDirectory) {
      for await (const s of Deno.readDir(join(top, e.name))) links.push(join(e.name, s.name));
    } else links.push(e.name);
  }
  for (const link of links) {
    let target: string;
    try {
      target = await Deno.realPath(join(top, link));
    } catch {
      excludes.push(join("node_modules", link)); // dangling
      continue;
    }
    const dir = denoStoreDir(target + "/");
    if (dir !== undefined && !keep.has(dir)) excludes.push(join("node_modules", link));
  }
  for (const folder of keep.values()) {
    for await (const e of Deno.readDir(folder)) {
      if (e.isDirectory && PACKAGE_DEAD_FOLDERS.has(e.name.toLowerCase())) {
        excludes.push(relative(root, join(folder, e.name)));
      }
    }
  }
  return excludes.sort();
}

/** The `deno compile` arguments for one binary and target (`undefined`: the host). */
export function compileArgs(
  bin: Binary,
  target: string | undefined,
  opts: { out: string; check: boolean; excludes: readonly string[] },
): string[] {
  const output = target === undefined ? join(opts.out, bin.name) : join(opts.out, target, bin.name);
  return [
    "compile",
    "--allow-all",
    ...(opts.check ? [] : ["--no-check"]),
    ...(target === undefined ? [] : ["--target", target]),
    ...bin.include.flatMap((p) => ["--include", p]),
    ...opts.excludes.flatMap((p) => ["--exclude", p]),
    "--output",
    output,
    bin.entry,
  ];
}

/** The host's target triple (what `deno compile` builds without `--target`). */
export function hostTarget(): string {
  return Deno.build.target;
}

/** The one line printed when deno compile could not download denort for `target`. */
export function denortMessage(target: string): string {
  return `deno compile needs the denort runtime for ${target}, which could not be downloaded (no network access to dl.deno.land); set DENORT_BIN=/path/to/denort to use a local copy`;
}

/**
 * Whether deno compile's error output says the download of the denort runtime
 * failed (as opposed to a type error, a missing file, ...).
 */
export function isDenortDownloadFailure(stderr: string): boolean {
  // deno's messages are colored unless NO_COLOR; strip the escapes before matching.
  // deno-lint-ignore no-control-regex
  const text = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  return /error sending request for url \(https?:\/\/[^)\s]*denort-[^)\s]*\)/.test(text) ||
    (/Setting up base binary/.test(text) && /denort/.test(text) &&
      /(dns error|Connect|connection|timed out|Could not find|404|403|certificate)/i.test(text));
}

/**
 * Checks `DENORT_BIN` when set: it must exist, it must not be the deno CLI
 * itself (a "binary" built on the CLI just starts a Deno REPL), and one local
 * denort serves one target.
 *
 * @returns an error message, or undefined when fine.
 */
export async function checkDenortBin(
  denortBin: string | undefined,
  targets: readonly string[],
): Promise<string | undefined> {
  if (denortBin === undefined || denortBin === "") return undefined;
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(denortBin);
  } catch {
    return `DENORT_BIN=${denortBin} does not exist (it should be the denort executable for the target, from denort-<target>.zip of this Deno version)`;
  }
  if (!stat.isFile) return `DENORT_BIN=${denortBin} is not a file`;
  if (targets.length > 1) {
    return `DENORT_BIN names one denort, so it builds one target per run; got ${targets.length} targets (${
      targets.join(", ")
    })`;
  }
  try {
    const real = await Deno.realPath(denortBin);
    if (real === await Deno.realPath(Deno.execPath())) {
      return `DENORT_BIN=${denortBin} is the deno CLI, not denort: a binary built on it would only start a Deno REPL`;
    }
  } catch { /* checked above */ }
  return undefined;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Runs the task; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let opts: CompileOptions;
  try {
    opts = parseCompileArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const denortBin = Deno.env.get("DENORT_BIN");
  const bad = await checkDenortBin(denortBin, opts.targets);
  if (bad) {
    console.error(`error: ${bad}`);
    return 2;
  }

  const { build, notes } = await binaries();
  for (const n of notes) console.error(`note: ${n}`);
  const excludes = new Map<string, string[]>();
  for (const b of build) excludes.set(b.entry, await npmExcludes(b.entry));

  const targets: (string | undefined)[] = opts.targets.length > 0 ? [...opts.targets] : [undefined];
  for (const target of targets) {
    for (const bin of build) {
      const args = compileArgs(bin, target, { ...opts, excludes: excludes.get(bin.entry)! });
      const output = args[args.indexOf("--output") + 1];
      if (opts.dryRun) {
        console.log(["deno", ...args].join(" "));
        continue;
      }
      await Deno.mkdir(dirname(output), { recursive: true });
      const child = new Deno.Command(Deno.execPath(), {
        args,
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const result = await child.output();
      const stdout = new TextDecoder().decode(result.stdout);
      const stderr = new TextDecoder().decode(result.stderr);
      if (!result.success) {
        // Leave no empty dist/<target>/ behind (a non-empty one stays: remove refuses).
        if (target !== undefined) await Deno.remove(dirname(output)).catch(() => {});
        if (isDenortDownloadFailure(stderr)) {
          console.error(denortMessage(target ?? hostTarget()));
        } else {
          await Deno.stderr.write(new TextEncoder().encode(stdout + stderr));
          console.error(`error: deno compile of ${bin.entry} for ${target ?? hostTarget()} failed`);
        }
        return 1;
      }
      if (opts.verbose) await Deno.stdout.write(new TextEncoder().encode(stdout + stderr));
      const size = (await Deno.stat(output)).size;
      console.log(
        `built ${relative(Deno.cwd(), output) || basename(output)} (${target ?? hostTarget()}, ${
          megabytes(size)
        })`,
      );
    }
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
