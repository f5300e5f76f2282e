/**
 * Reading spicepod.yaml from disk.
 *
 * @module
 */

import { dirname, join, normalize, resolve } from "node:path";
import { SpiceError } from "../errors.ts";
import { parseSpicepod, type Spicepod } from "./schema.ts";

/** The names looked for when the path is a directory, as Spice does. */
const FILE_NAMES = ["spicepod.yaml", "spicepod.yml"];

/**
 * Reads and validates a spicepod. `path` is the file, or a directory holding
 * `spicepod.yaml` (or `spicepod.yml`). Relative `file:` dataset paths resolve
 * against the spicepod's directory, not the working directory, so that the
 * same spicepod works wherever spiced is started from.
 *
 * @param env variables for `${env:VAR}`; the process environment when absent.
 * @throws {SpiceError} code CONFIG: `spicepod not found: PATH`, `cannot read spicepod PATH: ...`,
 *   or a validation error from `parseSpicepod` starting with the path.
 */
export async function loadSpicepod(
  path: string,
  env?: Record<string, string | undefined>,
): Promise<Spicepod> {
  let file = path;
  const info = await statOrNull(path);
  if (info === null) throw new SpiceError("CONFIG", `spicepod not found: ${path}`);
  if (info.isDirectory) {
    const candidates = FILE_NAMES.map((name) => join(path, name));
    let found: string | undefined;
    for (const candidate of candidates) {
      if ((await statOrNull(candidate))?.isFile) {
        found = candidate;
        break;
      }
    }
    if (found === undefined) {
      throw new SpiceError("CONFIG", `spicepod not found: ${candidates[0]} (nor ${FILE_NAMES[1]})`);
    }
    file = found;
  }

  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new SpiceError("CONFIG", `cannot read spicepod ${file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return parseSpicepod(text, {
    baseDir: dirname(resolve(file)),
    env,
    // "./spicepod.yaml" reads better in errors as "spicepod.yaml".
    fileName: normalize(file),
  });
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new SpiceError("CONFIG", `cannot read spicepod ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
