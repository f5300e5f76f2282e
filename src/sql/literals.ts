/**
 * Parsing of literal text: numbers, dates, timestamps and intervals.
 *
 * @module
 */

import type { Value } from "../arrow/column.ts";
import {
  type DataType,
  DATE32,
  decimal,
  FLOAT64,
  INT32,
  INT64,
  TIMESTAMP,
} from "../arrow/types.ts";
import { SpiceError } from "../errors.ts";
import type { IntervalValue } from "../plan/expr.ts";

const DAY_MS = 86400000;

/** A numeric literal's value and type, as DuckDB types it. */
export function parseNumber(text: string): { value: number | bigint; type: DataType } {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n <= 2147483647) return { value: n, type: INT32 };
    if (Number.isSafeInteger(n)) return { value: n, type: INT64 };
    const big = BigInt(text);
    if (big <= 9223372036854775807n) {
      // BIGINT is held in doubles: refuse what would silently lose digits.
      throw new SpiceError(
        "NOT_SUPPORTED",
        `not supported: integer ${text} is beyond ±2^53, the exact BIGINT range of this engine`,
      );
    }
    return { value: Number(text), type: FLOAT64 };
  }
  const m = /^(\d*)\.(\d*)$/.exec(text);
  if (m) {
    const intDigits = m[1].replace(/^0+/, "").length;
    const scale = m[2].length;
    const precision = Math.max(1, intDigits + scale, scale);
    if (precision > 18) return { value: Number(text), type: FLOAT64 };
    const unscaled = Number((m[1] || "0") + m[2]);
    return { value: unscaled, type: decimal(precision, scale) };
  }
  const v = Number(text);
  if (Number.isNaN(v)) throw new SpiceError("SQL_PARSE", `invalid number: ${text}`);
  return { value: v, type: FLOAT64 };
}

/** Days since 1970-01-01 for 'YYYY-MM-DD', or an error naming the text. */
export function parseDate(text: string): number {
  const m = /^\s*(-?\d{1,6})-(\d{1,2})-(\d{1,2})\s*$/.exec(text);
  if (!m) throw new SpiceError("TYPE", `invalid DATE literal '${text}' (expected YYYY-MM-DD)`);
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (
    mo < 1 || mo > 12 || d < 1 || check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1
  ) {
    throw new SpiceError("TYPE", `invalid DATE literal '${text}' (no such day)`);
  }
  // Date.UTC maps years 0..99 to 1900..1999; set the year explicitly.
  const fixed = new Date(ms);
  fixed.setUTCFullYear(y);
  return Math.round(fixed.getTime() / DAY_MS);
}

