/**
 * Parsing SQL values from text bytes: integers, decimals, floats, booleans,
 * dates and timestamps, read straight from a byte buffer (CSV fields) with no
 * string built per value.
 *
 * Each parser returns the engine's representation (days for dates,
 * microseconds for timestamps, unscaled integers for decimals) and sets
 * `parsed.ok` to say whether the text was valid.
 *
 * @module
 */

/** Whether the last parse succeeded (a flag, not a result object: no allocation per value). */
export const parsed = { ok: false };

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

// Numbers and dates may be padded with spaces or tabs. Two functions rather
// than one returning a pair: no array allocated per value.
function trimStart(buf: Uint8Array, s: number, e: number): number {
  while (s < e && isSpace(buf[s])) s++;
  return s;
}

function trimEnd(buf: Uint8Array, s: number, e: number): number {
  while (e > s && isSpace(buf[e - 1])) e--;
  return e;
}

const TWO53 = 9007199254740992;

/** An integer of magnitude below 2^53; sets `parsed.ok`. */
export function parseInt53(buf: Uint8Array, s: number, e: number): number {
  s = trimStart(buf, s, e);
  e = trimEnd(buf, s, e);
  parsed.ok = false;
  let neg = false;
  if (s < e && (buf[s] === 45 || buf[s] === 43)) {
    neg = buf[s] === 45;
    s++;
  }
  if (s >= e) return 0;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return 0;
    v = v * 10 + d;
  }
  if (v >= TWO53) return 0;
  parsed.ok = true;
  return neg ? -v : v;
}

// Exact powers of ten (string to number conversion is correctly rounded).
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

function latin1(buf: Uint8Array, s: number, e: number): string {
  let out = "";
  for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]);
  return out;
}

/**
 * A decimal floating-point number; sets `parsed.ok`. Up to 15 significant digits and
 * a power of ten up to 22 are computed exactly (one correctly rounded
 * operation); anything else goes through `Number()`.
 */
