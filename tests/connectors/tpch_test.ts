/**
 * Tests of the TPC-H generator: cardinalities, determinism across partition
 * splits, the value rules of the specification (clause 4.2), and a check with
 * DuckDB that the 22 queries answer on the Parquet files `scripts/tpch.ts`
 * writes at SF 0.01.
 */
import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  type Column,
  concatBatches,
  type NumericColumn,
  type RecordBatch,
  stringAt,
  typeEquals,
  type Utf8Column,
} from "../../src/arrow/mod.ts";
import {
  generateTpchPartition,
  TPCH_QUERIES,
  TPCH_QUERY_ORDERED,
  TPCH_TABLES,
  tpchPartitionCount,
  tpchRowCount,
  tpchSchema,
  type TpchTable,
} from "../../src/connectors/tpch/mod.ts";
import { COLORS, CURRENT_DATE, dayNumber } from "../../src/connectors/tpch/dists.ts";
import { SpiceError } from "../../src/errors.ts";
import { parseTpchArgs, UsageError } from "../../scripts/tpch.ts";

const SF = 0.01;

/** Every batch of partitions 0..n-1, in order. */
function batchesOf(table: TpchTable, sf: number, partitions: number): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let p = 0; p < partitions; p++) out.push(...generateTpchPartition(table, sf, p, partitions));
  return out;
}

/** The whole table as one batch. */
function tableOf(table: TpchTable, sf = SF, partitions = 1): RecordBatch {
  return concatBatches(tpchSchema(table), batchesOf(table, sf, partitions));
}

const cache = new Map<TpchTable, RecordBatch>();
/** The table at SF 0.01, generated once for all value tests. */
function cached(table: TpchTable): RecordBatch {
  let b = cache.get(table);
  if (!b) cache.set(table, b = tableOf(table));
  return b;
}

function col(batch: RecordBatch, name: string): Column {
  const i = batch.schema.fields.findIndex((f) => f.name === name);
  assert.ok(i >= 0, `no column ${name}`);
  return batch.columns[i];
}

function nums(batch: RecordBatch, name: string): ArrayLike<number> {
  return (col(batch, name) as NumericColumn).values as ArrayLike<number>;
}

function strs(batch: RecordBatch, name: string): string[] {
  const c = col(batch, name) as Utf8Column;
  return Array.from({ length: c.length }, (_, i) => stringAt(c, i));
}

/** Asserts two columns hold the same values (strings compared by content). */
function assertSameColumn(a: Column, b: Column, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  assert.ok(typeEquals(a.type, b.type), `${what}: type`);
  if (a.enc === "num" && b.enc === "num") {
    const x = a.values, y = b.values;
    for (let i = 0; i < a.length; i++) {
      if (x[i] !== y[i]) assert.fail(`${what}: row ${i} is ${x[i]} vs ${y[i]}`);
    }
    return;
  }
  const x = a as Utf8Column, y = b as Utf8Column;
  for (let i = 0; i < a.length; i++) {
    const xs = x.offsets[i], xl = x.offsets[i + 1] - xs;
    const ys = y.offsets[i], yl = y.offsets[i + 1] - ys;
    let same = xl === yl;
    for (let k = 0; same && k < xl; k++) same = x.data[xs + k] === y.data[ys + k];
    if (!same) assert.fail(`${what}: row ${i} is '${stringAt(x, i)}' vs '${stringAt(y, i)}'`);
  }
}

function assertSameBatch(a: RecordBatch, b: RecordBatch, what: string): void {
  assert.equal(a.numRows, b.numRows, `${what}: rows`);
  a.schema.fields.forEach((f, i) =>
    assertSameColumn(a.columns[i], b.columns[i], `${what}.${f.name}`)
  );
}

// ---------------------------------------------------------------------------
// cardinalities and shape

