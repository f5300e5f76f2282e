/**
 * The `spice sql` REPL: reads statements (ended by `;`, possibly over several
 * lines), runs them over Flight SQL, and prints each result as a table with
 * `N rows in X ms`. Dot commands list tables and schemas. A failing statement
 * prints `Error: <message>` and the REPL goes on.
 *
 * @module
 */

import type * as arrow from "apache-arrow";
import { toSpiceError } from "../../errors.ts";
import type { FlightSqlClient } from "./flight_client.ts";
import { INTERRUPTED, type LineSource } from "./line_editor.ts";
import { StatementBuffer } from "./statement_buffer.ts";
import {
  renderTable,
  rowCountLine,
  sqlTypeName,
  tableFromBatches,
  type TextTable,
} from "./table.ts";

/** Rows printed at most per result; the rest are counted, not shown. */
export const MAX_DISPLAY_ROWS = 10_000;

/** The prompt of a new statement. */
export const PROMPT = "sql> ";
/** The prompt of a continuation line. */
export const CONTINUATION_PROMPT = "  -> ";

/** The text of `.help`. */
export const REPL_HELP = `Enter SQL statements ending with ';' (they may span several lines).

  .tables            list the tables
  .schema [TABLE]    show the columns of a table (or of every table)
  .help              show this help
  .exit, .quit       leave (Ctrl-D works too)

Ctrl-C clears the current input, or cancels a running query.
`;

/** Where the REPL writes. */
export interface ReplOutput {
  /** Results and messages. */
  out(text: string): void;
  /** Errors. */
  err(text: string): void;
}

/** Options of `runRepl`. */
export interface ReplOptions extends ReplOutput {
  readonly client: FlightSqlClient;
  readonly input: LineSource;
  /** Rows printed per result at most (default MAX_DISPLAY_ROWS). */
  readonly maxDisplayRows?: number;
}

/** Runs until `.exit` or end of input. */
export async function runRepl(opts: ReplOptions): Promise<void> {
  const { input } = opts;
  const buffer = new StatementBuffer();
  if (input.interactive) {
    opts.out("Welcome to the spice SQL REPL. Type .help for help, .exit to quit.\n\n");
  }
  while (true) {
    const line = await input.read(buffer.empty ? PROMPT : CONTINUATION_PROMPT);
    if (line === INTERRUPTED) {
      buffer.clear();
      continue;
    }
    if (line === null) {
      // End of input: run a last statement that lacks its ';'.
      const rest = buffer.takeRest();
      if (rest !== null) await runStatement(opts.client, rest, opts);
      return;
    }
    if (buffer.empty) {
      const command = line.trim();
      if (command === "") continue;
      const done = await dotCommand(command, opts);
      if (done === "exit") return;
      if (done === "handled") continue;
    }
    for (const sql of buffer.push(line)) {
      if (/^show\s+tables$/i.test(sql)) await dotCommand(".tables", opts);
      else await runStatement(opts.client, sql, opts);
    }
  }
}

/** Runs a dot command (or the bare words help/exit/quit); "not-command" for SQL. */
async function dotCommand(
  line: string,
  opts: ReplOptions,
): Promise<"handled" | "exit" | "not-command"> {
  const [word, ...args] = line.replace(/;\s*$/, "").trim().split(/\s+/);
  const name = word.toLowerCase();
  switch (name) {
    case ".exit":
    case ".quit":
    case "exit":
    case "quit":
      return args.length === 0 ? "exit" : "not-command";
    case ".help":
    case "help":
      if (args.length > 0 && name === "help") return "not-command";
      opts.out(REPL_HELP);
      return "handled";
    case ".tables":
      await guarded(opts, async () => {
        const t0 = performance.now();
        const tables = await opts.client.tables();
        printTable(
          opts,
          {
            headers: ["table_name"],
            rightAlign: [false],
            rows: tables.map((t) => [t.name]),
          },
          tables.length,
          performance.now() - t0,
        );
      });
      return "handled";
    case ".schema":
      await guarded(opts, () => showSchema(opts, args[0]));
      return "handled";
    default:
      if (name.startsWith(".")) {
        opts.err(`Error: unknown command ${word} (try .help)\n`);
        return "handled";
      }
      return "not-command";
  }
}

async function guarded(opts: ReplOutput, fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    opts.err(`Error: ${toSpiceError(e).message}\n`);
    return false;
  }
}

async function showSchema(opts: ReplOptions, table: string | undefined): Promise<void> {
  const t0 = performance.now();
  const tables = await opts.client.tables({ includeSchema: true });
  // Table names are case-insensitive in SQL, so the lookup is too.
  const wanted = table === undefined
    ? tables
    : tables.filter((t) => t.name.toLowerCase() === table.replace(/^"|"$/g, "").toLowerCase());
  if (table !== undefined && wanted.length === 0) {
    opts.err(`Error: table "${table}" not found\n`);
    return;
  }
  const rows: string[][] = [];
  for (const t of wanted) {
    for (const f of t.schema?.fields ?? []) {
      const row = [f.name, sqlTypeName(f.type), f.nullable ? "YES" : "NO"];
      rows.push(table === undefined ? [t.name, ...row] : row);
    }
  }
  const headers = ["column_name", "data_type", "is_nullable"];
  printTable(
    opts,
    {
      headers: table === undefined ? ["table_name", ...headers] : headers,
      rightAlign: headers.map(() => false).concat(table === undefined ? [false] : []),
      rows,
    },
    rows.length,
    performance.now() - t0,
  );
}

function printTable(opts: ReplOutput, t: TextTable, rows: number, ms: number): void {
  opts.out(renderTable(t) + rowCountLine(rows, ms, t.rows.length) + "\n\n");
}

/**
 * Runs one statement and prints its table and row count, or `Error: ...`.
 * Ctrl-C (SIGINT) while it runs cancels the query. Returns false on error.
 */
export async function runStatement(
  client: FlightSqlClient,
  sql: string,
  opts: ReplOutput & { maxDisplayRows?: number },
): Promise<boolean> {
  const ctrl = new AbortController();
  const onSigint = () => ctrl.abort();
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", onSigint);
    listening = true;
  } catch {
    // signals are not available here (e.g. some Windows consoles): no cancel key
  }
  try {
    const t0 = performance.now();
    const result = await client.query(sql, { signal: ctrl.signal });
    const max = opts.maxDisplayRows ?? MAX_DISPLAY_ROWS;
    const kept: arrow.RecordBatch[] = [];
    let keptRows = 0;
    let rows = 0;
    for await (const b of result.batches) {
      rows += b.numRows;
      // Keep only what will be shown, so a huge result is counted, not held.
      if (keptRows < max) {
        const take = Math.min(b.numRows, max - keptRows);
        kept.push(take === b.numRows ? b : b.slice(0, take));
        keptRows += take;
      }
    }
    const ms = performance.now() - t0;
    const table = tableFromBatches(result.schema, kept, max);
    opts.out(renderTable(table) + rowCountLine(rows, ms, keptRows) + "\n\n");
    return true;
  } catch (e) {
    opts.err(`Error: ${toSpiceError(e).message}\n`);
    return false;
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onSigint);
  }
}
