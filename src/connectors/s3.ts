/**
 * The S3 object store: `s3://bucket/prefix/` (a "folder") or `s3://bucket/key`
 * (one object), on AWS or any S3-compatible server (MinIO, R2, s3rver) given
 * by `s3_endpoint`.
 *
 * Formats read objects through `ByteSource.read(start, end)`, which is one
 * GET with an explicit `Range: bytes=start-(end-1)`, so a Parquet reader
 * fetches only the footer and the column chunks it needs. Every request is
 * counted in `store.stats` so that tests and EXPLAIN can show what pruning
 * saved.
 *
 * Parameters (Spice's names; any other `s3_*` parameter is a CONFIG error):
 *
 * | param                | meaning                                                      |
 * | -------------------- | ------------------------------------------------------------ |
 * | `s3_region`          | bucket region, default `us-east-1`                            |
 * | `s3_endpoint`        | S3-compatible endpoint, e.g. `http://127.0.0.1:9000`; requests are then path-style (`/bucket/key`) |
 * | `s3_auth`            | `public` (unsigned), `key` (`s3_key`/`s3_secret`) or `iam_role`; default `key` when `s3_key` is given, else `public` |
 * | `s3_key`/`s3_secret` | access key pair for `s3_auth: key`                            |
 * | `client_timeout`     | bound on each HTTP attempt (body included), e.g. `30s`, `500ms`; default `30s` |
 * | `allow_http`         | `true`/`false`; an `http://` endpoint implies `true`, and `false` with one is an error |
 * | `s3_list_page_size`  | internal: max keys per ListObjectsV2 page (1..1000), to test pagination |
 *
 * `s3_auth: iam_role` takes credentials, in this order, from:
 * 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ optional `AWS_SESSION_TOKEN`);
 * 2. the ECS container endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, or
 *    `AWS_CONTAINER_CREDENTIALS_FULL_URI` with `AWS_CONTAINER_AUTHORIZATION_TOKEN`
 *    or `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), which EKS Pod Identity also uses;
 * 3. the EC2 instance metadata service (IMDSv2 with a session token, falling back
 *    to IMDSv1), at `AWS_EC2_METADATA_SERVICE_ENDPOINT` or `http://169.254.169.254`,
 *    unless `AWS_EC2_METADATA_DISABLED=true`; each metadata call is bounded by 1 s.
 *
 * Temporary credentials are cached and refreshed five minutes before they
 * expire. Not supported: web identity tokens (`AWS_WEB_IDENTITY_TOKEN_FILE`,
 * EKS IRSA), shared config/credential files and profiles, SSO, assume-role.
 *
 * @module
 */

import { AwsClient } from "aws4fetch";
import { SpiceError } from "../errors.ts";
import type { ByteSource, ObjectMeta, ObjectStore } from "./object_store.ts";

/** Request counters of one store; a plain mutable object so readers see live values. */
export interface S3Stats {
  /** HTTP requests sent to S3, every attempt counted (listing, HEAD, GET). */
  requests: number;
  /** Object bytes received by reads (listing XML and error bodies are not counted). */
  bytes: number;
  /** Attempts that were retries (after a 5xx, 429, network error or timeout). */
  retries: number;
}

/** An `ObjectStore` over S3, with its request counters. */
export interface S3Store extends ObjectStore {
  /** The bucket name. */
  readonly bucket: string;
  /** Live request and byte counters. */
  readonly stats: S3Stats;
}

/** Knobs that are not Spice parameters: for tests and embedding. */
export interface S3StoreOptions {
  /** Environment for `s3_auth: iam_role` (default: the process environment). */
  env?: Record<string, string | undefined>;
  /** Attempts per request, including the first (default 4). */
  maxAttempts?: number;
  /** Base of the exponential back-off between attempts in ms (default 100). */
  retryBaseMs?: number;
  /** Bound on each instance/container metadata request in ms (default 1000). */
  metadataTimeoutMs?: number;
}

/** Credentials used to sign requests. */
interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch ms after which the credentials are no longer valid, if temporary. */
  expiration?: number;
}

type AuthMode = "public" | "key" | "iam_role";

