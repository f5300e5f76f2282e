/**
 * SQL text to AST with sqlparser-rs (the parser DataFusion and Spice use),
 * compiled to WebAssembly. See the README's design section for why this
 * parser and not node-sql-parser.
 *
 * @module
 */

import { init, parse } from "sqlparser";
import { SpiceError } from "../errors.ts";

/** A node of sqlparser-rs's AST as serde serialises it: `{Variant: payload}` or a string. */
// deno-lint-ignore no-explicit-any
export type Ast = any;

let ready: Promise<void> | null = null;

/** The parts of the wasm-bindgen glue used here. */
interface ParserInstance {
  parse_sql(dialect: string, sql: string): unknown;
}

/** Makes a fresh parser instance (its own WASM instance and memory); null if unavailable. */
let makeInstance: (() => ParserInstance) | null = null;
let instance: ParserInstance | null = null;

/**
 * A WASM trap (a stack overflow inside sqlparser-rs on a very long operator
 * chain such as `1+1+...+1` with ~1000 terms shows as "memory access out of
 * bounds") leaves that WASM instance unusable for every later statement. So
 * the parser runs in an instance of our own, made from the package's
 * wasm-bindgen glue, and a trapped instance is replaced by a fresh one.
 */
async function loadInstanceFactory(): Promise<(() => ParserInstance) | null> {
  try {
    const index = new URL(import.meta.resolve("sqlparser"));
    const [glue, bytes] = await Promise.all([
      Deno.readTextFile(new URL("../wasm/sqlparser_rs_wasm.js", index)),
      Deno.readFile(new URL("../wasm/sqlparser_rs_wasm_bg.wasm", index)),
    ]);
    const module = await WebAssembly.compile(bytes);
    const body = glue
      .replace(/^export \{[^}]*\};?[ \t]*$/m, "")
      .replace(/^export function /gm, "function ")
      .replace(/import\.meta\.url/g, "undefined") +
      "\nreturn { parse_sql, initSync };";
    const make = new Function(body) as () => ParserInstance & {
      initSync(o: { module: WebAssembly.Module }): unknown;
    };
    const factory = () => {
      const g = make();
      g.initSync({ module });
      return g;
    };
    factory().parse_sql("generic", "SELECT 1");
    return factory;
  } catch {
    return null; // fall back to the package's shared instance (no recovery from traps)
  }
}

/** Loads the parser's WASM module once. */
export function initParser(): Promise<void> {
  ready ??= (async () => {
    await init();
    makeInstance = await loadInstanceFactory();
    instance = makeInstance?.() ?? null;
  })();
  return ready;
}

/** The message the parser gives up with when a statement overflows its stack. */
export const TOO_COMPLEX =
  "statement too deeply nested or too long for the parser: split long chains of AND/OR or arithmetic, or use an IN list";

/** Parses with our own instance (replaced after a trap), else with the package's. */
function rawParse(sql: string): unknown {
  if (!instance) {
    try {
      return parse(sql, "generic");
    } catch (e) {
      if (/memory access out of bounds|unreachable/.test(String((e as Error)?.message))) {
        throw new SpiceError("SQL_PARSE", TOO_COMPLEX);
      }
      throw e;
    }
  }
  try {
    return instance.parse_sql("generic", sql);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
      instance = makeInstance!();
      throw new SpiceError("SQL_PARSE", TOO_COMPLEX);
    }
    if (typeof e === "string") throw new Error(e);
    const m = (e as { message?: unknown })?.message;
    throw new Error(typeof m === "string" ? m : String(e));
  }
}

const LOCATION = /at Line: (\d+), Column: (\d+)/;

/**
 * Parses SQL into statements. Errors become SQL_PARSE with the parser's
 * message and its line and column.
 */
export async function parseSql(sql: string): Promise<Ast[]> {
  await initParser();
  return parseSqlSync(sql);
}

/** parseSql for callers that already awaited initParser(). */
export function parseSqlSync(sql: string): Ast[] {
  if (sql.trim() === "") throw new SpiceError("SQL_PARSE", "empty SQL statement");
  try {
    return rawParse(sql) as Ast[];
  } catch (e) {
    if (e instanceof SpiceError) throw e;
    const raw = e instanceof Error ? e.message : String(e);
    const msg = raw.replace(/^sql parser error: /, "");
    const m = LOCATION.exec(msg);
    const err = new SpiceError(
      "SQL_PARSE",
      m
        ? `syntax error at line ${m[1]}, column ${m[2]}: ${msg.replace(LOCATION, "").trim()}`
        : `syntax error: ${msg}`,
    );
    if (m) Object.assign(err, { line: Number(m[1]), column: Number(m[2]) });
    throw err;
  }
}

/** The single variant name of a serde enum value (`{Foo: ...}` -> "Foo", "Bar" -> "Bar"). */
export function variant(node: Ast): string {
  if (typeof node === "string") return node;
  if (node && typeof node === "object") return Object.keys(node)[0];
  return String(node);
}

/** The payload of a serde enum value. */
export function payload(node: Ast): Ast {
  if (typeof node === "string") return undefined;
  return node[variant(node)];
}
