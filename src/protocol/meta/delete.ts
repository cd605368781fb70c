import { DeleteResult } from "../../store/cache.ts";
import type { TextSession } from "../text/session.ts";
import { type MetaFlags, type MetaKey, parseCommand } from "./flags.ts";
import { Code, M } from "./replies.ts";
import { echoTokens, setCode } from "./write.ts";

/**
 * md <key> <flags>*: memcached's process_mdelete_command. Any flag error is reported as
 * "invalid or duplicate flag"; the returned tokens are built before the item is looked up,
 * so an over-long opaque fails without touching the item.
 */
export function metaDelete(s: TextSession, buf: Uint8Array, f: MetaFlags, key: MetaKey): void {
  const t = s.tokens;
  const out = s.out;
  if (!parseCommand(s, buf, f, key, M.flagsTooLong, M.invalidOrDuplicateFlag)) return;
  const refused = s.writeRefusal();
  if (refused !== null) return out.bytes(refused);
  const cache = s.cache;
  const mark = out.len;
  out.bytes(M.hd);
  if (!echoTokens(out, buf, t, 2, key, f.keyBinary)) {
    out.len = mark;
    return out.bytes(M.opaqueTooLong);
  }
  out.crlf();
  const r = cache.metaDelete(key.buf, key.start, key.end, f.hasCas, f.reqCas, f.setStale, f.newTtl, f.exptime);
  if (r === DeleteResult.deleted) {
    if (f.noReply) out.len = mark;
  } else setCode(out, mark, r === DeleteResult.exists ? Code.EX : Code.NF);
}
