/**
 * Number parsing with the exact acceptance rules of memcached's `safe_strto*` helpers, which
 * wrap C's strtol/strtoull on a NUL-terminated token: leading whitespace and a sign are
 * accepted, parsing stops at the first non-digit, and that character must be whitespace or the
 * end of the token. Working on bytes keeps the hot path free of string allocation.
 */

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I64_MAX = 0x7fff_ffff_ffff_ffffn;
const I64_MIN = -0x8000_0000_0000_0000n;

/** Result slot for the parsers below; `ok` is false when memcached would reject the token. */
export interface ParsedNumber {
  ok: boolean;
  value: number;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** True when `buf[start..end)` is 1 to 9 plain decimal digits: the common, fast case. */
function plainSmall(buf: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len < 1 || len > 9) return false;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function plainValue(buf: Uint8Array, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (buf[i] - 0x30);
  return v;
}

interface Scan {
  negative: boolean;
  magnitude: bigint;
  overflow: boolean;
  digits: number;
  /** Index of the first byte after the digits (C's endptr). */
  stop: number;
}

const scan: Scan = { negative: false, magnitude: 0n, overflow: false, digits: 0, stop: 0 };

/** C's strto* scan: whitespace, sign, digits. `limit` is the largest magnitude before ERANGE. */
function scanDigits(buf: Uint8Array, start: number, end: number, limit: bigint): Scan {
  let i = start;
  while (i < end && isSpace(buf[i])) i++;
  scan.negative = false;
  if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    scan.negative = buf[i] === 0x2d;
    i++;
  }
  let m = 0n;
  let digits = 0;
  let overflow = false;
  while (i < end) {
    const c = buf[i];
    if (c < 0x30 || c > 0x39) break;
    if (!overflow) {
      m = m * 10n + BigInt(c - 0x30);
      if (m > limit) overflow = true;
    }
    digits++;
    i++;
  }
  scan.magnitude = m;
  scan.overflow = overflow;
  scan.digits = digits;
  scan.stop = digits === 0 ? start : i;
  return scan;
}

/** The end-pointer rule shared by all safe_strto* helpers. */
function endAccepted(buf: Uint8Array, start: number, end: number, s: Scan): boolean {
  if (s.digits === 0) return false;
  if (s.stop === end || buf[s.stop] === 0) return s.stop !== start;
  return isSpace(buf[s.stop]);
}

/**
 * memcached's safe_strtoull. Returns the value as a bigint, or -1n when rejected.
 * Negative input wraps as in C unless the wrapped value looks negative as a signed number.
 */
export function parseU64(buf: Uint8Array, start: number, end: number): bigint {
  if (plainSmall(buf, start, end)) return BigInt(plainValue(buf, start, end));
  const s = scanDigits(buf, start, end, U64_MAX);
  if (s.overflow || !endAccepted(buf, start, end, s)) return -1n;
  let v = s.negative ? (U64_MAX + 1n - s.magnitude) & U64_MAX : s.magnitude;
  if (v > I64_MAX && s.negative) return -1n;
  if (s.negative && s.magnitude === 0n) v = 0n;
  return v;
}

/** memcached's safe_strtoul into a 32-bit unsigned (client flags): the 64-bit value truncated. */
export function parseU32(buf: Uint8Array, start: number, end: number, out: ParsedNumber): ParsedNumber {
  if (plainSmall(buf, start, end)) {
    out.ok = true;
    out.value = plainValue(buf, start, end);
    return out;
  }
  const v = parseU64(buf, start, end);
  out.ok = v >= 0n;
  out.value = out.ok ? Number(v & 0xffff_ffffn) : 0;
  return out;
}

/** memcached's safe_strtol into a 32-bit signed integer (exptime, lengths). */
export function parseI32(buf: Uint8Array, start: number, end: number, out: ParsedNumber): ParsedNumber {
  if (plainSmall(buf, start, end)) {
    out.ok = true;
    out.value = plainValue(buf, start, end);
    return out;
  }
  const s = scanDigits(buf, start, end, -I64_MIN);
  let v = s.negative ? -s.magnitude : s.magnitude;
  if (s.overflow || v > I64_MAX || v < I64_MIN || !endAccepted(buf, start, end, s)) {
    out.ok = false;
    out.value = 0;
    return out;
  }
  v = BigInt.asIntN(32, v);
  out.ok = true;
  out.value = Number(v);
  return out;
}

/** Appends the decimal digits of a non-negative integer below 2^53 at `pos`; returns the new end. */
export function writeDecimal(buf: Uint8Array, pos: number, value: number): number {
  if (value < 10) {
    buf[pos] = 0x30 + value;
    return pos + 1;
  }
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  let p = pos + digits;
  let v = value;
  while (v >= 10) {
    const q = Math.floor(v / 10);
    buf[--p] = 0x30 + (v - q * 10);
    v = q;
  }
  buf[--p] = 0x30 + v;
  return pos + digits;
}

/**
 * memcached's safe_strtod on a token: C's strtod must consume the whole (non-empty) token.
 * Decimal and exponent forms, inf and nan; C's hexadecimal floats are not accepted here.
 * NaN when the token is not a number.
 */
export function parseF64(buf: Uint8Array, start: number, end: number): number {
  const s = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("latin1");
  if (/^\s*[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?)\s*$/i.test(s)) {
    const v = Number(s.trim());
    return Number.isFinite(v) ? v : Number.NaN;
  }
  if (/^\s*[+-]?(inf|infinity)\s*$/i.test(s)) return s.includes("-") ? -Infinity : Infinity;
  return Number.NaN;
}
