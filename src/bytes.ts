const bufferCopy = Buffer.prototype.copy;

/**
 * Copies src[start..end) into dst at `at`. A loop for a few bytes; beyond that Buffer#copy,
 * which copies natively without creating a view. `dst.set(src.subarray(...))` allocates a view
 * per call and is slow on SharedArrayBuffer memory: measured for 1000 bytes into the arena,
 * 298 ns against 50 ns; for 100 bytes out of it, 61 ns against 50 ns.
 */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
  const n = end - start;
  if (n <= 24) {
    for (let i = 0; i < n; i++) dst[at + i] = src[start + i];
    return;
  }
  bufferCopy.call(src, dst, at, start, end);
}

/**
 * `buf` when it has room for `need` bytes; otherwise a buffer at least twice as large holding
 * its first `used` bytes. Reply and record buffers grow this way, so appends stay amortized O(1).
 */
export function withRoom(buf: Buffer, used: number, need: number): Buffer {
  if (need <= buf.length) return buf;
  let size = Math.max(buf.length * 2, 256);
  while (size < need) size *= 2;
  const next = Buffer.allocUnsafe(size);
  buf.copy(next, 0, 0, used);
  return next;
}
