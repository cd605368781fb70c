import type { Crawler } from "../../store/crawler.ts";
import { type Engine, ItemBits } from "../../store/engine.ts";
import { type ParsedNumber, parseU32 } from "../numbers.ts";
import type { OutBuffer } from "../out-buffer.ts";
import { reply } from "../out-buffer.ts";
import { R } from "./replies.ts";
import type { TextSession } from "./session.ts";

/** memcached's MAX_NUMBER_OF_SLAB_CLASSES: class ids a crawl may name are 1..63. */
const MAX_CLASSES = 64;
/** Metadump lines written per turn of the event loop. */
const DUMP_BATCH = 1000;

const L = {
  disabled: reply("CLIENT_ERROR lru crawler disabled\r\n"),
  dumpDisabled: reply("ERROR metadump not allowed\r\n"),
  pipelined: reply("ERROR cannot pipeline other commands before metadump\r\n"),
  busy: reply("BUSY currently processing crawler request\r\n"),
  badClass: reply("BADCLASS invalid class id\r\n"),
  notStarted: reply("NOTSTARTED no items to crawl\r\n"),
  startFailed: reply("ERROR failed to start lru crawler thread\r\n"),
  sleepTooLong: reply("CLIENT_ERROR sleep must be one second or less\r\n"),
  unknownError: reply("ERROR an unknown error happened\r\n"),
} as const;

const num: ParsedNumber = { ok: false, value: 0 };
/** Classes named by the command being parsed. */
const classes = new Uint8Array(MAX_CLASSES);
/** Bytes a URI-encoded key keeps as they are (memcached's uriencode: alnum and `-._~`). */
const URI_PLAIN = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  URI_PLAIN[c] = /[A-Za-z0-9._~-]/.test(ch) ? 1 : 0;
}
const HEX = Buffer.from("0123456789ABCDEF", "latin1");

/**
 * memcached's process_lru_crawler_command: `lru_crawler crawl|metadump <ids|all>`,
 * `sleep N`, `tocrawl N`, `enable`, `disable`, with its exact replies. These commands have
 * no noreply.
 */
export function lruCrawlerCommand(s: TextSession, buf: Uint8Array): void {
  const t = s.tokens;
  const crawler = s.ctx.crawler;
  if (t.count === 3) {
    if (t.is(buf, 1, "enable")) return s.send(crawler.enable() ? R.ok : L.startFailed);
    if (t.is(buf, 1, "disable")) {
      crawler.disable();
      return s.send(R.ok);
    }
    return s.send(R.error);
  }
  if (t.count !== 4) return s.send(R.error);
  if (t.is(buf, 1, "crawl") || t.is(buf, 1, "metadump")) {
    const dump = t.is(buf, 1, "metadump");
    if (!crawler.enabled) return s.send(L.disabled);
    if (dump && !s.ctx.settings.dumpEnabled) return s.send(L.dumpDisabled);
    // memcached streams a metadump from the connection's own output: replies queued before it
    // in the same read would interleave with it, so it refuses.
    if (dump && s.writes.hasUnwritten()) return s.send(L.pipelined);
    // "hash" walks the hash table in memcached, in an order nobody can rely on: dump everything.
    // memcached accepts it for crawl as well, then fails to start the crawl.
    const hash = t.is(buf, 2, "hash");
    if (!parseClasses(buf, t.start[2], t.end[2], hash || t.is(buf, 2, "all"))) return s.send(L.badClass);
    if (crawler.running) return s.send(L.busy);
    if (hash && !dump) return s.send(L.unknownError);
    if (!classes.includes(1)) return s.send(L.notStarted);
    // memcached's crawler writes a dump to the client's socket itself, which an unconnected
    // UDP socket refuses: over UDP the client hears nothing.
    if (dump && s.writes.framer !== null) return;
    if (dump) return metadump(s, crawler);
    crawler.start(classes, s.cache.now());
    return s.send(R.ok);
  }
  if (t.is(buf, 1, "tocrawl") || t.is(buf, 1, "sleep")) {
    if (!parseU32(buf, t.start[2], t.end[2], num).ok) return s.send(R.badFormat);
    if (t.is(buf, 1, "tocrawl")) crawler.tocrawl = num.value;
    else if (num.value > 1_000_000) return s.send(L.sleepTooLong);
    else crawler.sleep = num.value;
    return s.send(R.ok);
  }
  s.send(R.error);
}

/**
 * Fills `classes` with every class, or from a comma-separated list of ids (empty entries are
 * skipped, as strtok does). False on an id outside 1..63.
 */
function parseClasses(buf: Uint8Array, start: number, end: number, all: boolean): boolean {
  classes.fill(0);
  if (all) {
    classes.fill(1, 1);
    return true;
  }
  let from = start;
  for (let i = start; i <= end; i++) {
    if (i < end && buf[i] !== 0x2c) continue;
    if (i > from) {
      if (!parseU32(buf, from, i, num).ok || num.value < 1 || num.value >= MAX_CLASSES) return false;
      classes[num.value] = 1;
    }
    from = i + 1;
  }
  return true;
}

/**
 * Prints the items in memcached's order, DUMP_BATCH lines per turn of the event loop (the
 * session's producer), so a dump of millions of items neither stalls other clients nor
 * builds one huge reply. Items gone since the order was taken are left out.
 */
function metadump(s: TextSession, crawler: Crawler): void {
  const order = crawler.dump(classes);
  const e = s.cache.engine;
  let next = 0;
  const produce = (out: OutBuffer): boolean => {
    const now = s.cache.now();
    const end = Math.min(order.length, next + DUMP_BATCH);
    for (; next < end; next++) if (crawler.isLive(order[next], now)) dumpLine(e, out, order[next]);
    if (next < order.length) return false;
    out.bytes(R.end);
    return true;
  };
  if (!produce(s.out)) s.producer = produce;
}

/** One metadump line, as memcached's crawler_metadump_eval prints it (ending in a bare \n). */
function dumpLine(e: Engine, out: OutBuffer, h: number): void {
  const kb = e.keyBuffer(h);
  const ks = e.keyStart(h);
  const kl = e.keyLength(h);
  out.ensure(kl * 3 + 160);
  out.ascii("key=");
  for (let i = ks; i < ks + kl; i++) {
    const c = kb[i];
    if (URI_PLAIN[c] === 1) out.byte(c);
    else {
      out.byte(0x25);
      out.byte(HEX[c >> 4]);
      out.byte(HEX[c & 15]);
    }
  }
  const exp = e.exptime(h);
  out.ascii(exp === 0 ? " exp=-1 la=" : ` exp=${exp} la=`);
  out.decimal(e.time(h));
  out.ascii(" cas=");
  out.decimal(e.cas(h));
  out.ascii((e.bits(h) & ItemBits.fetched) !== 0 ? " fetch=yes cls=" : " fetch=no cls=");
  out.decimal(e.slabClass(h));
  out.ascii(" size=");
  out.decimal(e.totalSize(h));
  out.byte(0x0a);
}
