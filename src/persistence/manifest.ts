/**
 * The manifest names the live files of a persistence directory: at most one base, then the
 * logs replayed after it, oldest first. It is the single point of truth across compaction:
 * files it does not name are leftovers of an interrupted step and may be deleted.
 *
 *     memcached-ts manifest 1
 *     base base.000002          ("base -" before the first compaction)
 *     log log.000002
 *     log log.000003
 *     crc 1a2b3c4d              (crc32c of every byte before this line, 8 lowercase hex digits)
 *
 * Every line ends with "\n". The CRC tells a torn or hand-edited manifest from a good one;
 * the atomic replace (temp, fsync, rename, fsync dir) is what keeps it from being torn.
 */
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, writeSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { join } from "node:path";
import { crc32c } from "./crc32c.ts";
import type { FileKind } from "./validate.ts";

export interface Manifest {
  /** File name of the base, null before the first one. */
  base: string | null;
  /** File names of the logs, oldest first; at least one. */
  logs: string[];
}

export class ManifestError extends Error {
  override name = "ManifestError";
}

export const MANIFEST_FILE = "manifest";
const TEMP_FILE = "manifest.tmp";
const FIRST_LINE = "memcached-ts manifest 1";
const GENERATION_DIGITS = 6;
/** Generations are u32 in file headers. */
const MAX_GENERATION = 0xffff_ffff;

/** `log.000012`: zero-padded so that a plain `ls` lists generations in order. */
export function fileName(kind: FileKind, generation: number): string {
  if (!Number.isInteger(generation) || generation < 0 || generation > MAX_GENERATION) {
    throw new RangeError(`generation ${generation} is not a u32`);
  }
  return `${kind}.${String(generation).padStart(GENERATION_DIGITS, "0")}`;
}

/** The kind and generation of a name `fileName` produces, else null (only the canonical spelling). */
export function parseFileName(name: string): { kind: FileKind; generation: number } | null {
  const m = /^(log|base)\.(\d{6,10})$/.exec(name);
  if (m === null) return null;
  const kind = m[1] as FileKind;
  const generation = Number(m[2]);
  if (generation > MAX_GENERATION || fileName(kind, generation) !== name) return null;
  return { kind, generation };
}

/** Null when there is no manifest (a directory never used); throws ManifestError when it is damaged. */
export function readManifest(dir: string): Manifest | null {
  const path = join(dir, MANIFEST_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const fail = (why: string): ManifestError => new ManifestError(`${path}: ${why}`);
  const text = bytes.toString("latin1");
  if (!text.startsWith(`${FIRST_LINE}\n`)) throw fail(`bad first line (expected "${FIRST_LINE}")`);
  const crcAt = text.lastIndexOf("\n", text.length - 2) + 1;
  const crcLine = /^crc ([0-9a-f]{8})\n$/.exec(text.slice(crcAt));
  if (crcLine === null) throw fail('bad crc: the last line is not "crc" and 8 hex digits');
  const crc = crc32c(bytes, 0, crcAt);
  if (Number.parseInt(crcLine[1], 16) !== crc) throw fail(`bad crc: the file says ${crcLine[1]}, its bytes give ${hex8(crc)}`);

  const lines = text.slice(0, crcAt - 1).split("\n");
  const baseLine = /^base (\S+)$/.exec(lines[1] ?? "");
  if (baseLine === null) throw fail(`line 2: expected "base NAME" or "base -", found ${JSON.stringify(lines[1] ?? "")}`);
  const m: Manifest = { base: baseLine[1] === "-" ? null : baseLine[1], logs: [] };
  for (let n = 2; n < lines.length; n++) {
    const logLine = /^log (\S+)$/.exec(lines[n]);
    if (logLine === null) throw fail(`line ${n + 1}: unknown line ${JSON.stringify(lines[n])}`);
    m.logs.push(logLine[1]);
  }
  const wrong = namesProblem(m);
  if (wrong !== null) throw fail(wrong);
  return m;
}

/**
 * Replaces the manifest atomically and durably. Off the event loop (fs/promises); the caller
 * serializes calls, which share one temp file.
 */
export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  const text = encode(m);
  const temp = join(dir, TEMP_FILE);
  const fh = await open(temp, "w");
  try {
    await fh.writeFile(text, "latin1");
    // The data must be on disk before the rename makes it the manifest, or a crash could leave
    // a manifest that names nothing.
    await fh.sync();
  } finally {
    await fh.close();
  }
  // Same directory on purpose: rename is atomic only within one filesystem.
  await rename(temp, join(dir, MANIFEST_FILE));
  await fsyncDir(dir);
}

/** `writeManifest` for callers that may block: first start, before the server listens, and tests. */
export function writeManifestSync(dir: string, m: Manifest): void {
  const text = encode(m);
  const temp = join(dir, TEMP_FILE);
  const fd = openSync(temp, "w");
  try {
    writeSync(fd, text, null, "latin1");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(dir, MANIFEST_FILE));
  const dfd = openSync(dir, "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** Makes the directory's entries durable: a rename or a new file is not, until its directory is synced. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Files of ours in `dir` that `m` does not name: older generations, and any `*.tmp` (a write
 * that never reached its rename). Start-up may delete them. Sorted.
 */
export function strayFiles(dir: string, m: Manifest): string[] {
  const named = new Set<string>(m.logs);
  if (m.base !== null) named.add(m.base);
  return readdirSync(dir)
    .filter((name) => name.endsWith(".tmp") || (parseFileName(name) !== null && !named.has(name)))
    .sort();
}

function encode(m: Manifest): string {
  const wrong = namesProblem(m);
  if (wrong !== null) throw new ManifestError(`refusing to write a manifest: ${wrong}`);
  const body = [FIRST_LINE, `base ${m.base ?? "-"}`, ...m.logs.map((log) => `log ${log}`), ""].join("\n");
  return `${body}crc ${hex8(crc32c(Buffer.from(body, "latin1")))}\n`;
}

/** What is wrong with the names in `m`, shared by reader and writer so neither accepts what the other refuses. */
function namesProblem(m: Manifest): string | null {
  if (m.base !== null && parseFileName(m.base)?.kind !== "base") return `${JSON.stringify(m.base)} is not a base file name (base.NNNNNN)`;
  if (m.logs.length === 0) return "names no log";
  let previous = -1;
  for (const log of m.logs) {
    const parsed = parseFileName(log);
    if (parsed?.kind !== "log") return `${JSON.stringify(log)} is not a log file name (log.NNNNNN)`;
    // Replay order is generation order; a repeat or a step back means the writer lost track.
    if (parsed.generation <= previous) return `logs out of order: ${log} after generation ${previous}`;
    previous = parsed.generation;
  }
  return null;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
