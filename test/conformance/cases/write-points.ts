import type { Case } from "../conversation.ts";

/**
 * Where memcached writes, around data blocks split across packets, `mn`, its 16 KiB read
 * buffer and metadump (the conformance issue's leftovers). Each step is one packet.
 */
export const writePoints: Case[] = [
  { name: "a block completed by a later packet ends a read: STORED goes out before the next block", steps: ["set a 0 0 5\r\nab", "cde\r\nset b 0 0 5\r\nxy", "zzz\r\nget a b\r\n"] },
  { name: "a block completed by a later packet, then an over-long line: STORED, then close", steps: ["set a 0 0 5\r\nab", `cde\r\nfoo ${"x".repeat(3000)}`] },
  { name: "a swallowed too-large block completed by a later packet writes its error there", steps: ["set a 0 0 1100000\r\n" + "v".repeat(1000), "v".repeat(1099000) + "\r\nset b 0 0 5\r\nxy", "zzz\r\nget b\r\n"] },
  { name: "a bad data chunk completed by a later packet writes its error there", steps: ["set a 0 0 3\r\nab", "cXYset b 0 0 5\r\nxy", "zzz\r\n"] },
  { name: "ms with a wrong length, split: its error goes out before the next block", steps: ["ms a 3\r\nab", "cdef\r\nms b 5\r\nxy", "zzz\r\n"] },
  { name: "mn writes at once, before a half sent ms", steps: ["mn\r\nms big 5\r\nzzz", "zz\r\n"] },
  { name: "mn writes what was queued before it, before a half sent set", steps: ["set a 0 0 1\r\n1\r\nmn\r\nset big 0 0 5\r\nzzz", "zz\r\n"] },
  { name: "a line past memcached's 16 KiB read buffer closes, losing the replies before it", steps: [`version\r\n${"x".repeat(16500)}\r\n`] },
  { name: "a get line past 16 KiB is still read", steps: [`get${" k".repeat(9000)}\r\n`] },
  { name: "a command pipelined before metadump is refused", steps: ["mg foo v\r\nlru_crawler metadump all\r\n", "lru_crawler metadump all\r\n"] },
];