Deno.test("tpch: row counts at SF 0.01", () => {
  const expected: Record<string, number> = {
    region: 5,
    nation: 25,
    supplier: 100,
    customer: 1500,
    part: 2000,
    partsupp: 8000,
    orders: 15000,
  };
  for (const t of TPCH_TABLES) {
    const rows = cached(t).numRows;
    assert.equal(tpchRowCount(t, SF), rows, `${t}: tpchRowCount matches generation`);
    if (t !== "lineitem") assert.equal(rows, expected[t], t);
  }
  // 1..7 lines per order: about 4 on average.
  const lines = tpchRowCount("lineitem", SF);
  assert.ok(lines > 15000 * 3.9 && lines < 15000 * 4.1, `lineitem rows ${lines}`);
  assert.equal(tpchRowCount("supplier", 1), 10_000);
  assert.equal(tpchRowCount("orders", 0.1), 150_000);
});

Deno.test("tpch: schemas, storage and batch sizes", () => {
  for (const t of TPCH_TABLES) {
    for (const b of generateTpchPartition(t, SF, 0, 1)) {
      assert.ok(b.numRows <= 65536, `${t}: batch of ${b.numRows}`);
      assert.deepEqual(b.schema, tpchSchema(t));
      b.columns.forEach((c, i) => {
        const f = b.schema.fields[i];
        assert.equal(c.length, b.numRows, `${t}.${f.name} length`);
        assert.equal(c.validity, null, `${t}.${f.name} has no nulls`);
        assert.equal(f.nullable, false);
        const storage = c.enc === "num" ? c.values.constructor.name : c.enc;
        const want =
          { int32: "Int32Array", date32: "Int32Array", decimal: "Float64Array", utf8: "utf8" }[
            f.type.id as string
          ];
        assert.equal(storage, want, `${t}.${f.name}: ${f.type.id} stored as ${storage}`);
      });
    }
  }
  assert.deepEqual(tpchSchema("lineitem").fields.map((f) => f.name).slice(0, 4), [
    "l_orderkey",
    "l_partkey",
    "l_suppkey",
    "l_linenumber",
  ]);
  const money = tpchSchema("lineitem").fields.find((f) => f.name === "l_extendedprice")!;
  assert.deepEqual(money.type, { id: "decimal", precision: 15, scale: 2 });
});

Deno.test("tpch: partition counts and argument errors", () => {
  assert.equal(tpchPartitionCount("nation", 100), 1);
  assert.equal(tpchPartitionCount("lineitem", 0.01), 1);
  assert.equal(tpchPartitionCount("lineitem", 1), 12);
  assert.equal(tpchPartitionCount("orders", 1), 3);
  const bad = (fn: () => unknown, code: string, msg: RegExp) =>
    assert.throws(
      fn,
      (e: unknown) => e instanceof SpiceError && e.code === code && msg.test(e.message),
    );
  bad(() => [...generateTpchPartition("lineitem", SF, 4, 4)], "INVALID_ARGUMENT", /partition/);
  bad(() => [...generateTpchPartition("lineitem", SF, 0, 0)], "INVALID_ARGUMENT", /numPartitions/);
  bad(() => [...generateTpchPartition("lineitem", -1, 0, 1)], "INVALID_ARGUMENT", /scale factor/);
  bad(
    () => [...generateTpchPartition("items" as TpchTable, SF, 0, 1)],
    "INVALID_ARGUMENT",
    /items/,
  );
  bad(() => tpchRowCount("orders", 1000), "NOT_SUPPORTED", /64-bit/);
});

// ---------------------------------------------------------------------------
// determinism

Deno.test("tpch: the same partition twice is identical", () => {
  for (const t of ["supplier", "part", "orders", "lineitem"] as const) {
    const a = [...generateTpchPartition(t, SF, 1, 3)];
    const b = [...generateTpchPartition(t, SF, 1, 3)];
    assert.equal(a.length, b.length);
    a.forEach((x, i) => assertSameBatch(x, b[i], `${t} batch ${i}`));
  }
});

Deno.test("tpch: partitions 0..3 concatenated equal one partition", () => {
  for (const t of TPCH_TABLES) {
    assertSameBatch(tableOf(t, SF, 4), cached(t), `${t} in 4 partitions`);
  }
  // An uneven split with many small partitions, through lineitem's order ranges.
  assertSameBatch(tableOf("lineitem", SF, 7), cached("lineitem"), "lineitem in 7 partitions");
});

