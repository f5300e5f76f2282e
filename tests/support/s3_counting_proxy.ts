/**
 * A counting HTTP proxy in front of the S3 test server, for tests that need
 * to see what a spiced process (whose `S3Store.stats` live in another
 * process) asked of S3: requests, object GETs and the bytes they returned,
 * by key. It forwards every request unchanged (s3rver does not verify
 * signatures, so the changed Host header does not matter) and can slow
 * object reads down, to make a load or refresh last long enough to query
 * during it.
 *
 * @module
 */

/** What went through the proxy. */
export interface ProxyStats {
  /** Every request. */
  requests: number;
  /** GETs of an object (not listings). */
  objectGets: number;
  /** Bytes of object GET responses. */
  objectBytes: number;
  /**
   * Bytes of object GETs that did not reach the last 9 bytes of the object:
   * for Parquet, column chunks (data), as opposed to footer reads (the
   * 8-byte tail and the metadata just before it).
   */
  dataBytes: number;
  /** Object GETs by key (`bucket/key`). */
  readonly getsByKey: Map<string, number>;
  /** Object bytes returned by key (`bucket/key`). */
  readonly bytesByKey: Map<string, number>;
}

/** A running proxy. */
export interface CountingProxy {
  /** Base URL to use as `s3_endpoint`. */
  readonly endpoint: string;
  readonly stats: ProxyStats;
  /** Delay added before each object GET is answered (ms). */
  delayMs: number;
  /** Zeroes the counters. */
  reset(): void;
  stop(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 forwarding to `target` (e.g. the s3rver endpoint). */
export function startCountingProxy(target: string): CountingProxy {
  const stats: ProxyStats = {
    requests: 0,
    objectGets: 0,
    objectBytes: 0,
    dataBytes: 0,
    getsByKey: new Map(),
    bytesByKey: new Map(),
  };
  const proxy: { delayMs: number } = { delayMs: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    stats.requests++;
    const path = decodeURIComponent(url.pathname.slice(1));
    const isObjectGet = req.method === "GET" && path.includes("/") &&
      !url.searchParams.has("list-type");
    const headers = new Headers(req.headers);
    headers.delete("host");
    const body = req.method === "GET" || req.method === "HEAD"
      ? undefined
      : new Uint8Array(await req.arrayBuffer());
    if (isObjectGet && proxy.delayMs > 0) await new Promise((r) => setTimeout(r, proxy.delayMs));
    const res = await fetch(target + url.pathname + url.search, {
      method: req.method,
      headers,
      body,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (isObjectGet && res.status < 300) {
      stats.objectGets++;
      stats.objectBytes += bytes.byteLength;
      const range = /bytes (\d+)-(\d+)\/(\d+)/.exec(res.headers.get("content-range") ?? "");
      if (range && Number(range[2]) < Number(range[3]) - 9) stats.dataBytes += bytes.byteLength;
      stats.getsByKey.set(path, (stats.getsByKey.get(path) ?? 0) + 1);
      stats.bytesByKey.set(path, (stats.bytesByKey.get(path) ?? 0) + bytes.byteLength);
    }
    const out = new Headers(res.headers);
    out.delete("content-encoding");
    out.delete("transfer-encoding");
    return new Response(req.method === "HEAD" ? null : bytes, {
      status: res.status,
      headers: out,
    });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    get delayMs() {
      return proxy.delayMs;
    },
    set delayMs(v: number) {
      proxy.delayMs = v;
    },
    reset() {
      stats.requests = 0;
      stats.objectGets = 0;
      stats.objectBytes = 0;
      stats.dataBytes = 0;
      stats.getsByKey.clear();
      stats.bytesByKey.clear();
    },
    async stop() {
      await server.shutdown();
    },
  };
}
