/**
 * The TPC-H table generator (specification v3, clause 4.2).
 *
 * Every cell is a function of (table, row, column, scale factor) only: random
 * draws come from the counter-based generator of `random.ts`, keyed by the
 * row (an order's lines by order index * 8 + line number). A partition is a
 * range of rows (for orders and lineitem, a range of orders), so partitions
 * can be generated alone, in parallel and in any order, and concatenating
 * partitions 0..N-1 gives the same table for every N.
 *
 * Values are written straight into typed arrays, in batches of at most
 * BATCH_SIZE rows; strings go into UTF-8 buffers sized up front.
 *
 * @module
 */

import {
  BATCH_SIZE,
  type Column,
  DATE32,
  decimal,
  INT32,
  numericColumn,
  type RecordBatch,
  recordBatch,
} from "../../arrow/mod.ts";
import { SpiceError } from "../../errors.ts";
import {
  COLORS,
  CONTAINERS,
  CURRENT_DATE,
  INSTRUCTIONS,
  LAST_ORDER_DATE,
  NATIONS,
  PART_TYPES,
  PRIORITIES,
  REGIONS,
  SEGMENTS,
  SHIP_MODES,
  START_DATE,
} from "./dists.ts";
import { rand32, streamId, uniform } from "./random.ts";
import {
  checkTable,
  fixedRowCount,
  orderKey,
  type TpchScale,
  tpchScale,
  tpchSchema,
  type TpchTable,
} from "./schema.ts";
import { encodeAll, StringWriter } from "./strings.ts";
import { TEXT_POOL_SIZE, textPool } from "./text.ts";

const MONEY = decimal(15, 2);

// ---------------------------------------------------------------------------
// streams: one per column draw, named after the column

const S_SUPP_ADDRESS = streamId("s_address");
const S_SUPP_ADDRESS_LEN = streamId("s_address", 1);
const S_SUPP_NATION = streamId("s_nationkey");
const S_SUPP_PHONE = streamId("s_phone");
const S_SUPP_ACCTBAL = streamId("s_acctbal");
const S_SUPP_COMMENT = streamId("s_comment");
const S_SUPP_COMPLAINT_ROW = streamId("s_comment.complaints");
const S_SUPP_RECOMMEND_ROW = streamId("s_comment.recommends");
const S_SUPP_BBB_NOISE = streamId("s_comment.bbb", 0);
const S_SUPP_BBB_OFFSET = streamId("s_comment.bbb", 1);

const S_CUST_ADDRESS = streamId("c_address");
const S_CUST_ADDRESS_LEN = streamId("c_address", 1);
const S_CUST_NATION = streamId("c_nationkey");
const S_CUST_PHONE = streamId("c_phone");
const S_CUST_ACCTBAL = streamId("c_acctbal");
const S_CUST_SEGMENT = streamId("c_mktsegment");
const S_CUST_COMMENT = streamId("c_comment");

const S_PART_NAME = streamId("p_name");
const S_PART_MFGR = streamId("p_mfgr");
const S_PART_BRAND = streamId("p_brand");
const S_PART_TYPE = streamId("p_type");
const S_PART_SIZE = streamId("p_size");
const S_PART_CONTAINER = streamId("p_container");
const S_PART_COMMENT = streamId("p_comment");

const S_PS_AVAILQTY = streamId("ps_availqty");
const S_PS_SUPPLYCOST = streamId("ps_supplycost");
const S_PS_COMMENT = streamId("ps_comment");

const S_ORDER_CUSTKEY = streamId("o_custkey");
const S_ORDER_DATE = streamId("o_orderdate");
const S_ORDER_PRIORITY = streamId("o_orderpriority");
const S_ORDER_CLERK = streamId("o_clerk");
const S_ORDER_COMMENT = streamId("o_comment");
const S_ORDER_LINES = streamId("o_lines");

