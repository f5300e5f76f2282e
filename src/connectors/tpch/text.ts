/**
 * Comment text: the grammar of TPC-H clause 4.2.2.10 and its text pool.
 *
 * As in dbgen, the grammar is run once to fill a pool of sentences, and every
 * comment column takes a substring of the pool at a random offset with a
 * random length in the column's [min, max]. That keeps comments as "meaningful"
 * as dbgen's (Q13 looks for '%special%requests%', which needs the grammar's
 * adjectives and nouns in order) while a comment costs one byte copy instead
 * of running the grammar per row.
 *
 * The word lists and weights are those of dbgen's dists.dss; the pool is
 * smaller than dbgen's 300 MB (see TEXT_POOL_SIZE), and is built from a fixed
 * stream, so it is the same in every worker and every run.
 *
 * @module
 */

import { rand32, streamId } from "./random.ts";

/** A list of words with their relative weights. */
export type WeightedList = readonly (readonly [word: string, weight: number])[];

/** Nouns. */
// deno-fmt-ignore
export const NOUNS: WeightedList = [
  ["packages", 40], ["requests", 40], ["accounts", 40], ["deposits", 40], ["foxes", 20],
  ["ideas", 20], ["theodolites", 20], ["pinto beans", 20], ["instructions", 20],
  ["dependencies", 10], ["excuses", 10], ["platelets", 10], ["asymptotes", 10], ["courts", 5],
  ["dolphins", 5], ["multipliers", 1], ["sauternes", 1], ["warthogs", 1], ["frets", 1],
  ["dinos", 1], ["attainments", 1], ["somas", 1], ["Tiresias", 1], ["patterns", 1],
  ["forges", 1], ["braids", 1], ["frays", 1], ["warhorses", 1], ["dugouts", 1], ["notornis", 1],
  ["epitaphs", 1], ["pearls", 1], ["tithes", 1], ["waters", 1], ["orbits", 1], ["gifts", 1],
  ["sheaves", 1], ["depths", 1], ["sentiments", 1], ["decoys", 1], ["realms", 1], ["pains", 1],
  ["grouches", 1], ["escapades", 1], ["hockey players", 1],
];

/** Verbs. */
// deno-fmt-ignore
export const VERBS: WeightedList = [
  ["sleep", 20], ["wake", 20], ["are", 20], ["cajole", 20], ["haggle", 20], ["nag", 10],
  ["use", 10], ["boost", 10], ["affix", 5], ["detect", 5], ["integrate", 5], ["maintain", 1],
  ["nod", 1], ["was", 1], ["lose", 1], ["sublate", 1], ["solve", 1], ["thrash", 1],
  ["promise", 1], ["engage", 1], ["hinder", 1], ["print", 1], ["x-ray", 1], ["breach", 1],
  ["eat", 1], ["grow", 1], ["impress", 1], ["mold", 1], ["poach", 1], ["serve", 1], ["run", 1],
  ["dazzle", 1], ["snooze", 1], ["doze", 1], ["unwind", 1], ["kindle", 1], ["play", 1],
  ["hang", 1], ["believe", 1], ["doubt", 1],
];

/** Adjectives. */
// deno-fmt-ignore
export const ADJECTIVES: WeightedList = [
  ["special", 20], ["pending", 20], ["unusual", 20], ["express", 20], ["furious", 1],
  ["sly", 1], ["careful", 1], ["blithe", 1], ["quick", 1], ["fluffy", 1], ["slow", 1],
  ["quiet", 1], ["ruthless", 1], ["thin", 1], ["close", 1], ["dogged", 1], ["daring", 1],
  ["brave", 1], ["stealthy", 1], ["permanent", 1], ["enticing", 1], ["idle", 1], ["busy", 1],
  ["regular", 50], ["final", 40], ["ironic", 40], ["even", 30], ["bold", 20], ["silent", 10],
];

/** Adverbs. */
// deno-fmt-ignore
export const ADVERBS: WeightedList = [
  ["sometimes", 1], ["always", 1], ["never", 1], ["furiously", 50], ["slyly", 50],
  ["carefully", 50], ["blithely", 40], ["quickly", 30], ["fluffily", 20], ["slowly", 1],
  ["quietly", 1], ["ruthlessly", 1], ["thinly", 1], ["closely", 1], ["doggedly", 1],
  ["daringly", 1], ["bravely", 1], ["stealthily", 1], ["permanently", 1], ["enticingly", 1],
  ["idly", 1], ["busily", 1], ["regularly", 1], ["finally", 1], ["ironically", 1], ["evenly", 1],
  ["boldly", 1], ["silently", 1],
];

/** Prepositions. */
// deno-fmt-ignore
export const PREPOSITIONS: WeightedList = [
  ["about", 50], ["above", 50], ["according to", 50], ["across", 50], ["after", 50],
  ["against", 40], ["along", 40], ["alongside of", 30], ["among", 30], ["around", 20], ["at", 10],
  ["atop", 1], ["before", 1], ["behind", 1], ["beneath", 1], ["beside", 1], ["besides", 1],
  ["between", 1], ["beyond", 1], ["by", 1], ["despite", 1], ["during", 1], ["except", 1],
  ["for", 1], ["from", 1], ["in place of", 1], ["inside", 1], ["instead of", 1], ["into", 1],
  ["near", 1], ["of", 1], ["on", 1], ["outside", 1], ["over", 1], ["past", 1], ["since", 1],
  ["through", 1], ["throughout", 1], ["to", 1], ["toward", 1], ["under", 1], ["until", 1],
  ["up", 1], ["upon", 1], ["without", 1], ["with", 1], ["within", 1],
];

