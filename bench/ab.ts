import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseBenchArgs } from "./lib/cli.ts";
import { cpuRunSeconds } from "./lib/proc.ts";
import { median, table } from "./lib/report.ts";
import { type BenchServer, startCheckout } from "./lib/servers.ts";
import { LOAD_FLAGS, LOAD_HELP, fillEveryKey, loadOptionsFrom, runLoad } from "./load.ts";

const HELP = `Usage: node bench/ab.ts (--against DIR | --node-flags FLAGS)... [options]
Whether a change moves memcached-ts' CPU per request as a whole server, sockets and all:
this checkout (the baseline) and each variant take the same load in alternating order for
many short rounds, and each variant's CPU per request is divided by the baseline's from the
same round. On a shared 2-core machine one round's figure moves by ±10%, which hides any
change worth making; the median of 40 paired ratios does not (about ±2%, printed beside
it). For what bench:path cannot see: Node's own work around each read and write, Node and
V8 flags, the socket path. CPU is the scheduler's time of every thread of the server
(/proc/<pid>/task/*/schedstat), in nanoseconds.

Variants, at least one, each its own server:
  --against DIR       another checkout (say a git worktree of another commit), run by this Node
  --node-flags=FLAGS  this checkout, Node started with FLAGS (--node-flags=--max-semi-space-size=32;
                      the = keeps a value that starts with a dash from reading as a flag)

  --rounds N        rounds; each runs every server once (40)
  --seconds S       length of one server's turn in a round (1)
  --memory MB       -m for every server (1024)
The load takes bench:load's flags but is by default the one-request-in-flight workload the
performance targets lead with: 1 worker x 16 connections x 1 in flight, 90% gets.
${LOAD_HELP}
  --help            this text
`;

const v = parseBenchArgs(HELP, {
  ...LOAD_FLAGS,
  workers: { type: "string", default: "1" },
  conns: { type: "string", default: "16" },
  depth: { type: "string", default: "1" },
  "get-ratio": { type: "string", default: "0.9" },
  against: { type: "string", multiple: true, default: [] },
  "node-flags": { type: "string", multiple: true, default: [] },
  rounds: { type: "string", default: "40" },
  seconds: { type: "string", default: "1" },
  memory: { type: "string", default: "1024" },
});

function fail(message: string): never {
  process.stderr.write(`bench/ab: ${message}\n`);
  process.exit(64);
}

const here = resolve(import.meta.dirname, "..");
interface Variant {
  name: string;
  root: string;
  nodeFlags: string[];
}
const variants: Variant[] = [{ name: "this checkout (baseline)", root: here, nodeFlags: [] }];
for (const dir of v.against) {
  const root = resolve(dir);
  if (!existsSync(resolve(root, "src/main.ts"))) fail(`--against ${dir}: no src/main.ts there`);
  variants.push({ name: `--against ${dir}`, root, nodeFlags: [] });
}
for (const flags of v["node-flags"]) variants.push({ name: `--node-flags ${flags}`, root: here, nodeFlags: flags.split(/\s+/).filter(Boolean) });
if (variants.length < 2) fail("nothing to compare: give --against DIR or --node-flags FLAGS");
const rounds = Number(v.rounds);
const seconds = Number(v.seconds);
if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds ${v.rounds}: a whole number of at least 1`);
if (!(seconds > 0)) fail(`--seconds ${v.seconds}: a positive number`);
const load = loadOptionsFrom(v);

/**
 * The median of `xs` and the ranks around it that hold the true median with about 95%
 * confidence whatever the distribution (the binomial's normal approximation: n/2 ± 0.98√n).
 */
function medianInterval(xs: readonly number[]): { median: number; low: number; high: number } {
  const s = [...xs].sort((a, b) => a - b);
  const half = 0.98 * Math.sqrt(s.length);
  const low = Math.max(0, Math.floor(s.length / 2 - half));
  const high = Math.min(s.length - 1, Math.ceil(s.length / 2 + half) - 1);
  return { median: median(s), low: s[low], high: s[high] };
}

const servers: BenchServer[] = [];
try {
  for (const x of variants) servers.push(await startCheckout(x.root, x.nodeFlags, ["-m", v.memory], x.name));
  for (const s of servers) {
    await fillEveryKey({ ...load, port: s.port }, s.name);
    await runLoad({ ...load, port: s.port, seconds: 1 });
  }
  const cpu = servers.map((): number[] => []);
  const throughput = servers.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const k = (i + r) % servers.length;
      const s = servers[k];
      const before = cpuRunSeconds(s.pid);
      const res = await runLoad({ ...load, port: s.port, seconds });
      const used = cpuRunSeconds(s.pid) - before;
      if (res.errors > 0) throw new Error(`${s.name}: ${res.errors} errors, first: ${res.firstError}`);
      cpu[k].push((used * 1e6) / res.requests);
      throughput[k].push(res.opsPerSec);
    }
  }
  const rows = [["variant", "ops/s", "CPU µs/req", "CPU ratio to baseline", "about 95% sure within"]];
  servers.forEach((s, k) => {
    const row = [s.name, median(throughput[k]).toFixed(0), median(cpu[k]).toFixed(2)];
    if (k === 0) row.push("", "");
    else {
      const m = medianInterval(cpu[k].map((c, r) => c / cpu[0][r]));
      row.push(m.median.toFixed(3), `${m.low.toFixed(3)}-${m.high.toFixed(3)}`);
    }
    rows.push(row);
  });
  console.log(`${load.workers}x${load.conns} conns x ${load.depth} in flight, ${load.getRatio * 100}% get, ${load.valueSize} B values, ${load.keys} keys; ${rounds} rounds of ${seconds} s; ratios are medians of the rounds' own\n`);
  console.log(table(rows));
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