export function parseFloat64(buf: Uint8Array, s: number, e: number): number {
  s = trimStart(buf, s, e);
  e = trimEnd(buf, s, e);
  parsed.ok = false;
  if (s >= e) return 0;
  let i = s;
  let neg = false;
  if (buf[i] === 45 || buf[i] === 43) {
    neg = buf[i] === 45;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let exp = 0;
  let any = false;
  while (i < e && buf[i] >= 48 && buf[i] <= 57) {
    if (digits < 18) {
      mant = mant * 10 + (buf[i] - 48);
      if (mant !== 0) digits++;
    } else exp++;
    any = true;
    i++;
  }
  if (i < e && buf[i] === 46) {
    i++;
    while (i < e && buf[i] >= 48 && buf[i] <= 57) {
      if (digits < 18) {
        mant = mant * 10 + (buf[i] - 48);
        if (mant !== 0) digits++;
        exp--;
      }
      any = true;
      i++;
    }
  }
  if (!any) return parseSpecialFloat(buf, s, e);
  if (i < e && (buf[i] === 101 || buf[i] === 69)) {
    i++;
    let eneg = false;
    if (i < e && (buf[i] === 45 || buf[i] === 43)) {
      eneg = buf[i] === 45;
      i++;
    }
    if (i >= e) return 0;
    let ev = 0;
    while (i < e && buf[i] >= 48 && buf[i] <= 57) {
      ev = ev * 10 + (buf[i] - 48);
      if (ev > 100000) ev = 100000;
      i++;
    }
    exp += eneg ? -ev : ev;
  }
  if (i !== e) return 0;
  parsed.ok = true;
  let v: number;
  if (digits <= 15 && exp >= -22 && exp <= 22) v = exp < 0 ? mant / POW10[-exp] : mant * POW10[exp];
  else v = Number(latin1(buf, neg || buf[s] === 43 ? s + 1 : s, e));
  return neg ? -v : v;
}

function parseSpecialFloat(buf: Uint8Array, s: number, e: number): number {
  const t = latin1(buf, s, e).toLowerCase();
  parsed.ok = true;
  switch (t) {
    case "inf":
    case "+inf":
    case "infinity":
    case "+infinity":
      return Infinity;
    case "-inf":
    case "-infinity":
      return -Infinity;
    case "nan":
      return NaN;
  }
  parsed.ok = false;
  return 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// Where the last digitsAt/scanDate stopped, or -1 when the text did not fit.
let scanEnd = 0;

/** Reads `min` to `max` digits at `i`; returns their value and sets `scanEnd`. */
function digitsAt(buf: Uint8Array, i: number, e: number, min: number, max: number): number {
  let v = 0;
  let n = 0;
  while (i + n < e && n < max && buf[i + n] >= 48 && buf[i + n] <= 57) {
    v = v * 10 + (buf[i + n] - 48);
    n++;
  }
  scanEnd = n >= min ? i + n : -1;
  return v;
}

/** YYYY-MM-DD at [s, e); returns days and the end of the date in `scanEnd` (-1 if invalid). */
function scanDate(buf: Uint8Array, s: number, e: number): number {
  const y = digitsAt(buf, s, e, 4, 4);
  let i = scanEnd;
  if (i < 0 || i >= e || buf[i] !== 45) return (scanEnd = -1);
  const m = digitsAt(buf, i + 1, e, 1, 2);
  i = scanEnd;
  if (i < 0 || i >= e || buf[i] !== 45) return (scanEnd = -1);
  const d = digitsAt(buf, i + 1, e, 1, 2);
  i = scanEnd;
  if (i < 0 || m < 1 || m > 12 || d < 1) return (scanEnd = -1);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (d > (m === 2 && leap ? 29 : MONTH_DAYS[m - 1])) return (scanEnd = -1);
  scanEnd = i;
  return daysFromCivil(y, m, d);
}

/** A date (YYYY-MM-DD) as days since the epoch; sets `parsed.ok`. */
export function parseDate(buf: Uint8Array, s: number, e: number): number {
  s = trimStart(buf, s, e);
  e = trimEnd(buf, s, e);
  const days = scanDate(buf, s, e);
  parsed.ok = scanEnd === e;
  return days;
}

/**
 * A timestamp (YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][Z|(+|-)HH[:MM]]) as
 * microseconds since the epoch, in UTC when an offset is given; sets `parsed.ok`.
 */
export function parseTimestamp(buf: Uint8Array, s: number, e: number): number {
  s = trimStart(buf, s, e);
  e = trimEnd(buf, s, e);
  parsed.ok = false;
  const days = scanDate(buf, s, e);
  let i = scanEnd;
  if (i < 0) return 0;
  let micros = days * 86400e6;
  if (i === e) {
    parsed.ok = true;
    return micros;
  }
  if (buf[i] !== 32 && buf[i] !== 84) return 0;
  const h = digitsAt(buf, i + 1, e, 2, 2);
  i = scanEnd;
  if (i < 0 || i >= e || buf[i] !== 58 || h > 23) return 0;
  const mi = digitsAt(buf, i + 1, e, 2, 2);
  i = scanEnd;
  if (i < 0 || mi > 59) return 0;
  let sec = 0;
  let frac = 0;
  if (i < e && buf[i] === 58) {
    sec = digitsAt(buf, i + 1, e, 2, 2);
    i = scanEnd;
    if (i < 0 || sec > 60) return 0;
    if (i < e && buf[i] === 46) {
      i++;
      let scale = 100000;
      const st = i;
      while (i < e && buf[i] >= 48 && buf[i] <= 57) {
        frac += (buf[i] - 48) * scale;
        scale /= 10;
        i++;
      }
      if (i === st) return 0;
      frac = Math.floor(frac);
    }
  }
  micros += ((h * 60 + mi) * 60 + sec) * 1e6 + frac;
  if (i < e && (buf[i] === 90 || buf[i] === 122)) i++;
  else if (i < e && (buf[i] === 43 || buf[i] === 45)) {
    const sign = buf[i] === 45 ? -1 : 1;
    const oh = digitsAt(buf, i + 1, e, 2, 2);
    i = scanEnd;
    if (i < 0) return 0;
    let om = 0;
    if (i < e && buf[i] === 58) i++;
    if (i < e) {
      om = digitsAt(buf, i, e, 2, 2);
      i = scanEnd;
      if (i < 0) return 0;
    }
    micros -= sign * (oh * 60 + om) * 60e6;
  }
  parsed.ok = i === e;
  return micros;
}

/** true/false (any case), and with `loose` also t/f/1/0/yes/no; sets `parsed.ok`. */
export function parseBool(buf: Uint8Array, s: number, e: number, loose: boolean): number {
  s = trimStart(buf, s, e);
  e = trimEnd(buf, s, e);
  const t = latin1(buf, s, e).toLowerCase();
  parsed.ok = true;
  if (t === "true") return 1;
  if (t === "false") return 0;
  if (loose) {
    if (t === "t" || t === "1" || t === "yes" || t === "y") return 1;
    if (t === "f" || t === "0" || t === "no" || t === "n") return 0;
  }
  parsed.ok = false;
  return 0;
}

/**
 * A decimal as an unscaled integer at `scale`, rounding half away from zero
 * beyond the scale; sets `parsed.ok`. Exact while the unscaled value is below 2^53.
 */
export function parseDecimal(buf: Uint8Array, s: number, e: number, scale: number): number {
  s = trimStart(buf, s, e);
  e = trimEnd(buf, s, e);
  parsed.ok = false;
  let i = s;
  let neg = false;
  if (i < e && (buf[i] === 45 || buf[i] === 43)) {
    neg = buf[i] === 45;
    i++;
  }
  let v = 0;
  let any = false;
  while (i < e && buf[i] >= 48 && buf[i] <= 57) {
    v = v * 10 + (buf[i] - 48);
    any = true;
    i++;
  }
  let fracDigits = 0;
  let roundUp = false;
  if (i < e && buf[i] === 46) {
    i++;
    while (i < e && buf[i] >= 48 && buf[i] <= 57) {
      if (fracDigits < scale) {
        v = v * 10 + (buf[i] - 48);
        fracDigits++;
      } else if (fracDigits === scale) {
        roundUp = buf[i] >= 53;
        fracDigits++;
      }
      any = true;
      i++;
    }
  }
  if (i < e && (buf[i] === 101 || buf[i] === 69)) {
    // Exponent notation: rare in decimal columns; go through a double.
    const x = Number(latin1(buf, s, e));
    parsed.ok = Number.isFinite(x);
    return Math.round(x * 10 ** scale);
  }
  if (!any || i !== e) return 0;
  for (let k = Math.min(fracDigits, scale); k < scale; k++) v *= 10;
  if (roundUp) v += 1;
  parsed.ok = true;
  return neg ? -v : v;
}
