/**
 * TPC-H Parquet data for tests, generated once per machine and scale factor
 * by `scripts/tpch.ts` into the system temp directory (written to a fresh
 * directory and renamed into place, so concurrent test files never see a
 * half-written data set).
 *
 * @module
 */

import { join } from "node:path";
import { tmpdir } from "node:os";

const VERSION = "v1";
const inflight = new Map<number, Promise<string>>();

/** The directory holding `<table>/*.parquet` for this scale factor. */
export function tpchParquet(sf: number): Promise<string> {
  let p = inflight.get(sf);
  if (!p) inflight.set(sf, p = generate(sf));
  return p;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function generate(sf: number): Promise<string> {
  const dir = join(tmpdir(), `spiced-tpch-sf${sf}-${VERSION}`);
  if (await exists(join(dir, "_complete"))) return dir;
  const work = `${dir}.tmp-${crypto.randomUUID()}`;
  const script = new URL("../../scripts/tpch.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--sf", String(sf), "--out", work],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`tpch generation failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  await Deno.writeTextFile(join(work, "_complete"), "");
  try {
    await Deno.rename(work, dir);
  } catch {
    // Another process won the race: use its copy.
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  if (!(await exists(join(dir, "_complete")))) throw new Error(`tpch data missing in ${dir}`);
  return dir;
}
