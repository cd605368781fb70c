import assert from "node:assert/strict";
import { test } from "node:test";
import { OutBuffer } from "../../src/protocol/out-buffer.ts";
import { TextSession } from "../../src/protocol/text/session.ts";
import { silentLogger } from "../../src/log.ts";
import { type RunningServer, startServer } from "../../src/server/server.ts";
import { parseCli } from "../../src/settings/cli.ts";
import { ManualClock } from "../../src/store/clock.ts";
import { SlabEngine } from "../../src/store/slab-engine.ts";
import { RawClient } from "../oracle/client.ts";
import { startOurs } from "../oracle/servers.ts";

/**
 * The stats families and lru_crawler replies, driven through a text session on a server whose
 * clock only moves when the test says so (ages, metadump times and expiry are exact).
 */
async function fresh(): Promise<{ server: RunningServer; clock: ManualClock; send: (s: string) => string; stop: () => Promise<void> }> {
  const clock = new ManualClock(1_800_000_000);
  const t = await startOurs([], clock);
  const out = new OutBuffer();
  const session = new TextSession(t.server.ctx, out);
  const send = (s: string): string => {
    const b = Buffer.from(s, "latin1");
    session.consume(b, 0, b.length);
    const r = out.buf.subarray(0, out.len).toString("latin1");
    out.len = 0;
    return r;
  };
  return { server: t.server, clock, send, stop: t.stop };
}

function stats(reply: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of reply.split("\r\n")) {
    const p = line.split(" ");
    if (p[0] === "STAT") m.set(p[1], p[2]);
  }
  return m;
}

function engineOf(server: RunningServer): SlabEngine {
  const e = server.ctx.cache.engine;
  assert.ok(e instanceof SlabEngine);
  return e;
}

test("stats items: per class counts, segments, ages from the clock and mem_requested", async () => {
  const t = await fresh();
  try {
    assert.equal(t.send("stats items\r\n"), "END\r\n");
    t.send("set a 0 0 1\r\nx\r\nset b 5 100 10\r\n0123456789\r\n");
    t.send(`set c 0 0 200\r\n${"v".repeat(200)}\r\n`);
    t.clock.advance(7);
    engineOf(t.server).maintain(t.clock.now());
    const reply = t.send("stats items\r\n");
    const names = reply.split("\r\n").filter((l) => l.startsWith("STAT items:1:")).map((l) => l.split(" ")[1].slice("items:1:".length));
    assert.deepEqual(names.slice(0, 8), ["number", "number_hot", "number_warm", "number_cold", "age_hot", "age_warm", "age", "mem_requested"]);
    assert.equal(names.length, 8 + 20);
    assert.equal(names.at(-1), "hits_to_temp");
    const s = stats(reply);
    assert.equal(s.get("items:1:number"), "2");
    assert.equal(s.get("items:1:number_cold"), "2");
    assert.equal(s.get("items:1:age"), "7");
    assert.equal(s.get("items:1:mem_requested"), String(61 + 74));
    assert.equal(s.get("items:6:number"), "1");
    assert.equal(s.get("items:6:mem_requested"), "260");
    assert.equal(s.has("items:2:number"), false);
    assert.ok(reply.endsWith("END\r\n"));
  } finally {
    await t.stop();
  }
});

test("stats slabs: pages and chunks per class, per-class command counters, totals", async () => {
  const t = await fresh();
  try {
    assert.equal(t.send("stats slabs\r\n"), "STAT active_slabs 0\r\nSTAT total_malloced 0\r\nEND\r\n");
    t.send("set a 0 0 1\r\nx\r\nset n 0 0 1\r\n5\r\n");
    t.send(`set c 0 0 200\r\n${"v".repeat(200)}\r\n`);
    t.send("get a c nope\r\nincr n 2\r\ndecr n 1\r\ntouch c 10\r\ngat 10 a\r\ncas n 0 0 1 999\r\n1\r\ncas n 0 0 1 5\r\n2\r\ndelete a\r\n");
    const s = stats(t.send("stats slabs\r\n"));
    assert.equal(s.get("1:chunk_size"), "96");
    assert.equal(s.get("1:chunks_per_page"), "10922");
    assert.equal(s.get("1:total_pages"), "1");
    assert.equal(s.get("1:total_chunks"), "10922");
    assert.equal(s.get("1:used_chunks"), "1");
    assert.equal(s.get("1:free_chunks"), "10921");
    assert.equal(s.get("1:free_chunks_end"), "0");
    assert.equal(s.get("1:get_hits"), "1");
    assert.equal(s.get("1:cmd_set"), "4");
    assert.equal(s.get("1:delete_hits"), "1");
    assert.equal(s.get("1:incr_hits"), "1");
    assert.equal(s.get("1:decr_hits"), "1");
    assert.equal(s.get("1:cas_hits"), "1");
    assert.equal(s.get("1:cas_badval"), "1");
    assert.equal(s.get("1:touch_hits"), "1");
    assert.equal(s.get("6:get_hits"), "1");
    assert.equal(s.get("6:touch_hits"), "1");
    assert.equal(s.get("active_slabs"), "2");
    assert.equal(s.get("total_malloced"), String(2 * 1024 * 1024));
    t.send("stats reset\r\n");
    const r = stats(t.send("stats slabs\r\n"));
    assert.equal(r.get("1:get_hits"), "0");
    assert.equal(r.get("1:used_chunks"), "1");
  } finally {
    await t.stop();
  }
});

