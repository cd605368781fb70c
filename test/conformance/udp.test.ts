import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RawClient } from "../oracle/client.ts";
import { type TestServer, startMemcached, startOurs } from "../oracle/servers.ts";
import { type Datagram, UdpClient, frame, freeUdpPort, waitUdp } from "../oracle/udp.ts";
import { Op, cat, get, noop, req, set } from "./binary-packets.ts";
import { describeBinary, escape, normalize } from "./conversation.ts";

/**
 * Differential tests of UDP (-U): the same datagrams go to a real memcached and to memcached-ts,
 * and the reply datagrams must match, frame headers included. Each reply datagram is shown with
 * its header; a series (one response object) is shown joined, with the size of each datagram.
 */

type Step =
  /** A request datagram: `send` framed with request id `id` (1 unless given) and header overrides. */
  | { send: string | Buffer; id?: number; seq?: number; count?: number; reserved?: number; client?: number; quietMs?: number }
  /** A datagram exactly as given (a bad header, a continuation of a data block). */
  | { raw: Buffer; client?: number; quietMs?: number }
  /** Text over a TCP connection to the same server (stats). */
  | { tcp: string }
  /**
   * bytes_read and bytes_written since the last such step, less what these steps' own TCP
   * requests and replies count: what the datagrams in between counted.
   */
  | { bytes: true }
  | string;

interface UdpCase {
  name: string;
  /** Arguments for both servers (after -U). */
  args?: string[];
  steps: Step[];
  /** Volatile text in replies (ports, fds): every match becomes "*", and datagram sizes are not shown. */
  mask?: RegExp[];
}

/** Runs of one byte are shown as `c{n}`, so a 5000-byte value reads as x{5000}. */
function show(b: Buffer): string {
  if (b.length > 0 && b[0] === 0x81) return describeBinary(b);
  return escape(b)
    .replace(/\n/g, "")
    .replace(/(?<!\\)([^\\])\1{15,}/g, (run, c: string) => `${c}{${run.length}}`);
}

/** Consecutive datagrams of one response object, as memcached numbers them. */
function series(got: Datagram[], sizes: boolean): string[] {
  const lines: string[] = [];
  for (let i = 0; i < got.length; ) {
    const first = got[i];
    let j = i + 1;
    while (j < got.length && got[j].id === first.id && got[j].seq === got[j - 1].seq + 1 && got[j].count === first.count && got[j].seq !== 0) j++;
    const part = got.slice(i, j);
    const head = `id=${first.id} seq=${part.map((d) => d.seq).join(",")} count=${first.count} reserved=${part.map((d) => d.reserved).join(",")}`;
    const size = sizes ? ` sizes=${part.map((d) => d.payload.length).join(",")}` : "";
    lines.push(`${head}${size}: ${show(Buffer.concat(part.map((d) => d.payload)))}`);
    i = j;
  }
  return lines;
}

async function play(server: TestServer, udpPort: number, c: UdpCase, patience: number): Promise<string> {
  const clients = new Map<number, UdpClient>();
  const client = (n: number): UdpClient => {
    let cl = clients.get(n);
    if (cl === undefined) clients.set(n, (cl = new UdpClient()));
    return cl;
  };
  let out = "";
  let last: { read: number; written: number; reply: number } | null = null;
  const tcp = async (request: string): Promise<Buffer> => {
    const conn = new RawClient(server.port);
    await conn.send(request);
    await conn.settle(60 * patience);
    conn.close();
    return conn.take();
  };
  try {
    for (const step of c.steps) {
      const s = typeof step === "string" ? { send: step } : step;
      if ("tcp" in s) {
        out += `tcp >> ${escape(Buffer.from(s.tcp))}tcp <<\n${escape(await tcp(s.tcp))}`;
        continue;
      }
      if ("bytes" in s) {
        const reply = await tcp("stats\r\n");
        const stat = (name: string): number => Number(new RegExp(`STAT ${name} (\\d+)`).exec(reply.toString("latin1"))?.[1]);
        const now = { read: stat("bytes_read"), written: stat("bytes_written"), reply: reply.length };
        if (last !== null) out += `bytes_read +${now.read - last.read - "stats\r\n".length} bytes_written +${now.written - last.written - last.reply}\n`;
        last = now;
        continue;
      }
      const n = s.client ?? 0;
      const datagram = "raw" in s ? s.raw : frame(s.id ?? 1, s.send, s);
      await client(n).send(udpPort, datagram);
      for (const cl of clients.values()) await cl.settle((s.quietMs ?? 50) * patience, 3000, cl === client(n) ? 300 : 0);
      const shown = datagram.length > 300 ? `${show(datagram.subarray(0, 120))}...(${datagram.length} bytes)` : show(datagram);
      out += `[${n}] >> ${shown}\n`;
      for (const [m, cl] of clients) for (const line of series(cl.take(), c.mask === undefined)) out += `[${m}] << ${line}\n`;
    }
  } finally {
    for (const cl of clients.values()) cl.close();
  }
  let transcript = normalize(out);
  for (const m of c.mask ?? []) transcript = transcript.replace(m, "*");
  return transcript;
}

