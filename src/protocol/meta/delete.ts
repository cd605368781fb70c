import { DeleteResult } from "../../store/cache.ts";
import { R } from "../text/replies.ts";
import { KEY_MAX_LENGTH, type TextSession } from "../text/session.ts";
import { MAX_META_TOKENS, MAX_OPAQUE_TOKEN, type MetaFlags, type MetaKey } from "./flags.ts";
import { Code, M } from "./replies.ts";
import { keyToken, opaqueToken, setCode } from "./write.ts";

/**
 * md <key> <flags>*: memcached's process_mdelete_command. Any flag error is reported as
 * "invalid or duplicate flag"; the returned tokens are built before the item is looked up,
 * so an over-long opaque fails without touching the item.
 */
export function metaDelete(s: TextSession, buf: Uint8Array, f: MetaFlags, key: MetaKey): void {
  const t = s.tokens;
  const out = s.out;
  const n = t.count;
  if (n < 3) return out.bytes(R.error);
  if (t.length(1) > KEY_MAX_LENGTH) return out.bytes(M.badFormat);
  if (n > MAX_META_TOKENS) return out.bytes(M.flagsTooLong);
  const cache = s.cache;
  if (!f.parse(buf, t, 2, key, cache)) return out.bytes(M.invalidOrDuplicateFlag);
  const mark = out.len;
  out.bytes(M.hd);
  const last = n - 1;
  for (let i = 2; i < last; i++) {
    const st = t.start[i];
    const c = buf[st];
    if (c === 0x4f) {
      if (t.end[i] - st > MAX_OPAQUE_TOKEN) {
        out.len = mark;
        return out.bytes(M.opaqueTooLong);
      }
      opaqueToken(out, buf, st, t.end[i]);
    } else if (c === 0x6b) keyToken(out, key.buf, key.start, key.end, f.keyBinary);
  }
  out.crlf();
  const r = cache.metaDelete(key.buf, key.start, key.end, f.hasCas, f.reqCas, f.setStale, f.newTtl, f.exptime);
  if (r === DeleteResult.deleted) {
    if (f.noReply) out.len = mark;
  } else setCode(out, mark, r === DeleteResult.exists ? Code.EX : Code.NF);
}
