/**
 * The contract between connectors (where bytes come from) and formats (how
 * bytes become record batches). A format reads a file through `ByteSource`
 * ranged reads, so that a Parquet reader can fetch its footer and only the
 * column chunks it needs, whether the file is local or in S3.
 *
 * @module
 */

/** One object (file) found by listing. */
export interface ObjectMeta {
  /** Path relative to the store's root, with "/" separators. */
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
}

/** Random access to the bytes of one object. */
export interface ByteSource {
  /** A name for errors and EXPLAIN (a path or s3:// URL). */
  readonly name: string;
  /** Total size in bytes. */
  size(): Promise<number>;
  /** Bytes [start, end) of the object. */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** A place that holds objects: a local directory or an S3 prefix. */
export interface ObjectStore {
  /** A name for errors (the root path or URL). */
  readonly name: string;
  /** Every object under the root (recursively), sorted by key. */
  list(): Promise<ObjectMeta[]>;
  /** A ranged reader for one object. */
  open(meta: ObjectMeta): ByteSource;
}
