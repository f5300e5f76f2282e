/**
 * Date and time kernels: date_part, date_trunc, make_date, current_date and
 * now, with DuckDB's specifiers and semantics (ISO weeks, astronomical years
 * where year 0 is 1 BC, truncation toward zero for decades and centuries).
 *
 * Calendar fields come from integer civil-from-days arithmetic (Howard
 * Hinnant's algorithms) on the Int32Array of days or on days derived from
 * timestamp microseconds: no Date object is created per row.
 *
 * @module
 */

import { numericColumn } from "../../arrow/column.ts";
import type { DataType } from "../../arrow/types.ts";
import { combineValidity, isScalar, scalar, type ScalarFunctionImpl } from "../datum.ts";
import { dataError, liftScalars, numbers, strView } from "./common.ts";

const MICROS_PER_DAY = 86400e6;
/** Julian day number of 1970-01-01. */
const JULIAN_EPOCH = 2440588;
/** DuckDB's DATE range in days since the epoch. */
const MIN_DAYS = -2147483646;
const MAX_DAYS = 2147483646;

/** A normalised date part. */
export type DatePart =
  | "year"
  | "month"
  | "day"
  | "decade"
  | "century"
  | "millennium"
  | "microseconds"
  | "milliseconds"
  | "second"
  | "minute"
  | "hour"
  | "epoch"
  | "dow"
  | "isodow"
  | "week"
  | "doy"
  | "quarter"
  | "yearweek"
  | "isoyear"
  | "era"
  | "timezone"
  | "timezone_hour"
  | "timezone_minute"
  | "julian";

const SPECIFIERS: Record<string, DatePart> = {};
function alias(part: DatePart, ...names: string[]): void {
  for (const n of names) SPECIFIERS[n] = part;
}
alias("year", "year", "yr", "y", "years", "yrs");
alias("month", "month", "mon", "months", "mons");
alias("day", "day", "days", "d", "dayofmonth");
alias("decade", "decade", "dec", "decades", "decs");
alias("century", "century", "cent", "centuries", "c");
alias("millennium", "millennium", "mil", "millenniums", "millennia", "mils", "millenium");
alias("microseconds", "microseconds", "microsecond", "us", "usec", "usecs", "usecond", "useconds");
alias("milliseconds", "milliseconds", "millisecond", "ms", "msec", "msecs", "msecond", "mseconds");
alias("second", "second", "sec", "seconds", "secs", "s");
alias("minute", "minute", "min", "minutes", "mins", "m");
alias("hour", "hour", "hr", "hours", "hrs", "h");
alias("epoch", "epoch");
alias("dow", "dow", "dayofweek", "weekday");
alias("isodow", "isodow");
alias("week", "week", "weeks", "w", "weekofyear");
alias("doy", "doy", "dayofyear");
alias("quarter", "quarter", "quarters");
alias("yearweek", "yearweek");
alias("isoyear", "isoyear");
alias("era", "era");
alias("timezone", "timezone");
alias("timezone_hour", "timezone_hour");
alias("timezone_minute", "timezone_minute");
alias("julian", "julian", "jd");

/** Parses a date part specifier as DuckDB does (case-insensitive, with its aliases). */
export function datePartSpecifier(text: string): DatePart {
  const p = SPECIFIERS[text.toLowerCase()];
  if (!p) throw dataError(`extract specifier "${text}" not recognized`);
  return p;
}

/** True for parts whose value is fractional in DuckDB (DOUBLE results). */
export function isDoublePart(part: DatePart): boolean {
  return part === "epoch" || part === "julian";
}

// ---------------------------------------------------------------------------
// Civil calendar arithmetic

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = (((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) | 0) + d - 1;
  const doe = yoe * 365 + ((yoe / 4) | 0) - ((yoe / 100) | 0) + doy;
  return era * 146097 + doe - 719468;
}

/** Scratch output of `civil`: year, month, day. */
const CIV = new Float64Array(3);

