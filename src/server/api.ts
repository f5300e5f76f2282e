/**
 * The HTTP API, with Spice's paths and shapes: POST /v1/sql, /health,
 * /v1/ready, /v1/datasets, /v1/status, /v1/queries. Every error is JSON
 * `{"error": {"code", "message"}}` with the status its code maps to.
 *
 * @module
 */

import type { Value } from "../arrow/column.ts";
import type { DatasetManager } from "../catalog/datasets.ts";
import { httpStatus, SpiceError, toSpiceError } from "../errors.ts";
import type { QueryEngine } from "../query/mod.ts";
import type { Parameters } from "../sql/binder.ts";
import { parseDuration } from "../spicepod/mod.ts";
import { queryJson, type QueryRecord, type QueryRegistry } from "./queries.ts";
import { CONTENT_TYPES, encodeResult, negotiateFormat } from "./result_format.ts";

/** What the API serves from. */
export interface ApiContext {
  readonly role: string;
  readonly version: string;
  readonly startedAt: Date;
  readonly endpoints: Record<string, string>;
  readonly engine: QueryEngine;
  readonly datasets: DatasetManager;
  readonly queries: QueryRegistry;
  readonly apiKeys: readonly string[] | null;
  readonly queryTimeoutMs: number | null;
  readonly maxRequestBodyBytes: number;
  readonly insecure: boolean;
  /** Extra status (cluster executors) merged into /v1/status. */
  readonly extraStatus?: () => Record<string, unknown>;
  /** Live details of a running query (its stages and tasks on the cluster), or null. */
  readonly queryDetails?: (id: string) => Record<string, unknown> | null;
  /** Extra routes (dashboard, cluster pages); return null when not handled. */
  readonly extraRoutes?: (req: Request, url: URL) => Promise<Response | null> | Response | null;
  /** Readiness (default: every dataset ready). */
  readonly ready?: () => boolean;
  /** When set, /v1/sql answers with this error (executors do not serve queries). */
  readonly sqlUnavailable?: string;
  /** Admission control: resolves with a release function when the query may run. */
  readonly admit?: (signal: AbortSignal) => Promise<() => void>;
  readonly log: (msg: string) => void;
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The JSON error response for an error. */
export function errorResponse(e: unknown): Response {
  const se = toSpiceError(e);
  const body: Record<string, unknown> = { code: se.code, message: se.message };
  const loc = se as unknown as { line?: number; column?: number };
  if (loc.line !== undefined) {
    body.line = loc.line;
    body.column = loc.column;
  }
  const status = (e as { status?: number }).status ?? httpStatus(se.code);
  return json(
    { error: body },
    status,
    se.code === "UNAUTHENTICATED" ? { "www-authenticate": "Bearer" } : {},
  );
}

function methodNotAllowed(allow: string): Response {
  return json({ error: { code: "METHOD_NOT_ALLOWED", message: `use ${allow}` } }, 405, { allow });
}

/** Constant-time comparison of an offered API key with the configured ones. */
function keyMatches(offered: string, keys: readonly string[]): boolean {
  const a = new TextEncoder().encode(offered);
  let ok = 0;
  for (const k of keys) {
    const b = new TextEncoder().encode(k);
    let diff = a.length ^ b.length;
    for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
    ok |= diff === 0 ? 1 : 0;
  }
  return ok === 1;
}

function authorize(req: Request, keys: readonly string[] | null): void {
  if (!keys) return;
  const header = req.headers.get("x-api-key") ??
    req.headers.get("authorization")?.replace(/^Bearer\s+/i, "") ?? null;
  if (header === null || !keyMatches(header, keys)) {
    throw new SpiceError("UNAUTHENTICATED", "missing or invalid API key");
  }
}

/** A request body over the limit: 413 Payload Too Large. */
function bodyTooLarge(size: string, limit: number): SpiceError {
  return Object.assign(
    new SpiceError(
      "RESOURCES_EXHAUSTED",
      `request body ${size} exceeds the limit of ${limit} bytes (runtime.query.max_request_body)`,
    ),
    { status: 413 },
  );
}

async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) {
    throw bodyTooLarge(`of ${declared} bytes`, limit);
  }
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of req.body) {
    size += c.length;
    if (size > limit) throw bodyTooLarge(`of more than ${limit} bytes`, limit);
    chunks.push(c);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Parses a /v1/sql request body into SQL and parameters. */
export async function parseSqlRequest(
  req: Request,
  limit: number,
): Promise<{ sql: string; params: Parameters | undefined }> {
  const type = (req.headers.get("content-type") ?? "text/plain").split(";")[0].trim().toLowerCase();
  const body = await readBody(req, limit);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw new SpiceError("INVALID_ARGUMENT", "request body is not valid UTF-8");
  }
  if (type === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new SpiceError("INVALID_ARGUMENT", `invalid JSON body: ${(e as Error).message}`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new SpiceError(
        "INVALID_ARGUMENT",
        'JSON body must be an object like {"sql": "SELECT 1"}',
      );
    }
    const o = parsed as Record<string, unknown>;
    if (typeof o.sql !== "string") {
      throw new SpiceError("INVALID_ARGUMENT", 'JSON body needs a "sql" string field');
    }
    const p = o.parameters ?? o.params;
    if (p !== undefined && p !== null && typeof p !== "object") {
      throw new SpiceError("INVALID_ARGUMENT", '"parameters" must be an array or an object');
    }
    if (p && typeof p === "object") {
      for (const v of Object.values(p)) {
        if (v !== null && !["string", "number", "boolean"].includes(typeof v)) {
          throw new SpiceError(
            "INVALID_ARGUMENT",
            "parameter values must be strings, numbers, booleans or null",
          );
        }
      }
    }
    return { sql: o.sql, params: (p ?? undefined) as Parameters | undefined };
  }
  // curl -d sends form encoding by default; Spice's docs use exactly that, so it is SQL text.
  if (
    type === "text/plain" || type === "application/sql" || type === "text/sql" || type === "" ||
    type === "application/x-www-form-urlencoded"
  ) {
    return { sql: text, params: undefined };
  }
  throw Object.assign(
    new SpiceError(
      "INVALID_ARGUMENT",
      `unsupported Content-Type ${type} (use text/plain or application/json)`,
    ),
    { status: 415 },
  );
}