test("stats sizes: off by default; enabling takes a CAS and counts only later items", async () => {
  const t = await fresh();
  try {
    assert.equal(t.send("stats sizes\r\n"), "STAT sizes_status disabled\r\nEND\r\n");
    t.send("set a 0 0 1\r\nx\r\n");
    assert.equal(t.send("stats sizes_enable\r\n"), "STAT sizes_status enabled\r\n");
    assert.equal(t.send("stats sizes\r\n"), "END\r\n");
    t.send("set b 0 0 1\r\nx\r\nset c 5 0 10\r\n0123456789\r\n");
    assert.match(t.send("gets b\r\n"), /^VALUE b 0 1 3\r\n/);
    assert.equal(t.send("stats sizes\r\n"), "STAT 64 1\r\nSTAT 96 1\r\nEND\r\n");
    assert.equal(t.send("stats sizes_disable\r\n"), "STAT sizes_status disabled\r\n");
    assert.equal(t.send("stats sizes\r\n"), "STAT sizes_status disabled\r\nEND\r\n");
  } finally {
    await t.stop();
  }
});

test("lru_crawler settings show in stats settings", async () => {
  const t = await fresh();
  try {
    const before = stats(t.send("stats settings\r\n"));
    assert.equal(before.get("lru_crawler"), "yes");
    assert.equal(before.get("lru_crawler_sleep"), "100");
    assert.equal(before.get("lru_crawler_tocrawl"), "0");
    assert.equal(t.send("lru_crawler sleep 50\r\nlru_crawler tocrawl 5000000000\r\nlru_crawler disable\r\n"), "OK\r\nOK\r\nOK\r\n");
    const s = stats(t.send("stats settings\r\n"));
    assert.equal(s.get("lru_crawler"), "no");
    assert.equal(s.get("lru_crawler_sleep"), "50");
    assert.equal(s.get("lru_crawler_tocrawl"), "705032704");
  } finally {
    await t.stop();
  }
});

test("a crawl shows in stats: starts, running until the next tick, reclaimed and checked", async () => {
  const t = await fresh();
  try {
    const crawler = t.server.ctx.crawler;
    while (crawler.running) crawler.tick(t.clock.now());
    const starts = crawler.starts;
    t.send("set a 0 5 1\r\nx\r\nset b 0 0 1\r\nx\r\n");
    t.clock.advance(6);
    assert.equal(t.send("lru_crawler crawl 1\r\n"), "OK\r\n");
    let s = stats(t.send("stats\r\n"));
    assert.equal(s.get("lru_crawler_running"), "1");
    assert.equal(s.get("lru_crawler_starts"), String(starts + 1));
    assert.equal(s.get("crawler_reclaimed"), "1");
    assert.equal(s.get("crawler_items_checked"), "2");
    assert.equal(s.get("expired_unfetched"), "1");
    assert.equal(s.get("curr_items"), "1");
    assert.equal(t.send("lru_crawler crawl 1\r\n"), "BUSY currently processing crawler request\r\n");
    crawler.tick(t.clock.now());
    s = stats(t.send("stats\r\n"));
    assert.equal(s.get("lru_crawler_running"), "0");
    const items = stats(t.send("stats items\r\n"));
    assert.equal(items.get("items:1:crawler_reclaimed"), "1");
    assert.equal(items.get("items:1:crawler_items_checked"), "2");
    assert.equal(items.get("items:1:expired_unfetched"), "1");
  } finally {
    await t.stop();
  }
});

test("metadump prints absolute times, CAS, fetch state, class and size; keys URI-encoded", async () => {
  const t = await fresh();
  try {
    const now = t.clock.now();
    t.send("set k%20\xff 0 0 1\r\nx\r\n");
    t.send("set b 5 100 10\r\n0123456789\r\n");
    t.send("get b\r\n");
    t.send("set gone 0 1 1\r\nx\r\n");
    t.clock.advance(2);
    assert.equal(
      t.send("lru_crawler metadump 1\r\n"),
      `key=k%2520%FF exp=-1 la=${now} cas=1 fetch=no cls=1 size=65\n` + `key=b exp=${now + 100} la=${now} cas=2 fetch=yes cls=1 size=74\n` + "END\r\n",
    );
    assert.equal(t.send("lru_crawler metadump 2\r\n"), "END\r\n");
    assert.equal(t.send("lru_crawler metadump hash\r\n").split("\n").length, 4);
    assert.equal(t.send("lru_crawler disable\r\nlru_crawler metadump all\r\n"), "OK\r\nCLIENT_ERROR lru crawler disabled\r\n");
  } finally {
    await t.stop();
  }
});

