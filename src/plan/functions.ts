/**
 * Signatures of scalar functions: how many arguments, how they are cast, and
 * the result type (DuckDB's, so that results compare exactly). The kernels
 * that compute them live in `exec/functions.ts` under the same names.
 *
 * @module
 */

import {
  BOOL,
  type DataType,
  DATE32,
  decimal,
  FLOAT64,
  INT32,
  INT64,
  isInteger,
  isNumeric,
  TIMESTAMP,
  typeToString,
  UTF8,
} from "../arrow/types.ts";
import { SpiceError } from "../errors.ts";
import { requireCommonType } from "./coercion.ts";

/** The resolved signature of one call. */
export interface FunctionSignature {
  /** The canonical function name (aliases resolved). */
  readonly name: string;
  /** The type each argument is cast to. */
  readonly args: readonly DataType[];
  /** The result type. */
  readonly result: DataType;
}

type Resolver = (args: readonly DataType[]) => { args: DataType[]; result: DataType };

interface FunctionDef {
  readonly min: number;
  readonly max: number;
  readonly resolve: Resolver;
}

const numericArg = (name: string, t: DataType): DataType => {
  if (t.id === "null") return FLOAT64;
  if (!isNumeric(t)) {
    throw new SpiceError("TYPE", `${name}() needs a numeric argument, got ${typeToString(t)}`);
  }
  return t;
};

const stringArg = (t: DataType): DataType => t.id === "null" ? UTF8 : UTF8;

const same = (name: string): Resolver => (a) => {
  const t = numericArg(name, a[0]);
  return { args: [t], result: t };
};

const toDouble: Resolver = (a) => ({ args: a.map(() => FLOAT64), result: FLOAT64 });

const roundLike = (name: string): Resolver => (a) => {
  const t = numericArg(name, a[0]);
  if (a.length === 2) {
    if (t.id === "decimal") return { args: [t, INT32], result: t };
    return { args: [t, INT32], result: t };
  }
  if (t.id === "decimal") return { args: [t], result: decimal(t.precision, 0) };
  return { args: [t], result: t };
};

const strings = (result: DataType): Resolver => (a) => ({ args: a.map(stringArg), result });

const variadicCommon = (name: string): Resolver => (a) => {
  let t: DataType = a[0];
  for (const x of a.slice(1)) t = requireCommonType(t, x, `${name}() over`);
  return { args: a.map(() => t), result: t };
};

const DATE_PART_RESULT = INT64;

