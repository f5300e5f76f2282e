/**
 * The shared runner of the SQL feature suite: every module under
 * `tests/sql/features/` is a list of {@link FeatureCase}s run by
 * {@link featureSuite}, one `t.step` per case, against our engine and DuckDB
 * over the same TPC-H Parquet files (scale factor 0.01).
 *
 * A case either compares results with DuckDB (`sql`, optionally a different
 * `referenceSql` for DuckDB when the engines only differ in spelling or in a
 * legitimate representation), or expects our engine to reject the query with
 * an error whose message matches `error`.
 *
 * @module
 */

import type { RecordBatch } from "../../../src/arrow/batch.ts";
import { canonicalReference, canonicalRows, diffResults } from "../../support/compare.ts";
import { runOurs, type TpchPair, tpchPair } from "../../support/engine.ts";

/** One query of the feature suite. */
export interface FeatureCase {
  /** The step name. */
  readonly name: string;
  /** The SQL our engine runs (and DuckDB too, unless `referenceSql` is given). */
  readonly sql: string;
  /**
   * Whether row order is compared. Only true when the query's ORDER BY fixes
   * the order of every row (ties broken down to distinct rows).
   */
  readonly ordered?: boolean;
  /** The SQL DuckDB runs instead of `sql` (explain why at the case). */
  readonly referenceSql?: string;
  /**
   * When set, our engine must fail on `sql` with a message matching this
   * pattern, and no result is compared.
   */
  readonly error?: RegExp;
}

/** The TPC-H scale factor of the feature suite. */
export const FEATURE_SF = 0.01;

/** Runs one case; throws with a description of the difference on failure. */
export async function runCase(pair: TpchPair, c: FeatureCase): Promise<void> {
  if (c.error) {
    let failure: unknown = undefined;
    let rows = 0;
    try {
      for (const b of await runOurs(pair.engine, c.sql)) rows += b.numRows;
    } catch (e) {
      failure = e;
    }
    if (failure === undefined) {
      throw new Error(
        `${c.name}: expected an error matching ${c.error}, got ${rows} rows\nSQL: ${c.sql}`,
      );
    }
    const message = errorText(failure);
    if (!c.error.test(message)) {
      throw new Error(
        `${c.name}: expected an error matching ${c.error}, got: ${message}\nSQL: ${c.sql}`,
      );
    }
    return;
  }
  let ours: RecordBatch[];
  try {
    ours = await runOurs(pair.engine, c.sql);
  } catch (e) {
    throw new Error(`${c.name}: our engine failed: ${errorText(e)}\nSQL: ${c.sql}`);
  }
  let reference: Awaited<ReturnType<TpchPair["reference"]["rows"]>>;
  try {
    reference = await pair.reference.rows(c.referenceSql ?? c.sql);
  } catch (e) {
    throw new Error(`${c.name}: DuckDB failed: ${errorText(e)}\nSQL: ${c.referenceSql ?? c.sql}`);
  }
  const diff = diffResults(
    canonicalRows(ours),
    canonicalReference(reference.rows, reference.types),
    c.ordered ?? false,
  );
  if (diff) throw new Error(`${c.name}: ${diff}\nSQL: ${c.sql}`);
}

/** The message of a thrown value, with its code when it is a `SpiceError`. */
function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? `[${code}] ${e.message}` : e.message;
}

/**
 * Registers one `Deno.test` named `title` that opens both engines once and
 * runs every case as a step. A failing step does not stop the others.
 */
export function featureSuite(title: string, cases: readonly FeatureCase[]): void {
  Deno.test(title, async (t) => {
    const pair = await tpchPair(FEATURE_SF);
    try {
      for (const c of cases) {
        await t.step(c.name, () => runCase(pair, c));
      }
    } finally {
      pair.close();
    }
  });
}
