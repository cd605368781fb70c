import { KEY_BINARY_BIT, WinToken } from "../../store/cache.ts";
import { ItemBits } from "../../store/engine.ts";
import type { TextSession } from "../text/session.ts";
import { type MetaFlags, type MetaKey, parseCommand } from "./flags.ts";
import { M } from "./replies.ts";
import { echoTokens, flagChar, keyToken, opaqueToken, ttlValue } from "./write.ts";

/**
 * mg <key> <flags>*: memcached's process_mget_command. Return flags are written in the order
 * requested, and T, N and R act at their place in that order (a `t` before `T` shows the old
 * TTL), as in memcached. The LRU bump comes after the reply so `h` and `l` show the item as
 * it was before this fetch.
 */
export function metaGet(s: TextSession, buf: Uint8Array, f: MetaFlags, key: MetaKey): void {
  const t = s.tokens;
  const out = s.out;
  if (!parseCommand(s, buf, f, key, M.mgFlagsTooLong, null)) return;
  const n = t.count;
  const cache = s.cache;

  let h = cache.lookup(key.buf, key.start, key.end, false);
  let created = false;
  if (h < 0 && f.vivify) {
    h = cache.vivify(key.buf, key.start, key.end);
    created = h >= 0;
  }
  const mark = out.len;
  const last = n - 1;
  if (h < 0) {
    cache.countMetaGet(-1, false);
    out.bytes(M.en);
    if (!echoTokens(out, buf, t, 2, key, f.keyBinary)) {
      out.len = mark;
      return out.bytes(M.opaqueTooLong);
    }
    out.crlf();
    // Quiet mode hides exactly the miss.
    if (f.noReply) out.len = mark;
    return;
  }

  // memcached's reply keeps a reference to the item until it is written.
  s.writes.holdItem(h);
  const e = cache.engine;
  const now = cache.now();
  const vlen = e.valueLength(h);
  let won = false;
  let ttlSet = false;
  if (f.value) {
    out.bytes(M.va);
    out.decimal(vlen);
  } else out.bytes(M.hd);
  for (let i = 2; i < last; i++) {
    const st = t.start[i];
    switch (buf[st]) {
      case 0x54: // T
        ttlSet = true;
        cache.touchItem(h, f.exptime);
        break;
      case 0x4e: // N
        if (created) {
          cache.touchItem(h, f.autovivExptime);
          won = true;
        }
        break;
      case 0x52: // R
        if (!created && cache.recacheWins(h, f.recacheTime)) won = true;
        break;
      case 0x73: // s
        flagChar(out, 0x73);
        out.decimal(vlen);
        break;
      case 0x74: // t
        flagChar(out, 0x74);
        ttlValue(out, e.exptime(h), now);
        break;
      case 0x63: // c
        flagChar(out, 0x63);
        out.decimal(e.cas(h));
        break;
      case 0x66: // f
        flagChar(out, 0x66);
        out.decimal(e.flags(h));
        break;
      case 0x6c: // l
        flagChar(out, 0x6c);
        out.decimal((now - e.time(h)) >>> 0);
        break;
      case 0x68: // h
        flagChar(out, 0x68);
        out.byte((e.bits(h) & ItemBits.fetched) !== 0 ? 0x31 : 0x30);
        break;
      case 0x4f: // O
        if (!opaqueToken(out, buf, st, t.end[i])) {
          out.len = mark;
          return out.bytes(M.opaqueTooLong);
        }
        break;
      case 0x6b: {
        // k
        const ks = e.keyStart(h);
        keyToken(out, e.keyBuffer(h), ks, ks + e.keyLength(h), (e.bits(h) & KEY_BINARY_BIT) !== 0);
        break;
      }
    }
  }
  const tokens = cache.winTokens(h, won);
  if ((tokens & WinToken.alreadySent) !== 0) flagChar(out, 0x5a);
  if ((tokens & WinToken.stale) !== 0) flagChar(out, 0x58);
  if ((tokens & WinToken.won) !== 0) flagChar(out, 0x57);
  out.crlf();
  if (f.value) {
    e.readValue(h, out);
    out.crlf();
  }
  if (!f.noUpdate) cache.bump(h, !ttlSet);
  else if (!ttlSet) cache.countHit(h);
  cache.countMetaGet(h, ttlSet);
}
