/**
 * The benchmark's input: TPC-H Parquet files from `scripts/tpch.ts`, one
 * directory per table, generated on first use.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";

const TPCH_SCRIPT = new URL("../tpch.ts", import.meta.url).pathname;

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function hasParquet(dir: string): Promise<boolean> {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".parquet")) return true;
    }
  } catch {
    return false;
  }
  return false;
}

/**
 * Makes sure `dir` holds the eight TPC-H tables at scale factor `sf` and
 * returns its absolute path. A missing directory is generated; an existing
 * one is used as it is (a table without Parquet files is an error, never
 * silently regenerated over someone's data).
 */
export async function ensureTpchData(
  sf: number,
  dir: string,
  log: (line: string) => void = console.log,
): Promise<string> {
  const abs = resolve(dir);
  if (await isDirectory(abs)) {
    const missing: string[] = [];
    for (const t of TPCH_TABLES) if (!(await hasParquet(join(abs, t)))) missing.push(t);
    if (missing.length > 0) {
      throw new Error(
        `${abs} exists but has no Parquet files for ${missing.join(", ")}; ` +
          `remove it to regenerate, or pass --data`,
      );
    }
    return abs;
  }
  log(`TPC-H SF ${sf} data not found in ${abs}: generating it (deno task tpch)`);
  // A separate process, so that the generator's memory never counts in this
  // process's peak RSS; into a scratch directory renamed at the end, so that
  // an interrupted run never leaves a half-written directory that a later run
  // would take for complete data.
  const work = `${abs}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TPCH_SCRIPT, "--sf", String(sf), "--out", work],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) {
    await Deno.remove(work, { recursive: true }).catch(() => {});
    throw new Error(`TPC-H generation failed (exit code ${status.code})`);
  }
  await Deno.rename(work, abs);
  return abs;
}
