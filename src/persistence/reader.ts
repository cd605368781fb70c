import { readSync } from "node:fs";
import { crc32c } from "./crc32c.ts";

/**
 * Reads a file front to back through one reused buffer, so scanning a log of any size holds
 * one chunk (and, briefly, one oversized record) in memory. Synchronous on purpose: it runs
 * before the server listens, or in the offline checker, where nothing else waits.
 */
export class ChunkReader {
  /** The buffer `window` indexes into; replaced (never shrunk) when a record outgrows it. */
  buf: Buffer;
  readonly size: number;
  private readonly fd: number;
  private readonly onProgress: ((bytesDone: number, size: number) => void) | undefined;
  /** File offsets held in buf[0 .. end - start). */
  private start = 0;
  private end = 0;
  private reported = 0;

  constructor(fd: number, size: number, chunkBytes: number, onProgress?: (bytesDone: number, size: number) => void) {
    this.fd = fd;
    this.size = size;
    this.buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, size)));
    this.onProgress = onProgress;
  }

  /** Makes file bytes [at, at + n) available (at + n <= size) and returns the index of `at` in `buf`. */
  window(at: number, n: number): number {
    if (at < this.start || at + n > this.end) this.fill(at, n);
    return at - this.start;
  }

  /**
   * CRC-32C of file bytes [at, at + n), read through the buffer as it is: lets a caller check a
   * frame before growing the buffer for it, so a damaged length costs no huge allocation.
   */
  crc(at: number, n: number): number {
    let c = 0;
    for (let done = 0; done < n; ) {
      const k = Math.min(this.buf.length, n - done);
      const i = this.window(at + done, k);
      c = crc32c(this.buf, i, i + k, c);
      done += k;
    }
    return c;
  }

  /** True when every byte from `from` to the end of the file is zero (also when there is none). */
  allZero(from: number): boolean {
    for (let at = from; at < this.size; ) {
      const n = Math.min(this.buf.length, this.size - at);
      const i = this.window(at, n);
      const buf = this.buf;
      for (let j = i; j < i + n; j++) if (buf[j] !== 0) return false;
      at += n;
    }
    return true;
  }

  private fill(at: number, n: number): void {
    // Bytes already read past `at` are kept: the scanner moves forward and a frame header read
    // in one chunk usually has its payload straddling into the next. Moving back (after `crc`
    // streamed a large frame) simply reads again.
    const keep = at >= this.start && at < this.end ? this.end - at : 0;
    const from = at - this.start;
    if (n > this.buf.length) {
      // Sized to this record only: doubling would hold up to twice the largest value for the rest of the scan.
      const grown = Buffer.allocUnsafe(n);
      if (keep > 0) this.buf.copy(grown, 0, from, from + keep);
      this.buf = grown;
    } else if (keep > 0) {
      this.buf.copyWithin(0, from, from + keep);
    }
    this.start = at;
    this.end = at + keep;
    // Read as far as the buffer allows, not just n bytes: fewer, larger reads.
    const want = Math.min(this.start + this.buf.length, this.size);
    while (this.end < at + n) {
      const got = readSync(this.fd, this.buf, this.end - this.start, want - this.end, this.end);
      if (got === 0) throw new Error(`file shrank to ${this.end} bytes while being read (expected ${this.size})`);
      this.end += got;
    }
    // Re-reads (see `crc`) are not progress.
    if (this.end > this.reported) {
      this.reported = this.end;
      this.onProgress?.(this.end, this.size);
    }
  }
}