Deno.test("tpch: lineitem batches hold whole orders and at most 65536 rows", () => {
  const batches = [...generateTpchPartition("lineitem", 0.05, 0, 1)];
  assert.ok(batches.length > 1);
  batches.forEach((b, i) => {
    assert.ok(b.numRows <= 65536, `batch of ${b.numRows}`);
    // Batches are filled up to the limit: only the last may be short.
    if (i < batches.length - 1) assert.ok(b.numRows > 65536 - 7, `batch of ${b.numRows}`);
    assert.equal(nums(b, "l_linenumber")[0], 1, "a batch starts with an order's first line");
  });
});

// ---------------------------------------------------------------------------
// value rules (clause 4.2.3)

Deno.test("tpch: orders keys, customers, dates, status and total price", () => {
  const o = cached("orders");
  const l = cached("lineitem");
  const keys = nums(o, "o_orderkey");
  assert.deepEqual(Array.from(keys).slice(0, 9), [1, 2, 3, 4, 5, 6, 7, 32, 33]);
  for (let i = 0; i < o.numRows; i++) {
    assert.ok(keys[i] % 32 < 8, `sparse key ${keys[i]}`);
    if (i > 0) assert.ok(keys[i] > keys[i - 1], "keys ascend");
  }
  const cust = nums(o, "o_custkey");
  const start = dayNumber(1992, 1, 1), last = dayNumber(1998, 8, 2);
  const dates = nums(o, "o_orderdate");
  let minDate = Infinity, maxDate = -Infinity;
  for (let i = 0; i < o.numRows; i++) {
    assert.ok(cust[i] >= 1 && cust[i] <= 1500 && cust[i] % 3 !== 0, `custkey ${cust[i]}`);
    minDate = Math.min(minDate, dates[i]);
    maxDate = Math.max(maxDate, dates[i]);
  }
  assert.ok(minDate >= start && maxDate <= last, "order dates in [STARTDATE, ENDDATE-151]");
  assert.ok(minDate - start < 10 && last - maxDate < 10, "order dates span the range");

  // Status and total price from the order's lines, with dbgen's integer arithmetic in cents.
  const lKeys = nums(l, "l_orderkey"), ext = nums(l, "l_extendedprice");
  const disc = nums(l, "l_discount"), tax = nums(l, "l_tax");
  const status = strs(l, "l_linestatus");
  const oStatus = strs(o, "o_orderstatus"), total = nums(o, "o_totalprice");
  let r = 0;
  for (let i = 0; i < o.numRows; i++) {
    let sum = 0, f = 0, n = 0;
    for (; r < l.numRows && lKeys[r] === keys[i]; r++, n++) {
      sum += Math.floor(Math.floor(ext[r] * (100 - disc[r]) / 100) * (100 + tax[r]) / 100);
      if (status[r] === "F") f++;
    }
    assert.ok(n >= 1 && n <= 7, `order ${keys[i]} has ${n} lines`);
    assert.equal(total[i], sum, `o_totalprice of ${keys[i]}`);
    assert.equal(oStatus[i], f === n ? "F" : f === 0 ? "O" : "P", `o_orderstatus of ${keys[i]}`);
  }
  assert.equal(r, l.numRows, "every line belongs to an order, in order");
  const counts = { F: 0, O: 0, P: 0 } as Record<string, number>;
  for (const s of oStatus) counts[s]++;
  assert.ok(counts.P > 0 && counts.F > 5000 && counts.O > 5000, JSON.stringify(counts));
});

