/**
 * Local files as `ByteSource`s and local directories as `ObjectStore`s.
 *
 * Each ranged read opens the file, seeks and reads: Deno has no positional
 * read, and a shared handle would make concurrent reads (a Parquet reader
 * fetches several column chunks at once) race on the file position.
 *
 * @module
 */

import { SpiceError } from "../errors.ts";
import type { ByteSource, ObjectMeta, ObjectStore } from "./object_store.ts";

function ioError(path: string, e: unknown): SpiceError {
  if (e instanceof SpiceError) return e;
  if (e instanceof Deno.errors.NotFound) {
    return new SpiceError("NOT_FOUND", `${path}: no such file or directory`, { cause: e });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new SpiceError("IO", `${path}: ${msg}`, { cause: e });
}

/**
 * A ranged reader over a local file. `knownSize` (from a listing) saves a
 * stat call.
 */
export function localFileSource(path: string, knownSize?: number): ByteSource {
  let size: Promise<number> | null = knownSize === undefined ? null : Promise.resolve(knownSize);
  return {
    name: path,
    size(): Promise<number> {
      size ??= Deno.stat(path).then(
        (s) => {
          if (!s.isFile) throw new SpiceError("IO", `${path}: not a regular file`);
          return s.size;
        },
        (e) => {
          size = null; // let a later call try again
          throw ioError(path, e);
        },
      );
      return size;
    },
    async read(start: number, end: number): Promise<Uint8Array> {
      if (!(start >= 0 && end >= start)) {
        throw new SpiceError("INVALID_ARGUMENT", `${path}: bad byte range [${start}, ${end})`);
      }
      const out = new Uint8Array(end - start);
      if (out.length === 0) return out;
      let file: Deno.FsFile;
      try {
        file = await Deno.open(path, { read: true });
      } catch (e) {
        throw ioError(path, e);
      }
      try {
        await file.seek(start, Deno.SeekMode.Start);
        let at = 0;
        while (at < out.length) {
          const n = await file.read(out.subarray(at));
          if (n === null) {
            throw new SpiceError(
              "IO",
              `${path}: unexpected end of file reading bytes [${start}, ${end}) (got ${at})`,
            );
          }
          at += n;
        }
        return out;
      } catch (e) {
        throw ioError(path, e);
      } finally {
        file.close();
      }
    },
  };
}

function joinPath(root: string, key: string): string {
  return root.endsWith("/") ? root + key : `${root}/${key}`;
}

/**
 * A local directory as an object store: `list()` walks it recursively
 * (following symbolic links to files and directories) and returns keys
 * relative to `root`, with "/" separators, sorted.
 */
export function localStore(root: string): ObjectStore {
  return {
    name: root,
    async list(): Promise<ObjectMeta[]> {
      const out: ObjectMeta[] = [];
      const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
        // Bounds a symlink cycle.
        if (depth > 64) throw new SpiceError("IO", `${dir}: directories nested too deeply`);
        let entries: Deno.DirEntry[];
        try {
          entries = await Array.fromAsync(Deno.readDir(dir));
        } catch (e) {
          throw ioError(dir, e);
        }
        for (const e of entries) {
          const path = joinPath(dir, e.name);
          const key = prefix + e.name;
          let isFile = e.isFile;
          let isDir = e.isDirectory;
          if (e.isSymlink) {
            try {
              const s = await Deno.stat(path);
              isFile = s.isFile;
              isDir = s.isDirectory;
            } catch {
              continue; // a dangling link is not an object
            }
          }
          if (isDir) await walk(path, key + "/", depth + 1);
          else if (isFile) {
            try {
              out.push({ key, size: (await Deno.stat(path)).size });
            } catch (err) {
              throw ioError(path, err);
            }
          }
        }
      };
      await walk(root, "", 0);
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    open(meta: ObjectMeta): ByteSource {
      return localFileSource(joinPath(root, meta.key), meta.size);
    },
  };
}
