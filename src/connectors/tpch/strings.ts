/**
 * Writing string columns straight into UTF-8 bytes.
 *
 * Every TPC-H string is ASCII with a known maximum length, so a batch's buffer
 * is sized once (rows x max bytes) and values are written byte by byte: no
 * JavaScript string per cell, no TextEncoder call per cell.
 *
 * @module
 */

import { UTF8, type Utf8Column, utf8Column } from "../../arrow/mod.ts";

const encoder = new TextEncoder();

/** Encodes each string of a list once, for copying into many rows. */
export function encodeAll(words: readonly string[]): Uint8Array[] {
  return words.map((w) => encoder.encode(w));
}

/** Builds one utf8 column of a known number of rows and maximum row length. */
export class StringWriter {
  readonly #offsets: Int32Array;
  readonly #data: Uint8Array;
  #pos = 0;
  #row = 0;

  /** Room for `rows` rows of at most `maxBytes` bytes each. */
  constructor(rows: number, maxBytes: number) {
    this.#offsets = new Int32Array(rows + 1);
    this.#data = new Uint8Array(rows * maxBytes);
  }

  /** The buffer being written, for callers that patch bytes of the current row. */
  get data(): Uint8Array {
    return this.#data;
  }

  /** Where the next byte goes. */
  get pos(): number {
    return this.#pos;
  }

  /** Appends bytes to the current row. */
  bytes(src: Uint8Array): void {
    const n = src.length;
    const d = this.#data;
    let p = this.#pos;
    // Short copies by hand: TypedArray.set has a fixed cost that dominates under ~16 bytes.
    if (n < 16) { for (let i = 0; i < n; i++) d[p++] = src[i]; }
    else {
      d.set(src, p);
      p += n;
    }
    this.#pos = p;
  }

  /**
   * Appends bytes [start, end) of `src` to the current row. A plain loop:
   * comments average ~30 bytes, where `subarray` + `set` allocates per call.
   */
  range(src: Uint8Array, start: number, end: number): void {
    const d = this.#data;
    let p = this.#pos;
    for (let i = start; i < end; i++) d[p++] = src[i];
    this.#pos = p;
  }

  /** Appends one byte (an ASCII character code). */
  byte(b: number): void {
    this.#data[this.#pos++] = b;
  }

  /** Appends a non-negative integer in decimal, zero-padded to `width` digits. */
  digits(n: number, width: number): void {
    const d = this.#data;
    let p = this.#pos + width;
    this.#pos = p;
    for (let i = 0; i < width; i++) {
      const q = Math.floor(n / 10);
      d[--p] = 48 + n - q * 10;
      n = q;
    }
  }

  /** Ends the current row. */
  end(): void {
    this.#offsets[++this.#row] = this.#pos;
  }

  /** The finished column (the buffers are shared, not copied). */
  finish(): Utf8Column {
    return utf8Column(
      UTF8,
      this.#offsets.subarray(0, this.#row + 1),
      this.#data.subarray(0, this.#pos),
    );
  }
}
