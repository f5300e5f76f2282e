/**
 * Reading REPL input. On a terminal, a small line editor over raw-mode stdin:
 * left/right, home/end, backspace/delete, word moves, Ctrl-A/E/K/U/W/L, and
 * history on up/down. Piped stdin is read as plain lines with no echo and no
 * prompt, so scripts and tests see only results.
 *
 * The editing itself (`LineState`, `parseKeys`) is pure, so it is tested
 * without a terminal.
 *
 * @module
 */

import { displayWidth } from "./table.ts";

/** Returned by `read` when the user pressed Ctrl-C: drop the pending input. */
export const INTERRUPTED: unique symbol = Symbol("interrupted");

/** A source of input lines. */
export interface LineSource {
  /** The next line, null at end of input, or INTERRUPTED. */
  read(prompt: string): Promise<string | null | typeof INTERRUPTED>;
  /** True when prompts and echo are shown (a terminal). */
  readonly interactive: boolean;
  /** Releases the terminal. */
  close(): void;
}

// ---------------------------------------------------------------------------
// editing state

/** The line being edited and the cursor (an index into its code points). */
export class LineState {
  #chars: string[] = [];
  #cursor = 0;

  /** The text. */
  get text(): string {
    return this.#chars.join("");
  }

  /** The cursor, in code points from the start. */
  get cursor(): number {
    return this.#cursor;
  }

  /** The text after the cursor (to place the terminal cursor). */
  get afterCursor(): string {
    return this.#chars.slice(this.#cursor).join("");
  }

  /** Replaces the text, cursor at the end (history recall). */
  set(text: string): void {
    this.#chars = [...text];
    this.#cursor = this.#chars.length;
  }

  /** Inserts text at the cursor. */
  insert(text: string): void {
    const add = [...text];
    this.#chars.splice(this.#cursor, 0, ...add);
    this.#cursor += add.length;
  }

