import { setTimeout as sleep } from "node:timers/promises";
import { parseBenchArgs } from "./lib/cli.ts";
import { stats } from "./lib/client.ts";
import { memory } from "./lib/proc.ts";
import { ratio, table } from "./lib/report.ts";
import { type BenchServer, startMemcached, startOurs } from "./lib/servers.ts";
import { runLoad } from "./load.ts";

const HELP = `Usage: node bench/memory.ts [options]
Loads N items into a fresh memcached-ts and a fresh memcached (same -m) and prints the RSS growth
per item, (RSS loaded - RSS empty) / items, and the ratio ours/memcached.

  --items LIST       item counts, one run each (1000000,100000)
  --value-size LIST  value sizes paired with --items (100,1024)
  --key-size N       key length in bytes (16)
  --memory MB        -m for both servers; must hold every item (1024)
  --help             this text
`;

const v = parseBenchArgs(HELP, {
  items: { type: "string", default: "1000000,100000" },
  "value-size": { type: "string", default: "100,1024" },
  "key-size": { type: "string", default: "16" },
  memory: { type: "string", default: "1024" },
});
const counts = v.items.split(",").map(Number);
const sizes = v["value-size"].split(",").map(Number);
if (counts.length !== sizes.length) throw new Error("--items and --value-size need as many entries");
const keySize = Number(v["key-size"]);
const MB = 1024 * 1024;

interface Measured {
  stored: number;
  empty: number;
  loaded: number;
  peak: number;
}

async function measure(start: () => Promise<BenchServer>, items: number, valueSize: number): Promise<Measured> {
  const s = await start();
  try {
    await sleep(300);
    const empty = memory(s.pid).rss;
    // Each key once (seq): the item count is exact and nothing is overwritten.
    const r = await runLoad({ port: s.port, dist: "seq", keys: items, ops: items, getRatio: 0, keySize, valueSize, workers: 1, conns: 4, depth: 64, seconds: 600 });
    if (r.errors > 0) throw new Error(`${s.name}: ${r.errors} failed sets, first: ${r.firstError}`);
    // Let the server finish what the load left behind (freed buffers, a GC) before reading RSS.
    await sleep(1000);
    const stored = Number((await stats(s.port)).get("curr_items"));
    const { rss, peak } = memory(s.pid);
    return { stored, empty, loaded: rss, peak };
  } finally {
    await s.stop();
  }
}

const rows = [["items x value", "server", "stored", "RSS empty MB", "RSS loaded MB", "peak MB", "B/item", "ours/memcached"]];
const m = ["-m", v.memory];
for (let i = 0; i < counts.length; i++) {
  const [items, valueSize] = [counts[i], sizes[i]];
  const ours = await measure(() => startOurs(m), items, valueSize);
  const theirs = await measure(() => startMemcached(m, "memcached"), items, valueSize);
  const perItem = (x: Measured): number => (x.loaded - x.empty) / items;
  for (const [name, x] of [["memcached-ts", ours], ["memcached", theirs]] as const) {
    rows.push([`${items} x ${valueSize} B`, name, String(x.stored), (x.empty / MB).toFixed(1), (x.loaded / MB).toFixed(1), (x.peak / MB).toFixed(1), perItem(x).toFixed(0), name === "memcached" ? "" : ratio(perItem(ours), perItem(theirs))]);
  }
  for (const [name, x] of [["memcached-ts", ours], ["memcached", theirs]] as const) {
    if (x.stored !== items) process.stderr.write(`warning: ${name} holds ${x.stored} of ${items} items (evictions? raise --memory)\n`);
  }
}
process.stdout.write(`keys ${keySize} B, -m ${v.memory}\n${table(rows)}`);
