/**
 * Measures the two candidate SQL parsers on the 22 TPC-H queries: how many
 * parse, and the time per parse (median of repeated runs). The figures back
 * the parser decision recorded in the README.
 *
 * deno run -A scripts/parser_compare.ts
 */

import { TPCH_QUERIES } from "../src/connectors/tpch/mod.ts";
import { init, parse } from "sqlparser";
import NodeSqlParser from "node-sql-parser";

await init();
const nsp = new NodeSqlParser.Parser();

function measure(name: string, f: (sql: string) => unknown): void {
  let ok = 0;
  const failed: number[] = [];
  TPCH_QUERIES.forEach((q, i) => {
    try {
      f(q);
      ok++;
    } catch {
      failed.push(i + 1);
    }
  });
  const times: number[] = [];
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    for (const q of TPCH_QUERIES) {
      try {
        f(q);
      } catch { /* counted above */ }
    }
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${name}: parses ${ok}/22${failed.length ? ` (fails Q${failed.join(", Q")})` : ""}; ` +
      `${(times[10] / 22).toFixed(3)} ms per query (median of 20 runs)`,
  );
}

measure("sqlparser-rs (WASM, @guanmingchiu/sqlparser-ts)", (q) => parse(q, "generic"));
measure("node-sql-parser (PostgreSQL grammar)", (q) => nsp.astify(q, { database: "PostgresQL" }));
