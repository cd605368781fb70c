/**
 * Scans one persistence file and finds its longest valid prefix, classifying whatever follows
 * by what start-up may do about it:
 *
 * - zero-tail: from a frame boundary to EOF every byte is 0 (the file grew, its data never
 *   landed). Truncatable.
 * - torn-tail: the last frame is incomplete, or is the last thing in the file and fails its
 *   check (its CRC, or a length beyond MAX_PAYLOAD). Truncatable: at most one record is lost.
 *   "Last thing" includes a frame followed only by zeros: a crash can land the first pages of
 *   an append and not the rest.
 * - corrupt: anything else. Records follow the damage, so truncating would silently drop them;
 *   start-up refuses unless asked to repair.
 *
 * Whole-file checks of a base (BASE_BEGIN first, BASE_END last, its item count right) live here
 * too, so that "does this file load" has one answer for the server and the checker.
 */
import { closeSync, fstatSync, openSync } from "node:fs";
import { crc32c } from "./crc32c.ts";
import {
  BASE_MAGIC,
  BaseEndField,
  FILE_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  LOG_MAGIC,
  MAX_PAYLOAD,
  RecordType,
  readU32,
  readU64,
} from "./format.ts";
import { ChunkReader } from "./reader.ts";
import { type FileKind, validatePayload } from "./validate.ts";

export interface ScanProblem {
  kind: "torn-tail" | "zero-tail" | "corrupt";
  /** File offset where the valid prefix ends: the frame (or header) that failed. */
  offset: number;
  detail: string;
}

export interface ScanResult {
  path: string;
  size: number;
  /** null when the header is absent or unreadable. */
  kind: FileKind | null;
  /** From the header; 0 when kind is null. */
  generation: number;
  /** Records delivered to the callback. */
  records: number;
  /** End of the longest valid prefix, the header included (0 when the header is bad). */
  validEnd: number;
  problem: ScanProblem | null;
}

export interface ScanOptions {
  /** Read size and initial buffer size (4 MiB). */
  chunkBytes?: number;
  /** Called after each read with the bytes read so far. */
  onProgress?: (bytesDone: number, size: number) => void;
}

/** The page the kernel writes back as a unit. */
const PAGE = 4096;

function isZero(reader: ChunkReader, at: number, n: number): boolean {
  const i = reader.window(at, n);
  for (let k = i; k < i + n; k++) if (reader.buf[k] !== 0) return false;
  return true;
}

export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Calls `onRecord` for each valid record, in file order, up to the first problem. `payload` is
 * a view into a reused buffer: valid only during the call, copy what must outlive it.
 * Throws only for I/O errors (a missing or unreadable file), never for what the file holds.
 */
export function scanFile(path: string, onRecord: (payload: Buffer, offset: number) => void, options: ScanOptions = {}): ScanResult {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const reader = new ChunkReader(fd, size, options.chunkBytes ?? DEFAULT_CHUNK_BYTES, options.onProgress);
    return scan(path, reader, onRecord);
  } finally {
    closeSync(fd);
  }
}

