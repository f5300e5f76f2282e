/**
 * Arithmetic kernels: + - * / // % and negation over typed arrays, with
 * DuckDB's semantics (integer overflow is an error, x // 0 and x % 0 are
 * NULL, decimals are exact unscaled integers) and date/interval arithmetic.
 *
 * @module
 */

import { allocValues, type Column, type NumericColumn, numericColumn } from "../../arrow/column.ts";
import type { DataType } from "../../arrow/types.ts";
import { SpiceError } from "../../errors.ts";
import type { BinaryOp, IntervalValue } from "../../plan/expr.ts";
import { type Datum, isScalar, scalar } from "../datum.ts";
import { pow10 } from "./cast.ts";

type Num = Float64Array | Int32Array | Uint8Array;

/** The scale factor that aligns a decimal operand to the result scale for + - %. */
function alignFactor(t: DataType, result: DataType): number {
  if (result.id !== "decimal" || t.id !== "decimal") return 1;
  return pow10(result.scale - t.scale);
}

function validityOf(d: Datum, n: number): Uint8Array | null {
  if (isScalar(d)) return d.value === null ? new Uint8Array(n) : null;
  return d.validity;
}

function andValidity(a: Uint8Array | null, b: Uint8Array | null): Uint8Array | null {
  if (!a) return b;
  if (!b) return a;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] & b[i];
  return out;
}

function isWide(d: Datum): boolean {
  return isScalar(d)
    ? typeof d.value === "bigint"
    : (d as NumericColumn).values instanceof BigInt64Array;
}

/** Evaluates `l op r` for arithmetic operators; operand types are already cast per signature. */
export function arithmetic(op: BinaryOp, l: Datum, r: Datum, type: DataType, n: number): Datum {
  if ((isScalar(l) && l.value === null) || (isScalar(r) && r.value === null)) {
    return scalar(type, null);
  }
  const lt = l.type, rt = r.type;
  if (lt.id === "interval" || rt.id === "interval") return intervalArith(op, l, r, type, n);
  if (lt.id === "date32" && rt.id === "date32") {
    return binaryLoop((a, b) => a - b, l, r, type, n);
  }
  if (type.id === "decimal" && (isWide(l) || isWide(r) || type.precision > 18)) {
    return wideDecimal(op, l, r, type, n);
  }
  if (type.id === "decimal" && (op === "+" || op === "-" || op === "*")) {
    const fast = arithmeticFast(op, l, r, type, n);
    // Doubles hold unscaled decimals exactly only up to 2^53: past that, compute in BigInt.
    return beyondSafe(fast) ? wideDecimal(op, l, r, type, n) : checked(fast, type);
  }
  return arithmeticFast(op, l, r, type, n);
}

function beyondSafe(d: Datum): boolean {
  if (isScalar(d)) return typeof d.value === "number" && Math.abs(d.value) > 9007199254740991;
  const c = d as NumericColumn;
  const v = c.values as Float64Array;
  for (let i = 0; i < v.length; i++) {
    if (Math.abs(v[i]) > 9007199254740991 && (c.validity === null || c.validity[i])) return true;
  }
  return false;
}

function arithmeticFast(op: BinaryOp, l: Datum, r: Datum, type: DataType, n: number): Datum {
  const lt = l.type, rt = r.type;
  const fl = type.id === "decimal" && op !== "*" ? alignFactor(lt, type) : 1;
  const fr = type.id === "decimal" && op !== "*" ? alignFactor(rt, type) : 1;
  // Int32 results are computed in doubles and narrowed after an overflow check.
  const st: DataType = type.id === "int32" ? { id: "float64" } : type;
  switch (op) {
    case "+":
      if (fl === 1 && fr === 1) {
        return checked(binaryLoop((a, b) => a + b, l, r, type, n, st), type);
      }
      return checked(binaryLoop((a, b) => a * fl + b * fr, l, r, type, n), type);
    case "-":
      if (fl === 1 && fr === 1) {
        return checked(binaryLoop((a, b) => a - b, l, r, type, n, st), type);
      }
      return checked(binaryLoop((a, b) => a * fl - b * fr, l, r, type, n), type);
    case "*":
      return checked(binaryLoop((a, b) => a * b, l, r, type, n, st), type);
    case "/":
      return binaryLoop((a, b) => a / b, l, r, type, n);
    case "%":
      // DOUBLE % 0 is NaN (IEEE); integer and decimal % 0 are NULL.
      if (type.id === "float64") return binaryLoop((a, b) => a % b, l, r, type, n);
      return checked(nullOnZero((a, b) => (a * fl) % (b * fr), l, r, type, n), type);
    case "//":
      // On doubles DuckDB's // is a plain division (x // 0 is NULL).
      if (type.id === "float64") return nullOnZero((a, b) => a / b, l, r, type, n);
      return nullOnZero((a, b) => Math.trunc(a / b), l, r, type, n);
    default:
      throw new SpiceError("INTERNAL", `not an arithmetic operator: ${op}`);
  }
}

