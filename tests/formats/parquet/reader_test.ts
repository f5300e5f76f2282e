/**
 * Tests of the Parquet reader, writer and footer decoder: exact round trips of
 * every type, projection, row-group selection, bytes fetched, statistics,
 * files written by DuckDB, and errors.
 */
import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  batchFromRows,
  batchToRows,
  BOOL,
  concatBatches,
  DATE32,
  decimal,
  field,
  FLOAT64,
  INT32,
  INT64,
  type NumericColumn,
  numericColumn,
  type RecordBatch,
  recordBatch,
  schema,
  TIMESTAMP,
  UTF8,
  type Value,
} from "../../../src/arrow/mod.ts";
import { localFileSource } from "../../../src/connectors/local_file.ts";
import { SpiceError } from "../../../src/errors.ts";
import {
  readParquet,
  readParquetMetadata,
  readParquetSchema,
  writeParquet,
} from "../../../src/formats/mod.ts";
import { collect, countingSource, memorySource } from "../helpers.ts";

const ALL = schema([
  field("i", INT32),
  field("l", INT64),
  field("f", FLOAT64),
  field("s", UTF8),
  field("d", DATE32),
  field("t", TIMESTAMP),
  field("b", BOOL),
  field("m", decimal(15, 2)),
  field("w", decimal(30, 4)),
]);

const ALL_ROWS: Value[][] = [
  [1, 2 ** 40, 1.5, "héllo wörld ✓ 日本", 19000, 1.7e15, true, 12345, 123456789012345678n],
  [null, null, null, null, null, null, null, null, null],
  [-5, -(2 ** 52), -0.25, "", -1, -1, false, -99, -1n],
  [2147483647, 2 ** 53 - 1, 1e300, "x".repeat(1000), -719162, -6.2e16, true, 999999999999999, 0n],
  [
    -2147483648,
    -(2 ** 53 - 1),
    Number.MIN_VALUE,
    "🎉",
    2932896,
    2.5e17,
    false,
    -999999999999999,
    -(10n ** 18n),
  ],
];

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "spiced_parquet_test_" });
}

function rowsOf(batches: RecordBatch[]): Value[][] {
  return batches.flatMap((b) => batchToRows(b));
}

