/**
 * Tests of the CSV reader: RFC 4180 quoting, line endings, NULLs, type
 * inference, delimiters, headers, projection, chunk boundaries and errors
 * that name the file and line.
 */
import assert from "node:assert/strict";
import {
  batchToRows,
  BOOL,
  DATE32,
  decimal,
  field,
  FLOAT64,
  INT32,
  INT64,
  type NumericColumn,
  type RecordBatch,
  schema,
  TIMESTAMP,
  UTF8,
  type Value,
} from "../../src/arrow/mod.ts";
import { localFileSource } from "../../src/connectors/local_file.ts";
import { SpiceError } from "../../src/errors.ts";
import { type CsvOptions, inferCsvSchema, readCsv } from "../../src/formats/mod.ts";
import { collect, memorySource, textSource } from "./helpers.ts";

async function rows(text: string, opts: CsvOptions = {}): Promise<Value[][]> {
  return (await collect(readCsv(textSource("t.csv", text), opts))).flatMap((b) => batchToRows(b));
}

async function types(text: string, opts: CsvOptions = {}): Promise<[string, string][]> {
  return (await inferCsvSchema(textSource("t.csv", text), opts)).fields.map((
    f,
  ) => [f.name, f.type.id]);
}

async function rejects(text: string, message: string, opts: CsvOptions = {}): Promise<void> {
  await assert.rejects(
    collect(readCsv(textSource("data.csv", text), opts)),
    (e: SpiceError) => {
      assert.equal(e.message, message);
      return true;
    },
  );
}

const DAY = 86400e6;

Deno.test("quoting: delimiters, doubled quotes and newlines inside quotes", async () => {
  const text = 'a,b\n"x, y","say ""hi"""\n"line1\nline2",plain\n"",""\n';
  assert.deepEqual(await rows(text), [
    ["x, y", 'say "hi"'],
    ["line1\nline2", "plain"],
    ["", ""],
  ]);
});

Deno.test("CRLF and LF endings, a missing final newline, blank lines, BOM", async () => {
  assert.deepEqual(await rows("a,b\r\n1,x\r\n2,y\r\n"), [[1, "x"], [2, "y"]]);
  assert.deepEqual(await rows("a,b\n1,x\n2,y"), [[1, "x"], [2, "y"]]);
  assert.deepEqual(await rows("a,b\r\n1,x\r\n\r\n2,y"), [[1, "x"], [2, "y"]]);
  assert.deepEqual(await rows('a,b\r\n1,"q\r\nr"\r\n'), [[1, "q\r\nr"]]);
  assert.deepEqual(await rows("\ufeffid,v\n1,2\n"), [[1, 2]]);
  assert.deepEqual(await types("\ufeffid,v\n1,2\n"), [["id", "int64"], ["v", "int64"]]);
});

Deno.test("NULLs: empty fields are NULL; a quoted empty string is an empty string", async () => {
  const text = 'n,s,d\n1,abc,2020-01-01\n,,\n3,"",""\n';
  assert.deepEqual(await types(text), [["n", "int64"], ["s", "utf8"], ["d", "date32"]]);
  assert.deepEqual(await rows(text), [
    [1, "abc", 18262],
    [null, null, null],
    [3, "", null],
  ]);
  // A trailing delimiter is an empty last field.
  assert.deepEqual(await rows("a,b\n1,\n2,"), [[1, null], [2, null]]);
  // A column with only NULLs in the sample is text.
  assert.deepEqual(await types("a,b\n1,\n2,\n"), [["a", "int64"], ["b", "utf8"]]);
});

