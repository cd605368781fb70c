import { readSync } from "node:fs";

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
    // in one chunk usually has its payload straddling into the next.
    const keep = at >= this.start && at < this.end ? this.end - at : 0;
    if (n > this.buf.length) {
      // Sized to this record only: doubling would hold up to twice the largest value for the rest of the scan.
      const grown = Buffer.allocUnsafe(n);
      this.buf.copy(grown, 0, at - this.start, at - this.start + keep);
      this.buf = grown;
    } else if (keep > 0) {
      this.buf.copyWithin(0, at - this.start, this.end - this.start);
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
    this.onProgress?.(this.end, this.size);
  }
}
