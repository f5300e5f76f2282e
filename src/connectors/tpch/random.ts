/**
 * Counter-based random numbers for the TPC-H generator.
 *
 * dbgen draws every column from a sequential stream and has to skip ahead to
 * start a partition. Here a value is a pure function of (stream, key): the
 * stream names the column (and the draw within the column), the key is the
 * row. Any row can then be generated alone, partitions can be generated in
 * parallel in any order, and the way rows are split never changes a cell.
 *
 * The mixing function is Chris Wellons' "lowbias32" integer hash, applied
 * twice so that two streams never yield the same sequence shifted by a few
 * rows (one round of `hash(key + stream)` would: stream s at key k equals
 * stream s+1 at key k-1).
 *
 * @module
 */

/**
 * The generator's seed, mixed into every stream id. Any value gives data that
 * follows the specification; this one was picked (by trying a few) so that at
 * SF 0.01 every query also has a non-degenerate answer, as dbgen's seed does
 * (Q8's Brazilian market share is non-zero, Q19 matches some lines, Q18 and
 * Q20 find rows: each has only a handful of qualifying rows at that scale).
 */
export const TPCH_SEED = 6;

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;

/** lowbias32: a bijective 32-bit hash with near-ideal avalanche; returns an unsigned 32-bit value. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The stream id of a column draw: a 32-bit hash of its name and draw number
 * (FNV-1a, then mixed), so ids are stable across versions and independent of
 * declaration order.
 */
export function streamId(name: string, draw = 0): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h ^ Math.imul(draw + 1, 0x9e3779b9) ^ TPCH_SEED);
}

/**
 * 32 random bits for (stream, key), as an unsigned integer. `key` is a
 * non-negative integer below 2^53 (row numbers of every table at any scale).
 */
export function rand32(stream: number, key: number): number {
  const lo = key >>> 0; // ToUint32 is key mod 2^32 for any integer key
  const hi = (key * INV_TWO_POW_32) >>> 0;
  const x = mix32((lo + stream) | 0);
  return mix32(x ^ Math.imul(hi ^ stream, 0x9e3779b9));
}

/** A uniform integer in [min, max] for (stream, key). */
export function uniform(stream: number, key: number, min: number, max: number): number {
  // Multiply-shift instead of modulo: no bias beyond 2^-32 and no division.
  return min + Math.floor(rand32(stream, key) * (max - min + 1) * INV_TWO_POW_32);
}

/** A uniform real in [0, 1) for (stream, key). */
export function unit(stream: number, key: number): number {
  return rand32(stream, key) * INV_TWO_POW_32;
}
