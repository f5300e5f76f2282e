/**
 * Math kernels with DuckDB's semantics: decimals stay exact on their unscaled
 * integers (Float64Array, or BigInt64Array for wide decimals), rounding is
 * half away from zero, integer and decimal `mod` by zero is NULL, and the
 * logarithms and `sqrt` raise DuckDB's out-of-range errors.
 *
 * @module
 */

import { allocValues, numericColumn } from "../../arrow/column.ts";
import type { DataType } from "../../arrow/types.ts";
import {
  combineValidity,
  type Datum,
  isScalar,
  scalar,
  type ScalarFunctionImpl,
} from "../datum.ts";
import {
  bigints,
  dataError,
  isWide,
  liftScalars,
  numbers,
  pow10,
  pow10n,
  scalarNumber,
} from "./common.ts";

/** C's `round`: half away from zero (JavaScript's Math.round rounds half up). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Applies `f` to every row of a numeric column (NULL rows keep garbage, as their validity says). */
function unaryNumber(
  arg: Datum,
  n: number,
  type: DataType,
  f: (x: number) => number,
): Datum {
  const x = numbers(arg, n);
  const out = allocValues(type, n) as Float64Array;
  for (let i = 0; i < n; i++) out[i] = f(x[i]);
  return numericColumn(type, out, combineValidity([arg], n));
}

/** Throws a DuckDB range error for the first valid row where `bad(x)` holds. */
function check(arg: Datum, n: number, bad: (x: number) => string | null): void {
  const x = numbers(arg, n);
  const v = isScalar(arg) ? null : arg.validity;
  for (let i = 0; i < n; i++) {
    if (v && v[i] === 0) continue;
    const msg = bad(x[i]);
    if (msg) throw dataError(msg);
  }
}

function logDomain(x: number): string | null {
  if (x < 0) return "cannot take logarithm of a negative number";
  if (x === 0) return "cannot take logarithm of zero";
  return null;
}

const abs: ScalarFunctionImpl = (args, n, type) => {
  const a = args[0];
  const validity = combineValidity(args, n);
  if (isWide(a)) {
    const x = bigints(a, n);
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[i] = x[i] < 0n ? -x[i] : x[i];
    return numericColumn(type, out, validity);
  }
  const x = numbers(a, n);
  const out = allocValues(type, n) as Float64Array;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v === -2147483648 && type.id === "int32" && (!validity || validity[i] === 1)) {
      throw dataError(`Overflow on abs(${v})`);
    }
    out[i] = v < 0 ? -v : v;
  }
  return numericColumn(type, out, validity);
};

const sign: ScalarFunctionImpl = (args, n, type) => {
  const a = args[0];
  const validity = combineValidity(args, n);
  const out = allocValues(type, n) as Float64Array;
  if (isWide(a)) {
    const x = bigints(a, n);
    for (let i = 0; i < n; i++) out[i] = x[i] > 0n ? 1 : x[i] < 0n ? -1 : 0;
  } else {
    const x = numbers(a, n);
    // NaN and -0 have sign 0, as in DuckDB.
    for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0;
  }
  return numericColumn(type, out, validity);
};

type IntRound = "ceil" | "floor" | "trunc" | "round";

/** Integer quotient v / f (f = 10^k) rounded per `mode`, for exact integers |v| < 2^53. */
function divRound(v: number, f: number, mode: IntRound): number {
  const r = v % f;
  const q = (v - r) / f;
  switch (mode) {
    case "trunc":
      return q + 0;
    case "floor":
      return (r < 0 ? q - 1 : q) + 0;
    case "ceil":
      return (r > 0 ? q + 1 : q) + 0;
    case "round":
      return (2 * Math.abs(r) >= f ? q + (v < 0 ? -1 : 1) : q) + 0;
  }
}

/** The bigint version of `divRound`. */
function divRoundBig(v: bigint, f: bigint, mode: IntRound): bigint {
  const r = v % f;
  const q = v / f;
  switch (mode) {
    case "trunc":
      return q;
    case "floor":
      return r < 0n ? q - 1n : q;
    case "ceil":
      return r > 0n ? q + 1n : q;
    case "round":
      return 2n * (r < 0n ? -r : r) >= f ? q + (v < 0n ? -1n : 1n) : q;
  }
}

/** Rescales unscaled decimals from scale `from` to scale `to` (rounding half away when shrinking). */
function rescale(v: number, from: number, to: number): number {
  if (to === from) return v;
  if (to > from) return v * pow10(to - from);
  return divRound(v, pow10(from - to), "round");
}

function rescaleBig(v: bigint, from: number, to: number): bigint {
  if (to === from) return v;
  if (to > from) return v * pow10n(to - from);
  return divRoundBig(v, pow10n(from - to), "round");
}