/** Microseconds since the epoch for 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]'. */
export function parseTimestamp(text: string): number {
  const m =
    /^\s*(-?\d{1,6}-\d{1,2}-\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(?:Z|[+-]00(?::?00)?)?\s*$/
      .exec(text);
  if (!m) {
    throw new SpiceError(
      "TYPE",
      `invalid TIMESTAMP literal '${text}' (expected YYYY-MM-DD HH:MM:SS)`,
    );
  }
  const days = parseDate(m[1]);
  const h = Number(m[2] ?? 0), mi = Number(m[3] ?? 0), s = Number(m[4] ?? 0);
  if (h > 23 || mi > 59 || s > 59) {
    throw new SpiceError("TYPE", `invalid TIMESTAMP literal '${text}' (time out of range)`);
  }
  const frac = m[5] ? Number((m[5] + "000000").slice(0, 6)) : 0;
  return days * 86400e6 + ((h * 60 + mi) * 60 + s) * 1e6 + frac;
}

const UNIT_ALIASES: Record<string, string> = {
  year: "year",
  years: "year",
  y: "year",
  yr: "year",
  yrs: "year",
  month: "month",
  months: "month",
  mon: "month",
  mons: "month",
  week: "week",
  weeks: "week",
  w: "week",
  day: "day",
  days: "day",
  d: "day",
  hour: "hour",
  hours: "hour",
  h: "hour",
  hr: "hour",
  hrs: "hour",
  minute: "minute",
  minutes: "minute",
  min: "minute",
  mins: "minute",
  m: "minute",
  second: "second",
  seconds: "second",
  sec: "second",
  secs: "second",
  s: "second",
  millisecond: "millisecond",
  milliseconds: "millisecond",
  ms: "millisecond",
  microsecond: "microsecond",
  microseconds: "microsecond",
  us: "microsecond",
  quarter: "quarter",
  quarters: "quarter",
};

/** Normalises a date-part or interval unit name ("months" -> "month"), or null. */
export function normaliseUnit(unit: string): string | null {
  return UNIT_ALIASES[unit.toLowerCase()] ?? null;
}

/** An interval of `n` units. */
export function intervalOf(n: number, unit: string): IntervalValue {
  const u = normaliseUnit(unit);
  switch (u) {
    case "year":
      return { months: 12 * n, days: 0, micros: 0 };
    case "quarter":
      return { months: 3 * n, days: 0, micros: 0 };
    case "month":
      return { months: n, days: 0, micros: 0 };
    case "week":
      return { months: 0, days: 7 * n, micros: 0 };
    case "day":
      return { months: 0, days: n, micros: 0 };
    case "hour":
      return { months: 0, days: 0, micros: n * 3600e6 };
    case "minute":
      return { months: 0, days: 0, micros: n * 60e6 };
    case "second":
      return { months: 0, days: 0, micros: n * 1e6 };
    case "millisecond":
      return { months: 0, days: 0, micros: n * 1e3 };
    case "microsecond":
      return { months: 0, days: 0, micros: n };
    default:
      throw new SpiceError("TYPE", `invalid interval unit '${unit}'`);
  }
}

/** Parses interval text such as '3' (with a unit) or '1 year 2 months'. */
export function parseInterval(text: string, unit: string | null): IntervalValue {
  const t = text.trim();
  if (unit) {
    const n = Number(t);
    if (!Number.isFinite(n)) throw new SpiceError("TYPE", `invalid interval value '${text}'`);
    return intervalOf(n, unit);
  }
  const parts = t.split(/\s+/);
  let acc: IntervalValue = { months: 0, days: 0, micros: 0 };
  if (parts.length % 2 !== 0) throw new SpiceError("TYPE", `invalid interval '${text}'`);
  for (let i = 0; i < parts.length; i += 2) {
    const n = Number(parts[i]);
    if (!Number.isFinite(n)) throw new SpiceError("TYPE", `invalid interval '${text}'`);
    const x = intervalOf(n, parts[i + 1]);
    acc = { months: acc.months + x.months, days: acc.days + x.days, micros: acc.micros + x.micros };
  }
  return acc;
}

/** Formats days since the epoch as YYYY-MM-DD. */
export function formatDate(days: number): string {
  const d = new Date(days * DAY_MS);
  const y = d.getUTCFullYear();
  const ys = y < 0 ? "-" + String(-y).padStart(4, "0") : String(y).padStart(4, "0");
  return `${ys}-${String(d.getUTCMonth() + 1).padStart(2, "0")}-${
    String(d.getUTCDate()).padStart(2, "0")
  }`;
}

/** Formats microseconds since the epoch as YYYY-MM-DD HH:MM:SS[.ffffff]. */
export function formatTimestamp(micros: number): string {
  const days = Math.floor(micros / 86400e6);
  let rest = micros - days * 86400e6;
  const h = Math.floor(rest / 3600e6);
  rest -= h * 3600e6;
  const mi = Math.floor(rest / 60e6);
  rest -= mi * 60e6;
  const s = Math.floor(rest / 1e6);
  const us = Math.round(rest - s * 1e6);
  const base = `${formatDate(days)} ${String(h).padStart(2, "0")}:${String(mi).padStart(2, "0")}:${
    String(s).padStart(2, "0")
  }`;
  return us ? `${base}.${String(us).padStart(6, "0").replace(/0+$/, "")}` : base;
}

/** Formats an interval the way DuckDB prints it ("1 year 2 months 3 days 01:00:00"). */
export function formatInterval(v: IntervalValue): string {
  const parts: string[] = [];
  const y = Math.trunc(v.months / 12), mo = v.months % 12;
  if (y) parts.push(`${y} year${Math.abs(y) === 1 ? "" : "s"}`);
  if (mo) parts.push(`${mo} month${Math.abs(mo) === 1 ? "" : "s"}`);
  if (v.days) parts.push(`${v.days} day${Math.abs(v.days) === 1 ? "" : "s"}`);
  if (v.micros || parts.length === 0) {
    const neg = v.micros < 0;
    let r = Math.abs(v.micros);
    const h = Math.floor(r / 3600e6);
    r -= h * 3600e6;
    const m = Math.floor(r / 60e6);
    r -= m * 60e6;
    const s = r / 1e6;
    parts.push(
      `${neg ? "-" : ""}${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${
        String(Math.floor(s)).padStart(2, "0")
      }`,
    );
  }
  return parts.join(" ");
}

/** A literal's JavaScript value converted to a target type's storage value (for folding). */
export function literalValue(v: Value, type: DataType): Value {
  if (v === null) return null;
  switch (type.id) {
    case "date32":
      return typeof v === "string" ? parseDate(v) : v;
    case "timestamp":
      return typeof v === "string" ? parseTimestamp(v) : v;
    default:
      return v;
  }
}

export { DATE32, TIMESTAMP };
