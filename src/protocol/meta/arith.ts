import { ArithResult } from "../../store/cache.ts";
import { R } from "../text/replies.ts";
import type { TextSession } from "../text/session.ts";
import { type MetaFlags, type MetaKey, parseCommand } from "./flags.ts";
import { M } from "./replies.ts";
import { echoTokens, flagChar, keyToken, opaqueToken, ttlValue } from "./write.ts";

/**
 * ma <key> <flags>*: memcached's process_marithmetic_command. Quiet mode hides only a
 * successful update; an item created by N is always reported. T and N act at their place in
 * the flag order, like mg's.
 */
export function metaArith(s: TextSession, buf: Uint8Array, f: MetaFlags, key: MetaKey): void {
  const t = s.tokens;
  const out = s.out;
  if (!parseCommand(s, buf, f, key, M.flagsTooLong, M.invalidOrDuplicateFlag)) return;
  const refused = s.writeRefusal();
  if (refused !== null) return out.bytes(refused);
  const n = t.count;
  const cache = s.cache;
  let incr = true;
  switch (f.mode) {
    case 0:
    case 0x49: // I
    case 0x2b: // +
      break;
    case 0x44: // D
    case 0x2d: // -
      incr = false;
      break;
    default:
      return out.bytes(M.maBadMode);
  }

  const mark = out.len;
  let h = -1;
  let created = false;
  /**
   * Whether T and N change the stored item. When the value moved to a longer item memcached
   * works on the old one (see ArithOutcome.inPlace): T is lost, yet a later `t` shows it.
   */
  let live = true;
  let digits = "";
  let quiet = false;
  // N creates the item with no exptime: N sets it at its place in the flag order, below.
  const seed = f.vivify ? { initial: f.initial, exptime: 0 } : null;
  const r = cache.arith(key.buf, key.start, key.end, incr, f.delta, f.hasCas ? f.reqCas : 0, seed, s.writes.heldItems());
  switch (r.code) {
    case ArithResult.ok:
      h = r.handle;
      live = r.inPlace;
      digits = r.value.toString();
      quiet = f.noReply;
      break;
    case ArithResult.created:
      h = r.handle;
      digits = r.value.toString();
      created = true;
      break;
    case ArithResult.nonNumeric:
      return out.bytes(R.nonNumeric);
    case ArithResult.noMemory:
      return out.bytes(R.outOfMemory);
    case ArithResult.noMemoryToCreate:
      return out.bytes(M.maNoMemory);
    case ArithResult.casMismatch:
      out.bytes(M.ex);
      break;
    default:
      out.bytes(M.nf);
  }

  const last = n - 1;
  if (h >= 0) {
    const e = cache.engine;
    let exptime = e.exptime(h);
    if (f.value) {
      out.bytes(M.va);
      out.decimal(digits.length);
    } else out.bytes(M.hd);
    for (let i = 2; i < last; i++) {
      const st = t.start[i];
      switch (buf[st]) {
        case 0x63: // c
          flagChar(out, 0x63);
          out.decimal(e.cas(h));
          break;
        case 0x74: // t
          flagChar(out, 0x74);
          ttlValue(out, exptime, cache.now());
          break;
        case 0x54: // T
          exptime = f.exptime;
          if (live) cache.touchItem(h, exptime);
          break;
        case 0x4e: // N
          if (created) {
            exptime = f.autovivExptime;
            cache.touchItem(h, exptime);
          }
          break;
        case 0x4f: // O
          if (!opaqueToken(out, buf, st, t.end[i])) {
            out.len = mark;
            return out.bytes(M.opaqueTooLong);
          }
          break;
        case 0x6b: // k
          keyToken(out, key.buf, key.start, key.end, f.keyBinary);
          break;
      }
    }
    if (f.value) {
      out.crlf();
      out.ascii(digits);
    }
  } else if (!echoTokens(out, buf, t, 2, key, f.keyBinary)) {
    out.len = mark;
    return out.bytes(M.opaqueTooLong);
  }
  out.crlf();
  if (quiet) out.len = mark;
}
