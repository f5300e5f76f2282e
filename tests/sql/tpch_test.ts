/**
 * The 22 TPC-H queries (validation parameters) at scale factors 0.01 and 0.1,
 * each compared with DuckDB on the same Parquet files.
 */

import { TPCH_QUERIES, TPCH_QUERY_ORDERED } from "../../src/connectors/tpch/mod.ts";
import { compareQuery, tpchPair } from "../support/engine.ts";

for (const sf of [0.01, 0.1]) {
  Deno.test(`TPC-H at scale factor ${sf} matches DuckDB`, async (t) => {
    const pair = await tpchPair(sf);
    try {
      for (let q = 0; q < TPCH_QUERIES.length; q++) {
        await t.step(`Q${q + 1}`, async () => {
          const diff = await compareQuery(pair, TPCH_QUERIES[q], TPCH_QUERY_ORDERED[q]);
          if (diff) throw new Error(`Q${q + 1} differs from DuckDB: ${diff}`);
        });
      }
    } finally {
      pair.close();
    }
  });
}