/** Writes the year, month and day of `days` to CIV. */
function civil(days: number): void {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = ((doe - ((doe / 1460) | 0) + ((doe / 36524) | 0) - ((doe / 146096) | 0)) / 365) | 0;
  const doy = doe - (365 * yoe + ((yoe / 4) | 0) - ((yoe / 100) | 0));
  const mp = ((5 * doy + 2) / 153) | 0;
  const m = mp < 10 ? mp + 3 : mp - 9;
  CIV[0] = yoe + era * 400 + (m <= 2 ? 1 : 0);
  CIV[1] = m;
  CIV[2] = doy - (((153 * mp + 2) / 5) | 0) + 1;
}

/** The year of `days` (the fast path of date_part('year')). */
export function yearOfDays(days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = ((doe - ((doe / 1460) | 0) + ((doe / 36524) | 0) - ((doe / 146096) | 0)) / 365) | 0;
  const doy = doe - (365 * yoe + ((yoe / 4) | 0) - ((yoe / 100) | 0));
  // Months March..December belong to the computed year, January/February to the next.
  return yoe + era * 400 + (doy >= 306 ? 1 : 0);
}

/** Day of week, 0 = Sunday (1970-01-01 was a Thursday). */
function dayOfWeek(days: number): number {
  const r = (days + 4) % 7;
  return r < 0 ? r + 7 : r;
}

function isoDayOfWeek(days: number): number {
  const d = dayOfWeek(days);
  return d === 0 ? 7 : d;
}

/** ISO year of `days`: the year of the Thursday of its ISO week. */
function isoYear(days: number): number {
  return yearOfDays(days - isoDayOfWeek(days) + 4);
}

/** ISO week number (1..53). */
function isoWeek(days: number): number {
  const thursday = days - isoDayOfWeek(days) + 4;
  const y = yearOfDays(thursday);
  return Math.floor((thursday - daysFromCivil(y, 1, 1)) / 7) + 1;
}

/** Monday of ISO week 1 of ISO year `y`. */
function isoYearStart(y: number): number {
  const jan4 = daysFromCivil(y, 1, 4);
  return jan4 - isoDayOfWeek(jan4) + 1;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// ---------------------------------------------------------------------------
// date_part

/**
 * One field from days and microseconds into the day. Parts that DuckDB
 * reports as DOUBLE (epoch, julian) are exact here; the caller truncates when
 * the result type is integral.
 */
function field(part: DatePart, days: number, tod: number): number {
  switch (part) {
    case "year":
      return yearOfDays(days);
    case "month":
      civil(days);
      return CIV[1];
    case "day":
      civil(days);
      return CIV[2];
    case "quarter":
      civil(days);
      return ((CIV[1] - 1) / 3 | 0) + 1;
    case "decade":
      return Math.trunc(yearOfDays(days) / 10);
    case "century": {
      const y = yearOfDays(days);
      return y > 0 ? Math.trunc((y - 1) / 100) + 1 : Math.trunc(y / 100) - 1;
    }
    case "millennium": {
      const y = yearOfDays(days);
      return y > 0 ? Math.trunc((y - 1) / 1000) + 1 : Math.trunc(y / 1000) - 1;
    }
    case "era":
      return yearOfDays(days) > 0 ? 1 : 0;
    case "dow":
      return dayOfWeek(days);
    case "isodow":
      return isoDayOfWeek(days);
    case "doy":
      return days - daysFromCivil(yearOfDays(days), 1, 1) + 1;
    case "week":
      return isoWeek(days);
    case "isoyear":
      return isoYear(days);
    case "yearweek": {
      const y = isoYear(days), w = isoWeek(days);
      return y * 100 + (y > 0 ? w : -w);
    }
    case "epoch":
      return (days * MICROS_PER_DAY + tod) / 1e6;
    case "julian":
      return days + JULIAN_EPOCH + tod / MICROS_PER_DAY;
    case "hour":
      return Math.floor(tod / 3600e6);
    case "minute":
      return Math.floor(tod / 60e6) % 60;
    case "second":
      return Math.floor(tod / 1e6) % 60;
    case "milliseconds":
      return Math.floor(tod / 1e3) % 60000;
    case "microseconds":
      return tod % 60e6;
    case "timezone":
    case "timezone_hour":
    case "timezone_minute":
      return 0;
  }
}

/** date_part over a column of days (`tod` null for dates) into `out`. */
function partLoop(
  part: DatePart,
  days: ArrayLike<number>,
  tod: Float64Array | null,
  out: Float64Array,
  integral: boolean,
): void {
  const n = out.length;
  if (part === "year") {
    // The common case gets its own tight loop.
    for (let i = 0; i < n; i++) out[i] = yearOfDays(days[i]);
    return;
  }
  const trunc = integral && isDoublePart(part);
  for (let i = 0; i < n; i++) {
    const v = field(part, days[i], tod ? tod[i] : 0);
    out[i] = trunc ? Math.trunc(v) : v;
  }
}

/** Splits timestamp microseconds into days and microseconds into the day (floor). */
function splitTimestamps(
  micros: ArrayLike<number>,
  n: number,
): { days: Float64Array; tod: Float64Array } {
  const days = new Float64Array(n), tod = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = Math.floor(micros[i] / MICROS_PER_DAY);
    days[i] = d;
    tod[i] = micros[i] - d * MICROS_PER_DAY;
  }
  return { days, tod };
}

