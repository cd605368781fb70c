import type { Case } from "../conversation.ts";

const MAX_VALUE = 1024 * 1024 - 60;
/** Every byte value, with "\r\n" and NULs inside. */
const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7 + 13) % 256));

/** Connection lifecycle, pipelining across commands, and values of every size and content. */
export const classicConn: Case[] = [
  { name: "quit mid pipeline sends earlier replies", steps: ["set a 0 0 1\r\nx\r\nget a\r\nincr a 1\r\nquit\r\nget a\r\nversion\r\n"] },
  { name: "quit after noreply commands", steps: ["set a 0 0 1 noreply\r\nx\r\ndelete a noreply\r\nquit\r\n"] },
  { name: "quit with pending partial command", steps: [{ send: ["get a\r\nquit\r\nset b 0 0 5\r\nab", "c\r\n"] }] },
  { name: "http line closes before later commands", steps: ["version\r\nGET /index.html HTTP/1.0\r\nversion\r\n"] },
  { name: "too long line closes mid pipeline", steps: ["version\r\n" + "x".repeat(3000)] },
  { name: "other connection unaffected by a close", steps: ["set a 0 0 1\r\nx\r\n", { send: "quit\r\n", conn: 1 }, { send: "GET / HTTP/1.1\r\n", conn: 2 }, "get a\r\n"] },
  { name: "half sent value is not stored when the client leaves", steps: [{ send: "set a 0 0 10\r\nabc", conn: 1 }, { send: "quit\r\n", conn: 2 }, "get a\r\n"] },
  { name: "value visible across connections", steps: ["set a 0 0 1\r\nx\r\n", { send: "get a\r\n", conn: 1 }, { send: "append a 0 0 1\r\ny\r\n", conn: 1 }, "get a\r\n"] },
  { name: "many commands in one packet", steps: [Array.from({ length: 200 }, (_, i) => `set k${i} ${i} 0 ${String(i).length}\r\n${i}\r\n`).join("") + "get k0 k99 k199\r\n"] },
  { name: "zero length values", steps: ["set a 0 0 0\r\n\r\n", "get a\r\n", "append a 0 0 0\r\n\r\n", "prepend a 0 0 1\r\nx\r\n", "gets a\r\n", "set a 0 0 0 noreply\r\n\r\n", "get a\r\n"] },
  { name: "binary value with crlf and nul inside", steps: [Buffer.concat([Buffer.from(`set a 0 0 ${binary.length}\r\n`), binary, Buffer.from("\r\nget a\r\n")])] },
  { name: "value made only of crlf", steps: ["set a 0 0 4\r\n\r\n\r\n\r\n", "get a\r\n", "set b 0 0 2\r\n\r\n\r\n", "append b 0 0 2\r\n\r\n\r\n", "get b\r\n"] },
  { name: "value that looks like commands", steps: ["set a 0 0 22\r\nget a\r\ndelete a\r\nEND\r\n\r\n", "get a\r\n"] },
  { name: "100 KB value", steps: [`set a 0 0 102400\r\n${"0123456789".repeat(10240)}\r\n`, "get a\r\n", "append a 0 0 3\r\nend\r\n", "gets a\r\n"] },
  { name: "largest value of the default -I", steps: [`set a 0 0 ${MAX_VALUE}\r\n${"m".repeat(MAX_VALUE)}\r\n`, "get a\r\n", `set b 0 0 ${MAX_VALUE + 1}\r\n${"m".repeat(MAX_VALUE + 1)}\r\n`, "get b\r\n", "stats\r\n"] },
  { name: "largest value with flags", steps: [`set a 1 0 ${MAX_VALUE}\r\n${"m".repeat(MAX_VALUE)}\r\n`, `set a 1 0 ${MAX_VALUE - 4}\r\n${"m".repeat(MAX_VALUE - 4)}\r\n`, "append a 0 0 5\r\n12345\r\n", "prepend a 0 0 4\r\n1234\r\n", "get a\r\n"] },
  { name: "largest value of -I 2m", args: ["-I", "2m", "-o", "slab_chunk_max=1048576"], steps: [`set a 0 0 ${2 * 1024 * 1024 - 60}\r\n${"m".repeat(2 * 1024 * 1024 - 60)}\r\n`, `set b 0 0 ${2 * 1024 * 1024 - 59}\r\n${"m".repeat(2 * 1024 * 1024 - 59)}\r\n`, "get b\r\n"] },
  { name: "too large value sent in pieces", steps: [{ send: [`set a 0 0 ${MAX_VALUE + 100}\r\n`, "v".repeat(500000), `${"v".repeat(MAX_VALUE + 100 - 500000)}\r\nget a\r\n`] }, "version\r\n"] },
  { name: "large value split across many packets", steps: [{ send: Array.from({ length: 10 }, (_, i) => (i === 0 ? "set a 0 0 100000\r\n" : "") + "x".repeat(10000) + (i === 9 ? "\r\n" : "")), gapMs: 2 }, "get a\r\n"] },
  { name: "get of several large values", steps: [`set a 0 0 60000\r\n${"a".repeat(60000)}\r\nset b 0 0 60000\r\n${"b".repeat(60000)}\r\n`, "get a b a\r\n"] },
  { name: "pipeline after a large value", steps: [`set a 0 0 70000\r\n${"z".repeat(70000)}\r\nset b 0 0 1\r\n1\r\nincr b 1\r\nget b\r\n`] },
  { name: "flags survive append prepend and touch", steps: ["set a 4294967295 0 1\r\nx\r\n", "append a 5 0 1\r\ny\r\n", "touch a 100\r\n", "prepend a 6 0 1\r\nw\r\n", "gets a\r\n"] },
  { name: "close after 25 pipelined commands keeps the first 20 replies", steps: ["version\r\n".repeat(25) + "GET / HTTP/1.1\r\n"] },
  { name: "close after 45 pipelined commands with data blocks", steps: ["set a 0 0 1\r\nx\r\n".repeat(45) + "x".repeat(2100)] },
  { name: "conn_yields counts a yield after 21 then every 20 commands of a read", steps: ["version\r\n".repeat(45), "version\r\n".repeat(20), "get a\r\n".repeat(21), "stats\r\n"] },
  { name: "-R 5 yields every 5 commands", args: ["-R", "5"], steps: ["version\r\n".repeat(12) + "GET / HTTP/1.1\r\n"] },
  { name: "conn_yields after stats reset", args: ["-R", "3"], steps: ["version\r\n".repeat(7), "stats reset\r\n", "get a\r\nget a\r\nget a\r\n", "stats\r\n"] },
  { name: "too long key in a get culls the replies of the read", steps: ["version\r\n".repeat(22) + `get a ${"k".repeat(251)}\r\n`] },
  { name: "gets write at once and survive a later close", steps: ["version\r\nget a\r\nversion\r\nGET / HTTP/1.1\r\n"] },
  { name: "conn_yields of each command kind", steps: ["get a\r\n".repeat(25), "gets a\r\n".repeat(20), "set a 0 0 1\r\nx\r\n".repeat(20), "delete a\r\n".repeat(20), "incr a 1\r\n".repeat(20), "gat 0 a\r\n".repeat(21), "bogus\r\n".repeat(20), "set a 0 0 1 noreply\r\nx\r\n".repeat(19), "stats\r\n"] },
  { name: "yield carried into the next read", args: ["-R", "3"], steps: ["version\r\n".repeat(7), "stats reset\r\n", "get a\r\n".repeat(3), "version\r\n".repeat(3), "get a\r\n".repeat(3), "version\r\n".repeat(6), "stats\r\n"] },
  { name: "replies wait for a half sent data block", steps: ["version\r\nset b 0 0 5\r\nab", "cde\r\n", "version\r\nversion\r\nget", " a\r\n", "delete b\r\nset c 0 0 5 noreply\r\nab", "cde\r\nget c\r\n"] },
  { name: "replies wait for a swallowed too large block", args: ["-I", "1k", "-o", "slab_chunk_max=512"], steps: ["version\r\nset b 0 0 2000\r\nab", "v".repeat(1998) + "\r\nversion\r\n"] },
  { name: "get replies go out before a half sent data block", steps: ["version\r\nget a\r\nversion\r\nset b 0 0 5\r\nab", "cde\r\n", "get b\r\nset c 0 0 1\r\n", "z\r\nget c\r\n"] },
  {
    name: "-c 26 admits two clients and refuses the third",
    args: ["-c", "26"],
    // The harness's start-up probe of memcached must be closed before the first client counts.
    steps: [{ sleep: 300 }, "version\r\n", { send: "version\r\n", conn: 1 }, { send: "version\r\n", conn: 2 }, { send: "quit\r\n", conn: 1 }, { sleep: 200 }, { send: "get a\r\n", conn: 3 }, { send: "version\r\n", conn: 4 }, "stats\r\n"],
  },
  { name: "shutdown disabled keeps the connection", steps: ["shutdown\r\nversion\r\n", "shutdown graceful noreply\r\n", "version\r\n"] },
];
