/**
 * A reader for the Thrift compact protocol, the encoding of Parquet's footer
 * (FileMetaData) and page headers.
 *
 * Written from the Thrift compact protocol specification
 * (thrift/doc/specs/thrift-compact-protocol.md). Only reading is needed: the
 * writer side of Parquet is parquet-wasm's. Structs are decoded by callbacks
 * (`readStruct`) rather than into generic maps, so a footer with a hundred
 * thousand column chunks costs no per-field allocations.
 *
 * @module
 */

/** Compact protocol type codes, as they appear in field and list headers. */
export const CT = {
  STOP: 0,
  BOOLEAN_TRUE: 1,
  BOOLEAN_FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

/** Thrown for truncated or malformed input; callers turn it into an IO error naming the file. */
export class ThriftError extends Error {
  /** Makes an error for a malformed input at a byte position. */
  constructor(message: string, pos: number) {
    super(`${message} at byte ${pos}`);
    this.name = "ThriftError";
  }
}

// Nesting deeper than this is not a Parquet footer; the limit also bounds recursion in skip().
const MAX_DEPTH = 64;

const decoder = new TextDecoder();

/** A cursor over a compact-protocol buffer. */
export class CompactReader {
  /** The bytes being decoded. */
  readonly buf: Uint8Array;
  /** The next byte to read. */
  pos: number;
  readonly #end: number;
  #depth = 0;

  /** Starts reading `buf` at `pos`. */
  constructor(buf: Uint8Array, pos = 0) {
    this.buf = buf;
    this.pos = pos;
    this.#end = buf.length;
  }

  #byte(): number {
    if (this.pos >= this.#end) throw new ThriftError("unexpected end of Thrift data", this.pos);
    return this.buf[this.pos++];
  }

  /** An unsigned varint of up to 32 bits. */
  readVarint32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.#byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 28) {
        // The fifth byte carries the top 4 bits; anything longer is malformed.
        const last = this.#byte();
        if (last & 0x80) throw new ThriftError("varint too long", this.pos);
        return (result | (last << 28)) >>> 0;
      }
    }
  }

  /**
   * An unsigned varint of up to 64 bits, as a double: exact below 2^53, which
   * covers every file offset, size and row count a Parquet footer can hold.
   */
  readVarint64(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.#byte();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new ThriftError("varint too long", this.pos);
  }

  /** A zigzag-encoded i16 or i32. */
  readI32(): number {
    const v = this.readVarint32();
    return (v >>> 1) ^ -(v & 1);
  }

  /** A zigzag-encoded i64, as a double (exact below 2^53). */
  readI64(): number {
    const v = this.readVarint64();
    // Zigzag without 64-bit bit operations: even -> v/2, odd -> -(v+1)/2.
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  /** A single signed byte. */
  readByte(): number {
    return (this.#byte() << 24) >> 24;
  }

  /** A little-endian IEEE double. */
  readDouble(): number {
    if (this.pos + 8 > this.#end) throw new ThriftError("unexpected end of Thrift data", this.pos);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** A length-prefixed byte string, as a view into the buffer (not a copy). */
  readBinary(): Uint8Array {
    const len = this.readVarint32();
    if (this.pos + len > this.#end) {
      throw new ThriftError(`binary of ${len} bytes runs past the end`, this.pos);
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** A length-prefixed UTF-8 string. */
  readString(): string {
    return decoder.decode(this.readBinary());
  }

  /** A list or set header: element type and count. */
  readListHeader(): { elemType: number; size: number } {
    const h = this.#byte();
    let size = h >> 4;
    if (size === 15) size = this.readVarint32();
    // Each element takes at least one byte, so a larger count is a corrupt header.
    if (size > this.#end - this.pos) throw new ThriftError(`list of ${size} elements`, this.pos);
    return { elemType: h & 0x0f, size };
  }

  /** A map header: key type, value type and count. */
  readMapHeader(): { keyType: number; valueType: number; size: number } {
    const size = this.readVarint32();
    if (size === 0) return { keyType: 0, valueType: 0, size };
    if (size > this.#end - this.pos) throw new ThriftError(`map of ${size} entries`, this.pos);
    const kv = this.#byte();
    return { keyType: kv >> 4, valueType: kv & 0x0f, size };
  }

  /** Reads a boolean list element (containers encode booleans as one byte each). */
  readBoolElement(): boolean {
    return this.#byte() === CT.BOOLEAN_TRUE;
  }

  /**
   * Skips one value of the given type (unknown fields of newer writers, and
   * fields the engine does not use).
   */
  skip(type: number): void {
    switch (type) {
      case CT.BOOLEAN_TRUE:
      case CT.BOOLEAN_FALSE:
        // In a field header the value is the type itself; nothing to skip.
        return;
      case CT.BYTE:
        this.#byte();
        return;
      case CT.I16:
      case CT.I32:
        this.readVarint32();
        return;
      case CT.I64:
        this.readVarint64();
        return;
      case CT.DOUBLE:
        this.readDouble();
        return;
      case CT.BINARY:
        this.readBinary();
        return;
      case CT.LIST:
      case CT.SET: {
        const { elemType, size } = this.readListHeader();
        for (let i = 0; i < size; i++) this.#skipElement(elemType);
        return;
      }
      case CT.MAP: {
        const { keyType, valueType, size } = this.readMapHeader();
        for (let i = 0; i < size; i++) {
          this.#skipElement(keyType);
          this.#skipElement(valueType);
        }
        return;
      }
      case CT.STRUCT:
        readStruct(this, (_id, t) => this.skip(t));
        return;
      default:
        throw new ThriftError(`unknown compact type ${type}`, this.pos);
    }
  }

  // Inside containers booleans take a byte, unlike in field headers.
  #skipElement(type: number): void {
    if (type === CT.BOOLEAN_TRUE || type === CT.BOOLEAN_FALSE) this.#byte();
    else this.skip(type);
  }

  /** Enters a nested struct (bounded depth: malformed input cannot exhaust the stack). */
  enter(): void {
    if (++this.#depth > MAX_DEPTH) throw new ThriftError("structs nested too deeply", this.pos);
  }

  /** Leaves a nested struct. */
  leave(): void {
    this.#depth--;
  }
}

/**
 * Reads one struct, calling `onField(id, type)` for each field; the callback
 * must consume the value (with the reader's `read*` methods or `skip(type)`).
 * For boolean fields the value is carried by the type: `type === CT.BOOLEAN_TRUE`.
 */
export function readStruct(r: CompactReader, onField: (id: number, type: number) => void): void {
  r.enter();
  let lastId = 0;
  for (;;) {
    const h = r.readByte() & 0xff;
    const type = h & 0x0f;
    if (type === CT.STOP) break;
    const delta = h >> 4;
    const id = delta !== 0 ? lastId + delta : r.readI32();
    lastId = id;
    onField(id, type);
  }
  r.leave();
}

/** Reads a list whose elements are read by `readElem`. */
export function readList<T>(r: CompactReader, readElem: (elemType: number) => T): T[] {
  const { elemType, size } = r.readListHeader();
  const out = new Array<T>(size);
  for (let i = 0; i < size; i++) out[i] = readElem(elemType);
  return out;
}

// ---------------------------------------------------------------------------
// generic values: for rewriting a footer without knowing every field

/** A decoded Thrift value of any type; i64 values are doubles (exact below 2^53). */
export type ThriftValue = boolean | number | Uint8Array | ThriftList | ThriftStruct | ThriftMap;

/** A struct: its fields in wire order, each with its compact type code. */
export interface ThriftStruct {
  readonly kind: "struct";
  fields: ThriftField[];
}

/** One field of a struct. */
export interface ThriftField {
  readonly id: number;
  readonly type: number;
  value: ThriftValue;
}

/** A list or set. */
export interface ThriftList {
  readonly kind: "list";
  readonly type: number; // CT.LIST or CT.SET
  readonly elemType: number;
  items: ThriftValue[];
}

/** A map. */
export interface ThriftMap {
  readonly kind: "map";
  readonly keyType: number;
  readonly valueType: number;
  entries: [ThriftValue, ThriftValue][];
}

function readValue(r: CompactReader, type: number, inContainer: boolean): ThriftValue {
  switch (type) {
    case CT.BOOLEAN_TRUE:
    case CT.BOOLEAN_FALSE:
      return inContainer ? r.readBoolElement() : type === CT.BOOLEAN_TRUE;
    case CT.BYTE:
      return r.readByte();
    case CT.I16:
    case CT.I32:
      return r.readI32();
    case CT.I64:
      return r.readI64();
    case CT.DOUBLE:
      return r.readDouble();
    case CT.BINARY:
      return r.readBinary();
    case CT.LIST:
    case CT.SET: {
      const { elemType, size } = r.readListHeader();
      const items = new Array<ThriftValue>(size);
      for (let i = 0; i < size; i++) items[i] = readValue(r, elemType, true);
      return { kind: "list", type, elemType, items };
    }
    case CT.MAP: {
      const { keyType, valueType, size } = r.readMapHeader();
      const entries = new Array<[ThriftValue, ThriftValue]>(size);
      for (let i = 0; i < size; i++) {
        entries[i] = [readValue(r, keyType, true), readValue(r, valueType, true)];
      }
      return { kind: "map", keyType, valueType, entries };
    }
    case CT.STRUCT:
      return readGenericStruct(r);
    default:
      throw new ThriftError(`unknown compact type ${type}`, r.pos);
  }
}

/** Reads a struct generically, keeping every field (for re-encoding). */
export function readGenericStruct(r: CompactReader): ThriftStruct {
  const fields: ThriftField[] = [];
  readStruct(r, (id, type) => {
    const value = readValue(r, type, false);
    // Booleans carry their value in the type code; normalise to one code.
    fields.push({ id, type: type === CT.BOOLEAN_FALSE ? CT.BOOLEAN_TRUE : type, value });
  });
  return { kind: "struct", fields };
}

/** The value of field `id` of a struct, or undefined. */
export function getField(s: ThriftStruct, id: number): ThriftValue | undefined {
  for (const f of s.fields) if (f.id === id) return f.value;
  return undefined;
}

/** Sets (or adds) field `id` of a struct, keeping fields in id order. */
export function setField(s: ThriftStruct, id: number, type: number, value: ThriftValue): void {
  const at = s.fields.findIndex((f) => f.id === id);
  if (at >= 0) {
    s.fields[at] = { id, type, value };
    return;
  }
  s.fields.push({ id, type, value });
  s.fields.sort((a, b) => a.id - b.id);
}

/** Encodes values in the compact protocol. */
export class CompactWriter {
  #buf = new Uint8Array(1024);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
  }

  /** An unsigned varint of up to 53 bits. */
  varint(v: number): void {
    this.#reserve(10);
    while (v >= 128) {
      this.#buf[this.#len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.#buf[this.#len++] = v;
  }

  /** A zigzag varint (i16, i32 and i64 alike). */
  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** Encodes a struct (field headers with deltas, then STOP). */
  struct(s: ThriftStruct): void {
    let last = 0;
    for (const f of s.fields) {
      const type = f.type === CT.BOOLEAN_TRUE || f.type === CT.BOOLEAN_FALSE
        ? (f.value ? CT.BOOLEAN_TRUE : CT.BOOLEAN_FALSE)
        : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.#byte((delta << 4) | type);
      else {
        this.#byte(type);
        this.zigzag(f.id);
      }
      last = f.id;
      if (type !== CT.BOOLEAN_TRUE && type !== CT.BOOLEAN_FALSE) this.value(type, f.value);
    }
    this.#byte(CT.STOP);
  }

  /** Encodes one value of a type (booleans here are container elements: one byte). */
  value(type: number, v: ThriftValue): void {
    switch (type) {
      case CT.BOOLEAN_TRUE:
      case CT.BOOLEAN_FALSE:
        this.#byte(v ? CT.BOOLEAN_TRUE : CT.BOOLEAN_FALSE);
        return;
      case CT.BYTE:
        this.#byte((v as number) & 0xff);
        return;
      case CT.I16:
      case CT.I32:
      case CT.I64:
        this.zigzag(v as number);
        return;
      case CT.DOUBLE: {
        this.#reserve(8);
        new DataView(this.#buf.buffer).setFloat64(this.#len, v as number, true);
        this.#len += 8;
        return;
      }
      case CT.BINARY: {
        const b = v as Uint8Array;
        this.varint(b.length);
        this.#reserve(b.length);
        this.#buf.set(b, this.#len);
        this.#len += b.length;
        return;
      }
      case CT.LIST:
      case CT.SET: {
        const l = v as ThriftList;
        const n = l.items.length;
        if (n < 15) this.#byte((n << 4) | l.elemType);
        else {
          this.#byte(0xf0 | l.elemType);
          this.varint(n);
        }
        for (const item of l.items) this.value(l.elemType, item);
        return;
      }
      case CT.MAP: {
        const m = v as ThriftMap;
        this.varint(m.entries.length);
        if (m.entries.length === 0) return;
        this.#byte((m.keyType << 4) | m.valueType);
        for (const [k, val] of m.entries) {
          this.value(m.keyType, k);
          this.value(m.valueType, val);
        }
        return;
      }
      case CT.STRUCT:
        this.struct(v as ThriftStruct);
        return;
      default:
        throw new Error(`unknown compact type ${type}`);
    }
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}
