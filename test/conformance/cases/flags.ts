import type { Case } from "../conversation.ts";

const settings = (name: string, args: string[]): Case => ({ name: `stats settings ${name}`, args, steps: ["stats settings\r\n"] });
const big = "x".repeat(1024 * 1024 - 250);
const slow = (send: string): { send: string; quietMs: number } => ({ send, quietMs: 300 });

/** memcached's command-line flags: what each one changes, seen by a client. */
export const flagCases: Case[] = [
  settings("-o no_modern", ["-o", "no_modern"]),
  settings("-o no_modern then modern switches back on", ["-o", "no_modern,lru_maintainer,slab_reassign,maxconns_fast"]),
  settings("-o no_modern keeps a given slab_chunk_max", ["-o", "slab_chunk_max=524288,no_modern"]),
  settings("-o no_lru_maintainer no_slab_reassign no_maxconns_fast", ["-o", "no_lru_maintainer,no_slab_reassign,no_maxconns_fast"]),
  settings("-o hashpower idle_timeout tail_repair_time hash_algorithm", ["-o", "hashpower=20,idle_timeout=30,tail_repair_time=10,hash_algorithm=xxh3"]),
  settings("-C -X -W", ["-C", "-X", "-W"]),
  settings("-o switches memcached only shows", ["-o", "drop_privileges,no_inline_ascii_resp,resp_obj_mem_limit=3,no_hashexpand,no_slab_automove,slab_automove_ratio=0.5,slab_automove_window=10,read_buf_mem_limit=8,track_sizes,watcher_logbuf_size=128,ssl_wbuf_size=32,ssl_keyformat=1"]),
  settings("-o no_chunked_items", ["-o", "no_chunked_items"]),
  { name: "-o track_sizes: stats sizes is on from the start", args: ["-o", "track_sizes"], steps: ["set a 0 0 10\r\n0123456789\r\nstats sizes\r\n"] },
  { name: "stats lines follow the switches: idle_timeout on, no_modern", args: ["-o", "no_modern,idle_timeout=30"], steps: ["stats\r\n", "stats reset\r\nstats\r\n"] },
  {
    name: "-o idle_timeout: an idle client is closed and counted, an active one stays",
    args: ["-o", "idle_timeout=1"],
    steps: [
      "version\r\n",
      { send: "set a 0 0 1\r\n", conn: 1 },
      { sleep: 3500 },
      "get a\r\n",
      { send: "x\r\n", conn: 1 },
      { send: "stats\r\n", conn: 2 },
    ],
  },
  {
    // memcached's t/lru.t: 1 MB - 250 B values in 64 MB, unchunked with no_modern.
    name: "-o no_modern: t/lru.t evicts exactly 37 of 101 large values",
    args: ["-o", "no_modern"],
    // Sending 100 MB can take more than a second: the evicted item's age is timing.
    mask: [/(?<=evicted_time )\d+/],
    steps: [
      slow(`set big 0 0 ${big.length}\r\n${big}\r\n`),
      { send: Array.from({ length: 100 }, (_, i) => `set item_${i} 0 0 ${big.length} noreply\r\n${big}\r\n`).join(""), quietMs: 1000 },
      "stats\r\n",
      "stats items\r\n",
      "get big\r\nget item_35\r\n",
      slow("get item_36\r\n"),
    ],
  },
  {
    name: "-o no_modern: flat LRU, a hit item survives eviction",
    args: ["-o", "no_modern", "-m", "2"],
    steps: [
      { send: Array.from({ length: 5000 }, (_, i) => `set k${i} 0 0 120\r\n${"v".repeat(120)}\r\n`).join(""), quietMs: 500 },
      "get k0 k1 k2\r\n",
      { send: Array.from({ length: 12000 }, (_, i) => `set x${i} 0 0 120\r\n${"v".repeat(120)}\r\n`).join(""), quietMs: 500 },
      "get k0 k1 k2 k3 k4\r\n",
      "stats items\r\n",
    ],
  },
  { name: "-o no_modern: the LRU crawler is off until enabled", args: ["-o", "no_modern"], steps: ["lru_crawler crawl all\r\nlru_crawler metadump all\r\n", "lru_crawler enable\r\nstats settings\r\n"] },
  {
    name: "-C: CAS ids are 0, cas never matches, other stores ignore C",
    args: ["-C"],
    steps: [
      "set a 0 0 1\r\nx\r\ngets a\r\n",
      "cas a 0 0 1 0\r\ny\r\ncas a 0 0 1 1\r\ny\r\ncas nope 0 0 1 0\r\nz\r\n",
      "mg a c v\r\nms a 1 C5\r\nq\r\nmg a c v\r\nms nope 1 C0\r\nq\r\n",
      "set n 0 0 1\r\n5\r\nincr n 1\r\ngets n\r\nma n C0 c v\r\nma n C1 c v\r\nmd n C0\r\nmg n\r\n",
      "set m 0 0 1\r\n1\r\nmd m I\r\nmg m c\r\n",
      "stats sizes_enable\r\n",
      "stats\r\n",
    ],
  },
  {
    name: "-C: flush_all also flushes what is stored later in the same second",
    args: ["-C"],
    steps: ["set a 0 0 1\r\nx\r\nflush_all\r\nset b 0 0 1\r\ny\r\nget a b\r\n"],
  },
  {
    name: "-C: items are 8 bytes smaller (bytes, -I limit)",
    args: ["-C", "-I", "1024", "-o", "slab_chunk_max=512"],
    steps: ["set a 0 0 950\r\n" + "x".repeat(950) + "\r\n", "set b 0 0 960\r\n" + "x".repeat(960) + "\r\n", "set c 0 0 965\r\n" + "x".repeat(965) + "\r\n", "stats\r\n"],
  },
];
