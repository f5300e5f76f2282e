/**
 * CAST between engine types, vectorised, with DuckDB's rounding rules
 * (decimal -> integer rounds half away from zero, double -> integer rounds
 * half to even) and errors that name the value that does not convert.
 *
 * @module
 */

import {
  allocValues,
  type Column,
  columnFromValues,
  decodeDict,
  type NumericColumn,
  numericColumn,
  stringAt,
  Utf8Builder,
  type Utf8Column,
  valueAt,
} from "../../arrow/column.ts";
import { type DataType, typeEquals, typeToString } from "../../arrow/types.ts";
import { SpiceError } from "../../errors.ts";
import type { IntervalValue } from "../../plan/expr.ts";
import {
  formatDate,
  formatInterval,
  formatTimestamp,
  parseDate,
  parseTimestamp,
} from "../../sql/literals.ts";
import { type Datum, isScalar, scalar } from "../datum.ts";

const POW10: number[] = Array.from({ length: 39 }, (_, i) => 10 ** i);

/** 10^k as a double. */
export function pow10(k: number): number {
  return POW10[k] ?? 10 ** k;
}

/** Rounds half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Rounds half to even (IEEE nearbyint), as DuckDB casts doubles to integers. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Formats an unscaled decimal value at a scale ("1.50"). */
export function formatDecimal(unscaled: number | bigint, scale: number): string {
  if (typeof unscaled === "bigint" || Math.abs(unscaled) >= 2 ** 53) {
    const b = BigInt(unscaled);
    const neg = b < 0n;
    const digits = (neg ? -b : b).toString().padStart(scale + 1, "0");
    const s = scale === 0 ? digits : digits.slice(0, -scale) + "." + digits.slice(-scale);
    return neg ? "-" + s : s;
  }
  const neg = unscaled < 0;
  const digits = String(Math.abs(unscaled)).padStart(scale + 1, "0");
  const s = scale === 0 ? digits : digits.slice(0, -scale) + "." + digits.slice(-scale);
  return neg ? "-" + s : s;
}

