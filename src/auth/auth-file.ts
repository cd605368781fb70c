import { readFileSync } from "node:fs";
import { sameSecret } from "./secret.ts";

/** memcached's MAX_ENTRIES (authfile.c): "Not supposed to be a huge database!" Later lines are ignored. */
export const MAX_ENTRIES = 8;
/**
 * memcached reads each line with fgets into a 256-byte entry (MAX_ENTRY_LEN): at most 255
 * bytes. A longer line keeps the password that fits, and loading stops there.
 */
export const MAX_LINE = 255;

/** The auth file cannot be read, or a line in it is not `user:password`. */
export class AuthFileError extends Error {
  /** True for a malformed line; false when the file could not be read. */
  readonly malformed: boolean;
  constructor(message: string, malformed: boolean) {
    super(message);
    this.malformed = malformed;
  }
}

export interface Credential {
  readonly user: Buffer;
  readonly password: Buffer;
}

/**
 * The users of an auth file, as memcached 1.6.18's authfile_load reads it: each line is
 * `user:password`, the user ends at the first `:`, the password at the line's end, a `\r` or a
 * NUL (so it may hold `:` and spaces). A line without `:` (a blank line included) makes the whole
 * file malformed; returns the 1-based number of that line instead of the list. Loading stops
 * after MAX_ENTRIES users, and after a line whose password reaches the 255-byte cut or a NUL.
 * Unlike 1.6.18, the last byte of a file that is one line without a newline is kept (fgets cut
 * it there; memcached 1.6.32 fixed that).
 */
export function parseAuthFile(data: Uint8Array): Credential[] | number {
  const entries: Credential[] = [];
  let pos = 0;
  while (pos < data.length) {
    // One fgets: through the next newline, at most MAX_LINE bytes.
    const cut = Math.min(data.length, pos + MAX_LINE);
    const nl = data.subarray(pos, cut).indexOf(0x0a);
    const lineEnd = nl < 0 ? cut : pos + nl + 1;
    let colon = pos;
    while (colon < lineEnd && data[colon] !== 0x3a && data[colon] !== 0) colon++;
    if (colon === lineEnd || data[colon] === 0) return 1 + countNewlines(data, pos);
    let end = colon + 1;
    while (end < lineEnd && data[end] !== 0x0a && data[end] !== 0x0d && data[end] !== 0) end++;
    entries.push({ user: Buffer.from(data.subarray(pos, colon)), password: Buffer.from(data.subarray(colon + 1, end)) });
    // memcached takes a password that ends at its buffer's end or at a NUL for the end of the file.
    if (entries.length === MAX_ENTRIES || end === lineEnd || data[end] === 0) break;
    pos = lineEnd;
  }
  return entries;
}

function countNewlines(data: Uint8Array, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (data[i] === 0x0a) n++;
  return n;
}

/** Reads and parses `path`; throws AuthFileError with memcached's start-up messages. */
function load(path: string): Credential[] {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new AuthFileError(`Could not open authfile [${path}] for reading, error ${(err as Error).message}`, false);
  }
  const parsed = parseAuthFile(data);
  if (typeof parsed === "number") throw new AuthFileError(`Authfile [${path}] has a malformed entry. Should be 'user:password' (line ${parsed})`, true);
  return parsed;
}

/**
 * The users of `-Y FILE` (memcached's ASCII authentication). Loaded at start-up, where an
 * unreadable or malformed file stops the server; `reload` (SIGHUP) swaps in a new list only
 * when the whole file loads, so a bad edit never locks out the users already known.
 */
export class AuthFile {
  readonly path: string;
  private entries: readonly Credential[];

  constructor(path: string) {
    this.path = path;
    this.entries = load(path);
  }

  /** Reads the file again; on failure keeps the users it had and throws AuthFileError. */
  reload(): void {
    this.entries = load(this.path);
  }

  /**
   * Whether some entry has exactly this user and password (memcached's authfile_check: any
   * entry may match, not only the first for the user). Every entry is compared in full, so the
   * time taken does not tell which part differed or whether the user exists.
   */
  check(user: Uint8Array, password: Uint8Array): boolean {
    let match = false;
    for (const e of this.entries) {
      const userMatches = sameSecret(e.user, user);
      const passwordMatches = sameSecret(e.password, password);
      match = (userMatches && passwordMatches) || match;
    }
    return match;
  }
}