Deno.test("tpch: lineitem domains, dates, flags and prices", () => {
  const l = cached("lineitem");
  const o = cached("orders");
  const p = cached("part");
  const ps = cached("partsupp");
  const orderDate = new Map<number, number>();
  const oKeys = nums(o, "o_orderkey"), oDates = nums(o, "o_orderdate");
  for (let i = 0; i < o.numRows; i++) orderDate.set(oKeys[i], oDates[i]);
  const price = nums(p, "p_retailprice");
  const suppliers = new Set<string>();
  const psPart = nums(ps, "ps_partkey"), psSupp = nums(ps, "ps_suppkey");
  for (let i = 0; i < ps.numRows; i++) suppliers.add(`${psPart[i]}:${psSupp[i]}`);

  const [okey, pkey, skey, line] = ["l_orderkey", "l_partkey", "l_suppkey", "l_linenumber"].map((
    c,
  ) => nums(l, c));
  const [qty, ext, disc, tax] = ["l_quantity", "l_extendedprice", "l_discount", "l_tax"].map((c) =>
    nums(l, c)
  );
  const [ship, commit] = ["l_shipdate", "l_commitdate"].map((c) => nums(l, c));
  const receipt = Array.from(nums(l, "l_receiptdate"));
  const flags = strs(l, "l_returnflag"), status = strs(l, "l_linestatus");
  const modes = new Set(strs(l, "l_shipmode")), instructs = new Set(strs(l, "l_shipinstruct"));
  const seenFlags = new Set<string>();
  for (let i = 0; i < l.numRows; i++) {
    const where = `line ${okey[i]}/${line[i]}`;
    assert.equal(
      line[i],
      i > 0 && okey[i - 1] === okey[i] ? line[i - 1] + 1 : 1,
      `${where} number`,
    );
    assert.ok(pkey[i] >= 1 && pkey[i] <= 2000, `${where} partkey`);
    assert.ok(
      suppliers.has(`${pkey[i]}:${skey[i]}`),
      `${where}: supplier is one of the part's four`,
    );
    assert.ok(qty[i] >= 100 && qty[i] <= 5000 && qty[i] % 100 === 0, `${where} quantity ${qty[i]}`);
    assert.equal(
      ext[i],
      (qty[i] / 100) * price[pkey[i] - 1],
      `${where}: extendedprice = quantity * retailprice`,
    );
    assert.ok(disc[i] >= 0 && disc[i] <= 10, `${where} discount`);
    assert.ok(tax[i] >= 0 && tax[i] <= 8, `${where} tax`);
    const od = orderDate.get(okey[i])!;
    assert.ok(ship[i] >= od + 1 && ship[i] <= od + 121, `${where} shipdate`);
    assert.ok(commit[i] >= od + 30 && commit[i] <= od + 90, `${where} commitdate`);
    assert.ok(
      receipt[i] >= ship[i] + 1 && receipt[i] <= ship[i] + 30,
      `${where}: receipt after ship`,
    );
    if (receipt[i] <= CURRENT_DATE) {
      assert.ok(flags[i] === "R" || flags[i] === "A", `${where} flag`);
    } else assert.equal(flags[i], "N", `${where} flag`);
    assert.equal(status[i], ship[i] > CURRENT_DATE ? "O" : "F", `${where} linestatus`);
    seenFlags.add(flags[i]);
  }
  assert.deepEqual([...seenFlags].sort(), ["A", "N", "R"]);
  assert.deepEqual([...modes].sort(), ["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"]);
  assert.equal(instructs.size, 4);
  assert.ok(receipt.every((d) => d <= dayNumber(1998, 12, 31)), "receipt <= ENDDATE");
});