test("a long metadump is written in batches, then the commands after it run", async () => {
  for (const readMode of ["onread", "data"] as const) {
    const parsed = parseCli(["-p", "0", "-l", "127.0.0.1"]);
    assert.equal(parsed.kind, "run");
    const server = await startServer(parsed.settings, silentLogger(), { readMode });
    const client = new RawClient(server.port);
    try {
      let sets = "";
      for (let i = 0; i < 2500; i++) sets += `set key${i} 0 0 1\r\nx\r\n`;
      await client.send(sets);
      await client.waitBytes(2500 * "STORED\r\n".length);
      client.take();
      // An autocrawl may start at any maintenance tick; a dump asked for meanwhile is BUSY, as
      // in memcached, so ask again until the crawler is free.
      let reply = "";
      for (let attempt = 0; attempt < 50; attempt++) {
        while (server.ctx.crawler.running) await new Promise((r) => setTimeout(r, 10));
        await client.send("lru_crawler metadump all\r\nget key7\r\nversion\r\n");
        await client.settle(100, 10000);
        reply = client.take().toString("latin1");
        if (!reply.startsWith("BUSY ")) break;
      }
      const lines = reply.split("\n");
      assert.equal(lines.filter((l) => l.startsWith("key=")).length, 2500, readMode);
      assert.equal(new Set(lines.filter((l) => l.startsWith("key=")).map((l) => l.split(" ")[0])).size, 2500);
      assert.match(reply, /\nEND\r\nVALUE key7 0 1\r\nx\r\nEND\r\nVERSION \S+\r\n$/);
    } finally {
      client.close();
      await server.close();
    }
  }
});

test("-o no_lru_crawler, lru_crawler_sleep and lru_crawler_tocrawl set the crawler's start state", async () => {
  const t = await startOurs(["-o", "no_lru_crawler,lru_crawler_sleep=50,lru_crawler_tocrawl=9"]);
  try {
    const session = new TextSession(t.server.ctx, new OutBuffer());
    const send = (line: string): string => {
      const b = Buffer.from(line, "latin1");
      session.consume(b, 0, b.length);
      const r = session.out.buf.subarray(0, session.out.len).toString("latin1");
      session.out.len = 0;
      return r;
    };
    const s = stats(send("stats settings\r\n"));
    assert.deepEqual([s.get("lru_crawler"), s.get("lru_crawler_sleep"), s.get("lru_crawler_tocrawl")], ["no", "50", "9"]);
    assert.equal(send("lru_crawler crawl all\r\n"), "CLIENT_ERROR lru crawler disabled\r\n");
    assert.equal(send("lru_crawler enable\r\nlru_crawler crawl all\r\n"), "OK\r\nOK\r\n");
  } finally {
    await t.stop();
  }
  assert.throws(() => parseCli(["-o", "lru_crawler_sleep=1000001"]), /lru_crawler_sleep/);
  assert.throws(() => parseCli(["-o", "lru_crawler_tocrawl=x"]), /lru_crawler_tocrawl/);
});

test("stats lru_bumps_dropped counts COLD hits that found the bump queue full; moves_within_lru sums the classes", async () => {
  const t = await fresh();
  try {
    const e = engineOf(t.server);
    const n = 8000;
    let sets = "";
    for (let i = 0; i < n; i++) sets += `set k${i} 0 0 1\r\nx\r\n`;
    t.send(sets);
    for (let i = 0; i < 200; i++) e.maintain(t.clock.now());
    assert.equal(stats(t.send("stats\r\n")).get("lru_bumps_dropped"), "0");
    // Every COLD item hit twice in one go, with no maintenance tick between: more than the queue holds.
    let gets = "";
    for (let i = 0; i < n; i++) gets += `get k${i}\r\nget k${i}\r\n`;
    t.send(gets);
    const dropped = Number(stats(t.send("stats\r\n")).get("lru_bumps_dropped"));
    assert.ok(dropped > 0, `some bumps dropped (${dropped})`);
    assert.equal(dropped, e.stats.lruBumpsDropped);
    // The moved items, hit again in WARM, are rescued at its tail: `stats` sums the classes' counts.
    e.maintain(t.clock.now());
    t.send(gets);
    for (let i = 0; i < 5; i++) e.maintain(t.clock.now());
    const within = stats(t.send("stats\r\n")).get("moves_within_lru");
    const perClass = [...stats(t.send("stats items\r\n"))].filter(([k]) => k.endsWith(":moves_within_lru")).reduce((n, [, v]) => n + Number(v), 0);
    assert.ok(perClass > 0, `rescues counted per class (${perClass})`);
    assert.equal(within, String(perClass));
  } finally {
    await t.stop();
  }
});
