/**
 * Typed arrays in shared memory. Columns decoded from files are allocated
 * here, so that an accelerated table is already in shared memory when it is
 * loaded and the worker pool's workers scan the same bytes without a copy.
 * (Fresh memory is expensive to touch: a copy at load time would fault in
 * every page of the table a second time.)
 *
 * @module
 */

type Ctor<T> = {
  new (buffer: SharedArrayBuffer, offset: number, length: number): T;
  BYTES_PER_ELEMENT: number;
};

/** A zeroed array of `n` elements in a SharedArrayBuffer. */
export function sharedArray<T>(ctor: Ctor<T>, n: number): T {
  return new ctor(new SharedArrayBuffer(Math.max(8, n * ctor.BYTES_PER_ELEMENT)), 0, n);
}

/** A copy of `src[start, end)` in shared memory. */
export function sharedCopy(src: Uint8Array, start: number, end: number): Uint8Array {
  const out = sharedArray(Uint8Array, end - start);
  out.set(src.subarray(start, end));
  return out;
}