async function startBoth(args: readonly string[]): Promise<{ oracle: TestServer; ours: TestServer; oracleUdp: number; oursUdp: number }> {
  const [oracleUdp, oursUdp] = [await freeUdpPort(), await freeUdpPort()];
  const [oracle, ours] = await Promise.all([startMemcached(["-U", String(oracleUdp), ...args]), startOurs(["-U", String(oursUdp), ...args])]);
  await Promise.all([waitUdp(oracleUdp), waitUdp(oursUdp)]);
  return { oracle, ours, oracleUdp, oursUdp };
}

function differentialUdp(suite: string, cases: readonly UdpCase[]): void {
  describe(suite, { concurrency: 4 }, () => {
    for (const c of cases) {
      test(c.name, async (t) => {
        // A timing miss (a reply later than the quiet period) is retried with more patience;
        // a real difference fails every attempt.
        for (let attempt = 1; ; attempt++) {
          const { oracle, ours, oracleUdp, oursUdp } = await startBoth(c.args ?? []);
          try {
            const patience = attempt === 1 ? 1 : 4;
            const [expected, actual] = await Promise.all([play(oracle, oracleUdp, c, patience), play(ours, oursUdp, c, patience)]);
            if (actual === expected || attempt === 3) {
              if (attempt > 1) t.diagnostic(`matched on attempt ${attempt}`);
              assert.equal(actual, expected);
              return;
            }
          } finally {
            await Promise.all([oracle.stop(), ours.stop()]);
          }
        }
      });
    }
  });
}

const value = (n: number, c = "x"): string => c.repeat(n);
/** `set` lines for keys k0..k(n-1), `size`-byte values, several per datagram. */
const sets = (n: number, size: number, perDatagram: number): Step[] =>
  Array.from({ length: Math.ceil(n / perDatagram) }, (_, d) => ({
    send: Array.from({ length: Math.min(perDatagram, n - d * perDatagram) }, (_, i) => `set k${d * perDatagram + i} ${i} 0 ${size} noreply\r\n${value(size, String.fromCharCode(97 + ((d * perDatagram + i) % 26)))}\r\n`).join(""),
    id: 100 + d,
  }));
/** `n` key names: k0..k(hits-1) stored, every other name missing, interleaved. */
const keys = (n: number, hits: number): string => Array.from({ length: n }, (_, i) => (i % 2 === 0 && i / 2 < hits ? `k${i / 2}` : `nokey${i}`)).join(" ");
/** A datagram with a given raw frame header (bytes as written). */
const header = (...words: number[]): Buffer => Buffer.from(words.flatMap((w) => [w >> 8, w & 0xff]));

// Cases whose datagrams must reach the same memcached thread run it with -t 1: with several
// threads memcached hands each datagram to any of them, each with its own connection state.
const ONE_THREAD = ["-t", "1"];

