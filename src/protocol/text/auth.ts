import { indexOfByte } from "../../bytes.ts";
import type { AuthFile } from "../../auth/auth-file.ts";
import { type ParsedNumber, parseU32 } from "../numbers.ts";
import { reply } from "../out-buffer.ts";
import { R } from "./replies.ts";
import type { TextSession } from "./session.ts";

const A = {
  unauthenticated: reply("CLIENT_ERROR unauthenticated\r\n"),
  badTermination: reply("CLIENT_ERROR bad command line termination\r\n"),
  badToken: reply("CLIENT_ERROR bad authentication token format\r\n"),
  failure: reply("CLIENT_ERROR authentication failure\r\n"),
} as const;

/** Below this many bytes memcached does not look for a command at all. */
const MIN_COMMAND = 2;
/** memcached closes an unauthenticated connection whose buffered bytes hold no newline past this. */
const MAX_LINE_WITHOUT_NEWLINE = 2048;
/** memcached's read buffer, which must hold a whole line, and a whole handshake data block. */
const READ_BUFFER = 16 * 1024;

const size: ParsedNumber = { ok: false, value: 0 };

/**
 * memcached's try_read_command_asciiauth (-Y): until it authenticates, a text connection is
 * read by this framing instead of the command parser. The only thing it understands is
 * `set <key> <flags> <exptime> <bytes>\r\n<user> <password>\r\n` (key, flags and exptime are
 * ignored, so is noreply); every other line is answered `CLIENT_ERROR unauthenticated` and the
 * connection stays open. memcached writes these answers into one reply slot, so an answer
 * replaces the previous one unless it was written already (the session's write points).
 */
export class AsciiAuth {
  private readonly users: AuthFile;
  /** Set by the `STORED` answer: the session hands every later byte to the command parser. */
  authenticated = false;

  constructor(users: AuthFile) {
    this.users = users;
  }

  /**
   * Handles one command from `buf[pos..end)`; returns where the next one starts, or `pos` when
   * it needs more bytes (which the session keeps for the next read).
   */
  step(s: TextSession, buf: Uint8Array, pos: number, end: number): number {
    if (end - pos < MIN_COMMAND) return pos;
    const lineEnd = indexOfByte(buf, 0x0a, pos, Math.min(end, pos + READ_BUFFER));
    if (lineEnd < 0) return end - pos <= MAX_LINE_WITHOUT_NEWLINE ? pos : close(s, end);
    const t = s.tokens;
    // The `\r` stays in the last token, as in memcached: the number parser stops at it.
    t.tokenize(buf, pos, cEnd(buf, pos, lineEnd));
    if (t.count < 6 || !t.is(buf, 0, "set") || !parseU32(buf, t.start[4], t.end[4], size).ok) return this.answer(s, A.unauthenticated, lineEnd + 1);
    // memcached adds the CRLF in 32 bits: a size near 2^32 wraps to a block of 0 or 1 byte.
    const blockLength = (size.value + 2) >>> 0;
    const block = lineEnd + 1;
    // A block larger than memcached's buffer never completes there: it closes once the buffer is full and more comes.
    if (blockLength > READ_BUFFER && end - block > READ_BUFFER) return close(s, end);
    if (end - block < blockLength || blockLength > READ_BUFFER) return pos;
    const next = block + blockLength;
    if (blockLength < 2 || buf[next - 2] !== 0x0d || buf[next - 1] !== 0x0a) return this.answer(s, A.badTermination, next);
    t.tokenize(buf, block, cEnd(buf, block, next - 2));
    if (t.count < 3) return this.answer(s, A.badToken, next);
    const counters = s.ctx.counters;
    counters.authCmds++;
    if (!this.users.check(buf.subarray(t.start[0], t.end[0]), buf.subarray(t.start[1], t.end[1]))) {
      counters.authErrors++;
      return this.answer(s, A.failure, next);
    }
    this.authenticated = true;
    return this.answer(s, R.stored, next);
  }

  /** memcached's out_string into the connection's one reply slot; returns `next`. */
  private answer(s: TextSession, line: Uint8Array, next: number): number {
    s.writes.dropUnwritten();
    s.out.bytes(line);
    return next;
  }
}

/** memcached's conn_closing: the connection goes, without the answer not yet written; returns `end`. */
function close(s: TextSession, end: number): number {
  s.writes.dropUnwritten();
  s.closing = true;
  return end;
}

/** Where a C string starting at `start` ends within `end`: at its first NUL. */
function cEnd(buf: Uint8Array, start: number, end: number): number {
  const nul = indexOfByte(buf, 0, start, end);
  return nul < 0 ? end : nul;
}