const S_LINE_PARTKEY = streamId("l_partkey");
const S_LINE_AMOUNTS = streamId("l_quantity,l_discount,l_tax");
const S_LINE_DATES = streamId("l_shipdate,l_commitdate,l_receiptdate");
const S_LINE_CHOICES = streamId("l_suppkey,l_returnflag,l_shipinstruct,l_shipmode");
const S_LINE_COMMENT = streamId("l_comment");

const S_NATION_COMMENT = streamId("n_comment");
const S_REGION_COMMENT = streamId("r_comment");

// ---------------------------------------------------------------------------
// encoded value lists

const REGION_BYTES = encodeAll(REGIONS);
const NATION_BYTES = encodeAll(NATIONS.map(([name]) => name));
const SEGMENT_BYTES = encodeAll(SEGMENTS);
const PRIORITY_BYTES = encodeAll(PRIORITIES);
const INSTRUCT_BYTES = encodeAll(INSTRUCTIONS);
const MODE_BYTES = encodeAll(SHIP_MODES);
const TYPE_BYTES = encodeAll(PART_TYPES);
const CONTAINER_BYTES = encodeAll(CONTAINERS);
const COLOR_BYTES = encodeAll(COLORS);
const [SUPPLIER_PREFIX, CUSTOMER_PREFIX, CLERK_PREFIX, MFGR_PREFIX, BRAND_PREFIX] = encodeAll([
  "Supplier#",
  "Customer#",
  "Clerk#",
  "Manufacturer#",
  "Brand#",
]);
const [BBB_BASE, BBB_COMPLAIN, BBB_COMMEND] = encodeAll(["Customer ", "Complaints", "Recommends"]);

/** The 64 symbols of v-strings (random addresses). */
const ALPHANUMERIC = new TextEncoder().encode(
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ, ",
);

const CHAR_F = 70, CHAR_O = 79, CHAR_P = 80, CHAR_R = 82, CHAR_A = 65, CHAR_N = 78;
const CHAR_DASH = 45, CHAR_SPACE = 32;

// ---------------------------------------------------------------------------
// shared cell formulas

/**
 * Writes a text-pool substring of length [min, max] at a random offset
 * (clause 4.2.2.10). One draw over every (length, offset) pair: offsets run
 * over [0, pool size - max] whatever the length, so the pair is a plain
 * product of two ranges.
 */
function text(
  w: StringWriter,
  pool: Uint8Array,
  s: number,
  key: number,
  min: number,
  max: number,
): void {
  const lengths = max - min + 1;
  const code = uniform(s, key, 0, lengths * (TEXT_POOL_SIZE - max + 1) - 1);
  const len = min + code % lengths;
  const at = (code - (len - min)) / lengths;
  w.range(pool, at, at + len);
}

/** Writes a v-string of length [10, 40] from the 64 alphanumeric symbols (clause 4.2.2.7). */
function address(w: StringWriter, s: number, sLen: number, row: number): void {
  const len = uniform(sLen, row, 10, 40);
  let bits = 0;
  for (let i = 0; i < len; i++) {
    // Five 6-bit symbols from each 32-bit draw.
    const slot = i % 5;
    if (slot === 0) bits = rand32(s, row * 8 + (i / 5 | 0));
    w.byte(ALPHANUMERIC[(bits >>> (slot * 6)) & 63]);
  }
}

/** Writes a phone number "CC-LLL-LLL-LLLL", CC = nation key + 10 (clause 4.2.2.9). */
function phone(w: StringWriter, s: number, row: number, nationKey: number): void {
  w.digits(nationKey + 10, 2);
  w.byte(CHAR_DASH);
  w.digits(uniform(s, row * 4, 100, 999), 3);
  w.byte(CHAR_DASH);
  w.digits(uniform(s, row * 4 + 1, 100, 999), 3);
  w.byte(CHAR_DASH);
  w.digits(uniform(s, row * 4 + 2, 1000, 9999), 4);
}

