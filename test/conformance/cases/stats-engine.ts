import type { Case } from "../conversation.ts";

const v200 = "v".repeat(200);

/**
 * `stats items`, `stats slabs`, `stats sizes`, the `lru_crawler` commands and metadump, over
 * the slab engine. Our item header is 44 bytes where memcached's is 56 (+4 with flags), so an
 * item can land in a smaller class here; every item below is sized so that both servers put
 * it in the same class: key "a" with 1 byte (46 here, 61 there: class 1, 96-byte chunks),
 * "b" with flags and 10 bytes (55 / 74: class 1) and "c" with 200 bytes (245 / 260: class 6,
 * 304-byte chunks). Cases that print LRU segments first sleep past memcached's maintainer
 * thread, which moves new items from HOT to COLD within a second (ours does it at once).
 * LRU ages and metadump times are normalized in conversation.ts.
 */
/** memcached crawls every class once at start-up; a crawl command during that one is BUSY. */
const afterStartupCrawl = { sleep: 200 };
const threeItems = ["set a 0 0 1\r\nx\r\n", "set b 5 100 10\r\n0123456789\r\n", `set c 0 0 200\r\n${v200}\r\n`];

export const statsEngine: Case[] = [
  { name: "stats items slabs sizes when empty", steps: ["stats items\r\n", "stats slabs\r\n", "stats sizes\r\n"] },
  { name: "stats items and slabs with items in two classes", steps: [...threeItems, { sleep: 1200 }, "stats items\r\n", "stats slabs\r\n"] },
  {
    name: "stats slabs per-class command counters",
    steps: [
      ...threeItems,
      "set n 0 0 1\r\n5\r\n",
      "set bad 0 0 1\r\nxy\r\n",
      "get a b c nope\r\n",
      "gets n\r\n",
      "incr n 3\r\n",
      "decr n 1\r\n",
      "touch c 100\r\n",
      "gat 100 a\r\n",
      "cas n 0 0 1 999\r\n1\r\n",
      "cas b 0 0 1 2\r\n1\r\n",
      "delete c\r\n",
      "delete nope\r\n",
      { sleep: 1200 },
      "stats slabs\r\n",
    ],
  },
  { name: "stats reset zeroes per-class counters", steps: [...threeItems, "get a\r\n", "delete c\r\n", "stats reset\r\n", { sleep: 1200 }, "stats slabs\r\n", "stats items\r\n"] },
  {
    name: "stats sizes enable and disable",
    steps: ["set a 0 0 1\r\nx\r\n", "stats sizes_enable\r\n", "stats sizes\r\n", "set b 5 0 10\r\n0123456789\r\n", `set c 0 0 200\r\n${v200}\r\n`, "set d 0 0 1\r\ny\r\n", "gets d\r\n", "stats sizes\r\n", "stats sizes_enable\r\n", "stats sizes_disable\r\n", "stats sizes\r\n", "stats sizes_disable\r\n"],
  },
  {
    name: "lru_crawler argument errors",
    steps: [
      afterStartupCrawl,
      "lru_crawler\r\n",
      "lru_crawler foo\r\n",
      "lru_crawler crawl\r\n",
      "lru_crawler crawl 1 2\r\n",
      "lru_crawler crawl all noreply\r\n",
      "lru_crawler crawl 0\r\n",
      "lru_crawler crawl 64\r\n",
      "lru_crawler crawl x\r\n",
      "lru_crawler crawl -1\r\n",
      "lru_crawler crawl 1,x\r\n",
      "lru_crawler crawl hash\r\n",
      "lru_crawler crawl ,\r\n",
      "lru_crawler metadump 99\r\n",
      "lru_crawler metadump all,1\r\n",
      "lru_crawler metadump hash,1\r\n",
      "lru_crawler sleep x\r\n",
      "lru_crawler sleep 1000001\r\n",
      "lru_crawler sleep 1000000\r\n",
      "lru_crawler sleep 0\r\n",
      "lru_crawler tocrawl -1\r\n",
      "lru_crawler tocrawl 0x10\r\n",
      "lru_crawler tocrawl 5000000000\r\n",
      "lru_crawler tocrawl 0\r\n",
    ],
  },
  { name: "lru_crawler crawl lists", steps: [afterStartupCrawl, "lru_crawler crawl all\r\n", "lru_crawler crawl 1,2\r\n", "lru_crawler crawl 63\r\n", "lru_crawler crawl 1,\r\n", "lru_crawler crawl ,1\r\n", "lru_crawler crawl 01\r\n"] },
  // memcached's crawler thread is still busy with the first crawl when the second one is read.
  { name: "lru_crawler off at start-up", args: ["-o", "no_lru_crawler"], steps: ["lru_crawler crawl 1\r\n", "lru_crawler metadump all\r\n", "lru_crawler disable\r\n", "lru_crawler enable\r\n", "lru_crawler metadump all\r\n"] },
  {
    name: "lru_crawler disable and enable",
    steps: [afterStartupCrawl, "lru_crawler enable\r\n", "lru_crawler disable\r\n", "lru_crawler disable\r\n", "lru_crawler crawl all\r\n", "lru_crawler metadump all\r\n", "lru_crawler metadump 99\r\n", "lru_crawler enable\r\n", "lru_crawler crawl 1\r\n"],
  },
  // Whether the crawler or memcached's LRU maintainer (at a segment's tail) reclaims an
  // expired item is a race there, so the counters are checked by the unit tests instead.
  { name: "lru_crawler crawl drops expired items", steps: ["set a 0 1 1\r\nx\r\n", "set b 0 0 1\r\nx\r\n", { sleep: 2200 }, "lru_crawler crawl 1\r\n", { sleep: 200 }, "lru_crawler metadump all\r\n", "get a b\r\n"] },
  { name: "lru_crawler metadump", steps: [...threeItems, "set k%20\xff 0 0 1\r\nx\r\n", { sleep: 1200 }, "lru_crawler metadump all\r\n", "lru_crawler metadump 1\r\n", "lru_crawler metadump 6\r\n", "lru_crawler metadump 6,1\r\n", "lru_crawler metadump 2\r\n", "stats items\r\n"] },
  // Not as the first command: memcached's first autocrawl may still be running then (BUSY).
  { name: "lru_crawler metadump hash", steps: ["set b 5 100 10\r\n0123456789\r\n", "lru_crawler metadump hash\r\n"] },
  { name: "lru_crawler metadump after a get in the same packet", steps: ["set a 0 0 1\r\nx\r\n", "get a\r\nlru_crawler metadump all\r\n"] },
  { name: "lru_crawler metadump skips expired items", steps: ["set a 0 1 1\r\nx\r\n", "set b 0 0 1\r\nx\r\n", { sleep: 2200 }, "lru_crawler metadump all\r\n"] },
];
