import { randomInt } from "node:crypto";

/** A per-process random seed, so clients cannot choose keys that all land in one bucket. */
export function randomSeed(): number {
  return randomInt(0, 2 ** 32 - 1);
}

/**
 * MurmurHash3 (x86, 32-bit) of bytes[start..end) with `seed`; fast in JS via Math.imul. The
 * 32 bits come back as a signed int32, which V8 keeps unboxed where a uint32 above 2^31 would
 * be a heap number at every call boundary (one allocation per lookup, measured).
 */
export function murmur3(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed | 0;
  let i = start;
  const blocksEnd = start + ((end - start) & ~3);
  while (i < blocksEnd) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    i += 4;
  }
  const rest = end - i;
  if (rest > 0) {
    let k = bytes[i];
    if (rest > 1) k ^= bytes[i + 1] << 8;
    if (rest > 2) k ^= bytes[i + 2] << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= end - start;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