/** P_RETAILPRICE in cents: (90000 + ((partkey / 10) mod 20001) + 100 * (partkey mod 1000)). */
function retailPriceCents(partKey: number): number {
  return 90000 + (Math.floor(partKey / 10) % 20001) + 100 * (partKey % 1000);
}

/**
 * The i-th (0..3) supplier of a part (clause 4.2.3, PS_SUPPKEY):
 * (partkey + i * (S/4 + (partkey-1)/S)) mod S + 1, with integer divisions.
 */
function partSupplier(partKey: number, i: number, suppliers: number): number {
  return (partKey + i * (Math.floor(suppliers / 4) + Math.floor((partKey - 1) / suppliers))) %
      suppliers + 1;
}

/** Number of lines (1..7) of the order with index `order`. */
function lineCount(order: number): number {
  return uniform(S_ORDER_LINES, order, 1, 7);
}

/** O_ORDERDATE of the order with index `order`: uniform in [STARTDATE, ENDDATE - 151]. */
function orderDate(order: number): number {
  return uniform(S_ORDER_DATE, order, START_DATE, LAST_ORDER_DATE);
}

/** L_PARTKEY of a line (key = order * 8 + line). */
function linePartKey(key: number, parts: number): number {
  return uniform(S_LINE_PARTKEY, key, 1, parts);
}

// A line's small independent choices share one draw over the product of their
// ranges (each is still exactly uniform), which cuts lineitem's hashing by
// more than half. The draw is decoded digit by digit, in mixed radix.

/** Quantity (1..50), discount (0..10 hundredths) and tax (0..8 hundredths) of a line, as one code. */
function lineAmounts(key: number): number {
  return uniform(S_LINE_AMOUNTS, key, 0, 50 * 11 * 9 - 1);
}

/** L_QUANTITY of an amounts code. */
function quantityOf(code: number): number {
  return code % 50 + 1;
}

/** L_DISCOUNT (hundredths) of an amounts code. */
function discountOf(code: number): number {
  return Math.floor(code / 50) % 11;
}

/** L_TAX (hundredths) of an amounts code. */
function taxOf(code: number): number {
  return Math.floor(code / 550);
}

/** Days after the order date to ship (1..121) and to commit (30..90), days after shipping to receive (1..30). */
function lineDates(key: number): number {
  return uniform(S_LINE_DATES, key, 0, 121 * 61 * 30 - 1);
}

/** Ship delay (1..121) of a dates code. */
function shipDelayOf(code: number): number {
  return code % 121 + 1;
}

/** Commit delay (30..90) of a dates code. */
function commitDelayOf(code: number): number {
  return Math.floor(code / 121) % 61 + 30;
}

/** Receipt delay after shipping (1..30) of a dates code. */
function receiptDelayOf(code: number): number {
  return Math.floor(code / (121 * 61)) + 1;
}

function int32(values: Int32Array): Column {
  return numericColumn(INT32, values);
}

function money(values: Float64Array): Column {
  return numericColumn(MONEY, values);
}

function date(values: Int32Array): Column {
  return numericColumn(DATE32, values);
}

// ---------------------------------------------------------------------------
// tables keyed by row

function region(start: number, n: number): RecordBatch {
  const pool = textPool();
  const keys = new Int32Array(n);
  const names = new StringWriter(n, 16);
  const comments = new StringWriter(n, 115);
  for (let i = 0; i < n; i++) {
    const row = start + i;
    keys[i] = row;
    names.bytes(REGION_BYTES[row]);
    names.end();
    text(comments, pool, S_REGION_COMMENT, row, 31, 115);
    comments.end();
  }
  return recordBatch(tpchSchema("region"), [int32(keys), names.finish(), comments.finish()], n);
}

