/**
 * The plan codec: physical plans (and task descriptors holding them) to bytes
 * and back. Plans are plain data, so the encoding is JSON with three
 * additions JSON lacks: bigints (wide decimal literals), non-finite numbers
 * and -0. One codec for the scheduler, the executors and the tests' round trips.
 *
 * @module
 */

import { SpiceError } from "../errors.ts";

const TAG = "$spiced";

function replacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return { [TAG]: "bigint", v: v.toString() };
  if (typeof v === "number") {
    if (Number.isNaN(v)) return { [TAG]: "num", v: "NaN" };
    if (v === Infinity) return { [TAG]: "num", v: "Infinity" };
    if (v === -Infinity) return { [TAG]: "num", v: "-Infinity" };
    if (Object.is(v, -0)) return { [TAG]: "num", v: "-0" };
  }
  return v;
}

function reviver(_key: string, v: unknown): unknown {
  if (v && typeof v === "object" && TAG in (v as Record<string, unknown>)) {
    const o = v as { [TAG]: string; v: string };
    if (o[TAG] === "bigint") return BigInt(o.v);
    if (o[TAG] === "num") return o.v === "-0" ? -0 : Number(o.v);
  }
  return v;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Encodes a plan or descriptor. */
export function encodePlan(value: unknown): Uint8Array {
  return enc.encode(JSON.stringify(value, replacer));
}

/** Decodes what encodePlan produced. */
export function decodePlan<T>(bytes: Uint8Array): T {
  try {
    return JSON.parse(dec.decode(bytes), reviver) as T;
  } catch (e) {
    throw new SpiceError("INVALID_ARGUMENT", `malformed plan: ${(e as Error).message}`);
  }
}
