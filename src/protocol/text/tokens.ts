/** memcached's MAX_TOKENS: a line splits into at most this many tokens, the last being the rest. */
export const MAX_TOKENS = 24;

/**
 * memcached's tokenize_command over bytes: tokens are separated by single spaces (runs of
 * spaces collapse), nothing else separates them, and after MAX_TOKENS - 1 tokens the rest of
 * the line is left for the caller (multi-key get continues from `rest`). The line ends at its
 * first NUL, as the C string does. `count` includes the terminal token, like memcached's
 * `ntokens`, so command arity checks read the same as in proto_text.c.
 */
export class Tokens {
  readonly start = new Int32Array(MAX_TOKENS);
  readonly end = new Int32Array(MAX_TOKENS);
  /** memcached's ntokens: real tokens + 1. */
  count = 0;
  /** Offset of the unprocessed rest of the line, or -1 when the whole line was split. */
  rest = -1;

  tokenize(buf: Uint8Array, from: number, to: number): void {
    let n = 0;
    let s = from;
    let e = from;
    this.rest = -1;
    for (; e < to; e++) {
      if (buf[e] !== 0x20) continue;
      if (s !== e) {
        this.start[n] = s;
        this.end[n] = e;
        n++;
        if (n === MAX_TOKENS - 1) {
          e++;
          s = e;
          break;
        }
      }
      s = e + 1;
    }
    if (s !== e && e <= to) {
      this.start[n] = s;
      this.end[n] = e;
      n++;
    }
    if (e < to) this.rest = e;
    this.count = n + 1;
  }

  length(i: number): number {
    return this.end[i] - this.start[i];
  }

  /** True when token `i` exists and equals the ASCII string `s`. */
  is(buf: Uint8Array, i: number, s: string): boolean {
    if (i >= this.count - 1) return false;
    const st = this.start[i];
    if (this.end[i] - st !== s.length) return false;
    for (let k = 0; k < s.length; k++) if (buf[st + k] !== s.charCodeAt(k)) return false;
    return true;
  }
}
