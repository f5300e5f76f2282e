/**
 * Collects REPL input lines into statements: a statement ends at a `;` that
 * is outside string literals, quoted identifiers and comments, so a query can
 * span lines and one line can hold several statements.
 *
 * @module
 */

/** Accumulates lines and hands out complete statements. */
export class StatementBuffer {
  #text = "";

  /** True when no partial statement is pending (the REPL then shows `sql> `). */
  get empty(): boolean {
    return this.#text.trim() === "";
  }

  /** The pending partial statement. */
  get pending(): string {
    return this.#text;
  }

  /** Adds a line; returns the statements it completed (without their `;`). */
  push(line: string): string[] {
    this.#text += (this.#text === "" ? "" : "\n") + line;
    const { statements, rest } = splitStatements(this.#text);
    this.#text = rest.trim() === "" ? "" : rest;
    return statements;
  }

  /** Takes whatever is pending (at end of input) and clears it. */
  takeRest(): string | null {
    const rest = this.#text.trim();
    this.#text = "";
    return rest === "" ? null : rest;
  }

  /** Drops the pending partial statement (Ctrl-C). */
  clear(): void {
    this.#text = "";
  }
}

/**
 * Splits text at top-level semicolons. Returns the complete, non-empty
 * statements (trimmed, without the `;`) and the unterminated rest.
 */
export function splitStatements(text: string): { statements: string[]; rest: string } {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === "'" || c === '"' || c === "`") {
      // '' inside a literal is an escaped quote: leaving and re-entering handles it.
      const end = text.indexOf(c, i + 1);
      if (end < 0) break; // unterminated: the statement continues on the next line
      i = end + 1;
    } else if (c === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i);
      if (end < 0) break;
      i = end + 1;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) break;
      i = end + 2;
    } else if (c === ";") {
      const stmt = text.slice(start, i).trim();
      if (stmt !== "" && !isOnlyComments(stmt)) statements.push(stmt);
      start = i + 1;
      i++;
    } else {
      i++;
    }
  }
  return { statements, rest: text.slice(start) };
}

/** True when a statement is nothing but comments (nothing to send). */
function isOnlyComments(s: string): boolean {
  return s.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "").trim() === "";
}
