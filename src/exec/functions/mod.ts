/**
 * Scalar function kernels by canonical name (the names of
 * `plan/functions.ts`, aliases already resolved by the planner).
 *
 * ```ts
 * const upper = SCALAR_FUNCTIONS["upper"];
 * const out = upper([column], column.length, UTF8);
 * ```
 *
 * @module
 */

import type { ScalarFunctionImpl } from "../datum.ts";
import { CONDITIONAL_FUNCTIONS } from "./conditional.ts";
import { DATE_FUNCTIONS } from "./date.ts";
import { MATH_FUNCTIONS } from "./math.ts";
import { STRING_FUNCTIONS } from "./string.ts";

/** Every scalar function kernel, keyed by canonical function name. */
export const SCALAR_FUNCTIONS: Readonly<Record<string, ScalarFunctionImpl>> = {
  ...MATH_FUNCTIONS,
  ...STRING_FUNCTIONS,
  ...CONDITIONAL_FUNCTIONS,
  ...DATE_FUNCTIONS,
};

// Helpers other kernels (casts, date arithmetic, constant folding) can share.
export {
  type DatePart,
  datePartSpecifier,
  daysFromCivil,
  isDoublePart,
  yearOfDays,
} from "./date.ts";
export { roundHalfAway } from "./math.ts";
