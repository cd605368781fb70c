import { openSync, read } from "node:fs";
import type { PageFiller } from "../store/arena.ts";

/** /dev/zero, opened once for the process (undefined: not yet; null: there is none). */
let zero: number | null | undefined;

/**
 * Faults arena pages in ahead of use by reading /dev/zero into them on libuv's thread pool: the
 * kernel's page faults (and the zeroing of each huge page) then happen on that thread, not on
 * the event loop. Null where /dev/zero cannot be opened; pages are then faulted where first used.
 * The descriptor stays open for the life of the process, shared by every server in it.
 */
export function devZeroFiller(): PageFiller | null {
  if (zero === undefined) {
    try {
      zero = openSync("/dev/zero", "r");
    } catch {
      zero = null;
    }
  }
  const fd = zero;
  if (fd === null) return null;
  return (memory, offset, length, done) => read(fd, memory, offset, length, null, () => done());
}
