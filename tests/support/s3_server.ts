/**
 * A real S3-compatible server for tests: s3rver in a separate process
 * (`s3rver_main.ts`), on 127.0.0.1 with a free port and a temporary data
 * directory, plus signed helpers to create buckets and put objects.
 *
 * ```ts
 * const s3 = await startS3Server();
 * try {
 *   await createBucket(s3.endpoint, "data");
 *   await putObject(s3.endpoint, "data", "a/b.parquet", bytes);
 *   const store = s3Store("s3://data/a/", s3rverParams(s3.endpoint));
 * } finally {
 *   await s3.stop();
 * }
 * ```
 *
 * s3rver accepts the access key "S3RVER" and does not verify SigV4 signatures
 * (it checks only that the access key id exists), so a wrong secret is not
 * detected; an unknown access key id is answered with 403 InvalidAccessKeyId.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { AwsClient } from "aws4fetch";

/** The credentials s3rver accepts by default. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** A running test S3 server. */
export interface S3TestServer {
  /** Base URL for `s3_endpoint`, e.g. `http://127.0.0.1:43567`. */
  readonly endpoint: string;
  /** The server's data directory (removed by `stop()`). */
  readonly directory: string;
  /** Stops the process (SIGKILL after a grace period) and removes the directory. */
  stop(): Promise<void>;
}

/** Options for `startS3Server`. */
export interface StartS3ServerOptions {
  /** How long to wait for the ready line in ms (default 60000: the first start compiles). */
  readyTimeoutMs?: number;
}

const LAUNCHER = fileURLToPath(new URL("./s3rver_main.ts", import.meta.url));
// The launcher imports "s3rver" through the repository's import map, so it
// must run with the repository root as its working directory.
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Starts s3rver in its own process and waits until it listens. */
export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3TestServer> {
  const directory = await Deno.makeTempDir({ prefix: "spiced_s3rver_" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", LAUNCHER, directory],
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  // Drain both pipes for the life of the process, so that a chatty server never
  // blocks on a full pipe; keep the tail of stderr for error messages.
  let stderrTail = "";
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderrTail = (stderrTail + decoder.decode(chunk, { stream: true })).slice(-4000);
    }
  })().catch(() => {});
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdoutBuffer = "";
  const readyPort = (async (): Promise<number | undefined> => {
    while (true) {
      const { value, done } = await lines.read();
      if (done) return undefined;
      stdoutBuffer += value;
      const m = /S3RVER_READY (\d+)/.exec(stdoutBuffer);
      if (m) return Number(m[1]);
    }
  })();
  const stdoutDone = readyPort.then(async () => {
    while (!(await lines.read()).done) { /* drain */ }
  }).catch(() => {});

  const stdin = child.stdin.getWriter();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // Closing stdin asks the server to exit; signals are the fallback.
      await stdin.close().catch(() => {});
      if (!(await exitsWithin(child, 3000))) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        if (!(await exitsWithin(child, 2000))) {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
          await child.status;
        }
      }
      await Promise.all([stderrDone, stdoutDone]);
      await Deno.remove(directory, { recursive: true }).catch(() => {});
    })();
    return stopped;
  };

  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const port = await Promise.race([
    readyPort,
    child.status.then(() => undefined),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  if (port === undefined) {
    await stop();
    throw new Error(`s3rver did not start within ${timeoutMs} ms:\n${stderrTail}`);
  }
  return { endpoint: `http://127.0.0.1:${port}`, directory, stop };
}

async function exitsWithin(child: Deno.ChildProcess, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return exited;
}

/** Connector params for s3rver at `endpoint` (key auth with s3rver's credentials). */
export function s3rverParams(endpoint: string): Record<string, string> {
  return {
    s3_endpoint: endpoint,
    s3_key: S3RVER_CREDENTIALS.accessKeyId,
    s3_secret: S3RVER_CREDENTIALS.secretAccessKey,
  };
}

const client = new AwsClient({
  ...S3RVER_CREDENTIALS,
  service: "s3",
  region: "us-east-1",
  retries: 0,
});

/** Path-encodes a key (kept separate from the connector's, so each checks the other). */
function keyPath(key: string): string {
  return key.split("/").map((s) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16))
  ).join("/");
}

async function send(url: string, init: RequestInit, what: string): Promise<void> {
  const res = await client.fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
}

/** Creates a bucket (signed PUT /bucket). */
export async function createBucket(endpoint: string, bucket: string): Promise<void> {
  await send(`${endpoint}/${bucket}`, { method: "PUT" }, `create bucket ${bucket}`);
}

/** Puts one object (signed PUT /bucket/key). */
export async function putObject(
  endpoint: string,
  bucket: string,
  key: string,
  bytes: Uint8Array | string,
): Promise<void> {
  // A copy: fetch wants a Uint8Array over a plain (not shared) ArrayBuffer.
  const body = typeof bytes === "string" ? new TextEncoder().encode(bytes) : new Uint8Array(bytes);
  await send(`${endpoint}/${bucket}/${keyPath(key)}`, {
    method: "PUT",
    body,
    headers: { "Content-Type": "application/octet-stream" },
  }, `put s3://${bucket}/${key}`);
}
