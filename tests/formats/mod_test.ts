/**
 * Tests of the formats module's helpers.
 */
import assert from "node:assert/strict";
import { csvDelimiterFromPath, formatFromPath } from "../../src/formats/mod.ts";

Deno.test("formatFromPath: by extension, case-insensitive", () => {
  assert.equal(formatFromPath("data/x.parquet"), "parquet");
  assert.equal(formatFromPath("s3://b/k/X.PQ"), "parquet");
  assert.equal(formatFromPath("a.csv"), "csv");
  assert.equal(formatFromPath("a.TSV"), "csv");
  assert.equal(formatFromPath("a.json"), null);
  assert.equal(formatFromPath("parquet"), null);
  assert.equal(csvDelimiterFromPath("a.tsv"), "\t");
  assert.equal(csvDelimiterFromPath("a.csv"), ",");
});
