/**
 * Encodes persistence files per src/persistence/format.ts, for tests only: the product's
 * encoder is written apart, and a second, independent encoder is what checks the reader.
 */
import { writeFileSync } from "node:fs";
import { crc32c } from "../../src/persistence/crc32c.ts";
import {
  ATTR_HEADER_BYTES,
  BASE_BEGIN_BYTES,
  BASE_END_BYTES,
  BASE_MAGIC,
  DELETE_HEADER_BYTES,
  FILE_HEADER_BYTES,
  FLUSH_BYTES,
  FRAME_HEADER_BYTES,
  ITEM_HEADER_BYTES,
  LOG_MAGIC,
  RecordType,
  writeU32,
  writeU64,
} from "../../src/persistence/format.ts";

export interface ItemFields {
  key: string;
  value?: Buffer | string;
  flags?: number;
  exptime?: number;
  time?: number;
  cas?: number;
  bits?: number;
}

export function item(f: ItemFields): Buffer {
  const key = Buffer.from(f.key, "latin1");
  const value = Buffer.from(f.value ?? "");
  const p = Buffer.alloc(ITEM_HEADER_BYTES + key.length + value.length);
  p[0] = RecordType.item;
  p[1] = f.bits ?? 0;
  p[2] = key.length;
  writeU32(p, 4, f.flags ?? 0);
  writeU32(p, 8, f.exptime ?? 0);
  writeU32(p, 12, f.time ?? 0);
  writeU64(p, 16, f.cas ?? 1);
  key.copy(p, ITEM_HEADER_BYTES);
  value.copy(p, ITEM_HEADER_BYTES + key.length);
  return p;
}

export function del(key: string): Buffer {
  const k = Buffer.from(key, "latin1");
  const p = Buffer.alloc(DELETE_HEADER_BYTES + k.length);
  p[0] = RecordType.delete;
  p[1] = k.length;
  k.copy(p, DELETE_HEADER_BYTES);
  return p;
}

export function attr(f: { key: string; exptime?: number; cas?: number; bits?: number }): Buffer {
  const k = Buffer.from(f.key, "latin1");
  const p = Buffer.alloc(ATTR_HEADER_BYTES + k.length);
  p[0] = RecordType.attr;
  p[1] = f.bits ?? 0;
  p[2] = k.length;
  writeU32(p, 4, f.exptime ?? 0);
  writeU64(p, 8, f.cas ?? 1);
  k.copy(p, ATTR_HEADER_BYTES);
  return p;
}

export function flush(oldestLive: number, oldestCas = 0): Buffer {
  const p = Buffer.alloc(FLUSH_BYTES);
  p[0] = RecordType.flush;
  writeU32(p, 4, oldestLive);
  writeU64(p, 8, oldestCas);
  return p;
}

export function baseBegin(f: { takenAt?: number; casCounter?: number; oldestLive?: number; oldestCas?: number } = {}): Buffer {
  const p = Buffer.alloc(BASE_BEGIN_BYTES);
  p[0] = RecordType.baseBegin;
  writeU32(p, 4, f.takenAt ?? 0);
  writeU64(p, 8, f.casCounter ?? 0);
  writeU32(p, 16, f.oldestLive ?? 0);
  writeU64(p, 20, f.oldestCas ?? 0);
  return p;
}

export function baseEnd(itemCount: number): Buffer {
  const p = Buffer.alloc(BASE_END_BYTES);
  p[0] = RecordType.baseEnd;
  writeU64(p, 4, itemCount);
  return p;
}

export function fileHeader(kind: "log" | "base", generation: number): Buffer {
  const h = Buffer.alloc(FILE_HEADER_BYTES);
  h.write(kind === "log" ? LOG_MAGIC : BASE_MAGIC, 0, "latin1");
  writeU32(h, 8, generation);
  writeU32(h, 12, crc32c(h, 0, 12));
  return h;
}

export function frame(payload: Buffer): Buffer {
  const f = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
  writeU32(f, 0, payload.length);
  writeU32(f, 4, crc32c(payload));
  payload.copy(f, FRAME_HEADER_BYTES);
  return f;
}

/** A whole file, and the offset of each record's frame in it. */
export function encodeFile(kind: "log" | "base", generation: number, payloads: readonly Buffer[]): { bytes: Buffer; offsets: number[] } {
  const parts = [fileHeader(kind, generation)];
  const offsets: number[] = [];
  let at = FILE_HEADER_BYTES;
  for (const p of payloads) {
    offsets.push(at);
    parts.push(frame(p));
    at += FRAME_HEADER_BYTES + p.length;
  }
  return { bytes: Buffer.concat(parts), offsets };
}

/** A complete base: BASE_BEGIN, the items, a BASE_END counting them. */
export function basePayloads(items: readonly Buffer[], begin: Buffer = baseBegin()): Buffer[] {
  return [begin, ...items, baseEnd(items.length)];
}

export function writeFile(path: string, kind: "log" | "base", generation: number, payloads: readonly Buffer[]): { bytes: Buffer; offsets: number[] } {
  const encoded = encodeFile(kind, generation, payloads);
  writeFileSync(path, encoded.bytes);
  return encoded;
}
