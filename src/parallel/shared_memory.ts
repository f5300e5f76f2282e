/**
 * Record batches between threads. Columns whose typed arrays live in
 * SharedArrayBuffers are shared, not copied, when posted to a Web Worker:
 * accelerated tables are in shared memory from the load on, so every worker
 * scans the same bytes. Task outputs are not put there (a SharedArrayBuffer
 * always takes fresh pages from the kernel, which is slow to touch); they
 * are copied once into buffers of their own and transferred.
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import type { Column, NumericArray, Utf8Column } from "../arrow/column.ts";

type TypedArray = NumericArray | Uint32Array;

/** Whether a typed array's bytes are in shared memory. */
export function isShared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/** The array itself when shared, else a copy of its elements in a SharedArrayBuffer. */
export function shareArray<T extends TypedArray>(a: T): T {
  if (isShared(a)) return a;
  const Ctor = a.constructor as { new (b: SharedArrayBuffer, o: number, n: number): T };
  const out = new Ctor(new SharedArrayBuffer(Math.max(a.byteLength, 8)), 0, a.length);
  (out as unknown as { set(x: T): void }).set(a);
  return out;
}

/** Memo of converted dictionaries: every batch of a column shares one. */
export type DictMemo = WeakMap<Utf8Column, Utf8Column>;

/** A column whose arrays are all shared (converted once per dictionary with `memo`). */
export function shareColumn(c: Column, memo: DictMemo = new WeakMap()): Column {
  const validity = c.validity ? shareArray(c.validity) : null;
  switch (c.enc) {
    case "num":
      return { ...c, values: shareArray(c.values), validity };
    case "utf8":
      return { ...c, offsets: shareArray(c.offsets), data: shareArray(c.data), validity };
    case "dict": {
      let dict = memo.get(c.dict);
      if (!dict) {
        dict = shareColumn(c.dict, memo) as Utf8Column;
        memo.set(c.dict, dict);
      }
      return { ...c, indices: shareArray(c.indices), dict, validity };
    }
  }
}

/** A batch whose columns are all in shared memory. */
export function shareBatch(b: RecordBatch, memo: DictMemo = new WeakMap()): RecordBatch {
  return {
    schema: b.schema,
    columns: b.columns.map((c) => shareColumn(c, memo)),
    numRows: b.numRows,
  };
}

/** Whether every array of a batch is in shared memory. */
export function batchIsShared(b: RecordBatch): boolean {
  const col = (c: Column): boolean =>
    (c.validity === null || isShared(c.validity)) &&
    (c.enc === "num"
      ? isShared(c.values)
      : c.enc === "utf8"
      ? isShared(c.offsets) && isShared(c.data)
      : isShared(c.indices) && col(c.dict));
  return b.columns.every(col);
}

/**
 * A batch ready to post with its transfer list: arrays in shared memory are
 * shared as they are; every other array is copied into a buffer of its own
 * and transferred (moved, not copied again). Copying first keeps the
 * sender's own arrays (a broadcast build side, a view into a larger buffer)
 * intact. Shared memory is not used for the copies: a SharedArrayBuffer is
 * always fresh pages from the kernel, while plain buffers reuse the heap.
 * `transfer` collects the buffers; one set per message, as a buffer can be
 * transferred once.
 */
export function transferableBatch(b: RecordBatch, transfer: Set<ArrayBuffer>): RecordBatch {
  const own = <T extends TypedArray>(a: T): T => {
    if (isShared(a)) return a;
    const copy = (a as unknown as { slice(): T }).slice();
    transfer.add(copy.buffer as ArrayBuffer);
    return copy;
  };
  const dicts = new Map<Utf8Column, Utf8Column>();
  const col = (c: Column): Column => {
    const validity = c.validity ? own(c.validity) : null;
    switch (c.enc) {
      case "num":
        return { ...c, values: own(c.values), validity };
      case "utf8":
        return { ...c, offsets: own(c.offsets), data: own(c.data), validity };
      case "dict": {
        let dict = dicts.get(c.dict);
        if (!dict) dicts.set(c.dict, dict = col(c.dict) as Utf8Column);
        return { ...c, indices: own(c.indices), dict, validity };
      }
    }
  };
  return { schema: b.schema, columns: b.columns.map(col), numRows: b.numRows };
}
