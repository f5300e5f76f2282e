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

/** Loads the parser's WASM module once. */
export function initParser(): Promise<void> {
  ready ??= init();
  return ready;
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
    return parse(sql, "generic") as Ast[];
  } catch (e) {
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
