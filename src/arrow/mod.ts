/**
 * The engine's columnar data: types, columns, record batches and Arrow interop.
 *
 * @module
 */
export * from "./types.ts";
export * from "./column.ts";
export * from "./batch.ts";
export * from "./interop.ts";