const DEFS: Record<string, FunctionDef> = {
  // math
  abs: { min: 1, max: 1, resolve: same("abs") },
  ceil: { min: 1, max: 1, resolve: roundLike("ceil") },
  floor: { min: 1, max: 1, resolve: roundLike("floor") },
  round: {
    min: 1,
    max: 2,
    resolve: (a) => {
      const t = numericArg("round", a[0]);
      if (t.id === "decimal") {
        if (a.length === 1) return { args: [t], result: decimal(t.precision, 0) };
        return { args: [t, INT32], result: t }; // scale fixed at run time: see kernel
      }
      return { args: a.length === 2 ? [t, INT32] : [t], result: t };
    },
  },
  trunc: { min: 1, max: 1, resolve: roundLike("trunc") },
  sqrt: { min: 1, max: 1, resolve: toDouble },
  cbrt: { min: 1, max: 1, resolve: toDouble },
  exp: { min: 1, max: 1, resolve: toDouble },
  ln: { min: 1, max: 1, resolve: toDouble },
  log10: { min: 1, max: 1, resolve: toDouble },
  log2: { min: 1, max: 1, resolve: toDouble },
  log: {
    min: 1,
    max: 2,
    resolve: toDouble,
  },
  power: { min: 2, max: 2, resolve: toDouble },
  sign: {
    min: 1,
    max: 1,
    resolve: (a) => ({ args: [numericArg("sign", a[0])], result: INT32 }),
  },
  mod: {
    min: 2,
    max: 2,
    resolve: (a) => {
      const t = requireCommonType(numericArg("mod", a[0]), numericArg("mod", a[1]), "mod()");
      return { args: [t, t], result: t };
    },
  },
  pi: { min: 0, max: 0, resolve: () => ({ args: [], result: FLOAT64 }) },
  random: { min: 0, max: 0, resolve: () => ({ args: [], result: FLOAT64 }) },
  // strings
  upper: { min: 1, max: 1, resolve: strings(UTF8) },
  lower: { min: 1, max: 1, resolve: strings(UTF8) },
  length: { min: 1, max: 1, resolve: strings(INT64) },
  octet_length: { min: 1, max: 1, resolve: strings(INT64) },
  substring: {
    min: 2,
    max: 3,
    resolve: (a) => ({ args: [UTF8, ...a.slice(1).map(() => INT64)], result: UTF8 }),
  },
  trim: { min: 1, max: 2, resolve: strings(UTF8) },
  ltrim: { min: 1, max: 2, resolve: strings(UTF8) },
  rtrim: { min: 1, max: 2, resolve: strings(UTF8) },
  concat: { min: 1, max: 255, resolve: strings(UTF8) },
  concat_ws: { min: 2, max: 255, resolve: strings(UTF8) },
  replace: { min: 3, max: 3, resolve: strings(UTF8) },
  position: { min: 2, max: 2, resolve: strings(INT64) },
  starts_with: { min: 2, max: 2, resolve: strings(BOOL) },
  ends_with: { min: 2, max: 2, resolve: strings(BOOL) },
  contains: { min: 2, max: 2, resolve: strings(BOOL) },
  left: { min: 2, max: 2, resolve: () => ({ args: [UTF8, INT64], result: UTF8 }) },
  right: { min: 2, max: 2, resolve: () => ({ args: [UTF8, INT64], result: UTF8 }) },
  lpad: {
    min: 2,
    max: 3,
    resolve: (a) => ({ args: [UTF8, INT64, ...(a.length === 3 ? [UTF8] : [])], result: UTF8 }),
  },
  rpad: {
    min: 2,
    max: 3,
    resolve: (a) => ({ args: [UTF8, INT64, ...(a.length === 3 ? [UTF8] : [])], result: UTF8 }),
  },
  reverse: { min: 1, max: 1, resolve: strings(UTF8) },
  repeat: { min: 2, max: 2, resolve: () => ({ args: [UTF8, INT64], result: UTF8 }) },
  split_part: { min: 3, max: 3, resolve: () => ({ args: [UTF8, UTF8, INT64], result: UTF8 }) },
  // conditional
  coalesce: { min: 1, max: 255, resolve: variadicCommon("coalesce") },
  nullif: {
    min: 2,
    max: 2,
    resolve: (a) => {
      // DuckDB: the result has the first argument's type; the second is cast to it.
      const t = a[0].id === "null" ? (a[1].id === "null" ? INT32 : a[1]) : a[0];
      requireCommonType(a[0], a[1], "nullif() over");
      return { args: [t, t], result: t };
    },
  },
  greatest: { min: 1, max: 255, resolve: variadicCommon("greatest") },
  least: { min: 1, max: 255, resolve: variadicCommon("least") },
  // dates
  date_part: {
    min: 2,
    max: 2,
    resolve: (a) => ({ args: [UTF8, temporalArg("date_part", a[1])], result: DATE_PART_RESULT }),
  },
  date_trunc: {
    min: 2,
    max: 2,
    resolve: (a) => ({ args: [UTF8, temporalArg("date_trunc", a[1])], result: TIMESTAMP }),
  },
  current_date: { min: 0, max: 0, resolve: () => ({ args: [], result: DATE32 }) },
  now: { min: 0, max: 0, resolve: () => ({ args: [], result: TIMESTAMP }) },
  make_date: {
    min: 3,
    max: 3,
    resolve: () => ({ args: [INT64, INT64, INT64], result: DATE32 }),
  },
};

function temporalArg(name: string, t: DataType): DataType {
  if (t.id === "date32" || t.id === "timestamp") return t;
  if (t.id === "utf8" || t.id === "null") return TIMESTAMP;
  throw new SpiceError("TYPE", `${name}() needs a DATE or TIMESTAMP, got ${typeToString(t)}`);
}