function nation(start: number, n: number): RecordBatch {
  const pool = textPool();
  const keys = new Int32Array(n);
  const regions = new Int32Array(n);
  const names = new StringWriter(n, 16);
  const comments = new StringWriter(n, 114);
  for (let i = 0; i < n; i++) {
    const row = start + i;
    keys[i] = row;
    regions[i] = NATIONS[row][1];
    names.bytes(NATION_BYTES[row]);
    names.end();
    text(comments, pool, S_NATION_COMMENT, row, 31, 114);
    comments.end();
  }
  return recordBatch(
    tpchSchema("nation"),
    [int32(keys), names.finish(), int32(regions), comments.finish()],
    n,
  );
}

/**
 * Which suppliers carry the "Customer ... Complaints" / "Customer ...
 * Recommends" text (clause 4.2.3: SF * 5 rows each). The rows are split into
 * that many equal strata and one row of each stratum is chosen, so the choice
 * of a row needs nothing but the row. At least one of each is kept, so that
 * Q16's filter has something to exclude at small scale factors.
 */
class SupplierPress {
  readonly #rows: number;
  readonly #strata: number;

  constructor(scale: TpchScale) {
    this.#rows = scale.suppliers;
    this.#strata = Math.min(this.#rows, Math.max(1, Math.round(scale.sf * 5)));
  }

  #start(k: number): number {
    return Math.floor(k * this.#rows / this.#strata);
  }

