import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { reexecWithHugePages } from "../src/huge-pages.ts";
import { parseBenchArgs } from "./lib/cli.ts";
import { median, table } from "./lib/report.ts";

const HELP = `Usage: node bench/request-path.ts [options]
What one request costs our code alone, in process: a text session over the real cache,
every key set beforehand, requests for random keys fed to it one at a time, no sockets.
Side by side on a shared 2-core machine one round's CPU per request moves by ±10%, which
hides any change to the request path worth making (0.1 µs is 1%); this does not.

In the server the kernel's work between two requests flushes the CPU's first-level caches,
so each request finds its code and data cold: "cold" walks --evict KiB of other memory and
runs --evict-code other functions (about 350 bytes of machine code each) before each
request to do the same, "warm" does not. Code matters as much as data here: with 300
functions a get miss measured 600-700 ns against ~400 with the data walk alone. Prints
nanoseconds per request, the median of the rounds' means, the timer's own cost taken off.
The machine's noise reaches in-process timings too (other tenants share the memory and the
last-level cache), so to compare two versions of the code run them in one process with
--against: rounds then alternate between the two, and the ratio comes from rounds run side
by side.

  --keys N          keys set beforehand, values of 100 B (100000)
  --requests N      requests per round, workload and temperature (100000)
  --rounds N        rounds (5)
  --against DIR     another checkout (say a git worktree of an older commit) run beside this one
  --evict KIB       memory walked before each cold request (64)
  --evict-code N    distinct functions run before each cold request (300, about 100 KiB of code)
  --only NAMES      comma-separated: get, miss, set, mg, get100 (a get of 100 keys)
                    (default: all but get100)
  --help            this text
`;

const v = parseBenchArgs(HELP, {
  keys: { type: "string", default: "100000" },
  requests: { type: "string", default: "100000" },
  rounds: { type: "string", default: "5" },
  against: { type: "string", default: "" },
  evict: { type: "string", default: "64" },
  "evict-code": { type: "string", default: "300" },
  only: { type: "string", default: "get,miss,set,mg" },
});

// Item memory on huge pages, as the server has it (a miss on 4 KiB pages also misses the TLB).
reexecWithHugePages();

const keys = Number(v.keys);
const requests = Number(v.requests);
const rounds = Number(v.rounds);
const VALUE = "v".repeat(100);
const key = (k: number): string => `key:${String(k).padStart(10, "0")}`;
const random = (): number => Math.floor(Math.random() * keys);

/** Each workload's request lines: 4096 of them, random keys, cycled. */
const WORKLOADS: Record<string, () => string> = {
  get: () => `get ${key(random())}\r\n`,
  miss: () => `get nokey:${String(random()).padStart(8, "0")}\r\n`,
  set: () => `set ${key(random())} 0 0 100\r\n${VALUE}\r\n`,
  mg: () => `mg ${key(random())} v f\r\n`,
  get100: () => `get ${Array.from({ length: 100 }, () => key(random())).join(" ")}\r\n`,
};
const names = v.only.split(",");
const unknown = names.filter((n) => !(n in WORKLOADS));
if (unknown.length > 0) {
  process.stderr.write(`unknown workload ${unknown.join(", ")}; known: ${Object.keys(WORKLOADS).join(", ")}\n`);
  process.exit(64);
}

/** A workload's first line with its random numbers as N, and a long key list shortened. */
function requestLabel(line: Buffer): string {
  const words = line.toString("latin1").split("\r\n")[0].replace(/:\d+/g, ":N").split(" ");
  return words.length > 6 ? `${words.slice(0, 3).join(" ")} ... (${words.length - 1} keys)` : words.join(" ");
}

/** One checkout's request path, fed one request line at a time. */
interface Path {
  name: string;
  feed(line: Buffer): void;
  close(): Promise<void>;
}

/** Loads a checkout's own modules (so two versions can run in one process), sets every key. */
async function loadPath(root: string): Promise<Path> {
  const load = <T>(file: string): Promise<T> => import(pathToFileURL(resolve(root, "src", file)).href) as Promise<T>;
  const { parseCli } = await load<typeof import("../src/settings/cli.ts")>("settings/cli.ts");
  const { startServer } = await load<typeof import("../src/server/server.ts")>("server/server.ts");
  const { silentLogger } = await load<typeof import("../src/log.ts")>("log.ts");
  const { OutBuffer } = await load<typeof import("../src/protocol/out-buffer.ts")>("protocol/out-buffer.ts");
  const { TextSession } = await load<typeof import("../src/protocol/text/session.ts")>("protocol/text/session.ts");
  const { MetaProtocol } = await load<typeof import("../src/protocol/meta/protocol.ts")>("protocol/meta/protocol.ts");
  const parsed = parseCli(["-p", "0", "-l", "127.0.0.1", "-m", "1024", "-U", "0"]);
  if (parsed.kind !== "run") throw new Error("unexpected settings");
  const server = await startServer(parsed.settings, silentLogger());
  const out = new OutBuffer();
  const session = new TextSession(server.ctx, out);
  session.meta = new MetaProtocol().handle;
  const readBuffer = Buffer.alloc(64 * 1024);
  const feed = (line: Buffer): void => {
    line.copy(readBuffer, 0);
    session.consume(readBuffer, 0, line.length);
    out.len = 0;
  };
  for (let k = 0; k < keys; k++) feed(Buffer.from(`set ${key(k)} 0 0 100 noreply\r\n${VALUE}\r\n`));
  return { name: root, feed, close: () => server.close() };
}

