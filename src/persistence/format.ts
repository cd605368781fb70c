/**
 * The on-disk format of memcached-ts persistence, shared by the log writer, the snapshot
 * writer, recovery and the offline checker. All integers are little-endian.
 *
 * A file is a 16-byte header followed by frames:
 *
 *     file header:  magic (8 ASCII bytes) | u32 generation | u32 crc32c(header bytes 0..12)
 *     frame:        u32 payload length | u32 crc32c(payload) | payload
 *
 * A payload is one record, its first byte the record type. Records are states, never
 * commands: the item as it now is, a tombstone, the flush state. Replaying a record twice, or
 * a record older than the base it follows, therefore never applies an incr or append twice.
 *
 * Record payloads (offsets in bytes; a CAS is a u64 written as two u32, it stays below 2^53):
 *
 *     ITEM   0 type | 1 bits | 2 key length | 3 zero | 4 flags | 8 exptime | 12 time
 *            | 16 cas lo | 20 cas hi | 24 key | value (the rest of the payload)
 *     DELETE 0 type | 1 key length | 2 zero | 3 zero | 4 key
 *     ATTR   0 type | 1 bits | 2 key length | 3 zero | 4 exptime | 8 cas lo | 12 cas hi | 16 key
 *            (touch, meta's stale marks and win tokens: the item's new attributes, value unchanged)
 *     FLUSH  0 type | 1..3 zero | 4 oldest live | 8 oldest cas lo | 12 oldest cas hi
 *            (memcached's flush_all state: items last accessed at or before `oldest live`,
 *            or with a CAS below `oldest cas`, are gone once `oldest live` has passed)
 *     BASE_BEGIN 0 type | 1..3 zero | 4 taken at | 8 cas counter lo | 12 hi | 16 oldest live
 *            | 20 oldest cas lo | 24 hi        (first record of a base file)
 *     BASE_END   0 type | 1..3 zero | 4 item count lo | 8 hi   (last record of a base file)
 *
 * Times (exptime, time, taken at, oldest live) are absolute unix seconds; exptime 0 = never,
 * oldest live 0 = no flush. `bits` holds the item bits that replies show: stale, win token
 * sent, key given in base64 (see `PERSISTED_BITS` in store/cache.ts).
 */

export const LOG_MAGIC = "MCTSLOG1";
export const BASE_MAGIC = "MCTSBAS1";
export const FILE_HEADER_BYTES = 16;
export const FRAME_HEADER_BYTES = 8;
/**
 * Largest payload a frame may declare: the largest item (1 GiB with -I 1024m) plus its
 * header and key. A larger length can only be damage.
 */
export const MAX_PAYLOAD = 1024 * 1024 * 1024 + 1024;

export const RecordType = {
  item: 1,
  delete: 2,
  attr: 3,
  flush: 4,
  baseBegin: 5,
  baseEnd: 6,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export const ITEM_HEADER_BYTES = 24;
export const DELETE_HEADER_BYTES = 4;
export const ATTR_HEADER_BYTES = 16;
export const FLUSH_BYTES = 16;
export const BASE_BEGIN_BYTES = 28;
export const BASE_END_BYTES = 12;

/** Offsets inside payloads, by record type. */
export const ItemField = { bits: 1, keyLength: 2, flags: 4, exptime: 8, time: 12, cas: 16, key: 24 } as const;
export const DeleteField = { keyLength: 1, key: 4 } as const;
export const AttrField = { bits: 1, keyLength: 2, exptime: 4, cas: 8, key: 16 } as const;
export const FlushField = { oldestLive: 4, oldestCas: 8 } as const;
export const BaseBeginField = { takenAt: 4, casCounter: 8, oldestLive: 16, oldestCas: 20 } as const;
export const BaseEndField = { itemCount: 4 } as const;

/** Writes a u64 below 2^53 as two little-endian u32. */
export function writeU64(buf: Uint8Array, at: number, v: number): void {
  const lo = v >>> 0;
  const hi = Math.floor(v / 0x1_0000_0000);
  writeU32(buf, at, lo);
  writeU32(buf, at + 4, hi);
}

/** Reads a u64 written by `writeU64` (exact below 2^53). */
export function readU64(buf: Uint8Array, at: number): number {
  return readU32(buf, at) + readU32(buf, at + 4) * 0x1_0000_0000;
}

export function writeU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v;
  buf[at + 1] = v >>> 8;
  buf[at + 2] = v >>> 16;
  buf[at + 3] = v >>> 24;
}

export function readU32(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}
