import type { Cache } from "../../store/cache.ts";
import { type ParsedNumber, parseI32, parseU32, parseU64 } from "../numbers.ts";
import { R } from "../text/replies.ts";
import { KEY_MAX_LENGTH, type TextSession } from "../text/session.ts";
import type { Tokens } from "../text/tokens.ts";
import { base64Decode } from "./base64.ts";
import { M } from "./replies.ts";

/** memcached's MFLAG_MAX_OPT_LENGTH: more tokens than this on a meta line is an error. */
export const MAX_META_TOKENS = 20;
/** memcached's MFLAG_MAX_OPAQUE_LENGTH, counted with the leading `O`. */
export const MAX_OPAQUE_TOKEN = 32;

/** The key a meta command works on: the token itself, or its base64 decoding in `decoded`. */
export class MetaKey {
  buf: Uint8Array = EMPTY;
  start = 0;
  end = 0;
  /** Room for a decoded key: decoding never grows it, and keys are at most 250 bytes. */
  readonly decoded = new Uint8Array(256);

  get length(): number {
    return this.end - this.start;
  }
}

/**
 * memcached's `struct _meta_flags`: what the flags of one meta command ask for. One instance
 * per connection is reset and refilled for every command, so parsing allocates nothing
 * (except the bigints of `ma`'s numeric tokens).
 */
export class MetaFlags {
  /** The error line to send when parsing fails; commands preset their default. */
  error: Uint8Array = M.badFormat;
  hasError = false;
  noUpdate = false;
  vivify = false;
  value = false;
  setStale = false;
  noReply = false;
  hasCas = false;
  newTtl = false;
  keyBinary = false;
  /** The `M` mode character, 0 when absent. */
  mode = 0;
  /** Absolute exptimes (as Cache stores them) for T, N and R. */
  exptime = 0;
  autovivExptime = 0;
  recacheTime = 0;
  clientFlags = 0;
  reqCas = 0;
  delta = 1n;
  initial = 0n;
  /**
   * Flags seen in the current command: `seen[c] === command`. Numbering the commands instead
   * of clearing 127 bytes for each one saves a fill call per request.
   */
  private readonly seen = new Int32Array(127);
  private command = 0;
  private readonly num: ParsedNumber = { ok: false, value: 0 };

  private reset(): void {
    this.error = M.badFormat;
    this.hasError = false;
    this.noUpdate = false;
    this.vivify = false;
    this.value = false;
    this.setStale = false;
    this.noReply = false;
    this.hasCas = false;
    this.newTtl = false;
    this.keyBinary = false;
    this.mode = 0;
    this.exptime = 0;
    this.autovivExptime = 0;
    this.recacheTime = 0;
    this.clientFlags = 0;
    this.reqCas = 0;
    this.delta = 1n;
    this.initial = 0n;
    if (++this.command === 0x3fff_ffff) {
      this.seen.fill(0);
      this.command = 1;
    }
  }

  /**
   * memcached's _meta_flag_preparse over tokens[first..]: every token is a flag named by its
   * first byte, each at most once. Fills `key` (decoding it when `b` is given). Returns false
   * with `error` set when memcached would refuse the command. Like memcached, a bad token
   * argument does not stop the scan, so a later error's message wins; an unknown or repeated
   * flag stops it at once.
   */
  parse(buf: Uint8Array, t: Tokens, first: number, key: MetaKey, cache: Pick<Cache, "absoluteExptime">): boolean {
    this.reset();
    key.buf = buf;
    key.start = t.start[1];
    key.end = t.end[1];
    const num = this.num;
    const last = t.count - 1;
    for (let i = first; i < last; i++) {
      const st = t.start[i];
      const en = t.end[i];
      const o = buf[st];
      if (o >= 127 || this.seen[o] === this.command) {
        this.error = M.duplicateFlag;
        return false;
      }
      this.seen[o] = this.command;
      switch (o) {
        case 0x62: {
          // b
          const n = base64Decode(key.buf, key.start, key.end, key.decoded, 0);
          if (n === 0) this.fail(M.decodingKey);
          key.buf = key.decoded;
          key.start = 0;
          key.end = n;
          this.keyBinary = true;
          break;
        }
        case 0x4e: // N
          this.vivify = true;
          if (parseI32(buf, st + 1, en, num).ok) this.autovivExptime = cache.absoluteExptime(num.value);
          else this.fail(M.badToken);
          break;
        case 0x54: // T
          if (parseI32(buf, st + 1, en, num).ok) {
            this.exptime = cache.absoluteExptime(num.value);
            this.newTtl = true;
          } else this.fail(M.badToken);
          break;
        case 0x52: // R
          if (parseI32(buf, st + 1, en, num).ok) this.recacheTime = cache.absoluteExptime(num.value);
          else this.fail(M.badToken);
          break;
        case 0x4f: // O
        case 0x50: // P
        case 0x4c: // L
        case 0x6b: // k
        case 0x73: // s
        case 0x74: // t
        case 0x63: // c
        case 0x66: // f
        case 0x6c: // l
        case 0x68: // h
          break;
        case 0x76: // v
          this.value = true;
          break;
        case 0x75: // u
          this.noUpdate = true;
          break;
        case 0x71: // q
          this.noReply = true;
          break;
        case 0x46: // F: memcached keeps the previous message here.
          if (parseU32(buf, st + 1, en, num).ok) this.clientFlags = num.value;
          else this.hasError = true;
          break;
        case 0x43: {
          // C
          const v = parseU64(buf, st + 1, en);
          if (v < 0n) this.fail(M.badToken);
          else {
            this.reqCas = Number(v);
            this.hasCas = true;
          }
          break;
        }
        case 0x4d: // M
          if (en - st !== 2) this.fail(M.modeLength);
          else this.mode = buf[st + 1];
          break;
        case 0x4a: {
          // J
          const v = parseU64(buf, st + 1, en);
          if (v < 0n) this.fail(M.badInitial);
          else this.initial = v;
          break;
        }
        case 0x44: {
          // D
          const v = parseU64(buf, st + 1, en);
          if (v < 0n) this.fail(M.badDelta);
          else this.delta = v;
          break;
        }
        case 0x49: // I
          this.setStale = true;
          break;
        default:
          this.error = M.invalidFlag;
          return false;
      }
    }
    return !this.hasError;
  }

  private fail(error: Uint8Array): void {
    this.error = error;
    this.hasError = true;
  }
}

/**
 * The checks mg, md and ma make, in memcached's order, before their own work: arity, key
 * length, token count, then the flags. On failure the error is already replied and false is
 * returned. `flagError` replaces the parser's message (md and ma report every flag error alike).
 */
export function parseCommand(
  s: TextSession,
  buf: Uint8Array,
  f: MetaFlags,
  key: MetaKey,
  tooManyTokens: Uint8Array,
  flagError: Uint8Array | null,
): boolean {
  const t = s.tokens;
  const out = s.out;
  if (t.count < 3) out.bytes(R.error);
  else if (t.length(1) > KEY_MAX_LENGTH) out.bytes(M.badFormat);
  else if (t.count > MAX_META_TOKENS) out.bytes(tooManyTokens);
  else if (!f.parse(buf, t, 2, key, s.cache)) out.bytes(flagError ?? f.error);
  else return true;
  return false;
}

const EMPTY = new Uint8Array(0);
