/**
 * Base64 exactly as memcached's base64.c does it, since meta's `b` flag makes the decoder's
 * quirks visible on the wire: bytes outside the alphabet are skipped, not rejected; the
 * significant characters must come in groups of four; decoding stops after the first padded
 * group; and re-encoding always yields the canonical form (with `=` padding).
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ENC = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENC[i] = ALPHABET.charCodeAt(i);

/** memcached's dtable: 0x80 marks a byte the decoder skips; `=` decodes as 0 (and counts as padding). */
const DEC = new Uint8Array(256).fill(0x80);
for (let i = 0; i < 64; i++) DEC[ENC[i]] = i;
DEC[0x3d] = 0;

/** Bytes `base64Encode` may write for `n` input bytes. */
export function base64EncodedLength(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** Encodes src[start..end) into dst at `at`; returns the position after the last byte written. */
export function base64Encode(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  let i = start;
  let p = at;
  while (end - i >= 3) {
    const a = src[i];
    const b = src[i + 1];
    const c = src[i + 2];
    dst[p++] = ENC[a >> 2];
    dst[p++] = ENC[((a & 0x03) << 4) | (b >> 4)];
    dst[p++] = ENC[((b & 0x0f) << 2) | (c >> 6)];
    dst[p++] = ENC[c & 0x3f];
    i += 3;
  }
  if (end - i > 0) {
    const a = src[i];
    dst[p++] = ENC[a >> 2];
    if (end - i === 1) {
      dst[p++] = ENC[(a & 0x03) << 4];
      dst[p++] = 0x3d;
    } else {
      const b = src[i + 1];
      dst[p++] = ENC[((a & 0x03) << 4) | (b >> 4)];
      dst[p++] = ENC[(b & 0x0f) << 2];
    }
    dst[p++] = 0x3d;
  }
  return p;
}

const block = new Uint8Array(4);

/**
 * Decodes src[start..end) into dst at `at` (which may alias the input: output never overtakes
 * it). Returns the decoded length, or 0 when memcached's decoder fails.
 */
export function base64Decode(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  let count = 0;
  for (let i = start; i < end; i++) if (DEC[src[i]] !== 0x80) count++;
  if (count === 0 || count % 4 !== 0) return 0;
  let p = at;
  let pad = 0;
  count = 0;
  for (let i = start; i < end; i++) {
    const v = DEC[src[i]];
    if (v === 0x80) continue;
    if (src[i] === 0x3d) pad++;
    block[count++] = v;
    if (count === 4) {
      dst[p++] = (block[0] << 2) | (block[1] >> 4);
      dst[p++] = (block[1] << 4) | (block[2] >> 2);
      dst[p++] = (block[2] << 6) | block[3];
      count = 0;
      if (pad > 0) {
        if (pad > 2) return 0;
        p -= pad;
        break;
      }
    }
  }
  return p - at;
}
