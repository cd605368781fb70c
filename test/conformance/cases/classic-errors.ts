import type { Case } from "../conversation.ts";

const k250 = "k".repeat(250);
const k251 = "k".repeat(251);
/** Spellings of numbers at and past the edges of memcached's safe_strto* parsers. */
const EDGES = ["4294967295", "4294967296", "-2147483648", "2147483648", "9223372036854775807", "18446744073709551615", "18446744073709551616", "-0", "+5", "0x10", "5abc", "1.5", "-1", "007", "\t5", "5\t", "\v7"];

/** One step per edge spelling of a numeric field; each followed by a probe of what was stored. */
function numberField(name: string, line: (v: string) => string, probe: string[] = [], args?: string[]): Case {
  const steps = EDGES.flatMap((v) => [line(v), ...probe]);
  return { name: `number edges: ${name}`, args, steps };
}

/** Every error path of the classic commands. */
export const classicErrors: Case[] = [
  numberField("set flags", (v) => `set a ${v} 0 1\r\nx\r\n`, ["gets a\r\n", "delete a\r\n"]),
  numberField("set exptime", (v) => `set a 0 ${v} 1\r\nx\r\n`, ["get a\r\n", "delete a\r\n"]),
  numberField("set bytes", (v) => `set a 0 0 ${v}\r\nx\r\n`, ["get a\r\n", "delete a\r\n"]),
  numberField("cas unique", (v) => `cas a 0 0 1 ${v}\r\nx\r\n`, ["gets a\r\n"], undefined),
  numberField("incr delta", (v) => `incr n ${v}\r\n`, ["get n\r\n", "set n 0 0 1\r\n5\r\n"]),
  numberField("decr delta", (v) => `decr n ${v}\r\n`, ["get n\r\n", "set n 0 0 20\r\n18446744073709551615\r\n"]),
  numberField("touch exptime", (v) => `touch a ${v}\r\n`, ["get a\r\n", "set a 0 0 1\r\nx\r\n"]),
  numberField("gat exptime", (v) => `gat ${v} a\r\n`, ["get a\r\n", "set a 0 0 1\r\nx\r\n"]),
  numberField("flush_all delay", (v) => `flush_all ${v}\r\n`, ["set a 0 0 1\r\nx\r\n", "get a\r\n"]),
  numberField("verbosity level", (v) => `verbosity ${v}\r\n`),
  numberField("cache_memlimit", (v) => `cache_memlimit ${v}\r\n`),
  numberField("delete hold time", (v) => `delete a ${v}\r\n`, ["set a 0 0 1\r\nx\r\n"]),
  {
    name: "too long key on every command",
    steps: [
      `add ${k251} 0 0 1\r\nx\r\n`,
      `replace ${k251} 0 0 1\r\nx\r\n`,
      `append ${k251} 0 0 1\r\nx\r\n`,
      `prepend ${k251} 0 0 1\r\nx\r\n`,
      `cas ${k251} 0 0 1 1\r\nx\r\n`,
      `gets ${k251}\r\n`,
      `gat 0 ${k251}\r\n`,
      `gats 0 a ${k251}\r\n`,
      `decr ${k251} 1\r\n`,
      `bget ${k251}\r\n`,
    ],
  },
  { name: "max length key on every command", steps: [`set ${k250} 0 0 1\r\n1\r\n`, `append ${k250} 0 0 1\r\n2\r\n`, `incr ${k250} 1\r\n`, `touch ${k250} 0\r\n`, `gats 0 ${k250}\r\n`, `delete ${k250}\r\n`] },
  {
    name: "wrong arity per command",
    steps: [
      "add a 0 0\r\n", "replace a 0 0 1 2 3\r\n", "append a\r\n", "prepend\r\n", "cas a 0 0 1 2 3 4\r\n", "cas a 0 0 1\r\n",
      "incr\r\n", "incr a 1 2 3\r\n", "decr a\r\n", "touch a 1 2 3\r\n", "delete a 0 noreply extra\r\n", "gat\r\n", "gats 1\r\n",
      "gets\r\n", "flush_all 1 2 3\r\n", "verbosity 1 2 3\r\n", "version 1\r\n", "quit 1\r\n",
    ],
  },
  { name: "data block shorter than declared", steps: [{ send: ["set a 0 0 5\r\nabc\r\n", "get a\r\n"] }, "get a\r\n"] },
  { name: "data block longer than declared", steps: ["set a 0 0 2\r\nabcdef\r\n", "get a\r\n", "set a 0 0 0\r\nx\r\n", "get a\r\n"] },
  { name: "data block ending in bare newline", steps: ["set a 0 0 1\r\nx\nget a\r\n", "set a 0 0 1\nx\r\nget a\n"] },
  { name: "data block ending in cr only", steps: ["set a 0 0 1\r\nx\r", "get a\r\n", "get a\r\n"] },
  { name: "bare newline lines", steps: ["set a 0 0 1\nx\r\n", "get a\n", "incr a 1\n", "delete a\n", "version\n", "\n"] },
  { name: "cr inside a line", steps: ["get a\rb\r\n", "set a\r 0 0 1\r\nx\r\n", "get a\r\r\n", "version\r\r\n"] },
  { name: "more than 24 tokens on store commands", steps: [`set a 0 0 1 ${"x ".repeat(30)}\r\nx\r\n`, `incr a 1 ${"x ".repeat(30)}\r\n`, `delete a ${"x ".repeat(30)}\r\n`, `touch a 1 ${"x ".repeat(30)}\r\n`] },
  { name: "get with exactly 23 to 25 tokens", steps: ["set k22 0 0 1\r\nx\r\nset k23 0 0 1\r\ny\r\n", `get ${Array.from({ length: 22 }, (_, i) => `k${i + 1}`).join(" ")}\r\n`, `get ${Array.from({ length: 23 }, (_, i) => `k${i + 1}`).join(" ")}\r\n`, `gets ${Array.from({ length: 24 }, (_, i) => `k${i + 1}`).join(" ")}\r\n`, `gat 0 ${Array.from({ length: 24 }, (_, i) => `k${i + 1}`).join(" ")}\r\n`] },
  { name: "too long key beyond 24 tokens culls", steps: ["set a 0 0 1\r\nx\r\n", `get ${"a ".repeat(30)}${k251}\r\n`, `get ${"a ".repeat(30)}b\r\n`] },
  { name: "long lines with newline for each command", steps: [`set ${"x".repeat(3000)} 0 0 1\r\nx\r\n`, `incr ${"x".repeat(3000)} 1\r\n`, `delete ${"x".repeat(3000)}\r\n`, `touch ${"x".repeat(3000)} 1\r\n`, `${"x".repeat(3000)}\r\n`, "version\r\n"] },
  { name: "long gat line without newline closes", steps: [{ send: ["gat 0 " + "a ".repeat(1500), "b\r\n"] }] },
  { name: "long gets line without newline is allowed", steps: ["set b 0 0 1\r\nx\r\n", { send: ["gets " + "a ".repeat(1500), "b\r\n"] }] },
  { name: "long get line with leading spaces", steps: [{ send: [" ".repeat(50) + "get " + "a ".repeat(1500), "b\r\n"] }] },
  { name: "long get line after 100 spaces closes", steps: [{ send: [" ".repeat(101) + "get " + "a ".repeat(1500), "b\r\n"] }] },
  { name: "long incr line without newline closes", steps: [{ send: ["incr " + "a".repeat(2100), " 1\r\n"] }] },
  { name: "exactly 2048 bytes without newline", steps: [{ send: ["x".repeat(2048), "\r\n"] }, "version\r\n"] },
  { name: "2049 bytes without newline closes", steps: [{ send: ["x".repeat(2049), "\r\n"] }] },
  { name: "long get line of 20000 bytes", steps: ["set b 0 0 1\r\nx\r\n", { send: ["get " + "a ".repeat(10000), "b\r\n"] }, "get b\r\n"] },
  { name: "commands are case sensitive", steps: ["GET a\r\n", "Set a 0 0 1\r\nx\r\n", "VERSION\r\n", "gEt a\r\n"] },
  { name: "command prefixes and suffixes", steps: ["ge a\r\n", "gett a\r\n", "sets a 0 0 1\r\nx\r\n", "incrx a 1\r\n", "deletes a\r\n", "touc a 1\r\n", "versions\r\n", "quitx\r\n", "flush_allx\r\n", "stat\r\n"] },
  { name: "tab is not a separator", steps: ["get\ta\r\n", "set a\t0 0 1\r\nx\r\n", "incr\ta 1\r\n", "version\t\r\n"] },
  { name: "http method variants", steps: ["POST /x HTTP/1.0\r\n", "version\r\n"] },
  { name: "http-like token not last", steps: ["get HTTP/1.1 a\r\n", "version\r\n"] },
  { name: "bget and unknown g commands", steps: ["set a 0 0 1\r\nx\r\n", "bget a\r\n", "bget\r\n", "gx a\r\n", "getx a\r\n"] },
  { name: "negative length swallow behaviour", steps: ["set a 0 0 -1\r\nx\r\n", "get a\r\n", "set a 0 0 2147483647\r\n", "version\r\n", "set a 0 0 2147483646\r\n", "version\r\n"] },
  { name: "error then pipeline continues", steps: ["bogus\r\nset a 0 0 1\r\nx\r\nincr a 1\r\nget a\r\nbogus2\r\nversion\r\n"] },
  { name: "nul in data block is data", steps: [Buffer.from("set a 0 0 3\r\na\x00b\r\nget a\r\n", "latin1")] },
  { name: "nul at line start", steps: [Buffer.from("\x00get a\r\nversion\r\n", "latin1")] },
  // The error line is written whatever noreply says; refresh_certs_x is an unknown command.
  { name: "refresh_certs without TLS", steps: ["refresh_certs\r\n", "refresh_certs noreply\r\nversion\r\n", "refresh_certs a b c\r\n", "refresh_certs_x\r\n"] },
];
