import type { Case, Step } from "../conversation.ts";

/**
 * `n` pipelined sets of `size`-byte values. Value sizes are chosen so an item lands in the
 * same slab class in both servers (ours: 44 + key + value bytes; memcached: 59 + key + value),
 * which makes memory limits bite at the same item.
 */
function sets(prefix: string, n: number, size: number): Step {
  const v = "v".repeat(size);
  let s = "";
  for (let i = 0; i < n; i++) s += `set ${prefix}${i} 0 0 ${size}\r\n${v}\r\n`;
  // Thousands of replies: a loaded machine may pause mid-stream longer than the usual quiet window.
  return { send: s, quietMs: 500 };
}

function keys(prefix: string, from: number, to: number): string {
  return Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`).join(" ");
}

const big = (n: number, c = "v"): string => c.repeat(n);
/** A step moving megabytes: replies may pause mid-stream on a loaded machine. */
const slow = (send: string): Step => ({ send, quietMs: 400 });

/** Memory limits, eviction, -M and large (chunked) items, against memcached. */
export const engineCases: Case[] = [
  {
    name: "-M: large values until out of memory",
    args: ["-M", "-m", "8"],
    steps: [...Array.from({ length: 20 }, (_, i) => slow(`set k${i} 0 0 500000\r\n${big(500000)}\r\n`)), slow("get k0\r\n"), "stats\r\n"],
  },
  {
    name: "-M: small values until out of memory, errors even with noreply",
    args: ["-M", "-m", "2"],
    steps: [sets("k", 12000, 120), "set last 0 0 120 noreply\r\n" + big(120) + "\r\n", `get ${keys("k", 0, 5)}\r\n`, "stats\r\n"],
  },
  {
    // "9" fits its item in place; "10" needs a new one, from a class that may not grow.
    name: "-M: an incr that needs a larger item when its class is full is out of memory, the old value kept",
    args: ["-M", "-m", "2"],
    steps: [
      "set n 0 0 1\r\n9\r\nset m 0 0 1\r\n7\r\n",
      sets("k", 12000, 120),
      sets("s", 12000, 1),
      "incr m 1\r\nincr n 1\r\ndecr n 1\r\nget n m\r\n",
    ],
  },
  {
    // memcached takes a chunked value's last piece from the class that fits it, not a whole
    // 512 KiB chunk, so -m 4 holds four 600 KB values (not three). (`stats slabs` would show
    // it too, but the values' headers land in different small classes in the two servers.)
    name: "-M -m 4: a large value's last chunk comes from the smallest class that holds it",
    args: ["-M", "-m", "4"],
    steps: [
      ...Array.from({ length: 6 }, (_, i) => slow(`set a${i} 0 0 600000\r\n${big(600000)}\r\n`)),
      "mg a0\r\nmg a1\r\nmg a2\r\nmg a3\r\nmg a4\r\nmg a5\r\n",
    ],
  },
  {
    // memcached takes a large value's chunks while reading it: when one is refused, the reply
    // is "Out of memory during read" (silenced by noreply and ms's q), the old value stays and
    // store_no_memory does not count it. (k's 200 bytes put it in class 6 in both servers,
    // away from the values' headers, which land in different small classes.)
    name: "-M: a large value whose chunks run out is out of memory during read, the old value kept",
    args: ["-M", "-m", "4"],
    steps: [
      `set k 0 0 200\r\n${big(200, "x")}\r\n`,
      ...Array.from({ length: 3 }, (_, i) => slow(`set a${i} 0 0 600000\r\n${big(600000)}\r\n`)),
      slow(`set k 0 0 600000\r\n${big(600000)}\r\n`),
      slow(`set k 0 0 600000 noreply\r\n${big(600000)}\r\nmn\r\n`),
      slow(`ms k 600000 T0\r\n${big(600000)}\r\n`),
      slow(`ms k 600000 q\r\n${big(600000)}\r\nmn\r\n`),
      slow(`append k 0 0 600000\r\n${big(600000)}\r\n`),
      "get k\r\n",
      "stats\r\n",
    ],
  },
  {
    name: "eviction takes the least recently used items first",
    args: ["-m", "2"],
    steps: [sets("k", 15000, 120), `get ${keys("k", 0, 10)}\r\n`, `get ${keys("k", 14990, 15000)}\r\n`, "stats\r\n"],
  },
  {
    name: "a fetched item is kept over colder ones",
    args: ["-m", "2"],
    steps: [sets("k", 5000, 120), `get ${keys("k", 0, 20)}\r\n`, `get ${keys("k", 0, 20)}\r\n`, sets("x", 9000, 120), `get ${keys("k", 0, 20)}\r\n`],
  },
  {
    name: "-I 4m: chunked value set, append, prepend, get, incr refused",
    args: ["-I", "4m"],
    steps: [
      slow(`set a 0 0 3000000\r\n${big(3000000)}\r\n`),
      "append a 0 0 3\r\nxyz\r\n",
      "prepend a 0 0 2\r\n12\r\n",
      slow("get a\r\n"),
      slow(`set n 0 0 2000000\r\n${big(2000000, "1")}\r\n`),
      "incr n 1\r\n",
      slow(`set toolarge 0 0 4200000\r\n${big(4200000)}\r\n`),
      "get toolarge\r\n",
    ],
  },
  {
    name: "values around the largest slab chunk",
    steps: [
      slow(`set a 0 0 524000\r\n${big(524000)}\r\n`),
      slow(`set b 0 0 524300\r\n${big(524300)}\r\n`),
      slow(`set c 0 0 1048000\r\n${big(1048000)}\r\n`),
      slow(`set d 0 0 1048576\r\n${big(1048576)}\r\n`),
      slow("get a b c\r\n"),
      slow("get d\r\n"),
    ],
  },
  {
    name: "stats settings with LRU and automove tuning",
    args: ["-o", "hot_max_factor=0.5,warm_max_factor=3,slab_automove=0,temporary_ttl=30,hot_lru_pct=30,warm_lru_pct=30"],
    steps: ["stats settings\r\n"],
  },
  {
    name: "slabs and lru admin command replies",
    steps: [
      "slabs\r\nslabs reassign\r\nslabs reassign 1 2\r\nslabs reassign 1 1\r\nslabs reassign 99 1\r\nslabs reassign -1 1\r\n",
      "slabs reassign 0 1\r\nslabs reassign x y\r\nslabs reassign 1 2 3\r\nslabs foo\r\n",
      "slabs automove 0\r\nslabs automove 2\r\nslabs automove 3\r\nslabs automove\r\nslabs automove x\r\nslabs automove 1 noreply\r\n",
      "slabs automove ratio 0.5\r\nslabs automove ratio\r\nslabs automove ratio x\r\n",
      "lru\r\nlru mode flat\r\nlru mode segmented\r\nlru mode x\r\nlru foo\r\nlru mode flat noreply\r\n",
      "lru temp_ttl 30\r\nlru temp_ttl -1\r\nlru temp_ttl x\r\nlru temp_ttl 20\r\n",
      "lru tune 10 30 0.1 2\r\nlru tune 90 30 0.1 2\r\nlru tune 10 30\r\nlru tune 10 30 0 2\r\nlru tune x 30 0.1 2\r\nlru tune 15 25 0.3 1.5 noreply\r\n",
      "stats settings\r\n",
    ],
  },
  {
    name: "slabs reassign moves a page between classes",
    args: ["-m", "64"],
    steps: [
      { send: Array.from({ length: 30000 }, (_, i) => `set k${i} 0 0 10 noreply\r\n0123456789\r\n`).join(""), quietMs: 500 },
      "slabs reassign 1 2\r\n",
      { sleep: 700 },
      "stats slabs\r\n",
      "slabs reassign 2 1\r\n",
      "slabs reassign 1 3\r\n",
      { sleep: 700 },
      "stats slabs\r\n",
      // What the moves did to the items: rescued, or dropped for want of room (not evictions).
      "stats\r\n",
    ],
  },
  {
    // Our replies lend values of 8 KiB or more instead of copying them (OutBuffer.lend): the
    // first get's reply must still carry "a" after k is replaced, deleted and its memory
    // taken again by later sets of the same read, as memcached's item references keep it.
    name: "a large value answered in the same read as commands that replace, delete and reuse its memory",
    steps: [
      slow(`set k 0 0 20000\r\n${big(20000, "a")}\r\n`),
      slow(`get k\r\nset k 0 0 20000\r\n${big(20000, "b")}\r\nset j 0 0 20000\r\n${big(20000, "c")}\r\nget k\r\n`),
      slow(`get k\r\ndelete k\r\nset m 0 0 20000\r\n${big(20000, "d")}\r\nset n 0 0 20000\r\n${big(20000, "e")}\r\nget j m n\r\n`),
    ],
  },
  {
    // A number padded to 10000 bytes is a value incr rewrites in place once no reply holds it:
    // with -R 1 memcached writes the get's reply before the incr, so the reply has the old number.
    name: "-R 1: a large padded number read, then incremented in place in the same read",
    args: ["-R", "1"],
    steps: [slow(`set k 0 0 10000\r\n5${big(9999, " ")}\r\n`), slow("get k\r\nincr k 1\r\nget k\r\n"), "get k\r\nincr k 1\r\n"],
  },
  {
    name: "cache_memlimit lowered then filled",
    steps: ["cache_memlimit 2\r\n", sets("k", 15000, 120), `get ${keys("k", 0, 5)}\r\n`, `get ${keys("k", 14995, 15000)}\r\n`],
  },
];
