import type { OutBuffer } from "../out-buffer.ts";
import type { Tokens } from "../text/tokens.ts";
import { base64Encode, base64EncodedLength } from "./base64.ts";
import { MAX_OPAQUE_TOKEN, type MetaKey } from "./flags.ts";

/** memcached's META_CHAR: a space and a flag letter. */
export function flagChar(out: OutBuffer, c: number): void {
  out.ensure(2);
  out.buf[out.len++] = 0x20;
  out.buf[out.len++] = c;
}

/** memcached's META_KEY: ` k<key>`, or ` k<base64 key> b` for a binary key. */
export function keyToken(out: OutBuffer, key: Uint8Array, start: number, end: number, binary: boolean): void {
  flagChar(out, 0x6b);
  if (!binary) {
    out.bytes(key, start, end);
    return;
  }
  out.ensure(base64EncodedLength(end - start) + 2);
  out.len = base64Encode(key, start, end, out.buf, out.len);
  flagChar(out, 0x62);
}

/** An echoed opaque token: a space and the token as sent (`O` included). False, writing nothing, when it is too long. */
export function opaqueToken(out: OutBuffer, buf: Uint8Array, start: number, end: number): boolean {
  if (end - start > MAX_OPAQUE_TOKEN) return false;
  out.byte(0x20);
  out.bytes(buf, start, end);
  return true;
}

/** A remaining-TTL value as memcached prints it: -1 for none, else exptime - now as a u32. */
export function ttlValue(out: OutBuffer, exptime: number, now: number): void {
  if (exptime === 0) out.ascii("-1");
  else out.decimal((exptime - now) >>> 0);
}

/** Overwrites the two-letter status code reserved at `at`. */
export function setCode(out: OutBuffer, at: number, code: number): void {
  out.buf[at] = code >> 8;
  out.buf[at + 1] = code & 0xff;
}

/**
 * The tokens every meta reply without an item echoes (a miss, NF, EX): `O` and `k`, in request
 * order, with the key as the request gave it. False when an opaque is too long: the caller
 * then replies with the error instead.
 */
export function echoTokens(out: OutBuffer, buf: Uint8Array, t: Tokens, first: number, key: MetaKey, binary: boolean): boolean {
  const last = t.count - 1;
  for (let i = first; i < last; i++) {
    const st = t.start[i];
    const c = buf[st];
    if (c === 0x4f) {
      if (!opaqueToken(out, buf, st, t.end[i])) return false;
    } else if (c === 0x6b) keyToken(out, key.buf, key.start, key.end, binary);
  }
  return true;
}
