/**
 * Name resolution: which column a (possibly qualified) name refers to, in the
 * query's own FROM clause or, for correlated subqueries, an enclosing one.
 *
 * @module
 */

import type { DataType } from "../arrow/types.ts";
import { SpiceError } from "../errors.ts";

/** A column visible to expressions. */
export interface ScopeColumn {
  readonly qualifier: string | null;
  readonly name: string;
  readonly id: number;
  readonly type: DataType;
  readonly nullable: boolean;
  /** Hidden from `*` (the right-hand copy of a USING column). */
  readonly hiddenFromStar?: boolean;
  /** Not resolvable without a qualifier (the copies a USING column merges). */
  readonly qualifiedOnly?: boolean;
}

/** The columns visible at one query level, with a link to the enclosing level. */
export class Scope {
  /** Visible columns, in FROM order. */
  readonly columns: readonly ScopeColumn[];
  /** The enclosing query's scope (for correlated references). */
  readonly parent: Scope | null;

  /** Makes a scope. */
  constructor(columns: readonly ScopeColumn[], parent: Scope | null = null) {
    this.columns = columns;
    this.parent = parent;
  }

  /** Finds a column by name parts ([name] or [qualifier, name]); null when absent at every level. */
  resolve(parts: readonly string[]): { column: ScopeColumn; outer: boolean } | null {
    const local = this.#resolveLocal(parts);
    if (local) return { column: local, outer: false };
    const up = this.parent?.resolve(parts);
    return up ? { column: up.column, outer: true } : null;
  }

  #resolveLocal(parts: readonly string[]): ScopeColumn | null {
    const name = parts[parts.length - 1].toLowerCase();
    const qual = parts.length >= 2 ? parts[parts.length - 2].toLowerCase() : null;
    const matches = this.columns.filter((c) =>
      c.name.toLowerCase() === name &&
      (qual === null ? !c.qualifiedOnly : c.qualifier?.toLowerCase() === qual)
    );
    if (matches.length === 0) return null;
    const distinct = new Set(matches.map((m) => m.id));
    if (distinct.size > 1) {
      const where = [...new Set(matches.map((m) => m.qualifier ?? "?"))].join(", ");
      throw new SpiceError(
        "PLAN",
        `column reference "${parts.join(".")}" is ambiguous (it is in ${where}); qualify it`,
      );
    }
    return matches[0];
  }

  /** True when some column has this qualifier. */
  hasQualifier(q: string): boolean {
    const lower = q.toLowerCase();
    return this.columns.some((c) => c.qualifier?.toLowerCase() === lower);
  }

  /** A column-not-found error that lists what is visible. */
  notFound(parts: readonly string[]): SpiceError {
    const names = [
      ...new Set(this.columns.map((c) => c.qualifier ? `${c.qualifier}.${c.name}` : c.name)),
    ];
    const shown = names.slice(0, 20).join(", ") + (names.length > 20 ? ", ..." : "");
    return new SpiceError(
      "COLUMN_NOT_FOUND",
      `column "${parts.join(".")}" not found${names.length ? `; available: ${shown}` : ""}`,
    );
  }
}
