/**
 * DuckDB in a process of its own for the benchmark: reads one JSON request
 * per line on stdin ({id, op, args}) and answers one JSON line on stdout.
 * Run by `DuckDbProcessEngine`; each engine then has its own heap and
 * threads, so neither slows the other down between the interleaved runs.
 *
 * @module
 */

import { TextLineStream } from "./lines.ts";
import { DuckDbEngine } from "./duckdb.ts";

const threads = Number(Deno.args[0] ?? navigator.hardwareConcurrency ?? 1);
const engine = await DuckDbEngine.open(threads);
const out = Deno.stdout.writable.getWriter();
const enc = new TextEncoder();
const reply = (v: unknown) => out.write(enc.encode(JSON.stringify(v) + "\n"));
await reply({ id: 0, ok: true, result: { description: engine.description } });

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
  new TextLineStream(),
);
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, op, args } = JSON.parse(line) as { id: number; op: string; args: unknown[] };
  try {
    let result: unknown;
    switch (op) {
      case "load":
        result = await engine.load(args[0] as string, args[1] as string[]);
        break;
      case "run":
        result = await engine.run(args[0] as string);
        break;
      case "explain":
        result = await engine.explainAnalyze(args[0] as string);
        break;
      case "memory": {
        const m = await engine.memory();
        const status = await Deno.readTextFile("/proc/self/status").catch(() => "");
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        result = { ...m, processPeakRssBytes: hwm ? Number(hwm[1]) * 1024 : null };
        break;
      }
      case "close":
        await engine.close();
        await reply({ id, ok: true, result: null });
        Deno.exit(0);
        break;
      default:
        throw new Error(`unknown op ${op}`);
    }
    await reply({ id, ok: true, result });
  } catch (e) {
    await reply({ id, ok: false, error: (e as Error).message });
  }
}
