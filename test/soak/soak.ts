import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad } from "../../bench/load.ts";
import { silentLogger } from "../../src/log.ts";
import { type RunningServer, startServer } from "../../src/server/server.ts";
import { parseCli } from "../../src/settings/cli.ts";
import { checkIntegrity } from "../../src/store/integrity.ts";
import { RawClient } from "../oracle/client.ts";

const MB = 1024 * 1024;
/** -m for the soak: small, so the load evicts all along. */
const MEMORY_MB = 32;
/**
 * The README's bound for RSS: ~95 MB for the process itself, -m, one page per class (39 MiB),
 * the hash table; plus room for the load generator's threads, which share this process, and
 * the persistence buffers.
 */
export const RSS_BOUND = (95 + MEMORY_MB + 39 + 16 + 120) * MB;

export interface SoakReport {
  seconds: number;
  requests: number;
  sideCommands: number;
  worstRss: number;
  items: number;
  snapshots: number;
}

async function talk(port: number, text: string, until: string): Promise<string> {
  const c = new RawClient(port);
  await c.send(text);
  const start = Date.now();
  let got = "";
  while (!got.endsWith(until) && Date.now() - start < 10_000) {
    await c.settle(20, 2000, 200);
    got += c.take().toString("latin1");
  }
  c.close();
  return got;
}

async function start(dir: string): Promise<RunningServer> {
  const parsed = parseCli(["-p", "0", "-l", "127.0.0.1", "-m", String(MEMORY_MB), "--aof", dir, "--compact-min-size", "8m", "--compact-ratio", "1"]);
  if (parsed.kind !== "run") throw new Error("bad args");
  return startServer(parsed.settings, silentLogger());
}

/**
 * A mixed workload at high concurrency for `seconds`: gets and sets of several sizes over more
 * keys than fit (eviction all along), plus a side client doing TTL sets, deletes, incr, meta
 * commands, delayed and immediate flush_all and snapshots, with persistence on. Then: the
 * server is up, RSS stayed under RSS_BOUND, `curr_items` equals what a metadump lists, the
 * integrity checker is clean, and a restart from the persistence files gives the same items.
 */
export async function soak(seconds: number): Promise<SoakReport> {
  const dir = mkdtempSync(join(tmpdir(), "mcts-soak-"));
  let server = await start(dir);
  let worstRss = 0;
  const sampler = setInterval(() => (worstRss = Math.max(worstRss, process.memoryUsage.rss())), 200);
  let sideCommands = 0;
  let running = true;
  try {
    const half = Date.now() + (seconds * 1000) / 2;
    const side = (async () => {
      const c = new RawClient(server.port);
      for (let i = 0; running; i++) {
        const k = `side${i % 500}`;
        const script = [
          `set ${k} 0 ${1 + (i % 3)} 5\r\nhello\r\n`,
          `set n${i % 50} 0 0 1\r\n7\r\nincr n${i % 50} 5\r\n`,
          `ms m${i % 200} 3 T2\r\nabc\r\nmg m${i % 100} v t\r\nmd m${(i + 7) % 200} q\r\nma n${i % 50}\r\n`,
          `delete ${k}\r\n`,
          // Flushes in the first half only, so the end has items to count and reload.
          Date.now() > half ? "mn\r\n" : i % 400 === 399 ? "flush_all 2\r\n" : i % 1000 === 999 ? "flush_all\r\n" : "mn\r\n",
          i % 300 === 150 ? "snapshot\r\n" : "",
        ].join("");
        await c.send(script);
        sideCommands += 8;
        await c.settle(2, 500, 50);
        c.take();
      }
      c.close();
    })();
    const load = await runLoad({ port: server.port, workers: 1, conns: 16, depth: 4, keys: 400_000, valueSize: 300, getRatio: 0.7, seconds });
    running = false;
    await side;
    // Let TTLs and the delayed flush run out, then have the crawler reclaim what expired, so
    // every item still linked is one a metadump lists.
    await new Promise((r) => setTimeout(r, 3500));
    for (let tries = 0; tries < 100 && (await talk(server.port, "lru_crawler crawl all\r\n", "\r\n")) !== "OK\r\n"; tries++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    while (/STAT lru_crawler_running 1/.test(await talk(server.port, "stats\r\n", "END\r\n"))) await new Promise((r) => setTimeout(r, 50));
    const p = server.ctx.persistence;
    while (p?.snapshotRunning === true) await new Promise((r) => setTimeout(r, 20));
    const stats = await talk(server.port, "stats\r\n", "END\r\n");
    const items = Number(/STAT curr_items (\d+)/.exec(stats)?.[1]);
    const dump = await talk(server.port, "lru_crawler metadump all\r\n", "END\r\n");
    const listed = dump.split("\n").filter((l) => l.startsWith("key=")).length;
    assert.equal(listed, items, `curr_items equals what a metadump lists: ${JSON.stringify(dump.slice(0, 200))}...${JSON.stringify(dump.slice(-100))}`);
    assert.deepEqual(checkIntegrity(server.ctx.engine), []);
    const snapshots = p?.snapshots.completed ?? 0;
    await server.close(true);
    server = await start(dir);
    // Evictions are not logged (README, Persistence): replay can bring back items the cache had
    // evicted, and under -m those can push out items it held. Only then may the count differ.
    const evicted = Number(/STAT recovery_evicted (\d+)/.exec(await talk(server.port, "stats persistence\r\n", "END\r\n"))?.[1]);
    if (evicted === 0) assert.equal(server.ctx.engine.count(), items, "a restart from the persistence files has the same items");
    else assert.ok(server.ctx.engine.count() >= items - evicted, `a restart holds ${server.ctx.engine.count()} of ${items} items, with ${evicted} evicted by replay`);
    assert.deepEqual(checkIntegrity(server.ctx.engine), []);
    assert.ok(worstRss < RSS_BOUND, `RSS reached ${(worstRss / MB).toFixed(0)} MB`);
    return { seconds, requests: load.requests, sideCommands, worstRss, items, snapshots };
  } finally {
    running = false;
    clearInterval(sampler);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