Deno.test("tpch: part names, brands, prices and partsupp", () => {
  const p = cached("part");
  const colors = new Set(COLORS);
  const names = strs(p, "p_name"), mfgr = strs(p, "p_mfgr"), brand = strs(p, "p_brand");
  const price = nums(p, "p_retailprice"), size = nums(p, "p_size");
  const types = strs(p, "p_type"), containers = strs(p, "p_container");
  for (let i = 0; i < p.numRows; i++) {
    const key = i + 1;
    const words = names[i].split(" ");
    assert.equal(words.length, 5);
    assert.equal(new Set(words).size, 5, `p_name '${names[i]}' has distinct words`);
    for (const w of words) assert.ok(colors.has(w), w);
    assert.match(mfgr[i], /^Manufacturer#[1-5]$/);
    assert.equal(brand[i], `Brand#${mfgr[i].slice(-1)}${brand[i].slice(-1)}`);
    assert.match(brand[i], /^Brand#[1-5][1-5]$/);
    assert.equal(price[i], 90000 + (Math.floor(key / 10) % 20001) + 100 * (key % 1000));
    assert.ok(size[i] >= 1 && size[i] <= 50);
    assert.match(
      types[i],
      /^(STANDARD|SMALL|MEDIUM|LARGE|ECONOMY|PROMO) [A-Z]+ (TIN|NICKEL|BRASS|STEEL|COPPER)$/,
    );
    assert.match(containers[i], /^(SM|LG|MED|JUMBO|WRAP) (CASE|BOX|BAG|JAR|PKG|PACK|CAN|DRUM)$/);
  }
  assert.ok(names.some((n) => n.includes("green")) && names.some((n) => n.startsWith("forest")));

  const ps = cached("partsupp");
  const part = nums(ps, "ps_partkey"), supp = nums(ps, "ps_suppkey");
  const cost = nums(ps, "ps_supplycost"), avail = nums(ps, "ps_availqty");
  for (let i = 0; i < ps.numRows; i++) {
    const pk = Math.floor(i / 4) + 1, j = i % 4;
    assert.equal(part[i], pk);
    assert.equal(
      supp[i],
      (pk + j * (25 + Math.floor((pk - 1) / 100))) % 100 + 1,
      "spec's PS_SUPPKEY formula",
    );
    assert.ok(cost[i] >= 100 && cost[i] <= 100000);
    assert.ok(avail[i] >= 1 && avail[i] <= 9999);
  }
});

Deno.test("tpch: suppliers, customers, nations and comments", () => {
  const s = cached("supplier");
  const comments = strs(s, "s_comment");
  assert.ok(
    comments.some((c) => /Customer.*Complaints/.test(c)),
    "a Customer ... Complaints supplier",
  );
  assert.ok(
    comments.some((c) => /Customer.*Recommends/.test(c)),
    "a Customer ... Recommends supplier",
  );
  for (const c of comments) assert.ok(c.length >= 25 && c.length <= 100);
  assert.deepEqual(strs(s, "s_name").slice(0, 2), ["Supplier#000000001", "Supplier#000000002"]);

  const c = cached("customer");
  const phones = strs(c, "c_phone"), nation = nums(c, "c_nationkey"), bal = nums(c, "c_acctbal");
  for (let i = 0; i < c.numRows; i++) {
    assert.match(phones[i], /^\d\d-\d{3}-\d{3}-\d{4}$/);
    assert.equal(Number(phones[i].slice(0, 2)), nation[i] + 10, "country code = nation key + 10");
    assert.ok(bal[i] >= -99999 && bal[i] <= 999999);
  }
  assert.deepEqual(
    [...new Set(strs(c, "c_mktsegment"))].sort(),
    ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"],
  );
  for (const a of strs(c, "c_address")) assert.ok(a.length >= 10 && a.length <= 40);

  const n = cached("nation");
  assert.equal(strs(n, "n_name")[24], "UNITED STATES");
  assert.equal(nums(n, "n_regionkey")[3], 1, "CANADA is in AMERICA");
  assert.deepEqual(strs(cached("region"), "r_name"), [
    "AFRICA",
    "AMERICA",
    "ASIA",
    "EUROPE",
    "MIDDLE EAST",
  ]);

  // Comments come from the grammar: Q13's pattern occurs in about 1% of orders.
  const o = strs(cached("orders"), "o_comment");
  const special = o.filter((x) => /special.*requests/.test(x)).length;
  assert.ok(special > 50 && special < 500, `${special} orders match '%special%requests%'`);
  for (const x of o) assert.ok(x.length >= 19 && x.length <= 78);
});

// ---------------------------------------------------------------------------
// the script and the queries, checked with DuckDB

Deno.test("tpch script: flag errors name the flag", () => {
  const usage = (args: string[], flag: RegExp) =>
    assert.throws(
      () => parseTpchArgs(args),
      (e: unknown) => e instanceof UsageError && flag.test(e.message),
    );
  usage(["--sf", "abc", "--out", "x"], /--sf/);
  usage(["--sf", "0", "--out", "x"], /--sf/);
  usage(["--sf", "5000", "--out", "x"], /--sf/);
  usage(["--sf", "1"], /--out/);
  usage(["--out", "x", "--files-per-table", "0"], /--files-per-table/);
  usage(["--out", "x", "--files-per-table", "2.5"], /--files-per-table/);
  usage(["--out", "x", "--workers", "-1"], /--workers/);
  usage(["--out", "x", "--scale", "1"], /--scale/);
  assert.deepEqual(
    parseTpchArgs(["--sf", "0.1", "--out", "d", "--files-per-table", "3", "--workers", "2"]),
    {
      sf: 0.1,
      out: "d",
      filesPerTable: 3,
      workers: 2,
    },
  );
});

Deno.test({
  name: "tpch script + DuckDB: Parquet at SF 0.01 answers the 22 queries",
  // DuckDB's native addon keeps handles that the sanitizers would report.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tpch_test_" });
    try {
      const script = new URL("../../scripts/tpch.ts", import.meta.url).pathname;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, "--sf", String(SF), "--out", dir, "--files-per-table", "2"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      assert.match(stdout, /lineitem\s+\d+\s+2\s/);
      for (const t of TPCH_TABLES) {
        const files = [...Deno.readDirSync(`${dir}/${t}`)].map((e) => e.name).sort();
        assert.deepEqual(
          files,
          t === "nation" || t === "region"
            ? ["part-0.parquet"]
            : ["part-0.parquet", "part-1.parquet"],
        );
      }

      const db = await DuckDBInstance.create(":memory:");
      const conn = await db.connect();
      try {
        for (const t of TPCH_TABLES) {
          await conn.run(`create view ${t} as select * from read_parquet('${dir}/${t}/*.parquet')`);
          const [row] = (await conn.runAndReadAll(`select count(*)::int as n from ${t}`))
            .getRowObjectsJson();
          assert.equal(row.n, tpchRowCount(t, SF), `${t} rows in Parquet`);
        }
        const types = (await conn.runAndReadAll("describe lineitem")).getRowObjectsJson();
        assert.deepEqual(types.slice(0, 6).map((r) => r.column_type), [
          "INTEGER",
          "INTEGER",
          "INTEGER",
          "INTEGER",
          "DECIMAL(15,2)",
          "DECIMAL(15,2)",
        ]);
        assert.equal(types.find((r) => r.column_name === "l_shipdate")?.column_type, "DATE");

        assert.equal(TPCH_QUERIES.length, 22);
        assert.equal(TPCH_QUERY_ORDERED.length, 22);
        const counts: number[] = [];
        for (let q = 0; q < 22; q++) {
          const rows = (await conn.runAndReadAll(TPCH_QUERIES[q])).getRowObjectsJson();
          counts.push(rows.length);
          assert.ok(rows.length > 0, `Q${q + 1} returned no rows`);
          // Aggregates over no input would be null: every first row must be fully valued.
          for (const [k, v] of Object.entries(rows[0])) {
            assert.notEqual(v, null, `Q${q + 1}: ${k} is null`);
          }
        }
        // Shapes fixed by the data model, whatever the random values.
        assert.equal(counts[0], 4, "Q1: (A,F) (N,F) (N,O) (R,F)");
        assert.equal(counts[3], 5, "Q4: one row per priority");
        assert.equal(counts[11], 2, "Q12: MAIL and SHIP");
        assert.equal(counts[21], 7, "Q22: the seven country codes");
        const [q13] = (await conn.runAndReadAll(TPCH_QUERIES[12])).getRowObjectsJson();
        assert.deepEqual(
          q13,
          { c_count: "0", custdist: "500" },
          "Q13: a third of customers never order",
        );
        const q8 = (await conn.runAndReadAll(TPCH_QUERIES[7])).getRowObjectsJson();
        assert.ok(q8.some((r) => Number(r.mkt_share) > 0), "Q8: BRAZIL has a market share");
      } finally {
        conn.closeSync();
        db.closeSync();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
