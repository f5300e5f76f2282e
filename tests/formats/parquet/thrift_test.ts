/**
 * Tests of the Thrift compact protocol reader and writer, against byte
 * sequences worked out by hand from the specification.
 */
import assert from "node:assert/strict";
import {
  CompactReader,
  CompactWriter,
  CT,
  getField,
  readGenericStruct,
  readList,
  readStruct,
  setField,
  ThriftError,
  type ThriftStruct,
} from "../../../src/formats/parquet/thrift.ts";

Deno.test("varints and zigzag", () => {
  // 300 = 0b1_0010_1100 -> 0xac 0x02
  assert.equal(new CompactReader(new Uint8Array([0xac, 0x02])).readVarint32(), 300);
  // zigzag: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3
  assert.deepEqual([0, 1, 2, 3].map((b) => new CompactReader(new Uint8Array([b])).readI32()), [
    0,
    -1,
    1,
    -2,
  ]);
  // i32 extremes
  const w = new CompactWriter();
  for (const v of [2147483647, -2147483648, 0, -1]) w.zigzag(v);
  const r = new CompactReader(w.finish());
  assert.deepEqual([r.readI32(), r.readI32(), r.readI32(), r.readI32()], [
    2147483647,
    -2147483648,
    0,
    -1,
  ]);
  // i64 beyond 32 bits, up to 2^53
  const w64 = new CompactWriter();
  for (const v of [2 ** 40 + 3, -(2 ** 52), 2 ** 53 - 1]) w64.zigzag(v);
  const r64 = new CompactReader(w64.finish());
  assert.deepEqual([r64.readI64(), r64.readI64(), r64.readI64()], [
    2 ** 40 + 3,
    -(2 ** 52),
    2 ** 53 - 1,
  ]);
});

Deno.test("struct fields: short and long deltas, booleans in headers, nesting, skip", () => {
  // struct { 1: i32 = 5, 3: bool = true, 20: binary "ab", 21: struct { 1: bool false }, 22: list<i32> [1, -1] }
  const bytes = new Uint8Array([
    0x15,
    0x0a, // field 1 (delta 1), I32, zigzag(5)=10
    0x21, // field 3 (delta 2), BOOLEAN_TRUE
    0x08,
    0x28,
    0x02,
    0x61,
    0x62, // long form: type BINARY, id zigzag(20)=40, len 2, "ab"
    0x1c, // field 21 (delta 1), STRUCT
    0x12,
    0x00, // field 1, BOOLEAN_FALSE; STOP
    0x19,
    0x25,
    0x02,
    0x01, // field 22, LIST of 2 I32: 1, -1
    0x00, // STOP
  ]);
  const seen: [number, unknown][] = [];
  const r = new CompactReader(bytes);
  readStruct(r, (id, t) => {
    if (t === CT.I32) seen.push([id, r.readI32()]);
    else if (t === CT.BOOLEAN_TRUE || t === CT.BOOLEAN_FALSE) {
      seen.push([id, t === CT.BOOLEAN_TRUE]);
    } else if (t === CT.BINARY) seen.push([id, r.readString()]);
    else if (t === CT.LIST) seen.push([id, readList(r, () => r.readI32())]);
    else r.skip(t);
  });
  assert.deepEqual(seen, [[1, 5], [3, true], [20, "ab"], [22, [1, -1]]]);
  assert.equal(r.pos, bytes.length);
  // Generic decoding, then encoding, gives back the same bytes.
  const tree = readGenericStruct(new CompactReader(bytes));
  const w = new CompactWriter();
  w.struct(tree);
  assert.deepEqual(w.finish(), bytes);
  assert.equal(getField(tree, 3), true);
  assert.equal(getField(getField(tree, 21) as ThriftStruct, 1), false);
});

Deno.test("generic trees: lists with 15+ elements, maps, doubles, bool elements; setField", () => {
  const tree: ThriftStruct = {
    kind: "struct",
    fields: [
      {
        id: 1,
        type: CT.LIST,
        value: {
          kind: "list",
          type: CT.LIST,
          elemType: CT.I64,
          items: Array.from({ length: 20 }, (_, i) => i * 1e10),
        },
      },
      { id: 2, type: CT.DOUBLE, value: -1.5 },
      {
        id: 4,
        type: CT.MAP,
        value: {
          kind: "map",
          keyType: CT.BINARY,
          valueType: CT.I32,
          entries: [[new Uint8Array([65]), 7]],
        },
      },
      {
        id: 5,
        type: CT.LIST,
        value: { kind: "list", type: CT.LIST, elemType: CT.BOOLEAN_TRUE, items: [true, false] },
      },
      { id: 40, type: CT.BYTE, value: -3 },
    ],
  };
  setField(tree, 3, CT.I32, 9);
  setField(tree, 2, CT.DOUBLE, 2.25);
  const w = new CompactWriter();
  w.struct(tree);
  const back = readGenericStruct(new CompactReader(w.finish()));
  assert.deepEqual(back, tree);
  assert.deepEqual(back.fields.map((f) => f.id), [1, 2, 3, 4, 5, 40]);
});

Deno.test("malformed input: truncation, bad types, absurd lengths", () => {
  assert.throws(() => new CompactReader(new Uint8Array([0x80, 0x80])).readVarint32(), ThriftError);
  assert.throws(() => readGenericStruct(new CompactReader(new Uint8Array([0x15]))), ThriftError);
  assert.throws(
    () => readGenericStruct(new CompactReader(new Uint8Array([0x1d, 0x00]))),
    ThriftError,
  );
  // A binary claiming more bytes than remain.
  assert.throws(() => new CompactReader(new Uint8Array([0x7f, 1, 2])).readBinary(), ThriftError);
  // A list claiming a billion elements.
  assert.throws(
    () => new CompactReader(new Uint8Array([0xf5, 0x80, 0x94, 0xeb, 0xdc, 0x03])).readListHeader(),
    ThriftError,
  );
  // Deep nesting is bounded.
  const deep = new Uint8Array(200).fill(0x1c);
  assert.throws(() => readGenericStruct(new CompactReader(deep)), ThriftError);
});
