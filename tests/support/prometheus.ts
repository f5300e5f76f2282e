/**
 * A small parser of the Prometheus text exposition format, for tests:
 * samples with their labels, and the `# TYPE` of each metric family.
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed exposition. */
export interface Exposition {
  readonly samples: readonly Sample[];
  /** Metric family name -> type (counter, gauge, histogram, ...). */
  readonly types: ReadonlyMap<string, string>;
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new Error(`bad label set: {${text}}`);
    out[m[1]] = m[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    at = re.lastIndex;
  }
  return out;
}

function parseValue(v: string): number {
  if (v === "+Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  if (/^nan$/i.test(v)) return NaN; // prom-client writes "Nan"; Prometheus reads any case
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`bad sample value ${v}`);
  return n;
}

/** Parses exposition text; throws on a malformed line. */
export function parsePrometheus(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith("#")) {
      const t = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (t) {
        if (types.has(t[1])) throw new Error(`metric ${t[1]} has two TYPE lines`);
        types.set(t[1], t[2]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    samples.push({ name: m[1], labels: parseLabels(m[2] ?? ""), value: parseValue(m[3]) });
  }
  return { samples, types };
}

/** The samples of one name, optionally matching some labels. */
export function samplesOf(
  e: Exposition,
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return e.samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
}

/** The sum of the samples of one name matching some labels (0 when none). */
export function valueOf(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return samplesOf(e, name, labels).reduce((a, s) => a + s.value, 0);
}

/** Fetches and parses a /metrics URL. */
export async function scrape(url: string): Promise<Exposition> {
  const r = await fetch(url);
  const text = await r.text();
  if (!r.ok) throw new Error(`${url} answered ${r.status}: ${text}`);
  return parsePrometheus(text);
}
