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