  /** 1 for a complaint, 2 for a recommendation, 0 otherwise (0-based row). */
  kind(row: number): number {
    let k = Math.min(this.#strata - 1, Math.floor(row * this.#strata / this.#rows));
    while (k + 1 < this.#strata && this.#start(k + 1) <= row) k++;
    while (this.#start(k) > row) k--;
    const first = this.#start(k);
    const size = this.#start(k + 1) - first;
    const complaint = first + uniform(S_SUPP_COMPLAINT_ROW, k, 0, size - 1);
    if (row === complaint) return 1;
    if (size < 2) return 0;
    let recommend = first + uniform(S_SUPP_RECOMMEND_ROW, k, 0, size - 2);
    if (recommend >= complaint) recommend++;
    return row === recommend ? 2 : 0;
  }
}

function supplier(scale: TpchScale, start: number, n: number): RecordBatch {
  const pool = textPool();
  const press = new SupplierPress(scale);
  const keys = new Int32Array(n);
  const nations = new Int32Array(n);
  const acctbal = new Float64Array(n);
  const names = new StringWriter(n, 18);
  const addresses = new StringWriter(n, 40);
  const phones = new StringWriter(n, 15);
  const comments = new StringWriter(n, 100);
  for (let i = 0; i < n; i++) {
    const row = start + i;
    keys[i] = row + 1;
    names.bytes(SUPPLIER_PREFIX);
    names.digits(row + 1, 9);
    names.end();
    address(addresses, S_SUPP_ADDRESS, S_SUPP_ADDRESS_LEN, row);
    addresses.end();
    const nationKey = uniform(S_SUPP_NATION, row, 0, 24);
    nations[i] = nationKey;
    phone(phones, S_SUPP_PHONE, row, nationKey);
    phones.end();
    acctbal[i] = uniform(S_SUPP_ACCTBAL, row, -99999, 999999);
    const commentStart = comments.pos;
    text(comments, pool, S_SUPP_COMMENT, row, 25, 100);
    const kind = press.kind(row);
    if (kind !== 0) {
      // As dbgen: "Customer " at a random offset, then `noise` bytes of the
      // comment, then "Complaints"/"Recommends", all inside the comment.
      const len = comments.pos - commentStart;
      const fixed = BBB_BASE.length + BBB_COMPLAIN.length;
      const noise = uniform(S_SUPP_BBB_NOISE, row, 0, len - fixed);
      const offset = uniform(S_SUPP_BBB_OFFSET, row, 0, len - fixed - noise);
      const at = commentStart + offset;
      comments.data.set(BBB_BASE, at);
      comments.data.set(kind === 1 ? BBB_COMPLAIN : BBB_COMMEND, at + BBB_BASE.length + noise);
    }
    comments.end();
  }
  return recordBatch(tpchSchema("supplier"), [
    int32(keys),
    names.finish(),
    addresses.finish(),
    int32(nations),
    phones.finish(),
    money(acctbal),
    comments.finish(),
  ], n);
}

function customer(start: number, n: number): RecordBatch {
  const pool = textPool();
  const keys = new Int32Array(n);
  const nations = new Int32Array(n);
  const acctbal = new Float64Array(n);
  const names = new StringWriter(n, 18);
  const addresses = new StringWriter(n, 40);
  const phones = new StringWriter(n, 15);
  const segments = new StringWriter(n, 10);
  const comments = new StringWriter(n, 116);
  for (let i = 0; i < n; i++) {
    const row = start + i;
    keys[i] = row + 1;
    names.bytes(CUSTOMER_PREFIX);
    names.digits(row + 1, 9);
    names.end();
    address(addresses, S_CUST_ADDRESS, S_CUST_ADDRESS_LEN, row);
    addresses.end();
    const nationKey = uniform(S_CUST_NATION, row, 0, 24);
    nations[i] = nationKey;
    phone(phones, S_CUST_PHONE, row, nationKey);
    phones.end();
    acctbal[i] = uniform(S_CUST_ACCTBAL, row, -99999, 999999);
    segments.bytes(SEGMENT_BYTES[uniform(S_CUST_SEGMENT, row, 0, 4)]);
    segments.end();
    text(comments, pool, S_CUST_COMMENT, row, 29, 116);
    comments.end();
  }
  return recordBatch(tpchSchema("customer"), [
    int32(keys),
    names.finish(),
    addresses.finish(),
    int32(nations),
    phones.finish(),
    money(acctbal),
    segments.finish(),
    comments.finish(),
  ], n);
}

function part(start: number, n: number): RecordBatch {
  const pool = textPool();
  const keys = new Int32Array(n);
  const sizes = new Int32Array(n);
  const prices = new Float64Array(n);
  const names = new StringWriter(n, 5 * 10 + 4);
  const mfgrs = new StringWriter(n, 14);
  const brands = new StringWriter(n, 8);
  const types = new StringWriter(n, 25);
  const containers = new StringWriter(n, 10);
  const comments = new StringWriter(n, 22);
  // Five distinct colours by a partial Fisher-Yates shuffle, undone after each
  // row so that the permutation is the identity again for the next.
  const perm = Int32Array.from(COLORS, (_, i) => i);
  const swaps = new Int32Array(5);
  for (let i = 0; i < n; i++) {
    const row = start + i;
    const key = row + 1;
    keys[i] = key;
    for (let j = 0; j < 5; j++) {
      const k = j + uniform(S_PART_NAME, row * 8 + j, 0, COLORS.length - 1 - j);
      swaps[j] = k;
      const t = perm[j];
      perm[j] = perm[k];
      perm[k] = t;
      if (j > 0) names.byte(CHAR_SPACE);
      names.bytes(COLOR_BYTES[perm[j]]);
    }
    for (let j = 4; j >= 0; j--) {
      const k = swaps[j];
      const t = perm[j];
      perm[j] = perm[k];
      perm[k] = t;
    }
    names.end();
    const m = uniform(S_PART_MFGR, row, 1, 5);
    mfgrs.bytes(MFGR_PREFIX);
    mfgrs.digits(m, 1);
    mfgrs.end();
    brands.bytes(BRAND_PREFIX);
    brands.digits(m * 10 + uniform(S_PART_BRAND, row, 1, 5), 2);
    brands.end();
    types.bytes(TYPE_BYTES[uniform(S_PART_TYPE, row, 0, PART_TYPES.length - 1)]);
    types.end();
    sizes[i] = uniform(S_PART_SIZE, row, 1, 50);
    containers.bytes(CONTAINER_BYTES[uniform(S_PART_CONTAINER, row, 0, CONTAINERS.length - 1)]);
    containers.end();
    prices[i] = retailPriceCents(key);
    text(comments, pool, S_PART_COMMENT, row, 5, 22);
    comments.end();
  }
  return recordBatch(tpchSchema("part"), [
    int32(keys),
    names.finish(),
    mfgrs.finish(),
    brands.finish(),
    types.finish(),
    int32(sizes),
    containers.finish(),
    money(prices),
    comments.finish(),
  ], n);
}

function partsupp(scale: TpchScale, start: number, n: number): RecordBatch {
  const pool = textPool();
  const partKeys = new Int32Array(n);
  const suppKeys = new Int32Array(n);
  const avail = new Int32Array(n);
  const cost = new Float64Array(n);
  const comments = new StringWriter(n, 198);
  for (let i = 0; i < n; i++) {
    const row = start + i;
    const partKey = Math.floor(row / 4) + 1;
    partKeys[i] = partKey;
    suppKeys[i] = partSupplier(partKey, row % 4, scale.suppliers);
    avail[i] = uniform(S_PS_AVAILQTY, row, 1, 9999);
    cost[i] = uniform(S_PS_SUPPLYCOST, row, 100, 100000);
    text(comments, pool, S_PS_COMMENT, row, 49, 198);
    comments.end();
  }
  return recordBatch(tpchSchema("partsupp"), [
    int32(partKeys),
    int32(suppKeys),
    int32(avail),
    money(cost),
    comments.finish(),
  ], n);
}

// ---------------------------------------------------------------------------
// orders and their lines

function orders(scale: TpchScale, start: number, n: number): RecordBatch {
  const pool = textPool();
  const keys = new Int32Array(n);
  const custKeys = new Int32Array(n);
  const totals = new Float64Array(n);
  const dates = new Int32Array(n);
  const shipPriority = new Int32Array(n);
  const status = new StringWriter(n, 1);
  const priorities = new StringWriter(n, 15);
  const clerks = new StringWriter(n, 15);
  const comments = new StringWriter(n, 78);
  // Customers whose key is a multiple of 3 place no orders (clause 4.2.3):
  // draw uniformly among the others and map the draw to the key directly.
  const activeCustomers = scale.customers - Math.floor(scale.customers / 3);
  const parts = scale.parts;
  for (let i = 0; i < n; i++) {
    const order = start + i;
    keys[i] = orderKey(order);
    const c = uniform(S_ORDER_CUSTKEY, order, 0, activeCustomers - 1);
    custKeys[i] = Math.floor(c / 2) * 3 + (c % 2) + 1;
    const orderDay = orderDate(order);
    dates[i] = orderDay;
    // O_TOTALPRICE and O_ORDERSTATUS come from the same line values lineitem
    // generates: the draws are keyed by (order, line), not by position.
    const lines = lineCount(order);
    let total = 0;
    let shipped = 0;
    for (let l = 0; l < lines; l++) {
      const key = order * 8 + l;
      const partKey = linePartKey(key, parts);
      const amounts = lineAmounts(key);
      const discount = discountOf(amounts);
      const tax = taxOf(amounts);
      const extended = quantityOf(amounts) * retailPriceCents(partKey);
      // dbgen's integer arithmetic in cents, truncating after each factor.
      const discounted = Math.floor(extended * (100 - discount) / 100);
      total += Math.floor(discounted * (100 + tax) / 100);
      if (orderDay + shipDelayOf(lineDates(key)) <= CURRENT_DATE) shipped++;
    }
    totals[i] = total;
    status.byte(shipped === lines ? CHAR_F : shipped === 0 ? CHAR_O : CHAR_P);
    status.end();
    priorities.bytes(PRIORITY_BYTES[uniform(S_ORDER_PRIORITY, order, 0, 4)]);
    priorities.end();
    clerks.bytes(CLERK_PREFIX);
    clerks.digits(uniform(S_ORDER_CLERK, order, 1, scale.clerks), 9);
    clerks.end();
    text(comments, pool, S_ORDER_COMMENT, order, 19, 78);
    comments.end();
  }
  return recordBatch(tpchSchema("orders"), [
    int32(keys),
    int32(custKeys),
    status.finish(),
    money(totals),
    date(dates),
    priorities.finish(),
    clerks.finish(),
    int32(shipPriority),
    comments.finish(),
  ], n);
}

/** The lines of orders [start, end), which must number `n`. */
function lineitem(scale: TpchScale, start: number, end: number, n: number): RecordBatch {
  const pool = textPool();
  const orderKeys = new Int32Array(n);
  const partKeys = new Int32Array(n);
  const suppKeys = new Int32Array(n);
  const lineNumbers = new Int32Array(n);
  const quantities = new Float64Array(n);
  const extended = new Float64Array(n);
  const discounts = new Float64Array(n);
  const taxes = new Float64Array(n);
  const shipDates = new Int32Array(n);
  const commitDates = new Int32Array(n);
  const receiptDates = new Int32Array(n);
  const returnFlags = new StringWriter(n, 1);
  const lineStatus = new StringWriter(n, 1);
  const instructs = new StringWriter(n, 17);
  const modes = new StringWriter(n, 7);
  const comments = new StringWriter(n, 43);
  const { parts, suppliers } = scale;
  let r = 0;
  for (let order = start; order < end; order++) {
    const key0 = order * 8;
    const oKey = orderKey(order);
    const orderDay = orderDate(order);
    const lines = lineCount(order);
    for (let l = 0; l < lines; l++, r++) {
      const key = key0 + l;
      orderKeys[r] = oKey;
      const partKey = linePartKey(key, parts);
      partKeys[r] = partKey;
      // 4 suppliers x 2 return flags x 4 instructions x 7 modes.
      let choices = uniform(S_LINE_CHOICES, key, 0, 4 * 2 * 4 * 7 - 1);
      suppKeys[r] = partSupplier(partKey, choices & 3, suppliers);
      const returned = choices & 4;
      choices >>= 3;
      instructs.bytes(INSTRUCT_BYTES[choices & 3]);
      instructs.end();
      modes.bytes(MODE_BYTES[choices >> 2]);
      modes.end();
      lineNumbers[r] = l + 1;
      const amounts = lineAmounts(key);
      const quantity = quantityOf(amounts);
      quantities[r] = quantity * 100;
      extended[r] = quantity * retailPriceCents(partKey);
      discounts[r] = discountOf(amounts);
      taxes[r] = taxOf(amounts);
      const dates = lineDates(key);
      const shipDay = orderDay + shipDelayOf(dates);
      const receiptDay = shipDay + receiptDelayOf(dates);
      shipDates[r] = shipDay;
      commitDates[r] = orderDay + commitDelayOf(dates);
      receiptDates[r] = receiptDay;
      returnFlags.byte(receiptDay <= CURRENT_DATE ? (returned ? CHAR_R : CHAR_A) : CHAR_N);
      returnFlags.end();
      lineStatus.byte(shipDay > CURRENT_DATE ? CHAR_O : CHAR_F);
      lineStatus.end();
      text(comments, pool, S_LINE_COMMENT, key, 10, 43);
      comments.end();
    }
  }
  if (r !== n) throw new SpiceError("INTERNAL", `lineitem batch has ${r} rows, planned ${n}`);
  return recordBatch(tpchSchema("lineitem"), [
    int32(orderKeys),
    int32(partKeys),
    int32(suppKeys),
    int32(lineNumbers),
    money(quantities),
    money(extended),
    money(discounts),
    money(taxes),
    returnFlags.finish(),
    lineStatus.finish(),
    date(shipDates),
    date(commitDates),
    date(receiptDates),
    instructs.finish(),
    modes.finish(),
    comments.finish(),
  ], n);
}

// ---------------------------------------------------------------------------
// partitions

/** Rows [start, end) of partition `p` of `count` over `total` rows: contiguous and balanced. */
function partitionRange(total: number, p: number, count: number): [number, number] {
  return [Math.floor(p * total / count), Math.floor((p + 1) * total / count)];
}

function checkPartition(partition: number, numPartitions: number): void {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `numPartitions must be a positive integer, got ${numPartitions}`,
    );
  }
  if (!Number.isInteger(partition) || partition < 0 || partition >= numPartitions) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `partition must be an integer in [0, ${numPartitions - 1}], got ${partition}`,
    );
  }
}