/**
 * The query's timeout: the header's, when given, but never longer than the
 * spicepod's `runtime.query.timeout`, which is the operator's ceiling (a
 * client may ask for less time, not more).
 */
function timeoutFrom(req: Request, ceiling: number | null): number | null {
  const h = req.headers.get("x-spice-query-timeout") ?? req.headers.get("spice-query-timeout");
  if (!h) return ceiling;
  let ms: number;
  try {
    ms = /^\d+$/.test(h.trim()) ? Number(h) : parseDuration(h.trim());
  } catch {
    ms = NaN;
  }
  if (!(ms > 0)) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `invalid query timeout header "${h}" (a positive duration, e.g. 30s or 500ms)`,
    );
  }
  return ceiling === null ? ms : Math.min(ms, ceiling);
}

/** Runs /v1/sql. */
async function sqlEndpoint(req: Request, ctx: ApiContext): Promise<Response> {
  authorize(req, ctx.apiKeys);
  const format = negotiateFormat(req.headers.get("accept"));
  if (!format) {
    return json({
      error: {
        code: "NOT_ACCEPTABLE",
        message: `cannot produce ${req.headers.get("accept")}; supported: ${
          Object.values(CONTENT_TYPES).join(", ")
        }`,
      },
    }, 406);
  }
  const { sql, params } = await parseSqlRequest(req, ctx.maxRequestBodyBytes);
  const timeoutMs = timeoutFrom(req, ctx.queryTimeoutMs);
  const q = ctx.queries.start(sql, "http");
  // Not req.signal: Deno aborts it once a response completes; disconnects
  // reach the query through the body stream's cancel() instead.
  const signals = [q.controller.signal];
  if (timeoutMs) {
    signals.push(AbortSignal.timeout(timeoutMs));
  }
  const signal = AbortSignal.any(signals);
  const reason = () => {
    const r = signal.reason;
    if (r instanceof SpiceError) return r;
    if (r instanceof DOMException && r.name === "TimeoutError") {
      return new SpiceError("TIMEOUT", `query exceeded its timeout of ${timeoutMs} ms`);
    }
    return new SpiceError("CANCELLED", "query cancelled");
  };
  let release: (() => void) | null = null;
  try {
    if (ctx.admit) release = await ctx.admit(signal);
    const result = await ctx.engine.query(sql, { params, signal, queryId: q.id });
    // Run until the first batch before answering, so that most errors still
    // get a proper status instead of a broken 200 body.
    const batches = await primed(withSignal(result.batches, signal, reason));
    let bytes = 0;
    const stream = countBytes(
      encodeResult(format, result.schema, batches, (rows) => {
        ctx.queries.finish(q, { rows, bytes });
      }),
      (n) => (bytes += n),
    );
    const it = stream[Symbol.asyncIterator]();
    // Pull the first chunk before answering, so that most errors still get a proper status.
    const first = await it.next();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        if (!first.done) c.enqueue(first.value);
        if (first.done) c.close();
      },
      async pull(c) {
        try {
          const r = await it.next();
          if (r.done) {
            release?.();
            release = null;
            c.close();
          } else c.enqueue(r.value);
        } catch (e) {
          ctx.queries.finish(q, { error: toSpiceError(e) });
          release?.();
          release = null;
          c.error(e);
        }
      },
      async cancel() {
        q.controller.abort(new SpiceError("CANCELLED", "client disconnected"));
        await it.return?.();
        ctx.queries.finish(q, { error: new SpiceError("CANCELLED", "client disconnected") });
        release?.();
        release = null;
      },
    });
    if (first.done) {
      release?.();
      release = null;
    }
    return new Response(body, {
      headers: { "content-type": CONTENT_TYPES[format], "x-spice-query-id": q.id },
    });
  } catch (e) {
    release?.();
    const err = signal.aborted ? reason() : toSpiceError(e);
    ctx.queries.finish(q, { error: err });
    if (err.code !== "SQL_PARSE" && err.code !== "TABLE_NOT_FOUND") {
      ctx.log(`query ${q.id} failed: ${err.code}: ${err.message}`);
    }
    const status = (e as { status?: number }).status;
    if (status) return json({ error: { code: err.code, message: err.message } }, status);
    return errorResponse(err);
  }
}