/**
 * Formats a double the way DuckDB prints it: the shortest round-trip digits,
 * integral values with ".0", and exponent form (two-digit exponent) from 1e16
 * up and below 1e-4.
 */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const a = Math.abs(x);
  if (a >= 1e16 || a < 1e-4) {
    const [m, e] = x.toExponential().split("e");
    const sign = e.startsWith("-") ? "-" : "+";
    return `${m}e${sign}${e.replace(/^[+-]/, "").padStart(2, "0")}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

function convertError(v: unknown, to: DataType): SpiceError {
  return new SpiceError(
    "DATA",
    `could not convert ${typeof v === "string" ? `string '${v}'` : String(v)} to ${
      typeToString(to)
    }`,
  );
}

/** Casts a scalar value (storage form) from one type to another. */
export function castValue(
  v: unknown,
  from: DataType,
  to: DataType,
): number | bigint | string | boolean | null | IntervalValue {
  if (v === null || v === undefined) return null;
  if (typeEquals(from, to)) return v as number;
  const col = castColumn(
    scalarColumn(v, from),
    to,
  );
  if (col.validity && col.validity[0] === 0) return null;
  if (col.enc === "num") {
    const x = col.values[0];
    return to.id === "bool" ? x === 1 : x;
  }
  return stringAt(col, 0);
}

function scalarColumn(v: unknown, t: DataType): Column {
  if (t.id === "utf8") {
    const b = new Utf8Builder(1);
    b.append(String(v));
    return b.finish();
  }
  if (typeof v === "bigint") return numericColumn(t, BigInt64Array.of(v));
  const arr = allocValues(t, 1);
  (arr as Float64Array)[0] = typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
  return numericColumn(t, arr);
}

/** Casts a datum; scalars stay scalars. */
export function castDatum(d: Datum, to: DataType): Datum {
  if (isScalar(d)) {
    if (d.type.id === "interval") {
      if (to.id === "utf8") return scalar(to, formatInterval(d.value as IntervalValue));
      if (to.id === "interval") return d;
      throw convertError("INTERVAL", to);
    }
    return scalar(to, castValue(d.value, d.type, to) as number);
  }
  return castColumn(d, to);
}

/**
 * TRY_CAST: like castDatum, but a value that does not convert becomes NULL.
 * The vectorised cast runs first; only when it fails are rows cast one by one.
 */
export function castDatumSafe(d: Datum, to: DataType, n: number): Datum {
  try {
    return castDatum(d, to);
  } catch {
    if (isScalar(d)) return scalar(to, null);
  }
  const c = d as Column;
  const values: (number | bigint | string | boolean | null)[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const v = castValue(valueAt(c, i), c.type, to);
      values.push(v as number | bigint | string | boolean | null);
    } catch {
      values.push(null);
    }
  }
  return columnFromValues(to, values);
}

/** Casts a column to another type. */
export function castColumn(c: Column, to: DataType): Column {
  const from = c.type;
  if (typeEquals(from, to)) return c;
  const n = c.length;
  if (from.id === "null") {
    const validity = new Uint8Array(n);
    if (to.id === "utf8") {
      return {
        enc: "utf8",
        type: to,
        length: n,
        offsets: new Int32Array(n + 1),
        data: new Uint8Array(0),
        validity,
      };
    }
    return numericColumn(to, allocValues(to, n), validity);
  }
  if (from.id === "utf8") {
    if (to.id === "utf8") return { ...c, type: to } as Column;
    return castFromString(c as Utf8Column, to);
  }
  if (to.id === "utf8") return castToString(c as NumericColumn);
  const src = (c as NumericColumn).values;
  const validity = c.validity;
  if (src instanceof BigInt64Array) return castWide(c as NumericColumn, to);
  const out = allocValues(to, n);
  const f = src as Float64Array;
  switch (to.id) {
    case "bool":
      for (let i = 0; i < n; i++) out[i] = f[i] !== 0 ? 1 : 0;
      return numericColumn(to, out, validity);
    case "float64": {
      const o = out as Float64Array;
      if (from.id === "decimal") {
        const div = pow10(from.scale);
        for (let i = 0; i < n; i++) o[i] = f[i] / div;
      } else if (from.id === "date32" || from.id === "timestamp") {
        throw new SpiceError("TYPE", `cannot cast ${typeToString(from)} to DOUBLE`);
      } else {
        for (let i = 0; i < n; i++) o[i] = f[i];
      }
      return numericColumn(to, o, validity);
    }
    case "int32":
    case "int64": {
      const o = out as Float64Array | Int32Array;
      const lim = to.id === "int32" ? 2147483648 : 9223372036854775808;
      if (from.id === "decimal") {
        const div = pow10(from.scale);
        for (let i = 0; i < n; i++) o[i] = roundHalfAway(f[i] / div);
      } else if (from.id === "float64") {
        for (let i = 0; i < n; i++) {
          const x = f[i];
          if ((validity === null || validity[i]) && !(Math.abs(x) < lim)) throw convertError(x, to);
          o[i] = roundHalfEven(x);
        }
        return numericColumn(to, o, validity);
      } else if (from.id === "date32" || from.id === "timestamp") {
        throw new SpiceError("TYPE", `cannot cast ${typeToString(from)} to ${typeToString(to)}`);
      } else {
        for (let i = 0; i < n; i++) o[i] = f[i];
      }
      // Int32Array stores wrap silently: check the range on the source values.
      if (to.id === "int32") checkInt32Range(f, from, validity, to);
      return numericColumn(to, o, validity);
    }
    case "decimal": {
      const o = out as Float64Array;
      if (from.id === "decimal") {
        const d = to.scale - from.scale;
        if (d >= 0) {
          const m = pow10(d);
          for (let i = 0; i < n; i++) o[i] = f[i] * m;
        } else {
          const m = pow10(-d);
          for (let i = 0; i < n; i++) o[i] = roundHalfAway(f[i] / m);
        }
      } else if (from.id === "float64") {
        const m = pow10(to.scale);
        for (let i = 0; i < n; i++) o[i] = roundHalfAway(f[i] * m);
      } else if (from.id === "int32" || from.id === "int64" || from.id === "bool") {
        const m = pow10(to.scale);
        for (let i = 0; i < n; i++) o[i] = f[i] * m;
      } else {
        throw new SpiceError("TYPE", `cannot cast ${typeToString(from)} to ${typeToString(to)}`);
      }
      if (from.id !== "float64" && anyBeyondSafe(o, validity)) {
        // A scaled value past 2^53 is not exact in a double: redo the scaling in BigInt.
        const scaleUp = to.scale - (from.id === "decimal" ? from.scale : 0);
        const exact = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          if (validity && !validity[i]) continue;
          const v = rescaleBig(BigInt(f[i]), scaleUp);
          if (v > 9223372036854775807n || v < -9223372036854775808n) {
            throw new SpiceError(
              "NOT_SUPPORTED",
              "not supported: DECIMAL value wider than 64 bits",
            );
          }
          exact[i] = v;
        }
        checkBigRange(exact, to, validity);
        return numericColumn(to, exact, validity);
      }
      checkDecimalRange(o, to, validity);
      if (to.precision > 18) return numericColumn(to, toBigInt(o), validity);
      return numericColumn(to, o, validity);
    }
    case "timestamp": {
      if (from.id !== "date32") break;
      const o = out as Float64Array;
      for (let i = 0; i < n; i++) o[i] = f[i] * 86400e6;
      return numericColumn(to, o, validity);
    }
    case "date32": {
      if (from.id !== "timestamp") break;
      const o = out as Int32Array;
      for (let i = 0; i < n; i++) o[i] = Math.floor(f[i] / 86400e6);
      return numericColumn(to, o, validity);
    }
  }
  throw new SpiceError("TYPE", `cannot cast ${typeToString(from)} to ${typeToString(to)}`);
}

function checkInt32Range(
  f: Float64Array | Int32Array | Uint8Array,
  from: DataType,
  validity: Uint8Array | null,
  to: DataType,
): void {
  if (from.id === "int32" || from.id === "bool") return;
  const div = from.id === "decimal" ? pow10(from.scale) : 1;
  for (let i = 0; i < f.length; i++) {
    if (validity !== null && !validity[i]) continue;
    const x = roundHalfAway(f[i] / div);
    if (x > 2147483647 || x < -2147483648) throw convertError(f[i] / div, to);
  }
}

function checkDecimalRange(
  o: Float64Array,
  to: DataType & { id: "decimal" },
  validity: Uint8Array | null,
): void {
  const lim = pow10(to.precision);
  for (let i = 0; i < o.length; i++) {
    if (validity !== null && !validity[i]) continue;
    if (!(Math.abs(o[i]) < lim)) {
      throw new SpiceError(
        "DATA",
        `value ${formatDecimal(o[i], to.scale)} does not fit in ${typeToString(to)}`,
      );
    }
  }
}

function toBigInt(o: Float64Array): BigInt64Array {
  const out = new BigInt64Array(o.length);
  for (let i = 0; i < o.length; i++) out[i] = BigInt(o[i]);
  return out;
}

function castWide(c: NumericColumn, to: DataType): Column {
  const src = c.values as BigInt64Array;
  const n = c.length;
  const from = c.type as DataType & { id: "decimal" };
  const validity = c.validity;
  if (to.id === "decimal") {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      if (validity && !validity[i]) continue;
      const v = rescaleBig(src[i], to.scale - from.scale);
      if (v > 9223372036854775807n || v < -9223372036854775808n) {
        throw new SpiceError("NOT_SUPPORTED", "not supported: DECIMAL value wider than 64 bits");
      }
      out[i] = v;
    }
    checkBigRange(out, to, validity);
    if (to.precision <= 18 && !anyBigBeyondSafe(out, validity)) {
      const f = new Float64Array(n);
      for (let i = 0; i < n; i++) f[i] = Number(out[i]);
      return numericColumn(to, f, validity);
    }
    return numericColumn(to, out, validity);
  }
  if (to.id === "int32" || to.id === "int64") {
    const out = to.id === "int32" ? new Int32Array(n) : new Float64Array(n);
    const lim = to.id === "int32" ? 2147483648n : 9007199254740992n;
    for (let i = 0; i < n; i++) {
      if (validity && !validity[i]) continue;
      const v = rescaleBig(src[i], -from.scale);
      if (v >= lim || v < -lim) {
        throw to.id === "int64"
          ? new SpiceError(
            "NOT_SUPPORTED",
            `not supported: ${
              formatDecimal(src[i], from.scale)
            } as BIGINT is beyond ±2^53, the exact BIGINT range of this engine`,
          )
          : convertError(formatDecimal(src[i], from.scale), to);
      }
      out[i] = Number(v);
    }
    return numericColumn(to, out, validity);
  }
  // Other targets (double, string, bool): through doubles.
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = Number(src[i]);
  if (to.id === "utf8") {
    const b = new Utf8Builder(n, 24);
    for (let i = 0; i < n; i++) {
      if (validity && !validity[i]) b.appendNull();
      else b.append(formatDecimal(src[i], from.scale));
    }
    return b.finish();
  }
  return castColumn(
    numericColumn({ id: "decimal", precision: 18, scale: from.scale }, f, validity),
    to,
  );
}

/** v * 10^k (k >= 0) or v / 10^-k rounded half away from zero (k < 0), in BigInt. */
function rescaleBig(v: bigint, k: number): bigint {
  if (k >= 0) return v * 10n ** BigInt(k);
  const m = 10n ** BigInt(-k);
  const q = v / m, r = v % m;
  return (r < 0n ? -r : r) * 2n >= m ? q + (v < 0n ? -1n : 1n) : q;
}

function anyBeyondSafe(o: Float64Array, validity: Uint8Array | null): boolean {
  for (let i = 0; i < o.length; i++) {
    if (Math.abs(o[i]) > 9007199254740991 && (validity === null || validity[i])) return true;
  }
  return false;
}

function anyBigBeyondSafe(o: BigInt64Array, validity: Uint8Array | null): boolean {
  for (let i = 0; i < o.length; i++) {
    if (
      (o[i] > 9007199254740991n || o[i] < -9007199254740991n) && (validity === null || validity[i])
    ) return true;
  }
  return false;
}

/** Rejects values outside the type's precision (or beyond the 64-bit storage). */
function checkBigRange(
  o: BigInt64Array,
  to: DataType & { id: "decimal" },
  validity: Uint8Array | null,
): void {
  const lim = 10n ** BigInt(Math.min(to.precision, 18)) *
    (to.precision > 18 ? 10n ** BigInt(to.precision - 18) : 1n);
  for (let i = 0; i < o.length; i++) {
    if (validity && !validity[i]) continue;
    const v = o[i] < 0n ? -o[i] : o[i];
    if (v >= lim) {
      throw new SpiceError(
        "DATA",
        `value ${formatDecimal(o[i], to.scale)} does not fit in ${typeToString(to)}`,
      );
    }
  }
}

function castToString(c: NumericColumn): Column {
  const n = c.length;
  const b = new Utf8Builder(n, 12);
  const v = c.values;
  const t = c.type;
  for (let i = 0; i < n; i++) {
    if (c.validity && !c.validity[i]) {
      b.appendNull();
      continue;
    }
    const x = v[i];
    switch (t.id) {
      case "bool":
        b.append(x ? "true" : "false");
        break;
      case "decimal":
        b.append(formatDecimal(x as number, t.scale));
        break;
      case "date32":
        b.append(formatDate(x as number));
        break;
      case "timestamp":
        b.append(formatTimestamp(x as number));
        break;
      case "float64":
        b.append(formatDouble(x as number));
        break;
      default:
        b.append(String(x));
    }
  }
  return b.finish();
}

function castFromString(c: Utf8Column | Column, to: DataType): Column {
  const plain = decodeDict(c) as Utf8Column;
  const n = plain.length;
  const out = allocValues(to, n);
  let validity = plain.validity ? plain.validity.slice() : null;
  let wide: BigInt64Array | null = null;
  for (let i = 0; i < n; i++) {
    if (validity && !validity[i]) continue;
    const s = stringAt(plain, i);
    const t = s.trim();
    let x: number;
    switch (to.id) {
      case "bool": {
        const l = t.toLowerCase();
        if (l === "true" || l === "t" || l === "1" || l === "yes" || l === "y") x = 1;
        else if (l === "false" || l === "f" || l === "0" || l === "no" || l === "n") x = 0;
        else throw convertError(s, to);
        break;
      }
      case "int32":
      case "int64": {
        const num = Number(t);
        if (t === "" || !Number.isFinite(num)) throw convertError(s, to);
        x = roundHalfAway(num);
        if (to.id === "int32" && (x > 2147483647 || x < -2147483648)) throw convertError(s, to);
        if (to.id === "int64" && !Number.isSafeInteger(x)) {
          throw new SpiceError(
            "NOT_SUPPORTED",
            `not supported: '${s}' as BIGINT is beyond ±2^53, the exact BIGINT range of this engine`,
          );
        }
        break;
      }
      case "float64": {
        const l = t.toLowerCase();
        if (l === "nan") x = NaN;
        else if (l === "inf" || l === "infinity") x = Infinity;
        else if (l === "-inf" || l === "-infinity") x = -Infinity;
        else {
          x = Number(t);
          if (t === "" || Number.isNaN(x)) throw convertError(s, to);
        }
        break;
      }
      case "decimal": {
        const num = Number(t);
        if (t === "" || !Number.isFinite(num)) throw convertError(s, to);
        const exact = decimalFromTextBig(t, to.scale);
        const lim = 10n ** BigInt(to.precision);
        if (exact >= lim || exact <= -lim) throw convertError(s, to);
        if (exact > 9223372036854775807n || exact < -9223372036854775808n) {
          throw new SpiceError("NOT_SUPPORTED", "not supported: DECIMAL value wider than 64 bits");
        }
        if (exact > 9007199254740991n || exact < -9007199254740991n) {
          (wide ??= new BigInt64Array(n))[i] = exact;
          x = 0;
        } else x = Number(exact);
        break;
      }
      case "date32":
        x = parseDate(t);
        break;
      case "timestamp":
        x = parseTimestamp(t);
        break;
      default:
        throw new SpiceError("TYPE", `cannot cast VARCHAR to ${typeToString(to)}`);
    }
    (out as Float64Array)[i] = x;
  }
  if (to.id === "decimal" && (to.precision > 18 || wide)) {
    const big = toBigInt(out as Float64Array);
    if (wide) { for (let i = 0; i < n; i++) if (wide[i] !== 0n) big[i] = wide[i]; }
    return numericColumn(to, big, validity);
  }
  validity = validity && validity.every((b) => b === 1) ? null : validity;
  return numericColumn(to, out, validity);
}

/** Parses decimal text exactly to an unscaled BigInt at `scale` (rounding half away). */
function decimalFromTextBig(t: string, scale: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m) return BigInt(roundHalfAway(Number(t) * pow10(scale)));
  const neg = m[1] === "-";
  const frac = m[3] ?? "";
  const kept = (frac + "0".repeat(scale)).slice(0, scale);
  let v = BigInt((m[2] || "0") + kept);
  if (frac.length > scale && Number(frac[scale]) >= 5) v += 1n;
  return neg ? -v : v;
}