const lineitemCounts = new Map<number, number>();

/**
 * The exact number of rows of a table at a scale factor. For lineitem this
 * draws the line count of every order (about 5 ns an order, so 8 ms at SF 1),
 * and the result is cached per scale factor.
 */
export function tpchRowCount(table: TpchTable, sf: number): number {
  const scale = tpchScale(sf);
  if (checkTable(table) !== "lineitem") {
    return fixedRowCount(table as Exclude<TpchTable, "lineitem">, scale);
  }
  let n = lineitemCounts.get(scale.orders);
  if (n === undefined) {
    n = 0;
    for (let o = 0; o < scale.orders; o++) n += lineCount(o);
    lineitemCounts.set(scale.orders, n);
  }
  return n;
}

/** Rows a default partition aims at: big enough to amortise start-up, small enough to spread. */
const ROWS_PER_PARTITION = 500_000;

/**
 * A default number of partitions for a table: about one per 500,000 rows
 * (lineitem estimated at its expected 4 lines per order, so this is cheap).
 */
export function tpchPartitionCount(table: TpchTable, sf: number): number {
  const scale = tpchScale(sf);
  const rows = checkTable(table) === "lineitem"
    ? scale.orders * 4
    : fixedRowCount(table as Exclude<TpchTable, "lineitem">, scale);
  return Math.max(1, Math.ceil(rows / ROWS_PER_PARTITION));
}

