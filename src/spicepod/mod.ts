/**
 * spicepod.yaml: the schema, `${env:VAR}` substitution, durations and byte
 * sizes, and loading from disk. Everything is validated when the spicepod is
 * read, so that configuration mistakes stop the start with a message that
 * names the file, the dataset and the field.
 *
 * @module
 */
export { parseSpicepod } from "./schema.ts";
export type {
  AccelerationSpec,
  DatasetScheme,
  DatasetSpec,
  ParseSpicepodOptions,
  RuntimeSpec,
  Spicepod,
} from "./schema.ts";
export { loadSpicepod } from "./load.ts";
export { parseDuration } from "./duration.ts";
export { parseByteSize } from "./byte_size.ts";
export { envLookup, substituteEnv } from "./env.ts";
export type { EnvLookup } from "./env.ts";
