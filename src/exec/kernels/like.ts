/**
 * LIKE / ILIKE. A pattern made only of literal text and `%` is matched on the
 * UTF-8 bytes directly (prefix, suffix, and in-order substring search), the
 * common case in analytical SQL; a pattern with `_` or ILIKE falls back to a
 * regular expression on decoded strings. Dictionary columns match each
 * dictionary entry once.
 *
 * @module
 */

import { type Column, decodeUtf8, encodeUtf8, numericColumn } from "../../arrow/column.ts";
import { BOOL } from "../../arrow/types.ts";
import { type Datum, isScalar, scalar } from "../datum.ts";

/** A compiled matcher over a byte range. */
export type ByteMatcher = (data: Uint8Array, start: number, end: number) => boolean;

function indexOfBytes(data: Uint8Array, from: number, end: number, needle: Uint8Array): number {
  const m = needle.length;
  if (m === 0) return from;
  const first = needle[0];
  const last = end - m;
  outer: for (let i = from; i <= last; i++) {
    if (data[i] !== first) continue;
    for (let k = 1; k < m; k++) if (data[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

/** Splits a LIKE pattern on unescaped `%`; null when it has `_` (needs the general matcher). */
function splitPercent(pattern: string): string[] | null {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\" && i + 1 < pattern.length) {
      cur += pattern[++i];
    } else if (ch === "%") {
      parts.push(cur);
      cur = "";
    } else if (ch === "_") {
      return null;
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts;
}

function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\" && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else if (ch === "%") re += "[\\s\\S]*";
    else if (ch === "_") re += "[\\s\\S]";
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(re + "$", caseInsensitive ? "isu" : "su");
}

/** Compiles a LIKE pattern into a byte matcher. */
export function compileLike(pattern: string, caseInsensitive: boolean): ByteMatcher {
  const parts = caseInsensitive ? null : splitPercent(pattern);
  if (parts === null) {
    const re = likeToRegExp(pattern, caseInsensitive);
    return (data, s, e) => re.test(decodeUtf8(data.subarray(s, e)));
  }
  const bytes = parts.map(encodeUtf8);
  if (bytes.length === 1) {
    const lit = bytes[0];
    return (data, s, e) => {
      if (e - s !== lit.length) return false;
      for (let k = 0; k < lit.length; k++) if (data[s + k] !== lit[k]) return false;
      return true;
    };
  }
  const head = bytes[0], tail = bytes[bytes.length - 1];
  const middle = bytes.slice(1, -1).filter((b) => b.length > 0);
  const minLen = head.length + tail.length + middle.reduce((a, b) => a + b.length, 0);
  return (data, s, e) => {
    if (e - s < minLen) return false;
    for (let k = 0; k < head.length; k++) if (data[s + k] !== head[k]) return false;
    const tailStart = e - tail.length;
    for (let k = 0; k < tail.length; k++) if (data[tailStart + k] !== tail[k]) return false;
    let pos = s + head.length;
    for (const m of middle) {
      const at = indexOfBytes(data, pos, tailStart, m);
      if (at < 0) return false;
      pos = at + m.length;
    }
    return true;
  };
}

/** Evaluates `arg [NOT] [I]LIKE pattern`. */
export function like(arg: Datum, pattern: Datum, negated: boolean, ci: boolean, n: number): Datum {
  if (!isScalar(pattern)) {
    // A per-row pattern: compile per distinct pattern (rare in practice).
    const cache = new Map<string, ByteMatcher>();
    const out = new Uint8Array(n);
    const validity = new Uint8Array(n);
    const pc = pattern as Column;
    for (let i = 0; i < n; i++) {
      const a = rowBytes(arg, i), p = rowString(pc, i);
      if (a === null || p === null) continue;
      let m = cache.get(p);
      if (!m) cache.set(p, m = compileLike(p, ci));
      validity[i] = 1;
      out[i] = (m(a, 0, a.length) ? 1 : 0) ^ (negated ? 1 : 0);
    }
    return numericColumn(BOOL, out, validity);
  }
  if (pattern.value === null) return scalar(BOOL, null);
  const m = compileLike(String(pattern.value), ci);
  const flip = negated ? 1 : 0;
  if (isScalar(arg)) {
    if (arg.value === null) return scalar(BOOL, null);
    const b = encodeUtf8(String(arg.value));
    return scalar(BOOL, m(b, 0, b.length) !== negated);
  }
  const c = arg as Column;
  const out = new Uint8Array(n);
  if (c.enc === "dict") {
    const d = c.dict;
    const hit = new Uint8Array(d.length);
    for (let k = 0; k < d.length; k++) {
      hit[k] = (m(d.data, d.offsets[k], d.offsets[k + 1]) ? 1 : 0) ^ flip;
    }
    const idx = c.indices;
    for (let i = 0; i < n; i++) out[i] = hit[idx[i]];
  } else if (c.enc === "utf8") {
    const { data, offsets } = c;
    for (let i = 0; i < n; i++) out[i] = (m(data, offsets[i], offsets[i + 1]) ? 1 : 0) ^ flip;
  }
  return numericColumn(BOOL, out, c.validity);
}

function rowBytes(d: Datum, i: number): Uint8Array | null {
  if (isScalar(d)) return d.value === null ? null : encodeUtf8(String(d.value));
  const c = d as Column;
  if (c.validity && !c.validity[i]) return null;
  if (c.enc === "utf8") return c.data.subarray(c.offsets[i], c.offsets[i + 1]);
  if (c.enc === "dict") {
    const k = c.indices[i];
    return c.dict.data.subarray(c.dict.offsets[k], c.dict.offsets[k + 1]);
  }
  return null;
}

function rowString(c: Column, i: number): string | null {
  const b = rowBytes(c, i);
  return b === null ? null : decodeUtf8(b);
}