/**
 * Applies f over two operands. Written as one generic loop per operand shape;
 * V8 inlines `f` at each call site's monomorphic closure.
 */
function binaryLoop(
  f: (a: number, b: number) => number,
  l: Datum,
  r: Datum,
  type: DataType,
  n: number,
  storage: DataType = type,
): Datum {
  if (isScalar(l) && isScalar(r)) return scalar(type, f(Number(l.value), Number(r.value)));
  const out = allocValues(storage, n) as Num;
  const validity = andValidity(validityOf(l, n), validityOf(r, n));
  if (isScalar(l)) {
    const a = Number(l.value);
    const b = (r as NumericColumn).values as Num;
    for (let i = 0; i < n; i++) out[i] = f(a, b[i]);
  } else if (isScalar(r)) {
    const a = (l as NumericColumn).values as Num;
    const b = Number(r.value);
    for (let i = 0; i < n; i++) out[i] = f(a[i], b);
  } else {
    const a = (l as NumericColumn).values as Num;
    const b = (r as NumericColumn).values as Num;
    for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
  }
  return numericColumn(type, out, validity);
}

/** Like binaryLoop, but a zero divisor gives NULL (DuckDB's x // 0 and x % 0). */
function nullOnZero(
  f: (a: number, b: number) => number,
  l: Datum,
  r: Datum,
  type: DataType,
  n: number,
): Datum {
  if (isScalar(l) && isScalar(r)) {
    const b = Number(r.value);
    return scalar(type, b === 0 ? null : f(Number(l.value), b));
  }
  const res = binaryLoop(f, l, r, type, n) as NumericColumn;
  let validity = res.validity ? res.validity.slice() : null;
  if (isScalar(r)) {
    if (Number(r.value) === 0) validity = new Uint8Array(n);
  } else {
    const b = (r as NumericColumn).values as Num;
    for (let i = 0; i < n; i++) {
      if (b[i] === 0) {
        validity ??= new Uint8Array(n).fill(1);
        validity[i] = 0;
      }
    }
  }
  return numericColumn(type, res.values, validity);
}

/** Checks integer and decimal results for overflow (DuckDB raises an error). */
function checked(d: Datum, type: DataType): Datum {
  if (type.id === "int64") return checkedInt64(d);
  if (type.id !== "int32" && type.id !== "decimal") return d;
  const lim = type.id === "int32" ? 2147483648 : pow10(Math.min(type.precision, 18));
  if (isScalar(d)) {
    const v = Number(d.value);
    if (type.id === "int32" ? v >= lim || v < -lim : Math.abs(v) >= lim) throw overflow(type);
    return d;
  }
  const c = d as NumericColumn;
  if (type.id === "int32") {
    const v = c.values as Float64Array;
    for (let i = 0; i < v.length; i++) {
      if ((v[i] >= lim || v[i] < -lim) && (c.validity === null || c.validity[i])) {
        throw overflow(type);
      }
    }
    return numericColumn(type, new Int32Array(v), c.validity);
  }
  const v = c.values as Float64Array;
  for (let i = 0; i < v.length; i++) {
    if (!(Math.abs(v[i]) < lim) && (c.validity === null || c.validity[i])) throw overflow(type);
  }
  return c;
}

/** BIGINT lives in doubles: a result past 2^53 would lose digits, so it is an error. */
function checkedInt64(d: Datum): Datum {
  if (!beyondSafe(d)) return d;
  throw new SpiceError(
    "NOT_SUPPORTED",
    "not supported: BIGINT arithmetic result beyond ±2^53, the exact BIGINT range of this engine",
  );
}

function overflow(type: DataType): SpiceError {
  return new SpiceError(
    "DATA",
    `overflow in ${type.id === "int32" ? "INTEGER" : "DECIMAL"} arithmetic`,
  );
}

