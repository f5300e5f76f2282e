/**
 * Type rules: the common type of two operands and the result type of each
 * operator, following DuckDB (our reference engine) so that results match
 * it value for value and scale for scale.
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
  typeEquals,
  typeToString,
  UTF8,
} from "../arrow/types.ts";
import { SpiceError } from "../errors.ts";
import type { BinaryOp } from "./expr.ts";

/** Decimal (precision, scale) that an integer type widens to. */
function asDecimal(t: DataType): { p: number; s: number } {
  if (t.id === "decimal") return { p: t.precision, s: t.scale };
  if (t.id === "int32") return { p: 10, s: 0 };
  return { p: 19, s: 0 };
}

/**
 * The type both operands are cast to for comparison, CASE, COALESCE, UNION
 * and IN; null when they cannot be reconciled.
 */
export function commonType(a: DataType, b: DataType): DataType | null {
  if (typeEquals(a, b)) return a;
  if (a.id === "null") return b;
  if (b.id === "null") return a;
  if (isNumeric(a) && isNumeric(b)) {
    if (a.id === "float64" || b.id === "float64") return FLOAT64;
    if (isInteger(a) && isInteger(b)) return INT64;
    const x = asDecimal(a), y = asDecimal(b);
    const s = Math.max(x.s, y.s);
    return decimal(Math.min(38, Math.max(x.p - x.s, y.p - y.s) + s), s);
  }
  if (
    (a.id === "date32" && b.id === "timestamp") || (a.id === "timestamp" && b.id === "date32")
  ) return TIMESTAMP;
  // A string meets a typed value: the string is cast (DuckDB does the same for literals).
  if (a.id === "utf8") return b.id === "interval" ? null : b;
  if (b.id === "utf8") return a.id === "interval" ? null : a;
  return null;
}

/** commonType, or a TYPE error naming the two types and the context. */
export function requireCommonType(a: DataType, b: DataType, context: string): DataType {
  const t = commonType(a, b);
  if (!t) {
    throw new SpiceError(
      "TYPE",
      `cannot ${context} ${typeToString(a)} and ${typeToString(b)}`,
    );
  }
  return t;
}

/** How a binary operator's operands are cast and what it returns. */
export interface BinarySignature {
  readonly left: DataType;
  readonly right: DataType;
  readonly result: DataType;
}

/** The signature of a binary operator applied to these operand types. */
export function binarySignature(op: BinaryOp, l: DataType, r: DataType): BinarySignature {
  switch (op) {
    case "and":
    case "or":
      for (const t of [l, r]) {
        if (t.id !== "bool" && t.id !== "null") {
          throw new SpiceError(
            "TYPE",
            `${op.toUpperCase()} needs BOOLEAN operands, got ${typeToString(t)}`,
          );
        }
      }
      return { left: BOOL, right: BOOL, result: BOOL };
    case "=":
    case "<>":
    case "<":
    case "<=":
    case ">":
    case ">=":
    case "is_distinct":
    case "is_not_distinct": {
      const t = requireCommonType(l, r, "compare");
      return { left: t, right: t, result: BOOL };
    }
    case "||":
      return { left: UTF8, right: UTF8, result: UTF8 };
    default:
      return arithmeticSignature(op, l, r);
  }
}

