/**
 * The table registry: name -> TableProvider.
 *
 * @module
 */

import type { TableProvider } from "./provider.ts";

export type {
  ScanFilters,
  ScanPartition,
  ScanPlan,
  TableProvider,
  TableStatistics,
} from "./provider.ts";

/** Tables the SQL layer can see, by case-insensitive name. */
export class Catalog {
  #tables = new Map<string, { name: string; provider: TableProvider }>();

  /** Registers (or replaces) a table. */
  register(name: string, provider: TableProvider): void {
    this.#tables.set(name.toLowerCase(), { name, provider });
  }

  /** Removes a table. */
  deregister(name: string): void {
    this.#tables.delete(name.toLowerCase());
  }

  /** The provider of a table, if it exists. */
  get(name: string): TableProvider | undefined {
    return this.#tables.get(name.toLowerCase())?.provider;
  }

  /** The names of every table, sorted. */
  names(): string[] {
    return [...this.#tables.values()].map((t) => t.name).sort();
  }
}
