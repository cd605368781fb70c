import { ftruncateSync, fsyncSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import type { Cache } from "../store/cache.ts";
import { AttrField, BaseBeginField, DeleteField, FlushField, ItemField, RecordType, readU32, readU64 } from "./format.ts";
import type { Manifest } from "./manifest.ts";
import { type ScanResult, scanFile } from "./scan.ts";

/** What a torn record may hold beyond its value: frame and record headers, key, and rounding. */
const TORN_SLACK = 4096;

/** Start-up refused: a file is damaged where truncating its tail cannot repair it. */
export class RecoveryError extends Error {}

export interface Recovered {
  records: number;
  /** Bytes cut off torn or zero-padded tails (and, with --fix-corrupted, damaged rests). */
  truncatedBytes: number;
  /**
   * Items replay evicted to stay within -m. Evictions are not logged, so replay may bring back
   * items the running cache had evicted, and those can push out others the cache still held.
   */
  evicted: number;
  ms: number;
  /** Size of each file after recovery, by name. */
  sizes: Map<string, number>;
}

/** Puts one record's state into the cache (see format.ts for the layouts). */
export function applyRecord(cache: Cache, p: Buffer): void {
  switch (p[0]) {
    case RecordType.item: {
      const keyEnd = ItemField.key + p[ItemField.keyLength];
      cache.restoreItem(
        p,
        ItemField.key,
        keyEnd,
        readU32(p, ItemField.flags),
        readU32(p, ItemField.exptime),
        readU32(p, ItemField.time),
        readU64(p, ItemField.cas),
        p[ItemField.bits],
        p,
        keyEnd,
        p.length,
      );
      return;
    }
    case RecordType.delete:
      cache.restoreDelete(p, DeleteField.key, DeleteField.key + p[DeleteField.keyLength]);
      return;
    case RecordType.attr:
      cache.restoreAttrs(p, AttrField.key, AttrField.key + p[AttrField.keyLength], readU32(p, AttrField.exptime), readU64(p, AttrField.cas), p[AttrField.bits]);
      return;
    case RecordType.flush:
      cache.restoreFlush(readU32(p, FlushField.oldestLive), readU64(p, FlushField.oldestCas));
      return;
    case RecordType.baseBegin:
      cache.restoreCasCounter(readU64(p, BaseBeginField.casCounter));
      cache.restoreFlush(readU32(p, BaseBeginField.oldestLive), readU64(p, BaseBeginField.oldestCas));
      return;
    default:
      return; // BASE_END: the scanner already checked its count.
  }
}

/** Shows recovery's progress: a bar on a terminal, otherwise a log line every second. */
function progressReporter(total: number, log: Logger): { update(done: number): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  return {
    update(done: number): void {
      const now = Date.now();
      if (now - last < (tty ? 100 : 1000)) return;
      last = now;
      const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
      if (tty) {
        const bar = "#".repeat(Math.floor(pct / 4)).padEnd(25, ".");
        process.stderr.write(`\rrecovering [${bar}] ${String(pct).padStart(3)}% ${mb(done)}/${mb(total)} MB`);
      } else log.info({ done, total, pct }, "recovery progress");
    },
    end(): void {
      if (tty && last !== 0) process.stderr.write("\n");
    },
  };
}

/**
 * Loads the base and then every log the manifest names, in order, into the cache. A torn or
 * zero-padded tail of the last log is cut off (logged): those records were never
 * acknowledged under `always`. Anything else damaged refuses start-up with a message naming
 * the file and offset, unless `fixCorrupted` keeps the longest valid prefix of that file.
 */
export function recover(
  dir: string,
  manifest: Manifest,
  cache: Cache,
  limits: { fixCorrupted: boolean; maxItemSize: number },
  sizeOf: (name: string) => number,
  log: Logger,
): Recovered {
  const t0 = performance.now();
  const evicted0 = cache.engine.stats.evictions;
  const names = [...(manifest.base === null ? [] : [manifest.base]), ...manifest.logs];
  const total = names.reduce((n, f) => n + sizeOf(f), 0);
  log.info({ dir, files: names.length, bytes: total }, "recovery started");
  const progress = progressReporter(total, log);
  let before = 0;
  let records = 0;
  let truncatedBytes = 0;
  const sizes = new Map<string, number>();
  for (const name of names) {
    const path = join(dir, name);
    const isLastLog = name === manifest.logs[manifest.logs.length - 1];
    const result: ScanResult = scanFile(
      path,
      (payload) => {
        applyRecord(cache, payload);
        records++;
      },
      { onProgress: (done) => progress.update(before + done) },
    );
    before += result.size;
    sizes.set(name, result.size);
    const problem = result.problem;
    if (problem === null) continue;
    const dropped = result.size - result.validEnd;
    // A torn tail is at most one record. A frame length hit by a bit flip can also point past
    // the end and look torn; it would drop every record after it, so more than one item's
    // worth is refused like any other damage.
    const tail = isLastLog && (problem.kind === "zero-tail" || (problem.kind === "torn-tail" && dropped <= limits.maxItemSize + TORN_SLACK));
    if (!tail && !limits.fixCorrupted) {
      progress.end();
      throw new RecoveryError(
        `${path} is damaged at offset ${problem.offset}: ${problem.detail}; start with --fix-corrupted to keep its first ${result.validEnd} bytes (what follows in that file is lost), or inspect it with 'memcached-ts check ${dir}'`,
      );
    }
    log.warn({ file: path, offset: problem.offset, kind: problem.kind, detail: problem.detail, droppedBytes: dropped }, "persistence file truncated");
    truncatedBytes += dropped;
    truncateFile(path, result.validEnd);
    sizes.set(name, result.validEnd);
  }
  progress.end();
  return { records, truncatedBytes, evicted: cache.engine.stats.evictions - evicted0, ms: performance.now() - t0, sizes };
}

function truncateFile(path: string, size: number): void {
  const fd = openSync(path, "r+");
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