function arithmeticSignature(op: BinaryOp, l: DataType, r: DataType): BinarySignature {
  if (l.id === "null" && r.id === "null") return { left: INT32, right: INT32, result: INT32 };
  if (l.id === "null") l = r.id === "date32" || r.id === "timestamp" ? INT32 : r;
  if (r.id === "null") r = l.id === "date32" || l.id === "timestamp" ? INT32 : l;
  // Dates and timestamps.
  if (l.id === "date32" || l.id === "timestamp" || r.id === "date32" || r.id === "timestamp") {
    return temporalSignature(op, l, r);
  }
  // Strings take part only as literals, which the binder has already cast.
  if (l.id === "utf8" || r.id === "utf8") throw typeError(op, l, r);
  if (!isNumeric(l) || !isNumeric(r)) throw typeError(op, l, r);
  if (op === "/") return { left: FLOAT64, right: FLOAT64, result: FLOAT64 };
  // DuckDB: // on a DECIMAL or DOUBLE operand is a DOUBLE division (7.5 // 2 = 3.75).
  if (op === "//" && !(isInteger(l) && isInteger(r))) {
    return { left: FLOAT64, right: FLOAT64, result: FLOAT64 };
  }
  if (l.id === "float64" || r.id === "float64") {
    return { left: FLOAT64, right: FLOAT64, result: FLOAT64 };
  }
  if (isInteger(l) && isInteger(r)) {
    const t = l.id === "int64" || r.id === "int64" ? INT64 : INT32;
    return { left: t, right: t, result: t };
  }
  // Decimal arithmetic, with DuckDB's widths.
  const x = asDecimal(l), y = asDecimal(r);
  const dl = decimal(x.p, x.s), dr = decimal(y.p, y.s);
  switch (op) {
    case "+":
    case "-": {
      const s = Math.max(x.s, y.s);
      const p = Math.min(38, Math.max(x.p - x.s, y.p - y.s) + s + 1);
      return { left: dl, right: dr, result: decimal(p, s) };
    }
    case "*": {
      let p = x.p + y.p;
      // DuckDB keeps products of two int64-sized decimals in int64 (checking overflow).
      if (x.p <= 18 && y.p <= 18 && p > 18) p = 18;
      return { left: dl, right: dr, result: decimal(Math.min(38, p), x.s + y.s) };
    }
    case "%": {
      const s = Math.max(x.s, y.s);
      const p = Math.max(x.p - x.s, y.p - y.s) + s;
      return { left: dl, right: dr, result: decimal(p, s) };
    }
    case "//":
      return { left: dl, right: dr, result: INT64 };
    default:
      throw typeError(op, l, r);
  }
}

function temporalSignature(op: BinaryOp, l: DataType, r: DataType): BinarySignature {
  const isTime = (t: DataType) => t.id === "date32" || t.id === "timestamp";
  if (op === "+" || op === "-") {
    if (isTime(l) && r.id === "interval") {
      return { left: l.id === "date32" ? TIMESTAMP : l, right: r, result: TIMESTAMP };
    }
    if (op === "+" && l.id === "interval" && isTime(r)) {
      return { left: l, right: r.id === "date32" ? TIMESTAMP : r, result: TIMESTAMP };
    }
    if (l.id === "date32" && isInteger(r)) return { left: DATE32, right: INT32, result: DATE32 };
    if (op === "+" && isInteger(l) && r.id === "date32") {
      return { left: INT32, right: DATE32, result: DATE32 };
    }
    if (op === "-" && l.id === "date32" && r.id === "date32") {
      return { left: DATE32, right: DATE32, result: INT64 };
    }
  }
  throw typeError(op, l, r);
}

function typeError(op: BinaryOp, l: DataType, r: DataType): SpiceError {
  return new SpiceError(
    "TYPE",
    `no operator ${typeToString(l)} ${op} ${typeToString(r)} (add an explicit CAST)`,
  );
}

/** True when a value of type `from` can be cast to `to` at all. */
export function canCast(from: DataType, to: DataType): boolean {
  if (from.id === "null" || typeEquals(from, to)) return true;
  if (to.id === "utf8" || from.id === "utf8") return from.id !== "interval" && to.id !== "interval";
  if (isNumeric(from) && (isNumeric(to) || to.id === "bool")) return true;
  if (from.id === "bool" && isNumeric(to)) return true;
  if (from.id === "date32" && to.id === "timestamp") return true;
  if (from.id === "timestamp" && to.id === "date32") return true;
  return false;
}

export { BOOL, DATE32, FLOAT64, INT32, INT64, TIMESTAMP, UTF8 };
