/**
 * Builds a small, self-contained Parquet file holding one row group and only
 * the projected columns of a larger file: the fetched column chunks laid end
 * to end, and a rewritten footer whose offsets point at them.
 *
 * Why: parquet-wasm's synchronous `readParquet(bytes)` reports every decoding
 * failure as an ordinary exception, but reads all columns of the bytes it is
 * given. Its asynchronous `ParquetFile` does project, but unwraps decoding
 * errors into a WebAssembly trap in a detached task, which crashes the
 * process on a corrupt file. Handing the synchronous reader exactly the
 * chunks that the scan needs gives both: projection and catchable errors.
 *
 * The footer is re-encoded from a generic Thrift tree, so fields the engine
 * does not know (statistics, encodings, newer additions) pass through as
 * written. Only offsets change; page index and bloom filter offsets are
 * dropped (they would point into the original file), and so is the Arrow
 * schema of the original (it describes all columns; the engine converts by
 * Parquet type), replaced by a hint that asks for dictionaries where cheap
 * (`arrow_hint.ts`).
 *
 * @module
 */

import {
  CompactReader,
  CompactWriter,
  CT,
  getField,
  readGenericStruct,
  setField,
  type ThriftList,
  type ThriftStruct,
  type ThriftValue,
} from "./thrift.ts";

/** A footer decoded for rewriting, with its flat top-level columns located. */
export interface FooterTree {
  readonly root: ThriftStruct;
  readonly schema: readonly ThriftStruct[];
  readonly rowGroups: readonly ThriftStruct[];
  /** Flat top-level columns by name: schema element index and column chunk (leaf) index. */
  readonly columns: ReadonlyMap<string, { readonly element: number; readonly leaf: number }>;
}

function asStruct(v: ThriftValue | undefined, what: string): ThriftStruct {
  if (v === undefined || typeof v !== "object" || !("kind" in v) || v.kind !== "struct") {
    throw new Error(`${what} is missing`);
  }
  return v;
}

function asList(v: ThriftValue | undefined, what: string): ThriftList {
  if (v === undefined || typeof v !== "object" || !("kind" in v) || v.kind !== "list") {
    throw new Error(`${what} is missing`);
  }
  return v;
}

const decoder = new TextDecoder();

/** Decodes a footer (FileMetaData, length, magic) generically. */
export function parseFooterTree(footer: Uint8Array): FooterTree {
  const root = readGenericStruct(new CompactReader(footer.subarray(0, footer.length - 8)));
  const schema = asList(getField(root, 2), "schema").items.map((s) =>
    asStruct(s, "schema element")
  );
  const rowGroups = asList(getField(root, 4), "row groups").items.map((g) =>
    asStruct(g, "row group")
  );
  const columns = new Map<string, { element: number; leaf: number }>();
  // Walk the flattened tree: each element is followed by its num_children descendants.
  let leaf = 0;
  let at = 1;
  const skipSubtree = (i: number): number => {
    const n = (getField(schema[i], 5) as number | undefined) ?? 0;
    if (n === 0) {
      leaf++;
      return i + 1;
    }
    let next = i + 1;
    for (let c = 0; c < n; c++) next = skipSubtree(next);
    return next;
  };
  const topLevel = (getField(schema[0], 5) as number | undefined) ?? 0;
  for (let c = 0; c < topLevel && at < schema.length; c++) {
    const children = (getField(schema[at], 5) as number | undefined) ?? 0;
    if (children === 0) {
      const name = decoder.decode(getField(schema[at], 4) as Uint8Array);
      if (!columns.has(name)) columns.set(name, { element: at, leaf });
    }
    at = skipSubtree(at);
  }
  return { root, schema, rowGroups, columns };
}

// Parquet Encoding values.
const PLAIN_DICTIONARY = 2;
const RLE_DICTIONARY = 8;
const VALUE_ENCODINGS = new Set([0, 5, 6, 7, 9]); // PLAIN, DELTA_*, BYTE_STREAM_SPLIT

/**
 * True when every data page of the column's chunk in row group `group` is
 * dictionary-encoded (from the page encoding statistics, else from the list
 * of encodings), so that it can be decoded into a dictionary array cheaply.
 */
export function isDictionaryEncoded(tree: FooterTree, group: number, name: string): boolean {
  const loc = tree.columns.get(name);
  if (!loc) return false;
  const chunk = asStruct(
    asList(getField(tree.rowGroups[group], 1), "column chunks").items[loc.leaf],
    "column chunk",
  );
  const meta = getField(chunk, 3);
  if (meta === undefined) return false;
  const m = asStruct(meta, "column metadata");
  const stats = getField(m, 13);
  if (stats !== undefined) {
    // PageEncodingStats { 1: page_type, 2: encoding, 3: count }; data pages are types 0 and 3.
    let dataPages = 0;
    for (const st of asList(stats, "encoding stats").items) {
      const pageType = getField(st as ThriftStruct, 1);
      const enc = getField(st as ThriftStruct, 2);
      if (pageType !== 0 && pageType !== 3) continue;
      if (enc !== PLAIN_DICTIONARY && enc !== RLE_DICTIONARY) return false;
      dataPages++;
    }
    return dataPages > 0;
  }
  // Without statistics, the dictionary page's own PLAIN would be indistinguishable
  // from a fallback to PLAIN data pages: only a list without value encodings qualifies.
  const encodings = asList(getField(m, 2), "encodings").items as number[];
  return encodings.some((e) => e === PLAIN_DICTIONARY || e === RLE_DICTIONARY) &&
    !encodings.some((e) => VALUE_ENCODINGS.has(e));
}

