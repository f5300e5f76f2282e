/**
 * Development helper: CPU profiles of a piece of code through the V8
 * inspector (node:inspector works in Deno), summarised as self time per
 * function, so hot paths can be found without external tools.
 *
 * @module
 */

import { Session } from "node:inspector";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

function post<T>(s: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    s.post(
      method,
      params ?? {},
      (err: Error | null, res?: object) => (err ? reject(err) : resolve(res as T)),
    )
  );
}

/** Runs `fn` under the sampling profiler and prints the `top` functions by self time. */
export async function profile(fn: () => Promise<void>, top = 30): Promise<void> {
  const s = new Session();
  s.connect();
  await post(s, "Profiler.enable");
  await post(s, "Profiler.setSamplingInterval", { interval: 200 });
  await post(s, "Profiler.start");
  await fn();
  const { profile } = await post<{ profile: { nodes: ProfileNode[]; samples: number[] } }>(
    s,
    "Profiler.stop",
  );
  s.disconnect();
  const self = new Map<string, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const id of profile.samples) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const key = `${f.functionName || "(anon)"} ${f.url.replace(/^.*\/work\/main\//, "")}:${
      f.lineNumber + 1
    }`;
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, v] of rows) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}