/**
 * Generates partition `partition` (0-based) of `numPartitions` of a table, in
 * batches of at most BATCH_SIZE rows. Partitions are contiguous row ranges
 * (order ranges for orders and lineitem), so concatenating partitions
 * 0..numPartitions-1 gives the whole table, identical for every split.
 */
export function* generateTpchPartition(
  table: TpchTable,
  sf: number,
  partition: number,
  numPartitions: number,
): Generator<RecordBatch> {
  checkTable(table);
  const scale = tpchScale(sf);
  checkPartition(partition, numPartitions);
  if (table === "lineitem") {
    yield* lineitemBatches(scale, ...partitionRange(scale.orders, partition, numPartitions));
    return;
  }
  const [start, end] = partitionRange(fixedRowCount(table, scale), partition, numPartitions);
  for (let at = start; at < end; at += BATCH_SIZE) {
    const n = Math.min(BATCH_SIZE, end - at);
    switch (table) {
      case "region":
        yield region(at, n);
        break;
      case "nation":
        yield nation(at, n);
        break;
      case "supplier":
        yield supplier(scale, at, n);
        break;
      case "customer":
        yield customer(at, n);
        break;
      case "part":
        yield part(at, n);
        break;
      case "partsupp":
        yield partsupp(scale, at, n);
        break;
      case "orders":
        yield orders(scale, at, n);
        break;
    }
  }
}

/** Lines of orders [start, end) in batches of whole orders, each at most BATCH_SIZE lines. */
function* lineitemBatches(scale: TpchScale, start: number, end: number): Generator<RecordBatch> {
  let first = start;
  let rows = 0;
  for (let order = start; order < end; order++) {
    const lines = lineCount(order);
    if (rows + lines > BATCH_SIZE) {
      yield lineitem(scale, first, order, rows);
      first = order;
      rows = 0;
    }
    rows += lines;
  }
  if (rows > 0) yield lineitem(scale, first, end, rows);
}
