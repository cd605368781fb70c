import { writeStats } from "../../stats/stats-text.ts";
import { type ParsedNumber, parseU32 } from "../numbers.ts";
import { R } from "./replies.ts";
import type { TextSession } from "./session.ts";

/** memcached's MAX_NUMBER_OF_SLAB_CLASSES: the bound on `stats cachedump`'s class id. */
const MAX_SLAB_CLASSES = 64;

const num: ParsedNumber = { ok: false, value: 0 };
/** memcached's item_cachedump memlimit: the reply, END included, stays under 2 MB. */
const CACHEDUMP_LIMIT = 2 * 1024 * 1024;


/** `stats [group]` in the text protocol (memcached's process_stat). */
export function statsCommand(s: TextSession, buf: Uint8Array): void {
  const t = s.tokens;
  if (t.count === 2) {
    writeStats(s.ctx, "", s.out);
    return;
  }
  const sub = tokenString(s, buf, 1);
  if (sub === "reset") {
    s.cache.resetStats();
    s.ctx.loopDelay.reset();
    s.ctx.prefixStats.clear();
    return s.send(R.reset);
  }
  if (sub === "detail") return statsDetail(s, t.count < 4 ? "" : tokenString(s, buf, 2));
  if (sub === "cachedump") return cachedump(s, buf);
  if (!writeStats(s.ctx, sub, s.out)) s.send(R.error);
}

function tokenString(s: TextSession, buf: Uint8Array, i: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + s.tokens.start[i], s.tokens.length(i)).toString("latin1");
}

function statsDetail(s: TextSession, sub: string): void {
  const prefix = s.ctx.prefixStats;
  if (sub === "on" || sub === "off") {
    prefix.enabled = sub === "on";
    return s.send(R.ok);
  }
  if (sub === "dump") return s.out.ascii(prefix.dump());
  s.send(R.detailUsage);
}

/** `stats cachedump <class> <limit>`: keys of one slab class (limit 0 = all). */
function cachedump(s: TextSession, buf: Uint8Array): void {
  const t = s.tokens;
  if (t.count < 5) return s.send(R.badCommandLine);
  if (!parseU32(buf, t.start[2], t.end[2], num).ok) return s.send(R.badFormat);
  const id = num.value;
  if (!parseU32(buf, t.start[3], t.end[3], num).ok) return s.send(R.badFormat);
  const limit = num.value;
  if (id >= MAX_SLAB_CLASSES) return s.send(R.illegalSlabId);
  const cache = s.cache;
  const e = cache.engine;
  const out = s.out;
  const start = out.len;
  let shown = 0;
  // At most memcached's 2 MB of reply (item_cachedump's memlimit), so a cachedump of a huge
  // class cannot build an unbounded reply.
  let full = false;
  e.forEach((h) => {
    if (full || e.slabClass(h) !== id || (limit !== 0 && shown >= limit) || cache.isDead(h)) return;
    const key = Buffer.from(e.keyBuffer(h).subarray(e.keyStart(h), e.keyStart(h) + e.keyLength(h))).toString("latin1");
    const line = `ITEM ${key} [${e.valueLength(h)} b; ${e.exptime(h)} s]\r\n`;
    if (out.len - start + line.length + 6 > CACHEDUMP_LIMIT) {
      full = true;
      return;
    }
    shown++;
    out.ascii(line);
  });
  s.out.bytes(R.end);
}
