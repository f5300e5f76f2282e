/**
 * Durations in spicepod.yaml (`timeout: 30s`, `refresh_check_interval: 1m30s`).
 *
 * A duration always carries a unit: a bare `30` could mean seconds or
 * milliseconds, and guessing wrong is off by a factor of 1000.
 *
 * @module
 */

import { SpiceError } from "../errors.ts";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// "ms" is listed before "m" and "s" so that "500ms" is not read as 500 minutes and an "s".
const PART = /\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/y;

const EXPECTED = "expected a duration such as 500ms, 10s, 5m, 1h, 1d or 1m30s";

/**
 * Parses a duration into milliseconds: a number and a unit (`ms`, `s`, `m`,
 * `h`, `d`), or several such parts added together (`1m30s`, `1h 30m`).
 * Fractions are allowed (`1.5s`) and rounded to whole milliseconds.
 *
 * @throws {SpiceError} code CONFIG naming the text, e.g. `invalid duration "10" (expected ...)`.
 */
export function parseDuration(s: string): number {
  const text = s.trim();
  let ms = 0;
  let parts = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (m === null) {
      throw new SpiceError("CONFIG", `invalid duration ${JSON.stringify(s)} (${EXPECTED})`);
    }
    ms += Number(m[1]) * UNIT_MS[m[2]];
    parts++;
  }
  if (parts === 0 || !Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER) {
    throw new SpiceError("CONFIG", `invalid duration ${JSON.stringify(s)} (${EXPECTED})`);
  }
  return Math.round(ms);
}