Deno.test("type inference: bool, int64, float64, date32, timestamp, utf8", async () => {
  const text = [
    "b,i,f,d,t,s,big,mixed_time,neg",
    "true,1,1.5,2024-02-29,2024-02-29 23:59:59.123456,x,9007199254740993,2024-01-01,-7",
    "FALSE,-20,2,1970-01-01,1970-01-01 00:00:00,y,1,2024-01-01 10:30:00,+8",
    "true,300,-3e2,1969-12-31,2000-01-01T12:00:00,1,2,2024-01-02,0",
  ].join("\n");
  assert.deepEqual(await types(text), [
    ["b", "bool"],
    ["i", "int64"],
    ["f", "float64"],
    ["d", "date32"],
    ["t", "timestamp"],
    ["s", "utf8"],
    ["big", "float64"], // beyond 2^53: not exact as int64
    ["mixed_time", "timestamp"],
    ["neg", "int64"],
  ]);
  const got = await rows(text);
  assert.deepEqual(got[0], [
    true,
    1,
    1.5,
    19782,
    19782 * DAY + (23 * 3600 + 59 * 60 + 59) * 1e6 + 123456,
    "x",
    9007199254740992,
    19723 * DAY,
    -7,
  ]);
  assert.deepEqual(got[1].slice(0, 5), [false, -20, 2, 0, 0]);
  assert.deepEqual(got[2].slice(0, 5), [true, 300, -300, -1, 10957 * DAY + 12 * 3600e6]);
  assert.equal(got[1][7], 19723 * DAY + 10.5 * 3600e6);
  // Not dates: an impossible day, a wrong shape.
  assert.deepEqual(await types("d\n2023-02-29\n"), [["d", "utf8"]]);
  assert.deepEqual(await types("d\n2023/01/01\n"), [["d", "utf8"]]);
  // Storage is typed arrays.
  const [batch] = await collect(readCsv(textSource("t.csv", text)));
  assert.ok((batch.columns[1] as NumericColumn).values instanceof Float64Array);
  assert.ok((batch.columns[3] as NumericColumn).values instanceof Int32Array);
  assert.ok((batch.columns[0] as NumericColumn).values instanceof Uint8Array);
});

Deno.test("floats parse exactly like Number()", async () => {
  const values = [
    "0.1",
    "-2.5e-3",
    "123456789.123456789",
    "1e308",
    "4.9e-324",
    "0.30000000000000004",
    "17976931348623157e292",
    "-0",
    ".5",
    "5.",
    "1E+2",
    "  7.25 ",
    "3.141592653589793238462643383279",
  ];
  const got = await rows("x\n" + values.join("\n"));
  assert.deepEqual(got.map((r) => r[0]), values.map((v) => Number(v)));
  assert.deepEqual(await rows("x\ninf\n-Infinity\nNaN\n1"), [[Infinity], [-Infinity], [NaN], [1]]);
});

Deno.test("delimiter |, tabs, header or no header, unicode", async () => {
  assert.deepEqual(await rows("a|b\n1|x,y\n", { delimiter: "|" }), [[1, "x,y"]]);
  assert.deepEqual(await rows("a\tb\n1\t2\n", { delimiter: "\t" }), [[1, 2]]);
  const noHeader = await collect(
    readCsv(textSource("n.csv", "1|ü\n2|日本\n"), { delimiter: "|", hasHeader: false }),
  );
  assert.deepEqual(noHeader[0].schema.fields.map((f) => [f.name, f.type.id]), [
    ["column0", "int64"],
    ["column1", "utf8"],
  ]);
  assert.deepEqual(batchToRows(noHeader[0]), [[1, "ü"], [2, "日本"]]);
  // Header names: duplicates and blanks get names, as in DuckDB.
  assert.deepEqual((await types("a,a,,A\n1,2,3,4\n")).map((t) => t[0]), [
    "a",
    "a_1",
    "column2",
    "A_2",
  ]);
  await assert.rejects(
    collect(readCsv(textSource("t.csv", "a\n1"), { delimiter: "ab" })),
    (e: SpiceError) => e.code === "INVALID_ARGUMENT",
  );
});

Deno.test("an explicit schema: types that inference does not produce, and loose booleans", async () => {
  const s = schema([
    field("i", INT32),
    field("m", decimal(10, 2)),
    field("b", BOOL),
    field("w", decimal(20, 3)),
    field("t", TIMESTAMP),
  ]);
  const text =
    "i,m,b,w,t\n7,12.345,t,1.0005,2020-01-01T00:00:00Z\n-3,-0.5,0,-12345678901.2,2020-01-01 01:00:00+01:00\n,,,,\n";
  const batches = await collect(readCsv(textSource("t.csv", text), { schema: s }));
  assert.deepEqual(batches[0].schema, s);
  assert.deepEqual(batchToRows(batches[0]), [
    [7, 1235, true, 1001n, 18262 * DAY],
    [-3, -50, false, -12345678901200n, 18262 * DAY],
    [null, null, null, null, null],
  ]);
  await rejects(
    "i,m,b,w,t\n3000000000,1,t,1,2020-01-01\n",
    'data.csv:2: column i: cannot parse "3000000000" as INTEGER',
    {
      schema: s,
    },
  );
  // Without a header, the schema names the columns.
  const noHeader = await collect(
    readCsv(textSource("t.csv", "1,2\n"), {
      schema: schema([field("x", INT64), field("y", FLOAT64)]),
      hasHeader: false,
    }),
  );
  assert.deepEqual(batchToRows(noHeader[0]), [[1, 2]]);
});