Deno.test("every type round-trips exactly through a file", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/all.parquet`;
    await Deno.writeFile(path, writeParquet(ALL, [batchFromRows(ALL, ALL_ROWS)]));
    const batches = await collect(readParquet(localFileSource(path)));
    assert.deepEqual(batches.map((b) => b.schema.fields.map((f) => [f.name, f.type])), [
      ALL.fields.map((f) => [f.name, f.type]),
    ]);
    assert.deepEqual(rowsOf(batches), ALL_ROWS);
    // Storage: the engine's typed arrays, not JavaScript values.
    const [b] = batches;
    assert.ok((b.columns[0] as NumericColumn).values instanceof Int32Array);
    assert.ok((b.columns[1] as NumericColumn).values instanceof Float64Array);
    assert.ok((b.columns[7] as NumericColumn).values instanceof Float64Array);
    assert.ok((b.columns[8] as NumericColumn).values instanceof BigInt64Array);
    assert.ok(b.columns[3].enc === "utf8" || b.columns[3].enc === "dict");
    assert.deepEqual(Array.from(b.columns[0].validity!), [1, 0, 1, 1, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("schema: names, types and nullability", async () => {
  const s = schema([field("a", INT64, false), field("b", decimal(9, 3)), field("c", UTF8)]);
  const bytes = writeParquet(s, [batchFromRows(s, [[1, 1234, "x"]])]);
  const got = await readParquetSchema(memorySource("s.parquet", bytes));
  assert.deepEqual(got, s);
});

Deno.test("decimals at scale are exact, also past 2^53 with precision 18", async () => {
  const s = schema([
    field("p", decimal(18, 4)),
    field("q", decimal(9, 9)),
    field("r", decimal(38, 0)),
  ]);
  const big = 123456789012345678n; // > 2^53: must not pass through a double
  const values = new BigInt64Array([big, -big, 1n]);
  const b = recordBatch(s, [
    numericColumn(s.fields[0].type, values),
    numericColumn(s.fields[1].type, new Float64Array([999999999, -1, 0])),
    numericColumn(s.fields[2].type, new BigInt64Array([-(2n ** 62n), 2n ** 62n, 7n])),
  ]);
  const src = memorySource("dec.parquet", writeParquet(s, [b]));
  const [out] = await collect(readParquet(src));
  const p = (out.columns[0] as NumericColumn).values;
  // A batch with values beyond 2^53 is stored as BigInt64 so that they stay exact.
  assert.ok(p instanceof BigInt64Array);
  assert.deepEqual(Array.from(p as BigInt64Array), [big, -big, 1n]);
  assert.deepEqual(batchToRows(out).map((r) => r.slice(1)), [
    [999999999, -(2n ** 62n)],
    [-1, 2n ** 62n],
    [0, 7n],
  ]);
  const meta = await readParquetMetadata(src);
  assert.deepEqual(meta.rowGroups[0].columns[0].stats, { min: -big, max: big, nullCount: 0 });
  assert.deepEqual(meta.rowGroups[0].columns[2].stats, {
    min: -(2n ** 62n),
    max: 2n ** 62n,
    nullCount: 0,
  });
});

Deno.test("projection returns only the requested columns, in the requested order", async () => {
  const src = memorySource("all.parquet", writeParquet(ALL, [batchFromRows(ALL, ALL_ROWS)]));
  const batches = await collect(readParquet(src, { columns: ["m", "S", "i"] }));
  assert.deepEqual(batches[0].schema.fields.map((f) => f.name), ["m", "s", "i"]);
  assert.deepEqual(rowsOf(batches), ALL_ROWS.map((r) => [r[7], r[3], r[0]]));
  // The same column twice.
  const twice = await collect(readParquet(src, { columns: ["l", "l"] }));
  assert.deepEqual(rowsOf(twice), ALL_ROWS.map((r) => [r[1], r[1]]));
  // No columns (COUNT(*)): row counts only, nothing decoded.
  const none = await collect(readParquet(src, { columns: [] }));
  assert.equal(none.reduce((n, b) => n + b.numRows, 0), ALL_ROWS.length);
  assert.deepEqual(none[0].columns, []);
  await assert.rejects(
    collect(readParquet(src, { columns: ["nope"] })),
    (e: SpiceError) => e.code === "COLUMN_NOT_FOUND" && e.message.includes("all.parquet"),
  );
});

function sequenceBatch(n: number, wide: number): { s: ReturnType<typeof schema>; b: RecordBatch } {
  const fields = [field("id", INT64, false)];
  const cols = [numericColumn(INT64, Float64Array.from({ length: n }, (_, i) => i))];
  for (let c = 0; c < wide; c++) {
    fields.push(field(`c${c}`, FLOAT64, false));
    cols.push(
      numericColumn(FLOAT64, Float64Array.from({ length: n }, (_, i) => Math.sin(i * (c + 1)))),
    );
  }
  const s = schema(fields);
  return { s, b: recordBatch(s, cols, n) };
}

Deno.test("strings: dictionary-encoded chunks come out as dictionaries, others as utf8", async () => {
  const n = 200000;
  const s = schema([field("mode", UTF8), field("comment", UTF8)]);
  const modes = ["AIR", "MAIL", "SHIP", null, "TRUCK", "ünïcode"];
  const rows: Value[][] = Array.from({ length: n }, (_, i) => [
    modes[i % modes.length],
    // Unique and long: the writer's dictionary overflows and falls back to plain pages.
    `comment number ${i} ${"x".repeat(i % 50)}`,
  ]);
  const src = memorySource(
    "dict.parquet",
    writeParquet(s, [batchFromRows(s, rows)], { rowGroupSize: 150000 }),
  );
  const batches = await collect(readParquet(src, { batchSize: 65536 }));
  assert.deepEqual(rowsOf(batches), rows);
  for (const b of batches) {
    assert.equal(b.columns[0].enc, "dict");
    assert.equal(b.columns[1].enc, "utf8");
  }
  // Batches of one row group share one dictionary, so that concatenation keeps it.
  const first = batches.slice(0, 3).map((b) => b.columns[0]);
  assert.ok(first.every((c) => c.enc === "dict" && c.dict === (first[0] as typeof c).dict));
  const joined = concatBatches(batches[0].schema, batches.slice(0, 3));
  assert.equal(joined.columns[0].enc, "dict");
});

Deno.test("row groups: selection, order, statistics and batch size", async () => {
  const { s, b } = sequenceBatch(10000, 1);
  const src = memorySource("rg.parquet", writeParquet(s, [b], { rowGroupSize: 3000 }));
  const meta = await readParquetMetadata(src);
  assert.equal(meta.numRows, 10000);
  assert.deepEqual(meta.rowGroups.map((g) => g.numRows), [3000, 3000, 3000, 1000]);
  assert.deepEqual(
    meta.rowGroups.map((g) => [g.columns[0].name, g.columns[0].stats]),
    [0, 1, 2, 3].map((
      g,
    ) => ["id", { min: g * 3000, max: Math.min(10000, g * 3000 + 3000) - 1, nullCount: 0 }]),
  );
  const picked = await collect(readParquet(src, { rowGroups: [3, 1], columns: ["id"] }));
  const ids = picked.flatMap((x) =>
    Array.from((x.columns[0] as NumericColumn).values as Float64Array)
  );
  assert.deepEqual(ids, [
    ...Array.from({ length: 1000 }, (_, i) => 9000 + i),
    ...Array.from({ length: 3000 }, (_, i) => 3000 + i),
  ]);
  const small = await collect(readParquet(src, { columns: ["id"], batchSize: 700 }));
  assert.ok(small.every((x) => x.numRows <= 700));
  assert.equal(small.reduce((n, x) => n + x.numRows, 0), 10000);
  await assert.rejects(
    collect(readParquet(src, { rowGroups: [4] })),
    (e: SpiceError) => e.code === "INVALID_ARGUMENT",
  );
});

Deno.test("a one-column projection of a wide file reads a small fraction of it", async () => {
  const { s, b } = sequenceBatch(50000, 20);
  const bytes = writeParquet(s, [b], { rowGroupSize: 10000, compression: "none" });
  const src = countingSource(memorySource("wide.parquet", bytes));
  const meta = await readParquetMetadata(src);
  const footerBytes = src.bytesRead;
  assert.equal(src.reads.length, 2, "footer: the 8-byte tail, then the metadata");
  assert.deepEqual(src.reads[0], [bytes.length - 8, bytes.length]);
  const rows = await collect(
    readParquet(src, { columns: ["c7"], metadata: meta, rowGroups: [0, 2, 4] }),
  );
  assert.equal(rows.reduce((n, x) => n + x.numRows, 0), 30000);
  const chunkBytes = [0, 2, 4].reduce((n, g) => n + meta.rowGroups[g].columns[8].length, 0);
  const dataBytes = src.bytesRead - footerBytes;
  assert.equal(dataBytes, chunkBytes, "exactly the chunks of the projected column");
  assert.ok(src.bytesRead < bytes.length / 20, `${src.bytesRead} of ${bytes.length} bytes`);
  // Values are right.
  const v = (rows[1].columns[0] as NumericColumn).values as Float64Array;
  assert.equal(v[5], Math.sin((20000 + 5) * 8));
});

Deno.test("statistics match the data: ints, strings, dates, decimals, nulls", async () => {
  const s = schema([
    field("s", UTF8),
    field("d", DATE32),
    field("m", decimal(12, 3)),
    field("f", FLOAT64),
    field("t", TIMESTAMP),
  ]);
  const rows: Value[][] = [
    ["pear", 100, -5000, 2.5, 1e15],
    [null, null, null, null, null],
    ["apple", -3, 123456, -0.5, -2e12],
    ["zebra", 20000, 7, 1e10, 3e15],
  ];
  const src = memorySource("stats.parquet", writeParquet(s, [batchFromRows(s, rows)]));
  const meta = await readParquetMetadata(src);
  assert.deepEqual(meta.rowGroups[0].columns.map((c) => c.stats), [
    { min: "apple", max: "zebra", nullCount: 1 },
    { min: -3, max: 20000, nullCount: 1 },
    { min: -5000, max: 123456, nullCount: 1 },
    { min: -0.5, max: 1e10, nullCount: 1 },
    { min: -2e12, max: 3e15, nullCount: 1 },
  ]);
  assert.ok(meta.createdBy?.startsWith("parquet-rs"));
});

Deno.test("several batches in, chunked reads out, compression options", async () => {
  const s = schema([field("x", INT32), field("y", UTF8)]);
  const batches = [0, 1, 2].map((k) =>
    batchFromRows(s, Array.from({ length: 1000 }, (_, i) => [k * 1000 + i, `v${k * 1000 + i}`]))
  );
  for (const compression of ["snappy", "zstd", "none"] as const) {
    const src = memorySource(
      "c.parquet",
      writeParquet(s, batches, { compression, rowGroupSize: 1500 }),
    );
    const got = concatBatches(s, await collect(readParquet(src)));
    assert.deepEqual(batchToRows(got), batches.flatMap((b) => batchToRows(b)));
  }
  // An empty file (no rows) is still a valid file.
  const empty = memorySource("e.parquet", writeParquet(s, []));
  assert.equal((await readParquetMetadata(empty)).numRows, 0);
  assert.deepEqual(await collect(readParquet(empty)), []);
});

Deno.test("a file written by DuckDB: types, values, nulls, statistics, nested columns", async () => {
  const dir = await tempDir();
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  try {
    const path = `${dir}/duck.parquet`;
    const select = `SELECT i::INTEGER AS i, (i * 1000000007)::BIGINT AS l, i / 4 AS f,
        CASE WHEN i % 7 = 0 THEN NULL ELSE 'row ' || i || ' ü' END AS s,
        CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 1.25)::DECIMAL(15,2) END AS d152,
        (i * 3.141)::DECIMAL(9,3) AS d93, (i * 1234567.5)::DECIMAL(28,1) AS d281,
        DATE '2020-01-01' + i::INTEGER AS dt,
        (TIMESTAMP '2020-01-01 00:00:00' + INTERVAL (i) SECOND)::TIMESTAMP AS ts,
        i % 2 = 0 AS b, (i % 100)::TINYINT AS ti, (i + 5000)::UINTEGER AS ui,
        CASE WHEN i % 3 = 0 THEN '' ELSE 'x' END AS e,
        ts::TIMESTAMP_MS AS tms, (ts + INTERVAL (i) MICROSECOND)::TIMESTAMP_NS AS tns,
        ts::TIMESTAMPTZ AS tz, (i / 8)::REAL AS r, i::SMALLINT AS sm, (i + 5000)::UBIGINT AS ub,
        ['lo', 'mid', 'hi'][i % 3 + 1] AS card3,
        [i, i + 1] AS lst, {'a': i} AS st
      FROM range(-3000, 7000) t(i)`;
    await con.run(`COPY (${select}) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 4096)`);
    const src = localFileSource(path);
    const meta = await readParquetMetadata(src);
    assert.deepEqual(meta.rowGroups.map((g) => g.numRows), [4096, 4096, 1808]);
    assert.deepEqual(meta.unsupportedColumns, [
      { name: "lst", reason: "nested type LIST" },
      { name: "st", reason: "nested type STRUCT" },
    ]);
    assert.deepEqual(
      meta.schema.fields.map((f) => [f.name, f.type]),
      [
        ["i", INT32],
        ["l", INT64],
        ["f", FLOAT64],
        ["s", UTF8],
        ["d152", decimal(15, 2)],
        ["d93", decimal(9, 3)],
        ["d281", decimal(28, 1)],
        ["dt", DATE32],
        ["ts", TIMESTAMP],
        ["b", BOOL],
        ["ti", INT32],
        ["ui", INT64],
        ["e", UTF8],
        ["tms", TIMESTAMP],
        ["tns", TIMESTAMP],
        ["tz", TIMESTAMP],
        ["r", FLOAT64],
        ["sm", INT32],
        ["ub", INT64],
        ["card3", UTF8],
      ],
    );
    // Reading every column includes the nested ones: refused, naming the column.
    await assert.rejects(
      collect(readParquet(src)),
      (e: SpiceError) => e.code === "NOT_SUPPORTED" && e.message.includes("lst"),
    );
    await assert.rejects(
      collect(readParquet(src, { columns: ["i", "st"] })),
      (e: SpiceError) => e.code === "NOT_SUPPORTED" && e.message.includes("st"),
    );
    const names = meta.schema.fields.map((f) => f.name);
    const got = rowsOf(await collect(readParquet(src, { columns: names, metadata: meta })));
    // DuckDB's own answer, converted to the engine's representation.
    const reader = await con.runAndReadAll(`SELECT i, l, f, s,
        (d152 * 100)::BIGINT, (d93 * 1000)::BIGINT, (d281 * 10)::HUGEINT::VARCHAR,
        (dt - DATE '1970-01-01')::INTEGER, epoch_us(ts), b, ti, ui, e,
        epoch_us(tms), epoch_us(tns), epoch_us(tz), r, sm, ub, card3
      FROM '${path}'`);
    const want = reader.getRows().map((r) =>
      r.map((v, k) => {
        if (v === null) return null;
        if (k === 6) return BigInt(v as string);
        return typeof v === "bigint" ? Number(v) : v as Value;
      })
    );
    assert.equal(got.length, 10000);
    assert.deepEqual(got, want);
    // Statistics of the first row group agree with DuckDB's min/max over it.
    const c = meta.rowGroups[0].columns;
    const n0 = meta.rowGroups[0].numRows;
    const st = (await con.runAndReadAll(`SELECT min(i), max(i), min(s), max(s),
        (min(d152) * 100)::BIGINT, (max(d152) * 100)::BIGINT, count(*) - count(d152),
        (min(dt) - DATE '1970-01-01')::INTEGER, epoch_us(max(ts))
      FROM (SELECT * FROM '${path}' LIMIT ${n0})`)).getRows()[0].map((v) =>
      typeof v === "bigint" ? Number(v) : v
    );
    assert.deepEqual(
      [
        c[0].stats!.min,
        c[0].stats!.max,
        c[3].stats!.min,
        c[3].stats!.max,
        c[4].stats!.min,
        c[4].stats!.max,
      ],
      st.slice(0, 6),
    );
    assert.equal(c[4].stats!.nullCount, st[6]);
    assert.equal(c[7].stats!.min, st[7]);
    assert.equal(c[8].stats!.max, st[8]);
  } finally {
    con.closeSync();
    instance.closeSync();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DuckDB reads what the writer wrote", async () => {
  const dir = await tempDir();
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  try {
    const path = `${dir}/ours.parquet`;
    await Deno.writeFile(path, writeParquet(ALL, [batchFromRows(ALL, ALL_ROWS)]));
    const types = (await con.runAndReadAll(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${path}')`,
    ))
      .getRows();
    assert.deepEqual(types, [
      ["i", "INTEGER"],
      ["l", "BIGINT"],
      ["f", "DOUBLE"],
      ["s", "VARCHAR"],
      ["d", "DATE"],
      ["t", "TIMESTAMP"],
      ["b", "BOOLEAN"],
      ["m", "DECIMAL(15,2)"],
      ["w", "DECIMAL(30,4)"],
    ]);
    const r = (await con.runAndReadAll(
      `SELECT m::VARCHAR, w::VARCHAR, s, d::VARCHAR FROM '${path}' WHERE i = 1`,
    )).getRows();
    assert.deepEqual(r, [["123.45", "12345678901234.5678", "héllo wörld ✓ 日本", "2022-01-08"]]);
  } finally {
    con.closeSync();
    instance.closeSync();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("errors: not Parquet, truncated, corrupt pages", async () => {
  await assert.rejects(
    readParquetMetadata(
      memorySource("notes.txt", new TextEncoder().encode("hello, this is not parquet")),
    ),
    (e: SpiceError) =>
      e.code === "IO" && e.message.includes("notes.txt") && e.message.includes("not a Parquet"),
  );
  await assert.rejects(
    collect(readParquet(memorySource("tiny.parquet", new Uint8Array([1, 2, 3])))),
    (e: SpiceError) => e.code === "IO" && e.message.includes("tiny.parquet"),
  );
  const { s, b } = sequenceBatch(20000, 2);
  const good = writeParquet(s, [b], { rowGroupSize: 5000 });
  // A footer whose length points before the start of the file.
  const badLen = good.slice();
  new DataView(badLen.buffer).setUint32(badLen.length - 8, badLen.length, true);
  await assert.rejects(
    readParquetMetadata(memorySource("len.parquet", badLen)),
    (e: SpiceError) => e.code === "IO" && e.message.includes("len.parquet"),
  );
  // Garbage in the footer.
  const badFooter = good.slice();
  const metaLen = new DataView(badFooter.buffer).getUint32(badFooter.length - 8, true);
  badFooter.fill(0xee, badFooter.length - 8 - metaLen, badFooter.length - 8 - metaLen + 40);
  await assert.rejects(
    readParquetMetadata(memorySource("footer.parquet", badFooter)),
    (e: SpiceError) => e.code === "IO" && e.message.includes("footer.parquet"),
  );
  // Garbage in a data page: an error naming the file, and the decoder still works afterwards.
  const meta = await readParquetMetadata(memorySource("x", good));
  const chunk = meta.rowGroups[1].columns[1];
  const badPage = good.slice();
  for (let i = chunk.offset; i < chunk.offset + 64; i++) badPage[i] = (i * 7919) & 0xff;
  await assert.rejects(
    collect(readParquet(memorySource("page.parquet", badPage))),
    (e: SpiceError) =>
      e.code === "IO" && e.message.includes("page.parquet") && e.message.includes("row group 1"),
  );
  const ok = await collect(readParquet(memorySource("good.parquet", good), { columns: ["c0"] }));
  assert.equal(ok.reduce((n, x) => n + x.numRows, 0), 20000);
  // A read failure of the source surfaces as itself.
  const failing = {
    name: "flaky.parquet",
    size: () => Promise.resolve(good.length),
    read: (start: number, end: number) =>
      end === good.length || end === good.length - 8
        ? Promise.resolve(good.slice(start, end))
        : Promise.reject(new SpiceError("IO", "flaky.parquet: connection reset")),
  };
  await assert.rejects(
    collect(readParquet(failing)),
    (e: SpiceError) => e.code === "IO" && e.message === "flaky.parquet: connection reset",
  );
});

Deno.test("stopping early releases everything (no pending reads left behind)", async () => {
  const { s, b } = sequenceBatch(40000, 3);
  const src = memorySource("early.parquet", writeParquet(s, [b], { rowGroupSize: 5000 }));
  for await (const x of readParquet(src)) {
    assert.equal(x.numRows, 5000);
    break;
  }
});
