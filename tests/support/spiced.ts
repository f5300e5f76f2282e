/**
 * Starts real spiced processes for integration tests (127.0.0.1, free
 * ports), reads the bound ports from the start-up log, and stops them with
 * bounded time.
 *
 * @module
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A running spiced process. */
export interface SpicedProcess {
  readonly http: string;
  readonly metrics: string;
  readonly flight: string | null;
  readonly logs: string[];
  readonly child: Deno.ChildProcess;
  /** Waits until /v1/ready answers 200 (bounded). */
  ready(timeoutMs?: number): Promise<void>;
  /** Sends a signal (default SIGTERM), waits for exit (bounded, then SIGKILL). */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts spiced with extra arguments; resolves once its servers are listening. */
export async function startSpiced(
  args: string[] = [],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<SpicedProcess> {
  const withPorts = [...args];
  const has = (f: string) => withPorts.some((a) => a === f || a.startsWith(f + "="));
  if (!has("--http")) withPorts.push("--http", "127.0.0.1:0");
  if (!has("--metrics")) withPorts.push("--metrics", "127.0.0.1:0");
  if (!has("--flight")) withPorts.push("--flight", "127.0.0.1:0");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...withPorts],
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  let http = "", metrics = "", flight: string | null = null;
  const started = Promise.withResolvers<void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoderStream();
    let buf = "";
    for await (const chunk of stream.pipeThrough(dec)) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        const m = /HTTP on (\S+?),? .*metrics on (\S+?)(?:,|$| )/.exec(line);
        if (m) {
          http = `http://${m[1]}`;
          metrics = `http://${m[2]}`;
          const f = /Flight SQL on (\S+?)(?:,|$| )/.exec(line);
          if (f) flight = f[1];
          started.resolve();
        }
      }
    }
  };
  void pump(child.stdout);
  void pump(child.stderr);
  const timeout = opts.timeoutMs ?? 60_000;
  const timer = setTimeout(
    () => started.reject(new Error(`spiced did not start in ${timeout} ms:\n${logs.join("\n")}`)),
    timeout,
  );
  const exited = child.status.then((s) => {
    started.reject(new Error(`spiced exited with ${s.code} before listening:\n${logs.join("\n")}`));
    return s;
  });
  try {
    await started.promise;
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return {
    http,
    metrics,
    flight,
    logs,
    child,
    async ready(ms = 60_000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const r = await fetch(`${http}/v1/ready`).catch(() => null);
        await r?.body?.cancel();
        if (r?.status === 200) return;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(`spiced not ready in ${ms} ms:\n${logs.join("\n")}`);
    },
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already exited */ }
      const t = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      const s = await exited;
      clearTimeout(t);
      return s;
    },
  };
}

/** Runs spiced to completion (for flag errors); returns exit code and output. */
export async function runSpiced(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: opts.cwd,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** POSTs SQL to /v1/sql. */
export async function sql(
  base: string,
  query: string,
  opts: { accept?: string; json?: boolean; params?: unknown; headers?: Record<string, string> } =
    {},
): Promise<Response> {
  const body = opts.json || opts.params !== undefined
    ? JSON.stringify({ sql: query, parameters: opts.params })
    : query;
  return await fetch(`${base}/v1/sql`, {
    method: "POST",
    headers: {
      "content-type": opts.json || opts.params !== undefined ? "application/json" : "text/plain",
      ...(opts.accept ? { accept: opts.accept } : {}),
      ...(opts.headers ?? {}),
    },
    body,
  });
}