  /** Deletes the character before the cursor. */
  backspace(): void {
    if (this.#cursor === 0) return;
    this.#chars.splice(--this.#cursor, 1);
  }

  /** Deletes the character under the cursor. */
  deleteForward(): void {
    if (this.#cursor < this.#chars.length) this.#chars.splice(this.#cursor, 1);
  }

  /** Moves one character left. */
  left(): void {
    if (this.#cursor > 0) this.#cursor--;
  }

  /** Moves one character right. */
  right(): void {
    if (this.#cursor < this.#chars.length) this.#cursor++;
  }

  /** Moves to the start. */
  home(): void {
    this.#cursor = 0;
  }

  /** Moves to the end. */
  end(): void {
    this.#cursor = this.#chars.length;
  }

  /** Moves to the start of the previous word. */
  wordLeft(): void {
    while (this.#cursor > 0 && !isWordChar(this.#chars[this.#cursor - 1])) this.#cursor--;
    while (this.#cursor > 0 && isWordChar(this.#chars[this.#cursor - 1])) this.#cursor--;
  }

  /** Moves past the end of the next word. */
  wordRight(): void {
    const n = this.#chars.length;
    while (this.#cursor < n && !isWordChar(this.#chars[this.#cursor])) this.#cursor++;
    while (this.#cursor < n && isWordChar(this.#chars[this.#cursor])) this.#cursor++;
  }

  /** Deletes from the cursor to the end (Ctrl-K). */
  killToEnd(): void {
    this.#chars.length = this.#cursor;
  }

  /** Deletes from the start to the cursor (Ctrl-U). */
  killToStart(): void {
    this.#chars.splice(0, this.#cursor);
    this.#cursor = 0;
  }

  /** Deletes the word before the cursor (Ctrl-W). */
  deleteWordBack(): void {
    const end = this.#cursor;
    this.wordLeft();
    this.#chars.splice(this.#cursor, end - this.#cursor);
  }
}

function isWordChar(c: string): boolean {
  return /[\p{L}\p{N}_]/u.test(c);
}

// ---------------------------------------------------------------------------
// keys

/** The keys the editor knows. */
export type KeyName =
  | "enter"
  | "backspace"
  | "delete"
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end"
  | "word-left"
  | "word-right"
  | "kill-end"
  | "kill-start"
  | "kill-word"
  | "clear-screen"
  | "interrupt"
  | "eof"
  | "ignored";

/** One key press: printable text, or a named key. */
export type KeyEvent = { readonly kind: "text"; readonly text: string } | {
  readonly kind: "key";
  readonly name: KeyName;
};

const CSI_KEYS: Record<string, KeyName> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  "1~": "home",
  "7~": "home",
  "4~": "end",
  "8~": "end",
  "3~": "delete",
  "1;5C": "word-right",
  "1;5D": "word-left",
  "1;3C": "word-right",
  "1;3D": "word-left",
};

const CONTROL_KEYS: Record<string, KeyName> = {
  "\r": "enter",
  "\n": "enter",
  "\x7f": "backspace",
  "\b": "backspace",
  "\x01": "home",
  "\x05": "end",
  "\x02": "left",
  "\x06": "right",
  "\x10": "up",
  "\x0e": "down",
  "\x0b": "kill-end",
  "\x15": "kill-start",
  "\x17": "kill-word",
  "\x0c": "clear-screen",
  "\x03": "interrupt",
  "\x04": "eof",
};

/**
 * Splits terminal input into key events. An escape sequence cut off at the
 * end of the input is returned as `rest`, to be completed by the next read.
 */
export function parseKeys(input: string): { keys: KeyEvent[]; rest: string } {
  const keys: KeyEvent[] = [];
  let text = "";
  const flush = () => {
    if (text) keys.push({ kind: "text", text });
    text = "";
  };
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === "\x1b") {
      flush();
      if (i + 1 >= input.length) return { keys, rest: input.slice(i) };
      const next = input[i + 1];
      if (next === "[" || next === "O") {
        let j = i + 2;
        // Parameters and intermediates run until a final byte in @..~.
        while (j < input.length && !/[@-~]/.test(input[j])) j++;
        if (j >= input.length) return { keys, rest: input.slice(i) };
        const body = input.slice(i + 2, j + 1);
        keys.push({ kind: "key", name: CSI_KEYS[body] ?? "ignored" });
        i = j + 1;
      } else {
        keys.push({
          kind: "key",
          name: next === "b" ? "word-left" : next === "f" ? "word-right" : "ignored",
        });
        i += 2;
      }
    } else if (c in CONTROL_KEYS) {
      flush();
      keys.push({ kind: "key", name: CONTROL_KEYS[c] });
      // A pasted CRLF is one Enter.
      i += c === "\r" && input[i + 1] === "\n" ? 2 : 1;
    } else if (c < " ") {
      flush();
      keys.push({ kind: "key", name: "ignored" });
      i++;
    } else {
      text += c;
      i++;
    }
  }
  flush();
  return { keys, rest: "" };
}

// ---------------------------------------------------------------------------
// the terminal editor

/** What the editor needs of stdin: raw mode and reads. */
export interface RawInput {
  setRaw(mode: boolean, options?: { cbreak: boolean }): void;
  read(p: Uint8Array): Promise<number | null>;
}

/** What the editor needs of stdout. */
export interface Output {
  writeSync(p: Uint8Array): number;
}

/** A line editor with history on a terminal. */
export class LineEditor implements LineSource {
  readonly interactive = true;
  readonly #in: RawInput;
  readonly #out: Output;
  readonly #history: string[] = [];
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();
  /** Keys read past an Enter (a paste of several lines) wait here for the next read. */
  #queued: KeyEvent[] = [];
  #partial = "";

  /** An editor over a terminal's stdin and stdout. */
  constructor(input: RawInput = Deno.stdin, output: Output = Deno.stdout) {
    this.#in = input;
    this.#out = output;
  }

  #write(s: string): void {
    const bytes = this.#encoder.encode(s);
    let off = 0;
    while (off < bytes.length) off += this.#out.writeSync(bytes.subarray(off));
  }

  #render(prompt: string, line: LineState): void {
    const back = displayWidth(line.afterCursor);
    this.#write(`\r${prompt}${line.text}\x1b[K${back > 0 ? `\x1b[${back}D` : ""}`);
  }

  async #nextKey(): Promise<KeyEvent | null> {
    while (this.#queued.length === 0) {
      const buf = new Uint8Array(1024);
      const n = await this.#in.read(buf);
      if (n === null) return null;
      const { keys, rest } = parseKeys(
        this.#partial + this.#decoder.decode(buf.subarray(0, n), { stream: true }),
      );
      this.#partial = rest;
      this.#queued.push(...keys);
    }
    return this.#queued.shift()!;
  }

  /** Reads one line with editing; the terminal is raw only while reading. */
  async read(prompt: string): Promise<string | null | typeof INTERRUPTED> {
    const line = new LineState();
    // history[length] is the line being typed; up/down move through the rest.
    let index = this.#history.length;
    let draft = "";
    this.#in.setRaw(true);
    try {
      this.#render(prompt, line);
      while (true) {
        const key = await this.#nextKey();
        if (key === null) {
          this.#write("\r\n");
          return null;
        }
        if (key.kind === "text") {
          line.insert(key.text);
          this.#render(prompt, line);
          continue;
        }
        switch (key.name) {
          case "enter": {
            this.#write("\r\n");
            const text = line.text;
            if (text.trim() !== "" && this.#history.at(-1) !== text) this.#history.push(text);
            return text;
          }
          case "interrupt":
            this.#write("^C\r\n");
            this.#queued = [];
            return INTERRUPTED;
          case "eof":
            if (line.text === "") {
              this.#write("\r\n");
              return null;
            }
            line.deleteForward();
            break;
          case "backspace":
            line.backspace();
            break;
          case "delete":
            line.deleteForward();
            break;
          case "left":
            line.left();
            break;
          case "right":
            line.right();
            break;
          case "home":
            line.home();
            break;
          case "end":
            line.end();
            break;
          case "word-left":
            line.wordLeft();
            break;
          case "word-right":
            line.wordRight();
            break;
          case "kill-end":
            line.killToEnd();
            break;
          case "kill-start":
            line.killToStart();
            break;
          case "kill-word":
            line.deleteWordBack();
            break;
          case "clear-screen":
            this.#write("\x1b[2J\x1b[H");
            break;
          case "up":
            if (index > 0) {
              if (index === this.#history.length) draft = line.text;
              line.set(this.#history[--index]);
            }
            break;
          case "down":
            if (index < this.#history.length) {
              index++;
              line.set(index === this.#history.length ? draft : this.#history[index]);
            }
            break;
          case "ignored":
            break;
        }
        this.#render(prompt, line);
      }
    } finally {
      this.#in.setRaw(false);
    }
  }

  /** Leaves raw mode (it is only on while reading, but be sure on exit). */
  close(): void {
    try {
      this.#in.setRaw(false);
    } catch {
      // stdin already closed
    }
  }
}

// ---------------------------------------------------------------------------
// piped input

/** Lines of a non-terminal stdin, without prompts or echo. */
export class PipedLines implements LineSource {
  readonly interactive = false;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #done = false;

  /** Lines from a byte stream (normally `Deno.stdin.readable`). */
  constructor(input: ReadableStream<Uint8Array> = Deno.stdin.readable) {
    this.#reader = input.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line (without its newline), or null at end of input. */
  async read(_prompt: string): Promise<string | null> {
    while (true) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      if (this.#done) {
        if (this.#buffer === "") return null;
        const last = this.#buffer;
        this.#buffer = "";
        return last;
      }
      const { value, done } = await this.#reader.read();
      if (done) this.#done = true;
      else this.#buffer += value;
    }
  }

  /** Stops reading. */
  close(): void {
    this.#reader.cancel().catch(() => {});
  }
}