/** Validated parameters. */
interface S3Config {
  region: string;
  /** Custom endpoint without a trailing slash (path-style), or undefined for AWS. */
  endpoint?: string;
  auth: AuthMode;
  key?: string;
  secret?: string;
  timeoutMs: number;
  pageSize: number;
}

const KNOWN_S3_PARAMS = new Set([
  "s3_region",
  "s3_endpoint",
  "s3_auth",
  "s3_key",
  "s3_secret",
  "s3_list_page_size",
]);

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_ATTEMPTS = 4;
const DEFAULT_RETRY_BASE_MS = 100;
const MAX_RETRY_DELAY_MS = 2_000;
/** Refresh temporary credentials this long before they expire, as the AWS SDKs do. */
const CREDENTIAL_REFRESH_MS = 5 * 60_000;

/**
 * Makes an S3 object store for `s3://bucket/prefix/` or `s3://bucket/key`.
 * Parameters are validated here (bad ones throw `SpiceError("CONFIG")` naming
 * the parameter); nothing is fetched until `list()` or a read.
 *
 * A URL that does not end in "/" is probed once: if an object with exactly
 * that key exists the store holds just that object (its key is the last path
 * segment), otherwise the URL is read as the folder `url + "/"`.
 */
export function s3Store(
  url: string,
  params: Record<string, string>,
  options: S3StoreOptions = {},
): S3Store {
  const { bucket, path } = parseS3Url(url);
  const config = parseParams(params);
  return new S3ObjectStore(url, bucket, path, config, options);
}

/** Parses `s3://bucket/path`; `path` is raw (S3 keys are not URL-encoded in Spice's `from`). */
function parseS3Url(url: string): { bucket: string; path: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) {
    throw new SpiceError("CONFIG", `invalid S3 URL '${url}': expected s3://bucket/path`);
  }
  const bucket = m[1];
  // Names S3 itself accepts (including legacy upper case and "_"); anything else
  // would be an unreachable host name or a broken path.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket)) {
    throw new SpiceError("CONFIG", `invalid S3 bucket name '${bucket}' in '${url}'`);
  }
  return { bucket, path: m[2] ?? "" };
}

function parseParams(params: Record<string, string>): S3Config {
  for (const name of Object.keys(params)) {
    if (name.startsWith("s3_") && !KNOWN_S3_PARAMS.has(name)) {
      throw new SpiceError(
        "CONFIG",
        `unknown S3 parameter '${name}' (known: ${[...KNOWN_S3_PARAMS].join(", ")})`,
      );
    }
  }

  const region = params.s3_region ?? "us-east-1";
  if (!/^[a-z0-9-]+$/.test(region)) {
    throw new SpiceError("CONFIG", `s3_region: invalid region '${region}'`);
  }

  let endpoint: string | undefined;
  if (params.s3_endpoint !== undefined) {
    let u: URL;
    try {
      u = new URL(params.s3_endpoint);
    } catch {
      throw new SpiceError(
        "CONFIG",
        `s3_endpoint: '${params.s3_endpoint}' is not a URL (expected e.g. http://127.0.0.1:9000)`,
      );
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new SpiceError("CONFIG", `s3_endpoint: '${params.s3_endpoint}' must be http(s)://`);
    }
    if (u.search || u.hash || u.username || u.password) {
      throw new SpiceError(
        "CONFIG",
        `s3_endpoint: '${params.s3_endpoint}' must not have a query, fragment or user info`,
      );
    }
    // Keep a base path (gateways mounted under /s3); drop the trailing slash so
    // "/bucket/key" can be appended.
    endpoint = u.origin + u.pathname.replace(/\/+$/, "");
  }

  if (params.allow_http !== undefined) {
    const v = params.allow_http.toLowerCase();
    if (v !== "true" && v !== "false") {
      throw new SpiceError(
        "CONFIG",
        `allow_http: expected true or false, got '${params.allow_http}'`,
      );
    }
    if (v === "false" && endpoint?.startsWith("http:")) {
      throw new SpiceError(
        "CONFIG",
        `allow_http: false, but s3_endpoint '${params.s3_endpoint}' is http://`,
      );
    }
  }

  const key = params.s3_key;
  const secret = params.s3_secret;
  const authRaw = params.s3_auth ?? (key !== undefined ? "key" : "public");
  if (authRaw !== "public" && authRaw !== "key" && authRaw !== "iam_role") {
    throw new SpiceError(
      "CONFIG",
      `s3_auth: expected one of public, key, iam_role, got '${authRaw}'`,
    );
  }
  const auth: AuthMode = authRaw;
  if (auth === "key") {
    if (!key) throw new SpiceError("CONFIG", "s3_key: required with s3_auth: key");
    if (!secret) throw new SpiceError("CONFIG", "s3_secret: required with s3_auth: key");
  } else if (key !== undefined || secret !== undefined) {
    // A key that would be silently ignored hides a configuration mistake.
    const which = key !== undefined ? "s3_key" : "s3_secret";
    throw new SpiceError("CONFIG", `${which}: only used with s3_auth: key, not ${auth}`);
  }

  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (params.client_timeout !== undefined) {
    const ms = parseDuration(params.client_timeout);
    if (ms === undefined || ms <= 0) {
      throw new SpiceError(
        "CONFIG",
        `client_timeout: expected a positive duration like 30s or 500ms, got '${params.client_timeout}'`,
      );
    }
    timeoutMs = ms;
  }

  let pageSize = 1000;
  if (params.s3_list_page_size !== undefined) {
    const n = Number(params.s3_list_page_size);
    if (!/^\d+$/.test(params.s3_list_page_size) || n < 1 || n > 1000) {
      throw new SpiceError(
        "CONFIG",
        `s3_list_page_size: expected an integer from 1 to 1000, got '${params.s3_list_page_size}'`,
      );
    }
    pageSize = n;
  }

  return { region, endpoint, auth, key, secret, timeoutMs, pageSize };
}

