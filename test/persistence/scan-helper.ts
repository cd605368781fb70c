import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ScanOptions, type ScanResult, scanFile } from "../../src/persistence/scan.ts";

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mcts-${prefix}-`));
}

export interface Scanned {
  result: ScanResult;
  /** Copies of the delivered payloads, and their frame offsets. */
  payloads: Buffer[];
  offsets: number[];
}

/** Writes `bytes` to a fresh file in `dir` and scans it. */
export function scanBytes(dir: string, bytes: Buffer, options?: ScanOptions): Scanned {
  const path = join(dir, "f");
  writeFileSync(path, bytes);
  const payloads: Buffer[] = [];
  const offsets: number[] = [];
  const result = scanFile(
    path,
    (payload, offset) => {
      payloads.push(Buffer.from(payload));
      offsets.push(offset);
    },
    options,
  );
  return { result, payloads, offsets };
}