/** Passes chunks through, reporting each one's size before it moves on. */
async function* countBytes(
  s: AsyncIterable<Uint8Array>,
  add: (n: number) => void,
): AsyncIterable<Uint8Array> {
  for await (const c of s) {
    add(c.byteLength);
    yield c;
  }
}

/** Pulls the first item of a stream now; the result replays it. */
async function primed<T>(s: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const it = s[Symbol.asyncIterator]();
  const first = await it.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  })();
}

async function* withSignal<T>(
  s: AsyncIterable<T>,
  signal: AbortSignal,
  reason: () => Error,
): AsyncIterable<T> {
  for await (const x of s) {
    if (signal.aborted) throw reason();
    yield x;
  }
  if (signal.aborted) throw reason();
}

/** A query as JSON, with its live cluster details while it runs. */
export function queryView(ctx: ApiContext, q: QueryRecord): Record<string, unknown> {
  const live = q.state === "running" ? ctx.queryDetails?.(q.id) : null;
  return live ? { ...queryJson(q), ...live } : queryJson(q);
}

/** The status document. */
export function statusJson(ctx: ApiContext): Record<string, unknown> {
  return {
    role: ctx.role,
    version: ctx.version,
    uptime_seconds: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000),
    started_at: ctx.startedAt.toISOString(),
    endpoints: ctx.endpoints,
    insecure: ctx.insecure,
    ...(ctx.insecure
      ? {
        warning:
          "--allow-insecure-connections is set: cluster traffic is not encrypted or authenticated",
      }
      : {}),
    ready: ctx.ready ? ctx.ready() : ctx.datasets.ready,
    datasets: ctx.datasets.statuses().map((d) => ({
      name: d.name,
      status: d.status,
      rows: d.rows,
    })),
    running_queries: ctx.queries.running().map((q) => queryView(ctx, q)),
    ...(ctx.extraStatus?.() ?? {}),
  };
}

/** A percent-decoded path segment; malformed encoding is the client's error (400), not a 500. */
function decodePathPart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new SpiceError("INVALID_ARGUMENT", `malformed percent-encoding in the path: ${s}`);
  }
}

/** Handles one HTTP request. */
export async function handleApi(req: Request, ctx: ApiContext): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname.replace(/\/+$/, "") || "/";
  try {
    const extra = await ctx.extraRoutes?.(req, url);
    if (extra) return extra;
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed("GET");
      return new Response("ok", { headers: { "content-type": "text/plain" } });
    }
    if (path === "/v1/sql") {
      if (req.method !== "POST") return methodNotAllowed("POST");
      if (ctx.sqlUnavailable) throw new SpiceError("INVALID_ARGUMENT", ctx.sqlUnavailable);
      return await sqlEndpoint(req, ctx);
    }
    if (path === "/v1/ready") {
      return (ctx.ready ? ctx.ready() : ctx.datasets.ready)
        ? new Response("ready", { status: 200 })
        : new Response("not ready", { status: 503 });
    }
    if (path.startsWith("/v1/")) authorize(req, ctx.apiKeys);
    if (path === "/v1/datasets") {
      if (req.method !== "GET") return methodNotAllowed("GET");
      return json(ctx.datasets.statuses());
    }
    const refresh = /^\/v1\/datasets\/([^/]+)\/acceleration\/refresh$/.exec(path);
    if (refresh) {
      if (req.method !== "POST") return methodNotAllowed("POST");
      return json(await ctx.datasets.refresh(decodePathPart(refresh[1])));
    }
    if (path === "/v1/status") {
      if (req.method !== "GET") return methodNotAllowed("GET");
      return json(statusJson(ctx));
    }
    if (path === "/v1/queries") {
      if (req.method !== "GET") return methodNotAllowed("GET");
      return json({
        running: ctx.queries.running().map((q) => queryView(ctx, q)),
        recent: ctx.queries.recent().map((q) => queryView(ctx, q)),
      });
    }
    const qm = /^\/v1\/queries\/([^/]+)$/.exec(path);
    if (qm) {
      const id = decodePathPart(qm[1]);
      if (req.method === "DELETE") {
        if (!ctx.queries.cancel(id)) throw new SpiceError("NOT_FOUND", `no running query ${id}`);
        return json({ id, cancelled: true });
      }
      if (req.method !== "GET") return methodNotAllowed("GET, DELETE");
      const q = ctx.queries.get(id);
      if (!q) throw new SpiceError("NOT_FOUND", `query ${id} not found`);
      return json(queryView(ctx, q));
    }
    throw new SpiceError("NOT_FOUND", `no such endpoint: ${req.method} ${path}`);
  } catch (e) {
    return errorResponse(e);
  }
}

export type { QueryRecord, Value };