/** ceil/floor/trunc/round(x) with one argument: decimals drop their scale, doubles round. */
function roundingKernel(mode: IntRound, f: (x: number) => number): ScalarFunctionImpl {
  return (args, n, type) => {
    const a = args[0];
    const t = a.type;
    const validity = combineValidity(args, n);
    if (t.id === "decimal") {
      const scale = t.scale;
      const target = type.id === "decimal" ? type.scale : 0;
      if (isWide(a)) {
        const x = bigints(a, n);
        const out = new BigInt64Array(n);
        const p = pow10n(scale);
        for (let i = 0; i < n; i++) {
          out[i] = rescaleBig(scale === 0 ? x[i] : divRoundBig(x[i], p, mode), 0, target);
        }
        return numericColumn(type, out, validity);
      }
      const x = numbers(a, n);
      const out = allocValues(type, n) as Float64Array;
      const p = pow10(scale);
      for (let i = 0; i < n; i++) {
        out[i] = rescale(scale === 0 ? x[i] : divRound(x[i], p, mode), 0, target);
      }
      return numericColumn(type, out, validity);
    }
    if (t.id === "float64") return unaryNumber(a, n, type, f);
    // Integers are already whole: identity (the result type may widen).
    return unaryNumber(a, n, type, (x) => x);
  };
}

/** DuckDB's RoundOperatorPrecision on doubles. */
function roundDouble(x: number, k: number): number {
  if (k < 0) {
    const m = Math.pow(10, -k);
    const r = roundHalfAway(x / m) * m;
    return Number.isFinite(r) ? r : 0;
  }
  const m = Math.pow(10, k);
  const r = roundHalfAway(x * m) / m;
  return Number.isFinite(r) ? r : x;
}

/**
 * round(x, k) on a decimal(p, s), DuckDB's way: k >= s keeps the value, k < 0
 * rounds to a multiple of 10^-k (0 when -k reaches the integer digits), and
 * otherwise rounds to k digits. The value is then expressed at the scale of
 * the result type the caller chose.
 */
function roundDecimal(v: number, p: number, s: number, k: number, target: number): number {
  if (k >= s) return rescale(v, s, target);
  if (k < 0) {
    if (k <= -(p - s)) return 0;
    return rescale(divRound(v, pow10(s - k), "round") * pow10(-k), 0, target);
  }
  return rescale(divRound(v, pow10(s - k), "round"), k, target);
}

function roundDecimalBig(v: bigint, p: number, s: number, k: number, target: number): bigint {
  if (k >= s) return rescaleBig(v, s, target);
  if (k < 0) {
    if (k <= -(p - s)) return 0n;
    return rescaleBig(divRoundBig(v, pow10n(s - k), "round") * pow10n(-k), 0, target);
  }
  return rescaleBig(divRoundBig(v, pow10n(s - k), "round"), k, target);
}

const round1 = roundingKernel("round", (x) => {
  const r = roundHalfAway(x);
  return Number.isFinite(r) ? r : x;
});

const round: ScalarFunctionImpl = (args, n, type) => {
  if (args.length === 1) return round1(args, n, type);
  const [a, kArg] = args;
  const t = a.type;
  const validity = combineValidity(args, n);
  const kScalar = isScalar(kArg) ? scalarNumber(kArg) : null;
  const ks = isScalar(kArg) ? null : numbers(kArg, n);
  if (t.id === "decimal") {
    const target = type.id === "decimal" ? type.scale : 0;
    // Rounding away every digit gives DuckDB's constant 0, even for NULL inputs.
    const zeroBelow = -(t.precision - t.scale);
    if (kScalar !== null && kScalar <= zeroBelow) {
      return numericColumn(type, isWide(a) ? new BigInt64Array(n) : allocValues(type, n));
    }
    const kValid = isScalar(kArg) ? null : kArg.validity;
    const zeroed = (i: number) => ks !== null && ks[i] <= zeroBelow && (!kValid || kValid[i] === 1);
    if (isWide(a)) {
      const x = bigints(a, n);
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        if (zeroed(i)) {
          if (validity) validity[i] = 1;
          continue;
        }
        out[i] = roundDecimalBig(x[i], t.precision, t.scale, ks ? ks[i] : kScalar ?? 0, target);
      }
      return numericColumn(type, out, validity);
    }
    const x = numbers(a, n);
    const out = allocValues(type, n) as Float64Array;
    for (let i = 0; i < n; i++) {
      if (zeroed(i)) {
        if (validity) validity[i] = 1;
        continue;
      }
      out[i] = roundDecimal(x[i], t.precision, t.scale, ks ? ks[i] : kScalar ?? 0, target);
    }
    return numericColumn(type, out, validity);
  }
  const x = numbers(a, n);
  const out = allocValues(type, n) as Float64Array;
  if (t.id === "float64") {
    for (let i = 0; i < n; i++) out[i] = roundDouble(x[i], ks ? ks[i] : kScalar ?? 0);
  } else {
    // Integers: identity for k >= 0; for k < 0 DuckDB rounds through a double,
    // and an int32 result wraps exactly as the Int32Array store does.
    for (let i = 0; i < n; i++) {
      const k = ks ? ks[i] : kScalar ?? 0;
      out[i] = k >= 0 ? x[i] : roundDouble(x[i], k);
    }
  }
  return numericColumn(type, out, validity);
};

