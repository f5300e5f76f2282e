/**
 * Byte sizes in spicepod.yaml (`memory_limit: 2GiB`, `max_request_body: 1MiB`).
 *
 * Units follow the usual (and Spice's) convention: `KB`, `MB`, `GB`, `TB`
 * are powers of 1000 and `KiB`, `MiB`, `GiB`, `TiB` powers of 1024. Units are
 * case-insensitive, because `2gb` meaning anything else would surprise.
 *
 * @module
 */

import { SpiceError } from "../errors.ts";

const UNIT_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

const EXPECTED = "expected bytes such as 1048576, 512KiB, 1MiB, 2GiB or 2GB";

/**
 * Parses a byte size: a plain number of bytes, or a number and a unit
 * (`B`, `KB`, `MB`, `GB`, `TB`, `KiB`, `MiB`, `GiB`, `TiB`), with an optional
 * space between. Fractions of a unit (`1.5GiB`) are rounded down to whole bytes;
 * a fraction of a byte (`1.5`) is refused.
 *
 * @throws {SpiceError} code CONFIG naming the text, e.g. `invalid byte size "2XB" (expected ...)`.
 */
export function parseByteSize(s: string | number): number {
  const fail = () =>
    new SpiceError("CONFIG", `invalid byte size ${JSON.stringify(String(s))} (${EXPECTED})`);
  if (typeof s === "number") {
    if (!Number.isSafeInteger(s) || s < 0) throw fail();
    return s;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(s);
  if (m === null) throw fail();
  const unit = UNIT_BYTES[m[2].toLowerCase()];
  if (unit === undefined) throw fail();
  // A fraction of a byte is a mistake (a forgotten unit), not something to round away.
  if (unit === 1 && m[1].includes(".")) throw fail();
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw fail();
  return bytes;
}