function scan(path: string, reader: ChunkReader, onRecord: (payload: Buffer, offset: number) => void): ScanResult {
  const size = reader.size;
  const empty = (kind: ScanProblem["kind"], detail: string): ScanResult => ({
    path,
    size,
    kind: null,
    generation: 0,
    records: 0,
    validEnd: 0,
    problem: { kind, offset: 0, detail },
  });
  // A crash right after creating the file leaves it short or all zero: nothing was lost.
  if (size < FILE_HEADER_BYTES) {
    if (reader.allZero(0)) return empty("zero-tail", `file of ${size} bytes holds no header`);
    return empty("torn-tail", `file of ${size} bytes is shorter than its ${FILE_HEADER_BYTES}-byte header`);
  }
  const h = reader.window(0, FILE_HEADER_BYTES);
  const magic = reader.buf.toString("latin1", h, h + 8);
  const kind = magic === LOG_MAGIC ? "log" : magic === BASE_MAGIC ? "base" : null;
  const headerCrcOk = crc32c(reader.buf, h, h + 12) === readU32(reader.buf, h + 12);
  if (kind === null || !headerCrcOk) {
    if (reader.allZero(0)) return empty("zero-tail", `file of ${size} bytes is all zero`);
    return empty("corrupt", kind === null ? `bad magic ${JSON.stringify(magic)}` : "file header CRC mismatch");
  }
  const generation = readU32(reader.buf, h + 8);

  const order = kind === "base" ? new BaseOrder() : null;
  let records = 0;
  let pos = FILE_HEADER_BYTES;
  let problem: ScanProblem | null = null;
  // A failed check on the last frame is a torn append; anywhere else it is damage.
  const badFrame = (frameEnd: number, detail: string): ScanProblem =>
    reader.allZero(frameEnd) ? { kind: "torn-tail", offset: pos, detail: `${detail} (last frame)` } : { kind: "corrupt", offset: pos, detail };
  while (pos < size) {
    const left = size - pos;
    if (left < FRAME_HEADER_BYTES) {
      problem = { kind: reader.allZero(pos) ? "zero-tail" : "torn-tail", offset: pos, detail: `frame header cut after ${left} bytes` };
      break;
    }
    let i = reader.window(pos, FRAME_HEADER_BYTES);
    const length = readU32(reader.buf, i);
    const crc = readU32(reader.buf, i + 4);
    if (length === 0 && crc === 0 && reader.allZero(pos)) {
      problem = { kind: "zero-tail", offset: pos, detail: `${left} zero bytes to EOF` };
      break;
    }
    // No record is empty. A zeroed header starting a whole zero page, with no more than one
    // record after it, is a torn append whose first page never reached the disk (pages written
    // back out of order, then the power lost); any other empty frame is damage.
    if (length === 0) {
      const pageEnd = (Math.floor(pos / PAGE) + 1) * PAGE;
      const lostPage = pageEnd < size && left <= FRAME_HEADER_BYTES + MAX_PAYLOAD + PAGE && isZero(reader, pos, pageEnd - pos);
      problem = lostPage
        ? { kind: "torn-tail", offset: pos, detail: `a zero page at ${pos} before ${size - pageEnd} bytes up to EOF (a lost first page)` }
        : { kind: "corrupt", offset: pos, detail: "empty payload" };
      break;
    }
    if (length > MAX_PAYLOAD) {
      problem = badFrame(pos + FRAME_HEADER_BYTES, `declared length ${length} exceeds ${MAX_PAYLOAD}`);
      break;
    }
    if (length > left - FRAME_HEADER_BYTES) {
      problem = { kind: "torn-tail", offset: pos, detail: `frame of ${length} bytes runs past EOF (${left - FRAME_HEADER_BYTES} present)` };
      break;
    }
    const frameEnd = pos + FRAME_HEADER_BYTES + length;
    // Checked before the buffer grows for a frame larger than it (streamed through it), so a
    // damaged length never costs a gigabyte of memory.
    if (reader.crc(pos + FRAME_HEADER_BYTES, length) !== crc) {
      problem = badFrame(frameEnd, `CRC mismatch in a frame of ${length} bytes`);
      break;
    }
    i = reader.window(pos + FRAME_HEADER_BYTES, length);
    const payload = reader.buf.subarray(i, i + length);
    const invalid = validatePayload(payload, kind) ?? order?.next(payload) ?? null;
    if (invalid !== null) {
      problem = { kind: "corrupt", offset: pos, detail: invalid };
      break;
    }
    onRecord(payload, pos);
    records++;
    pos = frameEnd;
  }
  // A base is written whole and renamed into place, so one without its BASE_END was cut short
  // before it was ever complete: there is nothing safe to truncate it to.
  if (order !== null && !order.ended && problem?.kind !== "corrupt") {
    const why = problem === null ? "" : ` (${problem.kind}: ${problem.detail})`;
    problem = { kind: "corrupt", offset: pos, detail: `incomplete base: no BASE_END${why}` };
  }
  return { path, size, kind, generation, records, validEnd: pos, problem };
}

/** The record order of a base: BASE_BEGIN, ITEMs, BASE_END counting them, nothing after. */
class BaseOrder {
  ended = false;
  private begun = false;
  private items = 0;

  /** Null when `payload` (already valid for a base) may come next, else why not. */
  next(payload: Buffer): string | null {
    if (this.ended) return "record after BASE_END";
    const type = payload[0];
    if (!this.begun) {
      if (type !== RecordType.baseBegin) return "base does not start with BASE_BEGIN";
      this.begun = true;
    } else if (type === RecordType.baseBegin) {
      return "second BASE_BEGIN";
    } else if (type === RecordType.item) {
      this.items++;
    } else {
      const count = readU64(payload, BaseEndField.itemCount);
      if (count !== this.items) return `BASE_END counts ${count} items, the base holds ${this.items}`;
      this.ended = true;
    }
    return null;
  }
}