/** C's pow: JavaScript differs only where C defines pow(1, y) = 1 and pow(-1, ±inf) = 1. */
function cPow(b: number, e: number): number {
  if (b === 1) return 1;
  if (b === -1 && (e === Infinity || e === -Infinity)) return 1;
  return Math.pow(b, e);
}

const power: ScalarFunctionImpl = (args, n, type) => {
  const [a, b] = args;
  const validity = combineValidity(args, n);
  const out = new Float64Array(n);
  if (isScalar(b)) {
    const e = scalarNumber(b) ?? 0;
    const x = numbers(a, n);
    for (let i = 0; i < n; i++) out[i] = cPow(x[i], e);
  } else {
    const x = numbers(a, n), y = numbers(b, n);
    for (let i = 0; i < n; i++) out[i] = cPow(x[i], y[i]);
  }
  return numericColumn(type, out, validity);
};

const log: ScalarFunctionImpl = (args, n, type) => {
  if (args.length === 1) return log10(args, n, type);
  // log(b, x) = log10(x) / log10(b), with DuckDB's checks on b first.
  const [b, x] = args;
  const validity = combineValidity(args, n);
  const bs = numbers(b, n), xs = numbers(x, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) continue;
    const bad = logDomain(bs[i]);
    if (bad) throw dataError(bad);
    const d = Math.log10(bs[i]);
    if (d === 0) throw dataError("divison by zero in based logarithm");
    const bad2 = logDomain(xs[i]);
    if (bad2) throw dataError(bad2);
    out[i] = Math.log10(xs[i]) / d;
  }
  return numericColumn(type, out, validity);
};

function checkedLog(f: (x: number) => number): ScalarFunctionImpl {
  return (args, n, type) => {
    check(args[0], n, logDomain);
    return unaryNumber(args[0], n, type, f);
  };
}

const log10 = checkedLog(Math.log10);

const mod: ScalarFunctionImpl = (args, n, type) => {
  const [a, b] = args;
  let validity = combineValidity(args, n);
  if (type.id === "float64") {
    // fmod: the sign of the dividend, NaN for a zero divisor (JavaScript's % is fmod).
    const x = numbers(a, n), y = numbers(b, n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = x[i] % y[i];
    return numericColumn(type, out, validity);
  }
  // Integers and decimals (same scale after the cast): NULL on a zero divisor.
  if (isWide(a) || isWide(b)) {
    const x = bigints(a, n), y = bigints(b, n);
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      if (y[i] === 0n) {
        validity ??= new Uint8Array(n).fill(1);
        validity[i] = 0;
        continue;
      }
      out[i] = x[i] % y[i];
    }
    return numericColumn(type, out, validity);
  }
  const x = numbers(a, n), y = numbers(b, n);
  const out = allocValues(type, n) as Float64Array;
  for (let i = 0; i < n; i++) {
    if (y[i] === 0) {
      validity ??= new Uint8Array(n).fill(1);
      validity[i] = 0;
      continue;
    }
    out[i] = (x[i] % y[i]) + 0;
  }
  return numericColumn(type, out, validity);
};

const sqrt: ScalarFunctionImpl = (args, n, type) => {
  check(args[0], n, (x) => x < 0 ? "cannot take square root of a negative number" : null);
  return unaryNumber(args[0], n, type, Math.sqrt);
};

const random: ScalarFunctionImpl = (_args, n, type) => {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.random();
  return numericColumn(type, out);
};

/** The math kernels by function name. */
export const MATH_FUNCTIONS: Readonly<Record<string, ScalarFunctionImpl>> = {
  abs: liftScalars(abs),
  sign: liftScalars(sign),
  ceil: liftScalars(roundingKernel("ceil", Math.ceil)),
  floor: liftScalars(roundingKernel("floor", Math.floor)),
  trunc: liftScalars(roundingKernel("trunc", Math.trunc)),
  round: liftScalars(round),
  sqrt: liftScalars(sqrt),
  cbrt: liftScalars((args, n, type) => unaryNumber(args[0], n, type, Math.cbrt)),
  exp: liftScalars((args, n, type) => unaryNumber(args[0], n, type, Math.exp)),
  ln: liftScalars(checkedLog(Math.log)),
  log10: liftScalars(log10),
  log2: liftScalars(checkedLog(Math.log2)),
  log: liftScalars(log),
  power: liftScalars(power),
  mod: liftScalars(mod),
  pi: (_args, _n, type) => scalar(type, Math.PI),
  // Not lifted: a fresh value per row even though there are no arguments.
  random,
};