Deno.test("projection: only the requested columns, in the requested order", async () => {
  const text = "a,b,c\n1,x,2020-01-01\n2,y,2020-01-02\n";
  const [b] = await collect(readCsv(textSource("t.csv", text), { columns: ["c", "A"] }));
  assert.deepEqual(b.schema.fields.map((f) => [f.name, f.type.id]), [["c", "date32"], [
    "a",
    "int64",
  ]]);
  assert.deepEqual(batchToRows(b), [[18262, 1], [18263, 2]]);
  await assert.rejects(
    collect(readCsv(textSource("t.csv", text), { columns: ["zz"] })),
    (e: SpiceError) => e.code === "COLUMN_NOT_FOUND" && e.message.includes("t.csv"),
  );
});

Deno.test("errors name the file and line", async () => {
  await rejects("a,b,c,d\n1,2,3,4\n1,2,3\n", "data.csv:3: expected 4 fields, found 3");
  // Lines are physical lines: a quoted newline counts.
  await rejects('a,b\n"x\ny",1\n1,2,3\n', "data.csv:4: expected 2 fields, found 3");
  await rejects('a,b\n1,"open\n', "data.csv:2: unterminated quoted field");
  await rejects('a,b\n"x"y,1\n', "data.csv:2: unexpected character after a closing quote");
  // A value after the inference sample that does not fit the inferred type.
  const lines = ["n"];
  for (let i = 0; i < 2000; i++) lines.push(String(i));
  lines.push("oops");
  await rejects(lines.join("\n"), 'data.csv:2002: column n: cannot parse "oops" as BIGINT');
  await assert.rejects(
    collect(readCsv(textSource("empty.csv", ""))),
    (e: SpiceError) => e.code === "IO" && e.message.includes("empty.csv"),
  );
});

Deno.test("batches, and records that cross read chunks", async () => {
  // Long quoted fields with newlines and doubled quotes, over several 4 MiB chunks.
  const n = 40000;
  const parts = ["id,text,v"];
  const want: Value[][] = [];
  for (let i = 0; i < n; i++) {
    const t = `row ${i} "q" ${"z".repeat(i % 300)}\r\nend`;
    parts.push(`${i},"${t.replaceAll('"', '""')}",${i / 4}`);
    want.push([i, t, i / 4]);
  }
  const text = parts.join("\r\n") + "\r\n";
  assert.ok(text.length > 6 << 20, "crosses the 1 MiB sample and two 4 MiB chunks");
  const batches: RecordBatch[] = await collect(
    readCsv(textSource("big.csv", text), { batchSize: 7000 }),
  );
  assert.ok(batches.every((b) => b.numRows <= 7000));
  assert.deepEqual(batches.flatMap((b) => batchToRows(b)), want);
  // Through a local file too.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/big.csv`, text);
    const local = await collect(readCsv(localFileSource(`${dir}/big.csv`), { columns: ["v"] }));
    assert.equal(local.reduce((k, b) => k + b.numRows, 0), n);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("invalid UTF-8 is replaced, not fatal; bytes in memory are not modified", async () => {
  const bytes = new Uint8Array([0x61, 0x0a, 0xff, 0xfe, 0x0a]);
  const copy = bytes.slice();
  const b = await collect(readCsv(memorySource("bin.csv", bytes)));
  assert.equal(b[0].numRows, 1);
  assert.deepEqual(bytes, copy);
  assert.equal(typeof batchToRows(b[0])[0][0], "string");
});

Deno.test("inference reads only a sample", async () => {
  let bytesRead = 0;
  const lines = ["a,b"];
  for (let i = 0; i < 200000; i++) lines.push(`${i},${i}.5`);
  const inner = textSource("s.csv", lines.join("\n"));
  const src = { ...inner, read: (s: number, e: number) => (bytesRead += e - s, inner.read(s, e)) };
  const s = await inferCsvSchema(src);
  assert.deepEqual(s.fields.map((f) => f.type), [INT64, FLOAT64]);
  assert.ok(bytesRead <= 1 << 20, `${bytesRead} bytes read`);
  assert.deepEqual([UTF8, DATE32].map((t) => t.id), ["utf8", "date32"]);
});