const other = new Int32Array((Number(v.evict) * 1024) / 4);
let walked = 0;
/** Touches one word per cache line of `other`, as the kernel's work touches its own memory. */
function evict(): void {
  let x = walked;
  for (let i = 0; i < other.length; i += 16) x = (x + other[i]) | 0;
  other[x & (other.length - 1)] = x;
  for (let f = 0; f < otherCode.length; f++) x = otherCode[f](x);
  walked = x;
}

/**
 * Functions of distinct machine code, as the kernel's read and write paths are code the CPU
 * runs between two requests: each mixes its argument with its own constants, so no two
 * compile alike. Made from source at start-up since only distinct source gives distinct code.
 */
function makeOtherCode(n: number): ((x: number) => number)[] {
  const fns: ((x: number) => number)[] = [];
  for (let f = 0; f < n; f++) {
    const steps = Array.from({ length: 12 }, (_, j) => `y = (Math.imul(y, ${2 * f + 3 + j * 7919}) ^ (y >>> ${1 + ((f + j) % 30)})) + ${f * 31 + j} | 0;`);
    fns.push(new Function("x", `let y = x | 0;\n${steps.join("\n")}\nreturn y;`) as (x: number) => number);
  }
  // Optimized before timing starts, as the server's own code is.
  for (let r = 0; r < 20_000; r++) for (const fn of fns) fn(r);
  return fns;
}
const otherCode = makeOtherCode(Number(v["evict-code"]));

/** Mean ns per request of `fn` over one round; `cold` walks memory before each request. */
function round(lines: readonly Buffer[], cold: boolean, fn: (line: Buffer) => void): number {
  let total = 0n;
  for (let i = 0; i < requests; i++) {
    const line = lines[i & (lines.length - 1)];
    if (cold) evict();
    const t0 = process.hrtime.bigint();
    fn(line);
    total += process.hrtime.bigint() - t0;
  }
  return Number(total) / requests;
}

const nothing = (): void => {};
const paths = [await loadPath(resolve(import.meta.dirname, ".."))];
if (v.against !== "") paths.push(await loadPath(resolve(v.against)));
try {
  const header = ["request", ...paths.flatMap((_, i) => [`cold ns${i > 0 ? ` (${i + 1})` : ""}`, `warm ns${i > 0 ? ` (${i + 1})` : ""}`])];
  if (paths.length === 2) header.push("cold ratio 1/2", "warm ratio 1/2");
  const rows = [header];
  for (const name of names) {
    const lines = Array.from({ length: 4096 }, () => Buffer.from(WORKLOADS[name]()));
    /** Per path and temperature, the rounds' means, the timer's own cost taken off. */
    const ns = paths.map(() => ({ cold: [] as number[], warm: [] as number[] }));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < paths.length; i++) {
        const j = (i + r) % paths.length;
        const feed = paths[j].feed;
        ns[j].cold.push(round(lines, true, feed) - round(lines, true, nothing));
        ns[j].warm.push(round(lines, false, feed) - round(lines, false, nothing));
      }
    }
    const row = [requestLabel(lines[0]), ...ns.flatMap((x) => [median(x.cold).toFixed(0), median(x.warm).toFixed(0)])];
    if (paths.length === 2) {
      const ratio = (k: "cold" | "warm"): string => median(ns[0][k].map((x, r) => x / ns[1][k][r])).toFixed(3);
      row.push(ratio("cold"), ratio("warm"));
    }
    rows.push(row);
  }
  console.log(`${keys} keys of 100 B; ${requests} requests a round, medians of ${rounds} rounds; cold: ${v.evict} KiB walked and ${v["evict-code"]} functions run before each`);
  paths.forEach((p, i) => console.log(`(${i + 1}) ${p.name}`));
  console.log(`\n${table(rows)}`);
} finally {
  await Promise.all(paths.map((p) => p.close()));
}