differentialUdp("UDP vs memcached", [
  { name: "get miss and hit echo the request id", steps: [{ send: "get a\r\n", id: 7 }, { send: "set a 5 0 3\r\nabc\r\n", id: 0xffff }, { send: "get a\r\n", id: 0 }, { send: "gets a\r\n", id: 4660 }] },
  {
    name: "multi-get: a series per key, a leading miss as a header-only datagram",
    steps: [{ send: "set a 1 0 1\r\nA\r\nset b 2 0 2\r\nBB\r\n", id: 2 }, { send: "get a x b y\r\n", id: 3 }, { send: "get x y z\r\n", id: 4 }, { send: "get x a\r\n", id: 5 }, { send: "gets b x a\r\n", id: 6 }],
  },
  {
    name: "a 5000-byte value in four datagrams of 1392 bytes",
    steps: [{ send: `set big 0 0 5000\r\n${value(5000)}\r\n`, id: 1 }, { send: "get big\r\n", id: 2 }, { send: "get big big\r\n", id: 3 }, { send: "gat 100 big nokey\r\n", id: 4 }],
  },
  {
    name: "replies at and around one datagram's payload",
    steps: [{ send: `set e 0 0 1369\r\n${value(1369)}\r\nset f 0 0 1370\r\n${value(1370, "y")}\r\n`, id: 1 }, { send: "get e\r\n", id: 2 }, { send: "get f\r\n", id: 3 }, { send: "get e f\r\n", id: 4 }],
  },
  {
    // 120 hits among 300 keys: the misses between hits go unsent. (Not many more hits: the
    // client's socket must hold every reply datagram until the test reads it.)
    name: "multi-get of 300 keys, 180 of them missing",
    steps: [...sets(120, 100, 120), { send: `get ${keys(300, 120)}\r\n`, id: 9, quietMs: 150 }],
  },
  {
    name: "set, add, replace, append, cas, delete, incr, decr, touch",
    steps: [
      { send: "set n 3 0 2\r\n10\r\n", id: 1 },
      { send: "incr n 5\r\n", id: 2 },
      { send: "decr n 20\r\n", id: 3 },
      { send: "add n 0 0 1\r\nx\r\nreplace n 0 0 1\r\n7\r\nappend n 0 0 2\r\n89\r\n", id: 4 },
      { send: "gets n\r\n", id: 5 },
      { send: "cas n 0 0 1 1\r\nz\r\ncas n 0 0 1 99999\r\nz\r\n", id: 6 },
      { send: "touch n 100\r\ntouch nokey 1\r\n", id: 7 },
      { send: "delete n\r\ndelete n\r\nincr n 1\r\n", id: 8 },
    ],
  },
  {
    name: "noreply: nothing is sent for a suppressed reply",
    steps: [
      { send: "set a 0 0 1 noreply\r\n1\r\n", id: 1 },
      { send: "set a 0 0 1 noreply\r\n1\r\nget nokey a\r\n", id: 2 },
      { send: "delete a noreply\r\nincr a 1 noreply\r\nflush_all noreply\r\nget a\r\n", id: 3 },
    ],
  },
  { name: "unknown commands and bad command lines", steps: [{ send: "bogus\r\n", id: 1 }, { send: "get\r\n\r\nset a 0 0\r\nincr a\r\n", id: 2 }, { send: "set a 0 0 z\r\n", id: 3 }, { send: "\n", id: 4 }] },
  {
    name: "several commands in one datagram, each its own series",
    steps: [{ send: "set a 0 0 1\r\n1\r\nget nokey a\r\nincr a 5\r\ndelete a noreply\r\nbogus\r\nget a\r\nversion\r\nverbosity 1\r\n", id: 1 }],
  },
  {
    name: "a get writes at once: the next get's leading miss starts a new series",
    steps: [{ send: "set a 0 0 1\r\n1\r\n", id: 1 }, { send: "get nokey a\r\nget nokey2 a\r\nset b 0 0 1\r\n2\r\nget nokey3 b\r\n", id: 2 }],
  },
  { name: "-R: the yield writes, so a get after it starts a new series", args: ["-R", "2"], steps: [{ send: "set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nget nokey a\r\nset c 0 0 1\r\n3\r\nget nokey b\r\n", id: 1 }] },
  {
    name: "bad frame headers: short datagrams and multi-datagram requests are dropped",
    steps: [
      { raw: Buffer.alloc(0) },
      { raw: header(1, 0, 1) },
      { raw: header(2, 0, 1, 0) },
      { send: "get a\r\n", id: 3, count: 2 },
      { send: "get a\r\n", id: 4, count: 0 },
      { send: "get a\r\n", id: 5, seq: 9 },
      { send: "get a\r\n", id: 6, reserved: 0xabcd },
      { raw: Buffer.concat([header(7, 0, 1, 0), Buffer.from("\n")]) },
      { send: "version\r\n", id: 8 },
    ],
  },
  {
    name: "an incomplete line is lost with its datagram",
    steps: [{ send: "get a\r\nget a", id: 1 }, { send: "\r\n", id: 2 }, { send: "set a 0 0 1\r\n1\r\nget", id: 3 }, { send: " a\r\n", id: 4 }],
  },
  {
    name: "a long line without newline: a get's is dropped, any other loses the replies before it",
    steps: [{ send: "get a\r\n", id: 1 }, { send: `get ${value(3000)}`, id: 2 }, { send: `set a 0 0 1\r\n1\r\nset ${value(3000)}`, id: 3 }, { send: "get a\r\n", id: 4 }],
  },
  {
    name: "a datagram is read whole: a line past TCP's 16 KiB read buffer is still a line",
    steps: [{ send: `set a 0 0 1\r\n1\r\nversion ${value(17000)}\r\nversion\r\n`, id: 1 }, { send: `get ${"nokey ".repeat(3000)}a\r\n`, id: 2 }],
  },
  { name: "an HTTP request line loses the replies before it and the rest of the datagram", steps: [{ send: "set a 0 0 1\r\n1\r\nGET / HTTP/1.1\r\nversion\r\n", id: 1 }, { send: "get a\r\n", id: 2 }] },
  {
    name: "a bad key in a get culls its earlier keys' replies",
    steps: [{ send: "set a 0 0 1\r\n1\r\n", id: 1 }, { send: `get a ${value(251)} a\r\n`, id: 2 }, { send: `set b 0 0 1\r\n2\r\nget nokey b ${value(300)}\r\n`, id: 3 }],
  },
  {
    name: "quit sends an empty series and ends its datagram",
    // memcached then leaves quit's close-after-write set on its UDP connection (not copied):
    // nothing is sent after the last quit here.
    args: ONE_THREAD,
    steps: [{ send: "set q 0 0 1\r\n1\r\nquit\r\nget q\r\n", id: 1 }, { send: "quit\r\n", id: 2 }],
  },
  {
    name: "a data block continues in the next datagram, read whole with its frame header",
    args: ONE_THREAD,
    steps: [
      { send: "set sv 0 0 10\r\n", id: 1 },
      { send: "ab\r\nget sv\r\n", id: 2, client: 1 },
      { send: "get sv\r\n", id: 3 },
      { send: "set sp 0 0 30\r\n01234", id: 4 },
      { send: "0123456789012345678901234567890\r\nget sp\r\n", id: 5 },
      { send: "get sp\r\n", id: 6 },
    ],
  },
  {
    name: "an empty datagram ends a half-read data block and the replies held with it",
    args: ONE_THREAD,
    steps: [
      { send: "set a 0 0 1\r\n1\r\nset x 0 0 3\r\n", id: 1 },
      { raw: Buffer.alloc(0) },
      { send: "get x a\r\n", id: 2 },
      { send: set("bx", "0123456789").subarray(0, 36), id: 3 },
      { raw: Buffer.alloc(0) },
      { send: cat(get("bx", Op.get, { opaque: 4 }), get("a", Op.getk, { opaque: 5 })), id: 4 },
    ],
  },
  {
    name: "a refused value is swallowed from the next datagrams; its error waits for the end",
    args: [...ONE_THREAD, "-I", "1k", "-o", "slab_chunk_max=512"],
    steps: [
      { send: "set ok 0 0 1\r\n1\r\nset big 0 0 2000\r\n", id: 1 },
      { send: value(1500), id: 2 },
      { send: value(600), id: 3 },
      { send: "get ok\r\n", id: 4 },
    ],
  },
  {
    name: "meta commands",
    steps: [
      { send: "ms m 2 T0 F5\r\nhi\r\nmg m v f t\r\nmg nokey v\r\n", id: 1 },
      { send: "mg nokey v q\r\nmg m k v q\r\nmd nokey q\r\nmn\r\n", id: 2 },
      { send: "ma m\r\nms c 2 MA\r\n10\r\nma c D5 v\r\nmd m\r\nme m\r\nmz\r\n", id: 3 },
    ],
  },
  {
    name: "binary protocol over UDP",
    steps: [
      { send: req(Op.version, { opaque: 1 }), id: 1 },
      { send: get("nokey", Op.get, { opaque: 2 }), id: 2 },
      { send: cat(set("bk", "hello", { flags: 5, opaque: 3 }), get("bk", Op.getk, { opaque: 4 })), id: 3 },
      { send: cat(get("nokey", Op.getq, { opaque: 5 }), noop(6)), id: 4 },
      { send: cat(set("bk", "q", { opaque: 7 }, Op.setq), noop(8)), id: 5 },
      { send: set("bk", "q", { opaque: 9 }, Op.setq), id: 6 },
      { send: get("bk", Op.get, { opaque: 10 }).subarray(0, 20), id: 7 },
      { send: cat(noop(11), get("bk", Op.get, { opaque: 12 }).subarray(0, 25)), id: 8 },
      { send: cat(noop(13), Buffer.from("bogus\r\n")), id: 9 },
      { send: "version\r\n", id: 10 },
    ],
  },
  {
    name: "-B ascii and -B binary do not apply to UDP",
    args: ["-B", "ascii"],
    steps: [{ send: req(Op.version, { opaque: 1 }), id: 1 }, { send: "version\r\n", id: 2 }],
  },
  {
    name: "a binary value continues in the next datagram",
    args: ONE_THREAD,
    steps: [
      { send: set("bv", "0123456789").subarray(0, 40), id: 1 },
      { send: "abcdef", id: 2, client: 1 },
      { send: get("bv", Op.get, { opaque: 3 }), id: 3 },
    ],
  },
  {
    name: "bytes_read and bytes_written count whole datagrams, headers included",
    args: ONE_THREAD,
    steps: [
      { bytes: true },
      { send: "set a 0 0 5\r\nhello\r\n", id: 1 },
      { send: "get a nokey\r\n", id: 2 },
      { raw: header(3, 0, 1) },
      { send: "get a\r\n", id: 4, count: 2 },
      { bytes: true },
      { send: `set big 0 0 3000\r\n${value(3000)}\r\nget big\r\n`, id: 5 },
      { send: "set sv 0 0 10\r\n", id: 6 },
      { send: "ab\r\nget sv\r\n", id: 7 },
      { bytes: true },
    ],
  },
  {
    name: "stats over TCP count UDP's connections; stats conns lists them",
    mask: [/(?<=STAT )\d+(?=:)/g, /(?<=(tcp|udp):127\.0\.0\.1:)\d+/g, /(?<=secs_since_last_cmd )\d+/g, /(?<=(tcp|udp)port )\d+/g],
    // One TCP connection: memcached counts a closed one until its thread has seen the close.
    steps: [{ send: "version\r\n" }, { tcp: "stats settings\r\nstats conns\r\nstats\r\n" }],
  },
  {
    name: "stats settings over UDP",
    mask: [/(?<=(tcp|udp)port )\d+/g],
    steps: [{ send: "stats settings\r\n", id: 1 }, { send: "stats detail on\r\nstats detail dump\r\nstats detail off\r\n", id: 2 }],
  },
  {
    name: "-l with two addresses: one UDP connection per socket",
    args: ["-l", "[::1]"],
    mask: [/(?<=STAT )\d+(?=:)/g, /(?<=(tcp|udp)6?:(127\.0\.0\.1|\[::1\]):)\d+/g, /(?<=secs_since_last_cmd )\d+/g, /(?<=(tcp|udp)port )\d+/g],
    steps: [{ send: "get a\r\n" }, { tcp: "stats settings\r\nstats conns\r\n" }],
  },
]);
