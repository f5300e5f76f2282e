/**
 * API-key authentication of Flight calls. With keys configured, every call
 * carries `authorization: Bearer <key>`; a client that only knows Basic auth
 * (JDBC, ADBC) sends `authorization: Basic base64(user:key)` on Handshake and
 * receives the bearer token in the response header. Refusals say only that
 * a key is missing or wrong (in the HTTP API's words): nothing about which
 * keys exist.
 *
 * @module
 */

import { SpiceError } from "../../errors.ts";

/** The outcome of checking a call's credentials. */
export type AuthResult =
  | {
    readonly ok: true; /** The accepted key, or null when auth is off. */
    readonly key: string | null;
  }
  | { readonly ok: false; readonly error: SpiceError };

// The HTTP API's wording, so a refusal reads the same on both endpoints; one message for
// missing and wrong keys, so a refusal tells nothing about what was wrong.
const REFUSED = "missing or invalid API key";

/** Compares two strings in time independent of where they differ. */
function sameKey(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  // Fold the length difference in rather than returning early, so that a
  // wrong-length guess costs the same as a wrong-content one.
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i % Math.max(1, y.length)] ?? 0);
  return diff === 0;
}

function matchKey(keys: readonly string[], candidate: string): string | null {
  let found: string | null = null;
  // Check every key (no early exit) so timing does not reveal which one matched.
  for (const k of keys) if (sameKey(k, candidate) && found === null) found = k;
  return found;
}

/** Decodes `Basic base64(user:password)`; the password is the key (the user name is ignored). */
function basicPassword(value: string): string | null {
  try {
    const text = new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
    const colon = text.indexOf(":");
    return colon < 0 ? null : text.slice(colon + 1);
  } catch {
    return null;
  }
}

/**
 * Checks the `authorization` header values of a call against the configured
 * keys. `allowBasic` accepts Basic credentials (Handshake only).
 */
export function checkAuthorization(
  keys: readonly string[] | null | undefined,
  headers: readonly string[],
  opts: { allowBasic?: boolean } = {},
): AuthResult {
  if (!keys || keys.length === 0) return { ok: true, key: null };
  if (headers.length === 0) return { ok: false, error: new SpiceError("UNAUTHENTICATED", REFUSED) };
  for (const h of headers) {
    const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(h);
    if (!m) continue;
    const scheme = m[1].toLowerCase();
    let candidate: string | null = null;
    if (scheme === "bearer") candidate = m[2];
    else if (scheme === "basic" && opts.allowBasic) candidate = basicPassword(m[2]);
    if (candidate === null) continue;
    const key = matchKey(keys, candidate);
    if (key !== null) return { ok: true, key };
  }
  return { ok: false, error: new SpiceError("UNAUTHENTICATED", REFUSED) };
}

/** Checks a key sent in a Handshake payload (`BasicAuth.password`, or the raw key). */
export function checkKey(
  keys: readonly string[] | null | undefined,
  candidate: string,
): AuthResult {
  if (!keys || keys.length === 0) return { ok: true, key: null };
  const key = candidate === "" ? null : matchKey(keys, candidate);
  return key === null
    ? { ok: false, error: new SpiceError("UNAUTHENTICATED", REFUSED) }
    : { ok: true, key };
}
