/**
 * `${env:VAR}` substitution in spicepod.yaml string values.
 *
 * Secrets (API keys, S3 credentials) belong in the environment, not in the
 * file. `${secrets:VAR}` is Spice's spelling for a secret store lookup; spiced
 * has one store, the environment, so it reads the same variable. Any other
 * store (`${keyring:...}`) is an error rather than left as literal text,
 * because a literal `${keyring:KEY}` silently used as an API key would be a
 * security hole.
 *
 * @module
 */

import { SpiceError } from "../errors.ts";

/** Looks up one environment variable; `undefined` when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** The secret stores spiced understands; both read environment variables. */
const STORES = new Set(["env", "secrets"]);

// `${store:NAME}`, spaces allowed inside the braces. A `${NAME}` without a store is not a
// reference (it may be ordinary text, e.g. in a description) and is left alone.
const REFERENCE = /\$\{\s*([A-Za-z][A-Za-z0-9_-]*)\s*:\s*([^}]*?)\s*\}/g;

/** An environment lookup over a record, or over the process environment when none is given. */
export function envLookup(env?: Record<string, string | undefined>): EnvLookup {
  if (env !== undefined) return (name) => env[name];
  return (name) => {
    try {
      return Deno.env.get(name);
    } catch (e) {
      throw new SpiceError(
        "CONFIG",
        `cannot read environment variable "${name}": ${
          (e as Error).message
        } (run with --allow-env)`,
      );
    }
  };
}

/**
 * Replaces every `${env:VAR}` / `${ env:VAR }` / `${secrets:VAR}` in `text`
 * with the variable's value. References may sit inside longer text
 * (`Bearer ${env:TOKEN}`).
 *
 * @throws {SpiceError} code CONFIG, e.g. `environment variable "SPICE_KEY" is not set (referenced as ${env:SPICE_KEY})`;
 *   the caller adds where in the file the reference was.
 */
export function substituteEnv(text: string, lookup: EnvLookup): string {
  if (!text.includes("${")) return text;
  return text.replace(REFERENCE, (whole, store: string, name: string) => {
    if (!STORES.has(store)) {
      throw new SpiceError(
        "CONFIG",
        `unsupported secret store "${store}" in ${whole} (supported: \${env:VAR}, \${secrets:VAR})`,
      );
    }
    if (!/^[^\s{}$]+$/.test(name)) {
      throw new SpiceError("CONFIG", `invalid variable name in ${whole}`);
    }
    const value = lookup(name);
    if (value === undefined) {
      throw new SpiceError(
        "CONFIG",
        `environment variable "${name}" is not set (referenced as ${whole})`,
      );
    }
    return value;
  });
}