/** Parses "30s", "500ms", "1m30s", "1.5h" into milliseconds; undefined when malformed. */
function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]];
  return total;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** RFC 3986 percent-encoding (encodeURIComponent leaves !'()* alone; SigV4 does not). */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** Percent-encodes a key for a URL path, keeping "/" (the encoding SigV4 signs for S3). */
function encodeKey(key: string): string {
  return key.split("/").map(encodeRfc3986).join("/");
}

function encodeQuery(params: [string, string][]): string {
  return params.map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`).join("&");
}

/** Where a folder store's objects live (`prefix` ends in "/" or is ""), or one object. */
type Layout = { kind: "folder"; prefix: string } | {
  kind: "file";
  /** Directory part of the key, ending in "/" or "". */
  prefix: string;
  /** The object's full key. */
  key: string;
};

/** What a request is about, for error messages. */
interface Target {
  /** `s3://bucket/key` or `s3://bucket/prefix`. */
  url: string;
  /** Whether a 404 means the object (not the bucket) is missing. */
  object: boolean;
}

class S3ObjectStore implements S3Store {
  readonly name: string;
  readonly bucket: string;
  readonly stats: S3Stats = { requests: 0, bytes: 0, retries: 0 };
  readonly #path: string;
  readonly #config: S3Config;
  readonly #attempts: number;
  readonly #retryBaseMs: number;
  readonly #credentials: () => Promise<Credentials | undefined>;
  #layout: Layout | undefined;
  #signer: { creds: Credentials; client: AwsClient } | undefined;

  constructor(
    name: string,
    bucket: string,
    path: string,
    config: S3Config,
    options: S3StoreOptions,
  ) {
    this.name = name;
    this.bucket = bucket;
    this.#path = path;
    this.#config = config;
    this.#attempts = Math.max(1, options.maxAttempts ?? DEFAULT_ATTEMPTS);
    this.#retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    // A bucket root or a path ending in "/" is a folder without asking S3.
    if (path === "" || path.endsWith("/")) this.#layout = { kind: "folder", prefix: path };
    if (config.auth === "public") {
      this.#credentials = () => Promise.resolve(undefined);
    } else if (config.auth === "key") {
      const creds = { accessKeyId: config.key!, secretAccessKey: config.secret! };
      this.#credentials = () => Promise.resolve(creds);
    } else {
      this.#credentials = iamRoleCredentials(
        options.env,
        options.metadataTimeoutMs ?? 1000,
      );
    }
  }

  async list(): Promise<ObjectMeta[]> {
    const layout = this.#layout;
    if (layout?.kind === "folder") return await this.#listFolder(layout.prefix);
    // Unknown or single-object layout: the probe is itself the listing of a file.
    const probe = await this.#probe();
    if (probe) {
      this.#layout = probe.layout;
      return [{ key: probe.layout.key.slice(probe.layout.prefix.length), size: probe.size }];
    }
    this.#layout = { kind: "folder", prefix: this.#path + "/" };
    return await this.#listFolder(this.#path + "/");
  }

  open(meta: ObjectMeta): ByteSource {
    // A negative or non-finite size means "unknown": size() then asks with a HEAD.
    let knownSize = Number.isFinite(meta.size) && meta.size >= 0 ? meta.size : undefined;
    // open() may come before list() for a URL without a trailing "/"; the
    // layout is then resolved on the first read, so the order does not matter.
    const keyOf = async () => (await this.#resolveLayout()).prefix + meta.key;
    const name = (): string =>
      this.#layout ? this.#objectUrl(this.#layout.prefix + meta.key) : this.name;
    return {
      // A getter: the object's URL is known once the layout is.
      get name(): string {
        return name();
      },
      size: async (): Promise<number> => {
        if (knownSize === undefined) knownSize = await this.#head(await keyOf());
        return knownSize;
      },
      read: async (start: number, end: number): Promise<Uint8Array> => {
        if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
          throw new SpiceError("INTERNAL", `invalid byte range [${start}, ${end}) for ${name()}`);
        }
        // An empty range cannot be expressed in a Range header; it needs no request.
        if (start === end) return new Uint8Array(0);
        return await this.#getRange(await keyOf(), start, end);
      },
    };
  }

  async #resolveLayout(): Promise<Layout> {
    if (this.#layout) return this.#layout;
    const probe = await this.#probe();
    this.#layout = probe ? probe.layout : { kind: "folder", prefix: this.#path + "/" };
    return this.#layout;
  }

  /**
   * Whether the URL names one object: lists one key from the URL's path as a
   * prefix. Keys are listed in order, and the exact key sorts before any longer
   * key, so one key is enough to decide.
   */
  async #probe(): Promise<{ layout: Layout & { kind: "file" }; size: number } | undefined> {
    const page = await this.#listPage(this.#path, undefined, 1);
    const first = page.objects[0];
    if (!first || first.key !== this.#path) return undefined;
    const slash = this.#path.lastIndexOf("/");
    return {
      layout: { kind: "file", prefix: this.#path.slice(0, slash + 1), key: this.#path },
      size: first.size,
    };
  }

  async #listFolder(prefix: string): Promise<ObjectMeta[]> {
    const out: ObjectMeta[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.#listPage(prefix, token, this.#config.pageSize);
      for (const o of page.objects) {
        // "Folder" marker objects (created by consoles and some tools) are not data.
        if (o.key.endsWith("/")) continue;
        if (!o.key.startsWith(prefix)) continue;
        out.push({ key: o.key.slice(prefix.length), size: o.size });
      }
      if (page.truncated && !page.nextToken) {
        throw new SpiceError(
          "IO",
          `listing ${this.#objectUrl(prefix)}: truncated page without a continuation token`,
        );
      }
      // A server that hands back a token it already gave would loop forever.
      if (page.nextToken && seen.has(page.nextToken)) {
        throw new SpiceError(
          "IO",
          `listing ${this.#objectUrl(prefix)}: the server repeated a continuation token`,
        );
      }
      token = page.truncated ? page.nextToken : undefined;
      if (token) seen.add(token);
    } while (token);
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  async #listPage(
    prefix: string,
    token: string | undefined,
    maxKeys: number,
  ): Promise<ListPage> {
    const query: [string, string][] = [["list-type", "2"], ["max-keys", String(maxKeys)]];
    if (prefix) query.push(["prefix", prefix]);
    if (token) query.push(["continuation-token", token]);
    const url = this.#bucketUrl() + "?" + encodeQuery(query);
    const target = { url: this.#objectUrl(prefix), object: false };
    const { res, body } = await this.#request("GET", url, {}, target);
    if (res.status !== 200) throw this.#statusError(res, body, target, "list");
    return parseListPage(new TextDecoder().decode(body), this.#objectUrl(prefix));
  }

  async #head(key: string): Promise<number> {
    const target = { url: this.#objectUrl(key), object: true };
    const { res, body } = await this.#request("HEAD", this.#keyUrl(key), {}, target);
    if (res.status !== 200) throw this.#statusError(res, body, target, "HEAD");
    const len = Number(res.headers.get("content-length"));
    if (!Number.isFinite(len) || len < 0) {
      throw new SpiceError("IO", `HEAD ${target.url}: no Content-Length in the response`);
    }
    return len;
  }

  async #getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    const target = { url: this.#objectUrl(key), object: true };
    // Always an explicit first-last range: suffix ranges (bytes=-N) are not
    // understood by every S3-compatible server (s3rver returns the start).
    const range = `bytes=${start}-${end - 1}`;
    const { res, body } = await this.#request(
      "GET",
      this.#keyUrl(key),
      { Range: range },
      target,
    );
    // Object bytes only: error bodies are not data and would blur what pruning saved.
    if (res.status === 206 || res.status === 200) this.stats.bytes += body.byteLength;
    if (res.status === 206) {
      const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get("content-range") ?? "");
      if (cr && Number(cr[1]) !== start) {
        throw new SpiceError(
          "IO",
          `GET ${target.url} ${range}: the server returned bytes ${cr[1]}-${cr[2]}`,
        );
      }
      // S3 clamps a range that runs past the end; the caller gets what exists.
      return body.byteLength > end - start ? body.subarray(0, end - start) : body;
    }
    // A server that ignores Range sends the whole object: still correct, just costly.
    if (res.status === 200) return body.subarray(start, Math.min(end, body.byteLength));
    if (res.status === 416) {
      throw new SpiceError("IO", `GET ${target.url}: range ${range} is past the end of the object`);
    }
    throw this.#statusError(res, body, target, "GET");
  }

  /**
   * Sends one request with retries: 5xx, 429, network errors and timeouts are
   * retried with exponential back-off and jitter, up to the attempt limit;
   * each attempt (body included) is bounded by client_timeout.
   */
  async #request(
    method: "GET" | "HEAD",
    url: string,
    headers: Record<string, string>,
    target: Target,
  ): Promise<{ res: Response; body: Uint8Array }> {
    let failure: { kind: "timeout" | "network" | "status"; detail: string } | undefined;
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        const ceiling = Math.min(MAX_RETRY_DELAY_MS, this.#retryBaseMs * 2 ** (attempt - 1));
        // Jitter spreads the retries of many concurrent readers apart.
        await sleep(ceiling / 2 + Math.random() * ceiling / 2);
      }
      const creds = await this.#credentials();
      const request = creds
        ? await this.#client(creds).sign(url, { method, headers })
        : new Request(url, { method, headers });
      const signal = AbortSignal.timeout(this.#config.timeoutMs);
      this.stats.requests++;
      let res: Response;
      let body: Uint8Array;
      try {
        res = await fetch(request, { signal });
        body = method === "HEAD" ? new Uint8Array(0) : new Uint8Array(await res.arrayBuffer());
      } catch (e) {
        if (signal.aborted) {
          failure = { kind: "timeout", detail: "" };
        } else {
          failure = { kind: "network", detail: e instanceof Error ? e.message : String(e) };
        }
        continue;
      }
      if (res.status >= 500 || res.status === 429 || isRequestTimeout(res, body)) {
        const err = s3ErrorDetail(res, body);
        failure = { kind: "status", detail: `${res.status}${err ? " " + err : ""}` };
        continue;
      }
      return { res, body };
    }
    const attempts = `${this.#attempts} attempt${this.#attempts === 1 ? "" : "s"}`;
    if (failure?.kind === "timeout") {
      throw new SpiceError(
        "TIMEOUT",
        `${method} ${target.url}: no response within client_timeout ` +
          `(${formatMs(this.#config.timeoutMs)}), ${attempts}`,
      );
    }
    if (failure?.kind === "network") {
      throw new SpiceError(
        "IO",
        `${method} ${target.url}: cannot reach ${
          new URL(url).origin
        } after ${attempts}: ${failure.detail}`,
      );
    }
    throw new SpiceError(
      "IO",
      `${method} ${target.url}: failed after ${attempts}: ${failure?.detail}`,
    );
  }

  /** One AwsClient per credentials, so refreshed credentials get a fresh signer. */
  #client(creds: Credentials): AwsClient {
    if (this.#signer?.creds !== creds) {
      this.#signer = {
        creds,
        client: new AwsClient({
          accessKeyId: creds.accessKeyId,
          secretAccessKey: creds.secretAccessKey,
          sessionToken: creds.sessionToken,
          service: "s3",
          region: this.#config.region,
          // Retries are ours (with timeouts); aws4fetch's own would nest inside them.
          retries: 0,
        }),
      };
    }
    return this.#signer.client;
  }

  #statusError(res: Response, body: Uint8Array, target: Target, op: string): SpiceError {
    const { code, message } = s3Error(res, body);
    const detail = code ? `: ${code}${message ? ": " + message : ""}` : "";
    if (res.status === 403 || res.status === 401) {
      return new SpiceError(
        "UNAUTHENTICATED",
        `access denied to ${target.url} (check s3_key/s3_secret or the IAM role)${detail}`,
      );
    }
    if (res.status === 404) {
      if (code === "NoSuchBucket" || (!target.object && code !== "NoSuchKey")) {
        return new SpiceError("NOT_FOUND", `bucket not found: ${this.bucket}`);
      }
      return new SpiceError("NOT_FOUND", `not found: ${target.url}`);
    }
    if (
      res.status === 301 || code === "PermanentRedirect" || code === "AuthorizationHeaderMalformed"
    ) {
      const region = res.headers.get("x-amz-bucket-region");
      const hint = region
        ? ` (the bucket is in ${region}: set s3_region: ${region})`
        : " (check s3_region)";
      return new SpiceError("IO", `${op} ${target.url}: ${res.status}${detail}${hint}`);
    }
    return new SpiceError("IO", `${op} ${target.url}: ${res.status}${detail}`);
  }

  #bucketUrl(): string {
    const { endpoint, region } = this.#config;
    if (endpoint) return `${endpoint}/${encodeURIComponent(this.bucket)}`;
    const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    // Virtual-hosted style, except for dotted names, whose host would not
    // match the *.s3 TLS certificate.
    return this.bucket.includes(".")
      ? `https://s3.${region}.${domain}/${this.bucket}`
      : `https://${this.bucket}.s3.${region}.${domain}`;
  }

  #keyUrl(key: string): string {
    return `${this.#bucketUrl()}/${encodeKey(key)}`;
  }

  #objectUrl(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}