/** Auxiliaries. */
// deno-fmt-ignore
export const AUXILIARIES: WeightedList = [
  ["do", 1], ["may", 1], ["might", 1], ["shall", 1], ["will", 1], ["would", 1], ["can", 1],
  ["could", 1], ["should", 1], ["ought to", 1], ["must", 1], ["will have to", 1],
  ["shall have to", 1], ["could have to", 1], ["should have to", 1], ["must have to", 1],
  ["need to", 1], ["try to", 1],
];

/** Sentence terminators. */
export const TERMINATORS: WeightedList = [
  [".", 50],
  [";", 1],
  [":", 1],
  ["?", 1],
  ["!", 1],
  ["--", 1],
];

/**
 * Sentence forms: N = noun phrase, V = verb phrase, P = prepositional phrase
 * ("<preposition> the <noun phrase>"), T = terminator.
 */
export const SENTENCES: WeightedList = [
  ["N V T", 3],
  ["N V P T", 3],
  ["N V N T", 3],
  ["N P V N T", 1],
  ["N P V P T", 1],
];

/** Noun phrase forms: N = noun, J = adjective, D = adverb ("J, J N" has a comma). */
export const NOUN_PHRASES: WeightedList = [["N", 10], ["J N", 20], ["J, J N", 10], ["D J N", 50]];

/** Verb phrase forms: V = verb, X = auxiliary, D = adverb. */
export const VERB_PHRASES: WeightedList = [["V", 30], ["X V", 1], ["V D", 40], ["X V D", 1]];

/**
 * Size of the text pool in bytes. dbgen uses 300 MB so that comments rarely
 * repeat; 4 MiB builds in tens of milliseconds in every worker and still gives
 * millions of distinct (offset, length) pairs per column.
 */
export const TEXT_POOL_SIZE = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/** Weighted choice in O(1): one slot per unit of weight. */
class Picker {
  readonly #slots: Int32Array;
  readonly words: readonly string[];

  constructor(list: WeightedList) {
    this.words = list.map(([w]) => w);
    let total = 0;
    for (const [, w] of list) total += w;
    this.#slots = new Int32Array(total);
    let at = 0;
    list.forEach(([, w], i) => {
      this.#slots.fill(i, at, at + w);
      at += w;
    });
  }

  /** The index chosen by 32 random bits. */
  pick(bits: number): number {
    return this.#slots[Math.floor(bits * this.#slots.length / 4294967296)];
  }
}

/** Runs the grammar with a counter-based stream, producing whole sentences. */
class SentenceWriter {
  #key = 0;
  readonly #stream = streamId("text.pool");
  readonly #nouns = new Picker(NOUNS);
  readonly #verbs = new Picker(VERBS);
  readonly #adjectives = new Picker(ADJECTIVES);
  readonly #adverbs = new Picker(ADVERBS);
  readonly #prepositions = new Picker(PREPOSITIONS);
  readonly #auxiliaries = new Picker(AUXILIARIES);
  readonly #terminators = new Picker(TERMINATORS);
  readonly #sentences = new Picker(SENTENCES);
  readonly #nounPhrases = new Picker(NOUN_PHRASES);
  readonly #verbPhrases = new Picker(VERB_PHRASES);

  #word(p: Picker): string {
    return p.words[p.pick(rand32(this.#stream, this.#key++))];
  }

  #nounPhrase(): string {
    switch (this.#word(this.#nounPhrases)) {
      case "N":
        return this.#word(this.#nouns);
      case "J N":
        return `${this.#word(this.#adjectives)} ${this.#word(this.#nouns)}`;
      case "J, J N":
        return `${this.#word(this.#adjectives)}, ${this.#word(this.#adjectives)} ${
          this.#word(this.#nouns)
        }`;
      default: // "D J N"
        return `${this.#word(this.#adverbs)} ${this.#word(this.#adjectives)} ${
          this.#word(this.#nouns)
        }`;
    }
  }

  #verbPhrase(): string {
    switch (this.#word(this.#verbPhrases)) {
      case "V":
        return this.#word(this.#verbs);
      case "X V":
        return `${this.#word(this.#auxiliaries)} ${this.#word(this.#verbs)}`;
      case "V D":
        return `${this.#word(this.#verbs)} ${this.#word(this.#adverbs)}`;
      default: // "X V D"
        return `${this.#word(this.#auxiliaries)} ${this.#word(this.#verbs)} ${
          this.#word(this.#adverbs)
        }`;
    }
  }

  /** One sentence, terminator included (e.g. "carefully final deposits sleep."). */
  sentence(): string {
    const parts: string[] = [];
    let terminator = "";
    for (const symbol of this.#word(this.#sentences).split(" ")) {
      if (symbol === "N") parts.push(this.#nounPhrase());
      else if (symbol === "V") parts.push(this.#verbPhrase());
      else if (symbol === "P") {
        parts.push(`${this.#word(this.#prepositions)} the ${this.#nounPhrase()}`);
      } else terminator = this.#word(this.#terminators);
    }
    return parts.join(" ") + terminator;
  }
}

let pool: Uint8Array | null = null;

/**
 * The text pool: sentences of the grammar separated by single spaces, ASCII
 * only (so a byte range is also a character range). Built on first use and
 * shared by every generator of this isolate.
 */
export function textPool(): Uint8Array {
  if (pool !== null) return pool;
  const out = new Uint8Array(TEXT_POOL_SIZE);
  const writer = new SentenceWriter();
  let at = 0;
  while (at < out.length) {
    // Encoding sentence by sentence keeps the peak memory at the pool itself.
    const { written } = encoder.encodeInto(writer.sentence() + " ", out.subarray(at));
    at += written;
  }
  pool = out;
  return out;
}
