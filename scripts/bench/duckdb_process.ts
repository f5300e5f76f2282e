/**
 * DuckDB in a child process (scripts/bench/duckdb_server.ts), driven over
 * stdin/stdout. The default reference of `deno task bench`: in one process
 * the two engines' threads and allocations interfered (ours ran up to three
 * times slower on the runs that followed a DuckDB run).
 *
 * @module
 */

import { TextLineStream } from "./lines.ts";
import type { BenchEngine, EngineMemory, LoadReport, RunOutcome } from "./engine.ts";

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** DuckDB behind a pipe. */
export class DuckDbProcessEngine implements BenchEngine {
  /** @inheritdoc */
  readonly name = "duckdb";
  /** @inheritdoc */
  readonly description: string;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #replies: AsyncIterator<string>;
  #next = 1;

  private constructor(
    child: Deno.ChildProcess,
    replies: AsyncIterator<string>,
    description: string,
  ) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#replies = replies;
    this.description = description;
  }

  /** Starts the server with `threads` DuckDB threads (the number of cores by default). */
  static async open(threads = navigator.hardwareConcurrency || 1): Promise<DuckDbProcessEngine> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./duckdb_server.ts", import.meta.url).pathname, String(threads)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const replies = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TextLineStream(),
    )[Symbol.asyncIterator]();
    const first = await replies.next();
    if (first.done) throw new Error("the DuckDB server exited before it started");
    const hello = JSON.parse(first.value) as Reply;
    const desc = (hello.result as { description: string }).description
      .replace("in process", "in its own process");
    return new DuckDbProcessEngine(child, replies, desc);
  }

  async #call<T>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.#next++;
    await this.#writer.write(new TextEncoder().encode(JSON.stringify({ id, op, args }) + "\n"));
    const line = await this.#replies.next();
    if (line.done) throw new Error(`the DuckDB server exited during ${op}`);
    const r = JSON.parse(line.value) as Reply;
    if (r.id !== id) throw new Error(`DuckDB server answered ${r.id}, expected ${id}`);
    if (!r.ok) throw new Error(r.error);
    return r.result as T;
  }

  load(dataDir: string, tables: readonly string[]): Promise<LoadReport> {
    return this.#call("load", dataDir, tables);
  }

  run(sql: string): Promise<RunOutcome> {
    return this.#call("run", sql);
  }

  explainAnalyze(sql: string): Promise<string> {
    return this.#call("explain", sql);
  }

  memory(): Promise<EngineMemory> {
    return this.#call("memory");
  }

  async close(): Promise<void> {
    await this.#call("close").catch(() => {});
    await this.#writer.close().catch(() => {});
    await this.#child.status;
  }
}
