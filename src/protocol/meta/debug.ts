import { KEY_MAX_LENGTH, type TextSession } from "../text/session.ts";
import { R } from "../text/replies.ts";
import { KEY_BINARY_BIT } from "../../store/cache.ts";
import { ItemBits } from "../../store/engine.ts";
import { base64Decode, base64Encode, base64EncodedLength } from "./base64.ts";
import type { MetaKey } from "./flags.ts";
import { M } from "./replies.ts";

/**
 * me <key> [b]: memcached's human-readable item dump. Only a `b` right after the key counts;
 * other tokens are ignored. `exp` is printed as memcached 1.6.18 prints it: now - exptime,
 * so an item with 30 s left shows exp=-30.
 */
export function metaDebug(s: TextSession, buf: Uint8Array, key: MetaKey): void {
  const t = s.tokens;
  const out = s.out;
  if (t.count < 3 || t.length(1) > KEY_MAX_LENGTH) return out.bytes(R.badFormat);
  key.buf = buf;
  key.start = t.start[1];
  key.end = t.end[1];
  if (t.count >= 4 && t.length(2) === 1 && buf[t.start[2]] === 0x62) {
    const n = base64Decode(buf, key.start, key.end, key.decoded, 0);
    if (n === 0) return out.bytes(R.badFormat);
    key.buf = key.decoded;
    key.start = 0;
    key.end = n;
  }
  const cache = s.cache;
  const h = cache.lookup(key.buf, key.start, key.end, false);
  cache.counters.cmdMeta++;
  if (h < 0) return out.bytes(M.enLine);
  const e = cache.engine;
  const now = cache.now();
  out.bytes(M.me);
  const ks = e.keyStart(h);
  const ke = ks + e.keyLength(h);
  if ((e.bits(h) & KEY_BINARY_BIT) !== 0) {
    out.ensure(base64EncodedLength(ke - ks));
    out.len = base64Encode(e.keyBuffer(h), ks, ke, out.buf, out.len);
  } else out.bytes(e.keyBuffer(h), ks, ke);
  const exp = e.exptime(h);
  const fetched = (e.bits(h) & ItemBits.fetched) !== 0;
  out.ascii(
    ` exp=${exp === 0 ? -1 : now - exp} la=${now - e.time(h)} cas=${e.cas(h)} fetch=${fetched ? "yes" : "no"}` +
      ` cls=${e.slabClass(h)} size=${e.totalSize(h)}\r\n`,
  );
}
