import { writeStats } from "../../stats/stats-text.ts";
import { type ParsedNumber, parseU32 } from "../numbers.ts";
import { R } from "./replies.ts";
import { Seg } from "../../store/arena.ts";
import type { TextSession } from "./session.ts";

/** memcached's MAX_NUMBER_OF_SLAB_CLASSES: the bound on `stats cachedump`'s class id. */
const MAX_SLAB_CLASSES = 64;

const num: ParsedNumber = { ok: false, value: 0 };
/** memcached's item_cachedump memlimit: the reply, END included, stays under 2 MB. */
const CACHEDUMP_LIMIT = 2 * 1024 * 1024;
/** memcached's reply under -X. */
const CACHEDUMP_DISABLED = Buffer.from("CLIENT_ERROR stats cachedump not allowed\r\n");


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
  if (!s.ctx.settings.dumpEnabled) return s.send(CACHEDUMP_DISABLED);
  const t = s.tokens;
  if (t.count < 5) return s.send(R.badCommandLine);
  if (!parseU32(buf, t.start[2], t.end[2], num).ok) return s.send(R.badFormat);
  const id = num.value;
  if (!parseU32(buf, t.start[3], t.end[3], num).ok) return s.send(R.badFormat);
  const limit = num.value;
  if (id >= MAX_SLAB_CLASSES) return s.send(R.illegalSlabId);
  const e = s.ctx.engine;
  const out = s.out;
  const start = out.len;
  let shown = 0;
  // As memcached's item_cachedump: the class's COLD LRU, newest first, dead items included
  // (they are listed until reaped), and at most 2 MB of reply.
  e.forEachInLru(id, Seg.cold, (h) => {
    if (limit !== 0 && shown >= limit) return false;
    const key = Buffer.from(e.keyBuffer(h).subarray(e.keyStart(h), e.keyStart(h) + e.keyLength(h))).toString("latin1");
    const line = `ITEM ${key} [${e.valueLength(h)} b; ${e.exptime(h)} s]\r\n`;
    if (out.len - start + line.length + 6 > CACHEDUMP_LIMIT) return false;
    shown++;
    out.ascii(line);
    return true;
  });
  s.out.bytes(R.end);
}