const SHIFTED_OFFSETS = [9, 10, 11]; // data_page_offset, index_page_offset, dictionary_page_offset
const DROPPED_META = new Set([14, 15]); // bloom_filter_offset, bloom_filter_length

/**
 * Builds the subset file: row group `group` of the original, with the named
 * columns (flat top-level columns, in file order) whose chunk bytes are given
 * in the same order. `chunkStarts` are the chunks' offsets in the original file.
 * `arrowSchema`, when given, becomes the file's "ARROW:schema" metadata.
 */
export function buildSubsetFile(
  tree: FooterTree,
  group: number,
  columns: readonly string[],
  chunks: readonly Uint8Array[],
  chunkStarts: readonly number[],
  arrowSchema?: string,
): Uint8Array {
  const rg = tree.rowGroups[group];
  const allChunks = asList(getField(rg, 1), "column chunks").items;
  const elements: ThriftStruct[] = [];
  const newChunks: ThriftStruct[] = [];
  let at = 4; // after the leading "PAR1"
  columns.forEach((name, i) => {
    const loc = tree.columns.get(name);
    if (!loc) throw new Error(`no flat column ${name}`);
    elements.push(tree.schema[loc.element]);
    const chunk = asStruct(allChunks[loc.leaf], "column chunk");
    const meta = asStruct(getField(chunk, 3), "column metadata");
    const delta = at - chunkStarts[i];
    const newMeta: ThriftStruct = {
      kind: "struct",
      fields: meta.fields
        .filter((f) => !DROPPED_META.has(f.id))
        .map((f) =>
          SHIFTED_OFFSETS.includes(f.id) && typeof f.value === "number"
            ? { ...f, value: f.value + delta }
            : f
        ),
    };
    newChunks.push({
      kind: "struct",
      fields: [
        { id: 2, type: CT.I64, value: at },
        { id: 3, type: CT.STRUCT, value: newMeta },
      ],
    });
    at += chunks[i].length;
  });
  const rootElement: ThriftStruct = { kind: "struct", fields: [...tree.schema[0].fields] };
  setField(rootElement, 5, CT.I32, columns.length);
  const rowGroup: ThriftStruct = {
    kind: "struct",
    fields: [
      {
        id: 1,
        type: CT.LIST,
        value: { kind: "list", type: CT.LIST, elemType: CT.STRUCT, items: newChunks },
      },
      { id: 2, type: CT.I64, value: getField(rg, 2) ?? 0 },
      { id: 3, type: CT.I64, value: getField(rg, 3) ?? 0 },
    ],
  };
  const fileMeta: ThriftStruct = {
    kind: "struct",
    fields: [
      { id: 1, type: CT.I32, value: getField(tree.root, 1) ?? 1 },
      {
        id: 2,
        type: CT.LIST,
        value: {
          kind: "list",
          type: CT.LIST,
          elemType: CT.STRUCT,
          items: [rootElement, ...elements],
        },
      },
      { id: 3, type: CT.I64, value: getField(rg, 3) ?? 0 },
      {
        id: 4,
        type: CT.LIST,
        value: { kind: "list", type: CT.LIST, elemType: CT.STRUCT, items: [rowGroup] },
      },
    ],
  };
  if (arrowSchema !== undefined) {
    const enc = new TextEncoder();
    const kv: ThriftStruct = {
      kind: "struct",
      fields: [
        { id: 1, type: CT.BINARY, value: enc.encode("ARROW:schema") },
        { id: 2, type: CT.BINARY, value: enc.encode(arrowSchema) },
      ],
    };
    fileMeta.fields.push({
      id: 5,
      type: CT.LIST,
      value: { kind: "list", type: CT.LIST, elemType: CT.STRUCT, items: [kv] },
    });
  }
  // created_by lets the decoder apply its workarounds for known writer bugs.
  const createdBy = getField(tree.root, 6);
  if (createdBy !== undefined) fileMeta.fields.push({ id: 6, type: CT.BINARY, value: createdBy });
  const w = new CompactWriter();
  w.struct(fileMeta);
  const footer = w.finish();
  const out = new Uint8Array(at + footer.length + 8);
  const magic = [0x50, 0x41, 0x52, 0x31]; // "PAR1"
  out.set(magic, 0);
  let pos = 4;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  out.set(footer, pos);
  pos += footer.length;
  new DataView(out.buffer).setUint32(pos, footer.length, true);
  out.set(magic, pos + 4);
  return out;
}