/** One ListObjectsV2 page. */
interface ListPage {
  objects: { key: string; size: number }[];
  truncated: boolean;
  nextToken?: string;
}

/**
 * Reads the parts of a ListBucketResult that listing needs. S3's XML has no
 * attributes or mixed content on these elements, so matching elements is
 * enough, as long as text is entity-decoded (keys may contain & < > ' ").
 */
function parseListPage(xml: string, where: string): ListPage {
  if (!/<ListBucketResult[\s>]/.test(xml)) {
    throw new SpiceError("IO", `listing ${where}: the response is not a ListBucketResult`);
  }
  const objects: { key: string; size: number }[] = [];
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const key = element(m[1], "Key");
    const size = Number(element(m[1], "Size"));
    if (key === undefined || !Number.isFinite(size)) {
      throw new SpiceError("IO", `listing ${where}: an entry without Key or Size`);
    }
    objects.push({ key, size });
  }
  const truncated = element(xml, "IsTruncated") === "true";
  return { objects, truncated, nextToken: element(xml, "NextContinuationToken") };
}

const ELEMENT_PATTERNS = new Map<string, RegExp>();

/** The decoded text of the first `<name>` element (or `<name/>`), or undefined. */
function element(xml: string, name: string): string | undefined {
  let re = ELEMENT_PATTERNS.get(name);
  if (!re) {
    re = new RegExp(`<${name}>([\\s\\S]*?)</${name}>|<${name}\\s*/>`);
    ELEMENT_PATTERNS.set(name, re);
  }
  const m = re.exec(xml);
  if (!m) return undefined;
  return m[1] === undefined ? "" : decodeXmlText(m[1]);
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/** Decodes XML text: CDATA sections, the five named entities and numeric references. */
function decodeXmlText(text: string): string {
  return text.replace(
    /<!\[CDATA\[([\s\S]*?)\]\]>|&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g,
    (whole, cdata: string | undefined, ent: string | undefined) => {
      if (cdata !== undefined) return cdata;
      if (ent!.startsWith("#x")) return String.fromCodePoint(parseInt(ent!.slice(2), 16));
      if (ent!.startsWith("#")) return String.fromCodePoint(parseInt(ent!.slice(1), 10));
      return NAMED_ENTITIES[ent!] ?? whole;
    },
  );
}

/** S3's error code and message from an XML error body, or the x-amz-error-* headers (HEAD). */
function s3Error(res: Response, body: Uint8Array): { code?: string; message?: string } {
  if (body.byteLength > 0) {
    const xml = new TextDecoder().decode(body.subarray(0, 64 * 1024));
    const code = element(xml, "Code");
    if (code !== undefined) return { code, message: element(xml, "Message") };
  }
  const code = res.headers.get("x-amz-error-code") ?? undefined;
  const message = res.headers.get("x-amz-error-message") ?? undefined;
  return { code, message };
}

function s3ErrorDetail(res: Response, body: Uint8Array): string {
  const { code, message } = s3Error(res, body);
  return code ? `${code}${message ? ": " + message : ""}` : "";
}

/** S3's 400 RequestTimeout ("your socket was idle too long") is worth a retry. */
function isRequestTimeout(res: Response, body: Uint8Array): boolean {
  return res.status === 400 && s3Error(res, body).code === "RequestTimeout";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// s3_auth: iam_role

/**
 * A cached credential source for `s3_auth: iam_role`. Concurrent callers
 * share one lookup; temporary credentials are looked up again shortly before
 * they expire.
 */
function iamRoleCredentials(
  env: Record<string, string | undefined> | undefined,
  timeoutMs: number,
): () => Promise<Credentials> {
  const getenv = (name: string): string | undefined => {
    if (env) return env[name] || undefined;
    try {
      return Deno.env.get(name) || undefined;
    } catch {
      return undefined; // no --allow-env: behave as unset
    }
  };
  let cached: Promise<Credentials> | undefined;
  let expiresAt = Infinity;
  return () => {
    if (!cached || Date.now() >= expiresAt - CREDENTIAL_REFRESH_MS) {
      const lookup = resolveIamCredentials(getenv, timeoutMs);
      cached = lookup;
      expiresAt = Infinity;
      lookup.then(
        (c) => {
          if (cached === lookup) expiresAt = c.expiration ?? Infinity;
        },
        () => {
          // Do not cache a failure: the next request looks again.
          if (cached === lookup) cached = undefined;
        },
      );
    }
    return cached;
  };
}

async function resolveIamCredentials(
  getenv: (name: string) => string | undefined,
  timeoutMs: number,
): Promise<Credentials> {
  const id = getenv("AWS_ACCESS_KEY_ID");
  const secret = getenv("AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    return { accessKeyId: id, secretAccessKey: secret, sessionToken: getenv("AWS_SESSION_TOKEN") };
  }
  if (id || secret) {
    throw new SpiceError(
      "UNAUTHENTICATED",
      `s3_auth: iam_role: ${id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"} is not set ` +
        `but ${id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"} is`,
    );
  }

  const relative = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (relative || full) return await containerCredentials(getenv, timeoutMs, relative, full);

  if (getenv("AWS_EC2_METADATA_DISABLED")?.toLowerCase() !== "true") {
    const creds = await instanceCredentials(getenv, timeoutMs);
    if (creds) return creds;
  }

  const irsa = getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
    ? " (AWS_WEB_IDENTITY_TOKEN_FILE is set, but web identity / IRSA is not supported)"
    : "";
  throw new SpiceError(
    "UNAUTHENTICATED",
    "s3_auth: iam_role: no AWS credentials found: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY " +
      `are not set and no ECS or EC2 instance metadata credentials are available${irsa}`,
  );
}

/** Hosts the SDKs allow for a plain-http AWS_CONTAINER_CREDENTIALS_FULL_URI. */
function isAllowedContainerHost(u: URL): boolean {
  if (u.protocol === "https:") return true;
  const h = u.hostname;
  return h === "localhost" || h.startsWith("127.") || h === "[::1]" ||
    h === "169.254.170.2" || h === "169.254.170.23" || h === "[fd00:ec2::23]";
}

async function containerCredentials(
  getenv: (name: string) => string | undefined,
  timeoutMs: number,
  relative: string | undefined,
  full: string | undefined,
): Promise<Credentials> {
  const fail = (why: string) =>
    new SpiceError("UNAUTHENTICATED", `s3_auth: iam_role: container credentials: ${why}`);
  let url: URL;
  try {
    url = relative ? new URL(relative, "http://169.254.170.2") : new URL(full!);
  } catch {
    throw fail(`bad endpoint '${relative ?? full}'`);
  }
  if (!relative && !isAllowedContainerHost(url)) {
    throw fail(`AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback address: ${full}`);
  }
  const headers: Record<string, string> = {};
  let token = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  const tokenFile = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  if (!token && tokenFile) {
    try {
      token = (await Deno.readTextFile(tokenFile)).trim();
    } catch (e) {
      throw fail(`cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: ${(e as Error).message}`);
    }
  }
  if (token) headers.Authorization = token;
  const res = await metadataFetch(url.href, { headers }, timeoutMs);
  if (!res) throw fail(`no response from ${url.origin}`);
  if (res.status !== 200) throw fail(`${res.status} from ${url.href}`);
  return parseCredentialJson(res.text, fail);
}

/** EC2 instance metadata: IMDSv2 (token) first, IMDSv1 when the token call is refused. */
async function instanceCredentials(
  getenv: (name: string) => string | undefined,
  timeoutMs: number,
): Promise<Credentials | undefined> {
  const base = (getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254")
    .replace(/\/+$/, "");
  const fail = (why: string) =>
    new SpiceError("UNAUTHENTICATED", `s3_auth: iam_role: instance metadata: ${why}`);
  const tokenRes = await metadataFetch(`${base}/latest/api/token`, {
    method: "PUT",
    headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" },
  }, timeoutMs);
  // No answer at all: not on EC2 (or metadata unreachable). Nothing to use.
  if (!tokenRes) return undefined;
  const headers: Record<string, string> = {};
  if (tokenRes.status === 200) headers["X-aws-ec2-metadata-token"] = tokenRes.text.trim();
  else if (tokenRes.status === 403) return undefined; // IMDS disabled for this instance

  const path = `${base}/latest/meta-data/iam/security-credentials/`;
  const roles = await metadataFetch(path, { headers }, timeoutMs);
  if (!roles || roles.status === 404) return undefined; // no instance profile attached
  if (roles.status !== 200) throw fail(`${roles.status} listing roles`);
  const role = roles.text.split("\n").map((s) => s.trim()).find((s) => s);
  if (!role) return undefined;
  const res = await metadataFetch(path + encodeURIComponent(role), { headers }, timeoutMs);
  if (!res) throw fail(`no response for role ${role}`);
  if (res.status !== 200) throw fail(`${res.status} for role ${role}`);
  return parseCredentialJson(res.text, fail);
}

/** A bounded metadata request; undefined on a network error or timeout. */
async function metadataFetch(
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; text: string } | undefined> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

function parseCredentialJson(text: string, fail: (why: string) => SpiceError): Credentials {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text);
  } catch {
    throw fail("the credentials response is not JSON");
  }
  if (j.Code !== undefined && j.Code !== "Success") throw fail(`${j.Code}: ${j.Message ?? ""}`);
  if (typeof j.AccessKeyId !== "string" || typeof j.SecretAccessKey !== "string") {
    throw fail("the credentials response has no AccessKeyId/SecretAccessKey");
  }
  const exp = typeof j.Expiration === "string" ? Date.parse(j.Expiration) : NaN;
  return {
    accessKeyId: j.AccessKeyId,
    secretAccessKey: j.SecretAccessKey,
    sessionToken: typeof j.Token === "string" ? j.Token : undefined,
    expiration: Number.isFinite(exp) ? exp : undefined,
  };
}