function checkDatePart(part: DatePart, t: DataType): void {
  if (
    t.id === "date32" &&
    (part === "timezone" || part === "timezone_hour" || part === "timezone_minute")
  ) {
    throw dataError(`"date" units "${part}" not recognized`);
  }
}

/**
 * date_part(part, x): the result type decides between an exact DOUBLE (as
 * DuckDB returns epoch and julian) and a truncated integer.
 */
const datePart: ScalarFunctionImpl = (args, n, type) => {
  const [spec, x] = args;
  const validity = combineValidity(args, n);
  const integral = type.id !== "float64";
  const out = new Float64Array(n);
  const isTs = x.type.id === "timestamp";
  const raw = numbers(x, n);
  const split = isTs ? splitTimestamps(raw, n) : null;
  const days: ArrayLike<number> = split ? split.days : raw;
  const tod = split ? split.tod : null;
  if (isScalar(spec)) {
    if (spec.value === null) return numericColumn(type, out, new Uint8Array(n));
    const part = datePartSpecifier(String(spec.value));
    checkDatePart(part, x.type);
    partLoop(part, days, tod, out, integral);
  } else {
    // A specifier per row (rare): parse each distinct text once.
    const v = strView(spec, n);
    const dec = new TextDecoder();
    const cache = new Map<string, DatePart>();
    for (let i = 0; i < n; i++) {
      if (validity && validity[i] === 0) continue;
      const text = dec.decode(v.data.subarray(v.starts[i], v.ends[i]));
      let part = cache.get(text);
      if (!part) {
        part = datePartSpecifier(text);
        checkDatePart(part, x.type);
        cache.set(text, part);
      }
      const val = field(part, days[i], tod ? tod[i] : 0);
      out[i] = integral && isDoublePart(part) ? Math.trunc(val) : val;
    }
  }
  return numericColumn(type, out, validity);
};

// ---------------------------------------------------------------------------
// date_trunc

/** Truncated days for the parts at or above a day, or null for sub-day parts. */
function truncDays(part: DatePart, days: number): number {
  switch (part) {
    case "millennium":
      return daysFromCivil(Math.trunc(yearOfDays(days) / 1000) * 1000, 1, 1);
    case "century":
      return daysFromCivil(Math.trunc(yearOfDays(days) / 100) * 100, 1, 1);
    case "decade":
      return daysFromCivil(Math.trunc(yearOfDays(days) / 10) * 10, 1, 1);
    case "year":
      return daysFromCivil(yearOfDays(days), 1, 1);
    case "quarter":
      civil(days);
      return daysFromCivil(CIV[0], (((CIV[1] - 1) / 3) | 0) * 3 + 1, 1);
    case "month":
      civil(days);
      return daysFromCivil(CIV[0], CIV[1], 1);
    case "week":
    case "yearweek":
      return days - isoDayOfWeek(days) + 1;
    case "isoyear":
      return isoYearStart(isoYear(days));
    default:
      return days;
  }
}

