import type { Case } from "../conversation.ts";

const k251 = "k".repeat(251);

/**
 * `noreply` on every command that takes it: successes and failures alike are silent, except
 * where memcached still answers; a following `get` or `mn`-free probe shows what happened.
 */
export const classicNoreply: Case[] = [
  { name: "noreply set silent and stored", steps: ["set a 0 0 1 noreply\r\nx\r\n", "get a\r\n"] },
  { name: "noreply add hit and miss", steps: ["add a 0 0 1 noreply\r\nx\r\n", "add a 0 0 1 noreply\r\ny\r\n", "get a\r\n"] },
  { name: "noreply replace hit and miss", steps: ["replace a 0 0 1 noreply\r\nx\r\n", "get a\r\n", "set a 0 0 1\r\nx\r\n", "replace a 0 0 1 noreply\r\ny\r\n", "get a\r\n"] },
  { name: "noreply append prepend miss", steps: ["append a 0 0 1 noreply\r\nx\r\n", "prepend a 0 0 1 noreply\r\nx\r\n", "get a\r\n"] },
  { name: "noreply cas stored exists not found", steps: ["cas a 0 0 1 1 noreply\r\nx\r\n", "set a 0 0 1\r\nx\r\n", "cas a 0 0 1 99 noreply\r\ny\r\n", "gets a\r\n", "cas a 0 0 1 1 noreply\r\nz\r\n", "get a\r\n"] },
  { name: "noreply incr decr miss and non numeric", steps: ["incr a 1 noreply\r\n", "decr a 1 noreply\r\n", "set a 0 0 1\r\nx\r\n", "incr a 1 noreply\r\n", "decr a 1 noreply\r\n", "get a\r\n"] },
  { name: "noreply incr bad delta", steps: ["set a 0 0 1\r\n1\r\n", "incr a x noreply\r\n", "decr a -1 noreply\r\n", "get a\r\n"] },
  { name: "noreply delete hit and miss", steps: ["set a 0 0 1\r\nx\r\n", "delete a noreply\r\n", "delete a noreply\r\n", "get a\r\n"] },
  { name: "noreply touch hit miss and bad exptime", steps: ["touch a 10 noreply\r\n", "set a 0 0 1\r\nx\r\n", "touch a -1 noreply\r\n", "get a\r\n", "touch a x noreply\r\n"] },
  { name: "noreply flush_all with delays", steps: ["set a 0 0 1\r\nx\r\n", "flush_all 0 noreply\r\n", "get a\r\n", "set a 0 0 1\r\nx\r\n", "flush_all 100 noreply\r\n", "get a\r\n", "flush_all x noreply\r\n", "flush_all -1 noreply\r\n", "get a\r\n"] },
  { name: "noreply verbosity forms", steps: ["verbosity 2 noreply\r\n", "verbosity noreply\r\n", "verbosity x noreply\r\n", "verbosity\r\n", "verbosity 1 2 noreply\r\n", "version\r\n"] },
  { name: "noreply bad data chunk", steps: ["set a 0 0 1 noreply\r\nxy\r\n", "get a\r\n", "set b 0 0 2 noreply\r\nxyz\r\n", "get b\r\n"] },
  { name: "noreply too long key", steps: [`set ${k251} 0 0 1 noreply\r\nx\r\n`, `incr ${k251} 1 noreply\r\n`, `delete ${k251} noreply\r\n`, `touch ${k251} 1 noreply\r\n`, "version\r\n"] },
  { name: "noreply bad store numbers", steps: ["set a x 0 1 noreply\r\nx\r\n", "set a 0 x 1 noreply\r\nx\r\n", "set a 0 0 -1 noreply\r\n", "cas a 0 0 1 x noreply\r\nx\r\n", "version\r\n"] },
  { name: "noreply typos are not noreply", steps: ["set a 0 0 1 noreplyx\r\nx\r\n", "set a 0 0 1 NOREPLY\r\ny\r\n", "delete a NoReply\r\n", "incr a 1 norepl\r\n", "touch a 100 noreply2\r\n", "get a\r\n"] },
  { name: "noreply is a key on get", steps: ["set noreply 0 0 1\r\nx\r\n", "get noreply\r\n", "get a noreply\r\n", "gets noreply\r\n"] },
  { name: "noreply as a key with noreply", steps: ["set noreply 0 0 1 noreply\r\nx\r\n", "delete noreply noreply\r\n", "get noreply\r\n"] },
  { name: "noreply object too large", args: ["-I", "1k", "-o", "slab_chunk_max=512"], steps: [`set a 0 0 2000 noreply\r\n${"v".repeat(2000)}\r\n`, "get a\r\n"] },
  { name: "noreply pipeline then get", steps: ["set a 0 0 1 noreply\r\n1\r\nincr a 5 noreply\r\nappend a 0 0 1 noreply\r\n0\r\nprepend a 0 0 1 noreply\r\n9\r\ntouch a 0 noreply\r\nget a\r\n"] },
  { name: "noreply in wrong position", steps: ["set a 0 0 noreply 1\r\nx\r\n", "incr a noreply 1\r\n", "touch a noreply 1\r\n", "version\r\n"] },
  { name: "noreply as the only argument", steps: ["delete a x noreply\r\n", "touch a noreply\r\n", "incr a noreply\r\n", "flush_all noreply noreply\r\n", "verbosity noreply noreply\r\n", "set a 0 0 noreply\r\n", "version\r\n"] },
  { name: "noreply on cas with a bad data chunk and too large", args: ["-I", "1k", "-o", "slab_chunk_max=512"], steps: ["set a 0 0 1\r\nx\r\n", "cas a 0 0 1 1 noreply\r\nxyz\r\n", `cas a 0 0 2000 1 noreply\r\n${"v".repeat(2000)}\r\n`, "gets a\r\n"] },
  { name: "noreply on retrieval and other commands", steps: ["gat 0 noreply\r\n", "version noreply\r\n", "stats noreply\r\n", "cache_memlimit 100 noreply\r\n", "cache_memlimit 1 noreply\r\n", "quit noreply\r\n"] },
];
