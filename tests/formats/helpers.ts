/**
 * Shared helpers for the format tests: in-memory and counting byte sources.
 *
 * @module
 */
import type { ByteSource } from "../../src/connectors/object_store.ts";

/** A ByteSource over bytes in memory. */
export function memorySource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: () => Promise.resolve(bytes.length),
    read: (start, end) => Promise.resolve(bytes.slice(start, end)),
  };
}

/** A ByteSource over text in memory (UTF-8). */
export function textSource(name: string, text: string): ByteSource {
  return memorySource(name, new TextEncoder().encode(text));
}

/** Wraps a source, counting the bytes and requests read through it. */
export function countingSource(
  inner: ByteSource,
): ByteSource & { bytesRead: number; reads: [number, number][] } {
  const src = {
    name: inner.name,
    bytesRead: 0,
    reads: [] as [number, number][],
    size: () => inner.size(),
    read: async (start: number, end: number) => {
      src.bytesRead += end - start;
      src.reads.push([start, end]);
      return await inner.read(start, end);
    },
  };
  return src;
}

/** Collects an async iterable into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