/** Sub-day truncation unit in microseconds, 0 for day-or-larger parts. */
function truncUnit(part: DatePart): number {
  switch (part) {
    case "hour":
      return 3600e6;
    case "minute":
      return 60e6;
    case "second":
    case "epoch":
      return 1e6;
    case "milliseconds":
      return 1e3;
    case "microseconds":
      return 1;
    default:
      return 0;
  }
}

function truncSpecifier(text: string): DatePart {
  const part = datePartSpecifier(text);
  if (
    part === "era" || part === "timezone" || part === "timezone_hour" || part === "timezone_minute"
  ) {
    throw dataError(`Specifier type not implemented for DATETRUNC: "${text}"`);
  }
  return part;
}

/** date_trunc(part, x) to a TIMESTAMP; weeks start on Monday (ISO). */
const dateTrunc: ScalarFunctionImpl = (args, n, type) => {
  const [spec, x] = args;
  const validity = combineValidity(args, n);
  const out = new Float64Array(n);
  const isTs = x.type.id === "timestamp";
  const raw = numbers(x, n);
  const one = (part: DatePart, i: number): number => {
    const unit = truncUnit(part);
    if (!isTs) {
      return unit === 0 ? truncDays(part, raw[i]) * MICROS_PER_DAY : raw[i] * MICROS_PER_DAY;
    }
    const us = raw[i];
    if (unit !== 0) return Math.floor(us / unit) * unit;
    return truncDays(part, Math.floor(us / MICROS_PER_DAY)) * MICROS_PER_DAY;
  };
  if (isScalar(spec)) {
    if (spec.value === null) return numericColumn(type, out, new Uint8Array(n));
    const part = truncSpecifier(String(spec.value));
    if (!isTs && (part === "day" || truncUnit(part) !== 0)) {
      for (let i = 0; i < n; i++) out[i] = raw[i] * MICROS_PER_DAY;
    } else {
      for (let i = 0; i < n; i++) out[i] = one(part, i);
    }
  } else {
    const v = strView(spec, n);
    const dec = new TextDecoder();
    for (let i = 0; i < n; i++) {
      if (validity && validity[i] === 0) continue;
      out[i] = one(truncSpecifier(dec.decode(v.data.subarray(v.starts[i], v.ends[i]))), i);
    }
  }
  return numericColumn(type, out, validity);
};

// ---------------------------------------------------------------------------
// make_date, current_date, now

/** make_date(year, month, day): DuckDB's range and validity checks. */
const makeDate: ScalarFunctionImpl = (args, n, type) => {
  const validity = combineValidity(args, n);
  const ys = numbers(args[0], n), ms = numbers(args[1], n), ds = numbers(args[2], n);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) continue;
    const y = ys[i], m = ms[i], d = ds[i];
    for (const v of [y, m, d]) {
      if (v > 2147483647 || v < -2147483648) {
        throw dataError(
          `Type INT64 with value ${v} can't be cast because the value is out of range for the destination type INT32`,
        );
      }
    }
    const dim = m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m - 1];
    const days = m >= 1 && m <= 12 && d >= 1 && d <= dim ? daysFromCivil(y, m, d) : NaN;
    if (!(days >= MIN_DAYS && days <= MAX_DAYS)) {
      throw dataError(`Date out of range: ${y}-${m}-${d}`);
    }
    out[i] = days;
  }
  return numericColumn(type, out, validity);
};

/**
 * current_date: today in UTC (DuckDB uses the session time zone). A kernel
 * call reads the clock once, so one batch sees one value.
 */
const currentDate: ScalarFunctionImpl = (_args, _n, type) =>
  scalar(type, Math.floor(Date.now() / 86400000));

/** now(): the current UTC time as a TIMESTAMP in microseconds. */
const now: ScalarFunctionImpl = (_args, _n, type) => scalar(type, Date.now() * 1000);

/** The date kernels by function name. */
export const DATE_FUNCTIONS: Readonly<Record<string, ScalarFunctionImpl>> = {
  date_part: liftScalars(datePart),
  date_trunc: liftScalars(dateTrunc),
  make_date: liftScalars(makeDate),
  current_date: currentDate,
  now,
};
