/**
 * The value lists of the TPC-H specification (v3, clauses 4.2.2.13 and 4.2.3),
 * as dbgen's dists.dss spells them, and the dates of clause 4.2.2.12.
 *
 * @module
 */

/** Days since 1970-01-01 of a calendar date. */
export function dayNumber(year: number, month: number, day: number): number {
  return Math.round(Date.UTC(year, month - 1, day) / 86400000);
}

/** STARTDATE: the first order date, 1992-01-01. */
export const START_DATE: number = dayNumber(1992, 1, 1);
/** CURRENTDATE: 1995-06-17, which splits shipped/returned lines from open ones. */
export const CURRENT_DATE: number = dayNumber(1995, 6, 17);
/** ENDDATE: 1998-12-31, the last receipt date. */
export const END_DATE: number = dayNumber(1998, 12, 31);
/** The last order date: ENDDATE - 151 days (121 days to ship plus 30 to receive). */
export const LAST_ORDER_DATE: number = END_DATE - 151;

/** The 5 regions, in key order. */
export const REGIONS: readonly string[] = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"];

/** The 25 nations, in key order, with their region keys. */
export const NATIONS: readonly (readonly [name: string, regionKey: number])[] = [
  ["ALGERIA", 0],
  ["ARGENTINA", 1],
  ["BRAZIL", 1],
  ["CANADA", 1],
  ["EGYPT", 4],
  ["ETHIOPIA", 0],
  ["FRANCE", 3],
  ["GERMANY", 3],
  ["INDIA", 2],
  ["INDONESIA", 2],
  ["IRAN", 4],
  ["IRAQ", 4],
  ["JAPAN", 2],
  ["JORDAN", 4],
  ["KENYA", 0],
  ["MOROCCO", 0],
  ["MOZAMBIQUE", 0],
  ["PERU", 1],
  ["CHINA", 2],
  ["ROMANIA", 3],
  ["SAUDI ARABIA", 4],
  ["VIETNAM", 2],
  ["RUSSIA", 3],
  ["UNITED KINGDOM", 3],
  ["UNITED STATES", 1],
];

/** C_MKTSEGMENT values. */
export const SEGMENTS: readonly string[] = [
  "AUTOMOBILE",
  "BUILDING",
  "FURNITURE",
  "HOUSEHOLD",
  "MACHINERY",
];

/** O_ORDERPRIORITY values. */
export const PRIORITIES: readonly string[] = [
  "1-URGENT",
  "2-HIGH",
  "3-MEDIUM",
  "4-NOT SPECIFIED",
  "5-LOW",
];

/** L_SHIPINSTRUCT values. */
export const INSTRUCTIONS: readonly string[] = [
  "DELIVER IN PERSON",
  "COLLECT COD",
  "NONE",
  "TAKE BACK RETURN",
];

/** L_SHIPMODE values. */
export const SHIP_MODES: readonly string[] = [
  "REG AIR",
  "AIR",
  "RAIL",
  "SHIP",
  "TRUCK",
  "MAIL",
  "FOB",
];

/** P_TYPE syllables: a type is one word of each list, e.g. "ECONOMY ANODIZED STEEL". */
export const TYPE_SYLLABLES: readonly (readonly string[])[] = [
  ["STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"],
  ["ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"],
  ["TIN", "NICKEL", "BRASS", "STEEL", "COPPER"],
];

/** P_CONTAINER syllables: a container is one word of each list, e.g. "MED BOX". */
export const CONTAINER_SYLLABLES: readonly (readonly string[])[] = [
  ["SM", "LG", "MED", "JUMBO", "WRAP"],
  ["CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"],
];

/** Every combination of one word from each list, joined by spaces, in list order. */
export function combinations(lists: readonly (readonly string[])[]): string[] {
  let out = [""];
  for (const list of lists) {
    out = out.flatMap((prefix) => list.map((w) => (prefix === "" ? w : `${prefix} ${w}`)));
  }
  return out;
}

/** The 150 part types. */
export const PART_TYPES: readonly string[] = combinations(TYPE_SYLLABLES);
/** The 40 containers. */
export const CONTAINERS: readonly string[] = combinations(CONTAINER_SYLLABLES);

/** The 92 colour words that P_NAME is made of (5 distinct words per part). */
// deno-fmt-ignore
export const COLORS: readonly string[] = [
  "almond", "antique", "aquamarine", "azure", "beige", "bisque", "black", "blanched", "blue",
  "blush", "brown", "burlywood", "burnished", "chartreuse", "chiffon", "chocolate", "coral",
  "cornflower", "cornsilk", "cream", "cyan", "dark", "deep", "dim", "dodger", "drab", "firebrick",
  "floral", "forest", "frosted", "gainsboro", "ghost", "goldenrod", "green", "grey", "honeydew",
  "hot", "indian", "ivory", "khaki", "lace", "lavender", "lawn", "lemon", "light", "lime", "linen",
  "magenta", "maroon", "medium", "metallic", "midnight", "mint", "misty", "moccasin", "navajo",
  "navy", "olive", "orange", "orchid", "pale", "papaya", "peach", "peru", "pink", "plum", "powder",
  "puff", "purple", "red", "rose", "rosy", "royal", "saddle", "salmon", "sandy", "seashell",
  "sienna", "sky", "slate", "smoke", "snow", "spring", "steel", "tan", "thistle", "tomato",
  "turquoise", "violet", "wheat", "white", "yellow",
];
