import type { Case } from "../conversation.ts";

/** Expiry and flush_all. Sleeps are few: memcached's clock ticks once a second. */
export const classicExpiry: Case[] = [
  { name: "touch and gat extend a short ttl", steps: ["set a 0 2 1\r\nx\r\n", "set b 0 2 1\r\ny\r\nset c 0 2 1\r\nz\r\n", "touch a 100\r\n", "gat 100 b\r\n", { sleep: 3100 }, "get a b c\r\n"] },
  { name: "gat on expired and missing", steps: ["set a 0 -1 1\r\nx\r\n", "gat 100 a\r\n", "stats reset\r\n", "gats 100 a b\r\n", "set b 0 0 1\r\ny\r\n", "gat 0 b\r\n", "stats\r\n"] },
  { name: "gat with negative exptime expires", steps: ["set a 0 0 1\r\nx\r\n", "gat -1 a\r\n", "get a\r\n"] },
  { name: "touch zero makes permanent", steps: ["set a 0 1000 1\r\nx\r\n", "touch a 0\r\n", "get a\r\n"] },
  { name: "exptime 30 days boundary", steps: ["set a 0 2592000 1\r\nx\r\n", "set b 0 2592001 1\r\ny\r\n", "get a b\r\n", "touch a 2592001\r\n", "get a\r\n"] },
  { name: "absolute future exptime", steps: ["set a 0 4000000000 1\r\nx\r\n", "get a\r\n", "touch a 1000000000\r\n", "get a\r\n"] },
  { name: "expired item invisible to every command", steps: ["set a 0 -1 1\r\nx\r\n", "get a\r\n", "set b 0 -1 1\r\nx\r\n", "touch b 1\r\n", "delete b\r\n"] },
  { name: "add over expired item", steps: ["set a 0 -1 1\r\nx\r\n", "add a 0 0 1\r\ny\r\n", "get a\r\n", "replace c 0 -1 1\r\nz\r\n"] },
  { name: "append to expired item", steps: ["set a 0 -1 1\r\nx\r\n", "append a 0 0 1\r\ny\r\n", "prepend a 0 0 1\r\ny\r\n", "get a\r\n"] },
  { name: "flush_all 0 and negative", steps: ["set a 0 0 1\r\nx\r\n", "flush_all 0\r\n", "get a\r\n", "set a 0 0 1\r\nx\r\n", "flush_all -1\r\n", "get a\r\n", "set a 0 0 1\r\nx\r\n", "get a\r\n"] },
  { name: "flush_all delay then new sets", steps: ["set a 0 0 1\r\nx\r\n", "flush_all 3\r\n", "set b 0 0 1\r\ny\r\n", "get a b\r\n", { sleep: 4100 }, "get a b\r\n", "set c 0 0 1\r\nz\r\n", "get c\r\n"] },
  { name: "flush_all noreply with delay", steps: ["set a 0 0 1\r\nx\r\n", "flush_all 3 noreply\r\n", "get a\r\n", { sleep: 4100 }, "get a\r\n"] },
  { name: "flush_all delay replaced by immediate", steps: ["set a 0 0 1\r\nx\r\n", "flush_all 1000\r\n", "flush_all\r\n", "get a\r\n", "set a 0 0 1\r\nx\r\n", "get a\r\n"] },
  { name: "flush_all absolute past time", steps: ["set a 0 0 1\r\nx\r\n", "flush_all 1000000000\r\n", "get a\r\n", "set a 0 0 1\r\nx\r\n", "get a\r\n"] },
  { name: "flush_all absolute future time", steps: ["set a 0 0 1\r\nx\r\n", "flush_all 4000000000\r\n", "get a\r\n"] },
  { name: "flush then add and incr", steps: ["set a 0 0 1\r\n1\r\n", "flush_all\r\n", "incr a 1\r\n", "add a 0 0 1\r\n5\r\n", "incr a 1\r\n", "gets a\r\n"] },
  { name: "flush counters", steps: ["flush_all\r\n", "flush_all 10\r\n", "flush_all x\r\n", "flush_all 0 noreply\r\n", "flush_all 1 2\r\n", "stats\r\n"] },
  // memcached links the item already expired and the get finds it so: get_expired 1.
  { name: "absolute past exptime counts get_expired", steps: ["set k 0 2678400 6\r\nfoobar\r\n", "get k\r\n", "stats\r\n"] },
  { name: "flush disabled with -F", args: ["-F"], steps: ["flush_all\r\n", "flush_all 10 noreply\r\n", "flush_all x\r\n", "stats\r\n"] },
];
