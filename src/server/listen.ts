/**
 * Binding a server port: a default port already taken (by another spiced on
 * the same host) moves to a free port, with a log line saying which; a port
 * given explicitly never moves.
 *
 * @module
 */

import { SpiceError } from "../errors.ts";

/** Runs `bind(port)`, falling back to port 0 when the default port is in use. */
export async function bindWithFallback<T>(
  what: string,
  host: string,
  port: number,
  explicit: boolean,
  bind: (port: number) => Promise<T> | T,
  log: (msg: string) => void,
): Promise<T> {
  try {
    return await bind(port);
  } catch (e) {
    const inUse = e instanceof Deno.errors.AddrInUse ||
      /address already in use|EADDRINUSE/i.test(String(e));
    if (!inUse) throw e;
    if (explicit || port === 0) {
      throw new SpiceError("CONFIG", `${what} address ${host}:${port} is already in use`);
    }
    const r = await bind(0);
    log(`${what} port ${port} is in use on ${host}; bound a free port instead (see /v1/status)`);
    return r;
  }
}