function wideDecimal(op: BinaryOp, l: Datum, r: Datum, type: DataType, n: number): Datum {
  const t = type as DataType & { id: "decimal" };
  const sl = l.type.id === "decimal" ? l.type.scale : 0;
  const sr = r.type.id === "decimal" ? r.type.scale : 0;
  const get = (d: Datum, i: number): bigint => {
    if (isScalar(d)) return BigInt(d.value as number | bigint);
    const v = (d as NumericColumn).values;
    return typeof v[i] === "bigint" ? v[i] as bigint : BigInt(v[i] as number);
  };
  const al = op === "*" ? 1n : 10n ** BigInt(t.scale - sl);
  const ar = op === "*" ? 1n : 10n ** BigInt(t.scale - sr);
  const f = (a: bigint, b: bigint): bigint | null => {
    switch (op) {
      case "+":
        return a * al + b * ar;
      case "-":
        return a * al - b * ar;
      case "*":
        return a * b;
      case "%":
        return b === 0n ? null : (a * al) % (b * ar);
      default:
        throw new SpiceError("INTERNAL", `wide decimal ${op}`);
    }
  };
  if (isScalar(l) && isScalar(r)) {
    const v = f(get(l, 0), get(r, 0));
    const safe = v !== null && v <= 9007199254740991n && v >= -9007199254740991n;
    return scalar(type, v === null ? null : t.precision <= 18 && safe ? Number(v) : v);
  }
  const out = new BigInt64Array(n);
  let validity = andValidity(validityOf(l, n), validityOf(r, n));
  for (let i = 0; i < n; i++) {
    if (validity && !validity[i]) continue;
    const v = f(get(l, i), get(r, i));
    if (v !== null && (v > 9223372036854775807n || v < -9223372036854775808n)) {
      throw new SpiceError("NOT_SUPPORTED", "not supported: DECIMAL result wider than 64 bits");
    }
    if (v === null) {
      validity ??= new Uint8Array(n).fill(1);
      validity[i] = 0;
    } else out[i] = v;
  }
  if (t.precision <= 18 && out.every((x) => x <= 9007199254740991n && x >= -9007199254740991n)) {
    const o = new Float64Array(n);
    for (let i = 0; i < n; i++) o[i] = Number(out[i]);
    return numericColumn(type, o, validity);
  }
  return numericColumn(type, out, validity);
}

/** Negation. */
export function negate(d: Datum, n: number): Datum {
  if (isScalar(d)) {
    if (d.value === null) return d;
    if (d.type.id === "int32" && d.value === -2147483648) throw overflow(d.type);
    return scalar(d.type, typeof d.value === "bigint" ? -d.value : -Number(d.value));
  }
  const c = d as NumericColumn;
  if (c.values instanceof BigInt64Array) {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[i] = -c.values[i];
    return numericColumn(c.type, out, c.validity);
  }
  const out = allocValues(c.type, n) as Num;
  const v = c.values as Num;
  for (let i = 0; i < n; i++) out[i] = -v[i];
  if (c.type.id === "int32") {
    // -(-2^31) does not fit an INTEGER (Int32Array would wrap it back).
    for (let i = 0; i < n; i++) {
      if (v[i] === -2147483648 && (c.validity === null || c.validity[i])) throw overflow(c.type);
    }
  }
  return numericColumn(c.type, out, c.validity);
}

// ---------------------------------------------------------------------------
// dates and intervals

const DAY_US = 86400e6;

/** Days from civil date (proleptic Gregorian), Howard Hinnant's algorithm. */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Civil date from days since the epoch: [year, month (1-12), day]. */
export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [m <= 2 ? y + 1 : y, m, d];
}

/** Adds months to a day number, clamping the day to the month's end (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(days: number, months: number): number {
  if (months === 0) return days;
  const [y, m, d] = civilFromDays(days);
  const total = y * 12 + (m - 1) + months;
  const ny = Math.floor(total / 12);
  const nm = total - ny * 12 + 1;
  const last = daysInMonth(ny, nm);
  return daysFromCivil(ny, nm, Math.min(d, last));
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

/** Adds an interval to a timestamp (microseconds). */
export function addInterval(micros: number, iv: IntervalValue, sign: 1 | -1): number {
  let t = micros;
  if (iv.months) {
    const days = Math.floor(t / DAY_US);
    const rest = t - days * DAY_US;
    t = addMonths(days, sign * iv.months) * DAY_US + rest;
  }
  return t + sign * (iv.days * DAY_US + iv.micros);
}

function intervalArith(op: BinaryOp, l: Datum, r: Datum, type: DataType, n: number): Datum {
  let time = l, iv = r;
  if (l.type.id === "interval") {
    time = r;
    iv = l;
  }
  if (!isScalar(iv)) throw new SpiceError("NOT_SUPPORTED", "not supported: interval columns");
  const value = iv.value as IntervalValue;
  const sign: 1 | -1 = op === "-" ? -1 : 1;
  const toMicros = time.type.id === "date32" ? DAY_US : 1;
  if (isScalar(time)) {
    return scalar(type, addInterval(Number(time.value) * toMicros, value, sign));
  }
  const src = (time as NumericColumn).values as Num;
  const out = new Float64Array(n);
  if (value.months === 0) {
    const delta = sign * (value.days * DAY_US + value.micros);
    for (let i = 0; i < n; i++) out[i] = src[i] * toMicros + delta;
  } else {
    for (let i = 0; i < n; i++) out[i] = addInterval(src[i] * toMicros, value, sign);
  }
  return numericColumn(type, out, (time as Column).validity);
}
