import { noop, set } from "../binary-packets.ts";
import type { Case } from "../conversation.ts";

const settings = (name: string, args: string[]): Case => ({ name: `stats settings ${name}`, args, steps: ["stats settings\r\n"] });

/** Stats families: settings under various flags, and the per-item families on an empty server. */
export const classicStats: Case[] = [
  settings("defaults", []),
  settings("memory conns factor chunk -M -A", ["-m", "128", "-c", "500", "-f", "1.5", "-n", "64", "-M", "-A"]),
  settings("large -I with slab_chunk_max", ["-I", "2m", "-o", "slab_chunk_max=1048576"]),
  settings("-I 4m keeps chunk max", ["-I", "4m"]),
  settings("small -I with slab_chunk_max", ["-I", "1k", "-o", "slab_chunk_max=512", "-v"]),
  settings("lru percentages and temporary ttl", ["-o", "hot_lru_pct=30,warm_lru_pct=30,temporary_ttl=100"]),
  settings("threads reqs backlog -F", ["-t", "2", "-R", "10", "-b", "512", "-F"]),
  settings("-m 1000", ["-m", "1000"]),
  // reserved_fds grows by five per worker thread.
  { name: "stats with -t 1", args: ["-t", "1"], steps: ["stats\r\n"] },
  { name: "stats with -t 3", args: ["-t", "3"], steps: ["stats\r\n"] },
  { name: "stats settings follow live changes", steps: ["verbosity 2\r\n", "cache_memlimit 100\r\n", "stats detail on\r\n", "stats settings\r\n"] },
  { name: "stats detail on off dump", steps: ["stats detail\r\n", "stats detail dump\r\n", "stats detail on\r\n", "stats detail dump\r\n", "stats detail off\r\n", "stats detail bogus\r\n", "stats detail on off\r\n"] },
  { name: "stats detail counts prefixes", steps: ["stats detail on\r\n", "set a:1 0 0 1\r\nx\r\n", "set b:1 0 0 1\r\nx\r\n", "get a:1 a:2 b:1 c:1 nokey\r\n", "delete a:1\r\n", "delete c:9\r\n", "incr b:1 1\r\n", "touch b:1 0\r\n", "stats detail dump\r\n", "stats detail off\r\n", "get a:1\r\n", "stats detail dump\r\n"] },
  { name: "stats empty families", steps: ["stats items\r\n", "stats slabs\r\n", "stats sizes\r\n"] },
  { name: "stats with extra arguments", steps: ["stats settings x\r\n", "stats items x\r\n", "stats reset x\r\n", "stats  settings\r\n", "stats slabs 1\r\n"] },
  // memcached's item_cachedump: the COLD LRU, newest first. (Dead items stay listed until a
  // background thread reaps them, at times that differ between the two servers: not compared.)
  { name: "cachedump lists COLD newest first", steps: ["lru mode flat\r\n", "set a 0 0 1\r\n1\r\nset b 0 0 2\r\n22\r\nset c 0 100 3\r\n333\r\n", "stats cachedump 1 0\r\n", "stats cachedump 1 2\r\n"], mask: [/\d{10} s\]/g] },
  { name: "-X refuses cachedump and metadump", args: ["-X"], steps: ["stats cachedump 1 0\r\n", "stats cachedump\r\n", "lru_crawler metadump all\r\n", "lru_crawler crawl all\r\n"] },
  { name: "no_slab_reassign and no_lru_maintainer refuse their commands", args: ["-o", "no_slab_reassign,no_lru_maintainer"], steps: ["slabs reassign 1 2\r\n", "lru mode flat\r\n", "lru temp_ttl 10\r\n", "lru tune 10 20 0.1 2\r\n"] },
  { name: "stats family case and unknowns", steps: ["stats SETTINGS\r\n", "stats setting\r\n", "stats cachedump\r\n", "stats cachedump 1 1\r\n", "stats cachedump 64 0\r\n", "stats cachedump x 1\r\n", "stats cachedump 1 -1\r\n", "stats extstore\r\n"] },
  { name: "stats reset clears prefix stats", steps: ["stats detail on\r\n", "get a:b\r\n", "stats reset\r\n", "stats detail dump\r\n", "set x:y 0 0 1\r\nx\r\n", "stats detail dump\r\n"] },
  {
    name: "stats conns lists listener and clients in fd order",
    // fds, ephemeral ports and second ticks differ between the two servers; the order, the
    // addresses' form and every state must not.
    mask: [/(?<=STAT )\d+(?=:)/g, /(?<=tcp:127\.0\.0\.1:)\d+/g, /(?<=secs_since_last_cmd )\d+/g],
    steps: [
      { sleep: 200 },
      "version\r\n",
      { send: "version\r\n", conn: 1 },
      { send: "set x 0 0 5\r\nab", conn: 2 },
      { send: "get a", conn: 3 },
      { send: "", conn: 4 },
      { send: "quit\r\n", conn: 1 },
      { sleep: 100 },
      { send: "", conn: 5 },
      "stats conns\r\n",
    ],
  },
  {
    name: "stats conns shows the states of binary connections too",
    mask: [/(?<=STAT )\d+(?=:)/g, /(?<=tcp:127\.0\.0\.1:)\d+/g, /(?<=secs_since_last_cmd )\d+/g],
    steps: [
      { sleep: 200 },
      "version\r\n",
      { send: noop(7), conn: 1 },
      // A binary set whose value has not all arrived: memcached's conn_nread.
      { send: set("k", "hello").subarray(0, -2), conn: 2 },
      { send: noop(8).subarray(0, 10), conn: 3 },
      "stats conns\r\n",
    ],
  },
  { name: "total_items counts every link", steps: ["set a 0 0 1\r\n1\r\n", "add b 0 0 1\r\n9\r\n", "append a 0 0 1\r\n2\r\n", "prepend a 0 0 1\r\n3\r\n", "incr a 1\r\n", "incr b 1\r\n", "incr b 1\r\n", "replace b 0 0 1\r\n5\r\n", "cas b 0 0 1 99\r\n6\r\n", "touch a 100\r\n", "add a 0 0 1\r\n0\r\n", "stats\r\n"] },
  { name: "stats after reset keeps totals", steps: ["set a 0 0 1\r\nx\r\n", "set b 0 0 1\r\nx\r\n", "get a\r\n", "stats reset\r\n", "delete a\r\n", "stats\r\n"] },
  { name: "stats detail on with flush and cas", steps: ["stats detail on\r\n", "cas a:b 0 0 1 1\r\nx\r\n", "add a:b 0 0 1\r\nx\r\n", "gets a:b\r\n", "gat 0 a:b\r\n", "flush_all\r\n", "stats detail dump\r\n"] },
];