const ALIASES: Record<string, string> = {
  ceiling: "ceil",
  pow: "power",
  char_length: "length",
  character_length: "length",
  len: "length",
  substr: "substring",
  btrim: "trim",
  strpos: "position",
  instr: "position",
  ifnull: "coalesce",
  datepart: "date_part",
  datetrunc: "date_trunc",
  ucase: "upper",
  lcase: "lower",
  current_timestamp: "now",
  prefix: "starts_with",
  suffix: "ends_with",
  strlen: "octet_length",
};

/** Date-part shorthands (year(x) = date_part('year', x)). */
export const DATE_PART_FUNCTIONS: ReadonlySet<string> = new Set([
  "year",
  "month",
  "day",
  "quarter",
  "week",
  "dayofweek",
  "dayofyear",
  "hour",
  "minute",
  "second",
  "epoch",
  "isodow",
  "isoyear",
  "yearweek",
  "decade",
  "century",
  "millennium",
  "millisecond",
  "microsecond",
  "dayofmonth",
  "weekday",
  "weekofyear",
]);

/** True when a scalar function of this name exists. */
export function isScalarFunction(name: string): boolean {
  const n = ALIASES[name] ?? name;
  return n in DEFS;
}

/** Resolves a call: canonical name, argument casts and result type, or a clear error. */
export function resolveFunction(name: string, args: readonly DataType[]): FunctionSignature {
  const canonical = ALIASES[name] ?? name;
  const def = DEFS[canonical];
  if (!def) throw new SpiceError("PLAN", `unknown function ${name}()`);
  if (args.length < def.min || args.length > def.max) {
    const want = def.min === def.max ? `${def.min}` : `${def.min} to ${def.max}`;
    throw new SpiceError(
      "PLAN",
      `${name}() takes ${want} argument${def.max === 1 ? "" : "s"}, got ${args.length}`,
    );
  }
  const r = def.resolve(args);
  return { name: canonical, args: r.args, result: r.result };
}

/** Result type of an aggregate function over an argument type (DuckDB's rules). */
export function aggregateResultType(fn: string, arg: DataType | null): DataType {
  switch (fn) {
    case "count":
    case "count_star":
      return INT64;
    case "sum":
      if (!arg || arg.id === "null") return INT64;
      if (arg.id === "decimal") return decimal(38, arg.scale);
      if (isInteger(arg)) return INT64;
      if (arg.id === "float64") return FLOAT64;
      break;
    case "avg":
    case "stddev_samp":
    case "stddev_pop":
    case "var_samp":
    case "var_pop":
      if (!arg || isNumeric(arg) || arg.id === "null") return FLOAT64;
      break;
    case "min":
    case "max":
    case "any_value":
      return arg ?? INT32;
    case "bool_and":
    case "bool_or":
      if (arg?.id === "bool") return BOOL;
      break;
  }
  throw new SpiceError(
    "TYPE",
    `${fn}() is not defined for ${arg ? typeToString(arg) : "no argument"}`,
  );
}

/** Aggregate names the engine knows, with aliases resolved. */
export function aggregateName(name: string): string | null {
  switch (name) {
    case "count":
    case "sum":
    case "avg":
    case "min":
    case "max":
    case "bool_and":
    case "bool_or":
    case "any_value":
    case "stddev_samp":
    case "stddev_pop":
    case "var_samp":
    case "var_pop":
      return name;
    case "mean":
      return "avg";
    case "stddev":
      return "stddev_samp";
    case "variance":
      return "var_samp";
    case "every":
      return "bool_and";
    case "first":
    case "arbitrary":
      return "any_value";
    default:
      return null;
  }
}

/** Window-only functions and their result types. */
export function windowFunctionType(name: string, args: readonly DataType[]): DataType | null {
  switch (name) {
    case "row_number":
    case "rank":
    case "dense_rank":
    case "ntile":
      return INT64;
    case "percent_rank":
    case "cume_dist":
      return FLOAT64;
    case "lag":
    case "lead":
    case "first_value":
    case "last_value":
    case "nth_value":
      return args[0] ?? INT32;
    default:
      return null;
  }
}
