import { parseBenchArgs } from "./lib/cli.ts";
import { cpuTimes } from "./lib/proc.ts";
import { median, table } from "./lib/report.ts";
import { type BenchServer, startMemcached, startOurs, startScript } from "./lib/servers.ts";
import { runLoad } from "./load.ts";

const HELP = `Usage: node bench/floor.ts [options]
How much of memcached-ts' CPU per request is Node's I/O: the one-request-in-flight load
(90% get, 16 connections) against memcached -t 1, memcached-ts, and a Node server that
does no cache work but reads and writes as memcached-ts does (bench/lib/floor-server.ts:
small values copied into one write, large ones gathered from memory). Prints ops/s, user
and system CPU µs per request (medians of alternating rounds) and each one's throughput
against memcached: what the floor reaches bounds what memcached-ts can.

  --rounds N        rounds (5)
  --seconds S       length of one server's turn (2)
  --keys N          key space; 1000 fits in the CPU caches, 100000 does not (100000)
  --value-size B    value size (100); 16384 is bench/compare.ts' large-value row (use --keys 10000)
  --help            this text
`;

const v = parseBenchArgs(HELP, {
  rounds: { type: "string", default: "5" },
  seconds: { type: "string", default: "2" },
  keys: { type: "string", default: "100000" },
  "value-size": { type: "string", default: "100" },
});
const keys = Number(v.keys);
const valueSize = Number(v["value-size"]);
const load = { workers: 1, conns: 16, depth: 1, getRatio: 0.9, keys, valueSize };

const servers: BenchServer[] = [];
try {
  servers.push(await startMemcached(["-t", "1", "-m", "1024"], "memcached -t 1"), await startOurs(["-m", "1024"]), await startScript("bench/lib/floor-server.ts", "Node I/O floor", ["--value-size", String(valueSize), "--keys", String(keys)]));
  for (const s of servers) await runLoad({ ...load, port: s.port, depth: 64, dist: "seq", getRatio: 0, ops: keys, seconds: 60 });
  const samples = new Map<BenchServer, { user: number; system: number; ops: number }[]>(servers.map((s) => [s, []]));
  for (let r = 0; r < Number(v.rounds); r++) {
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + r) % servers.length];
      const t0 = cpuTimes(s.pid);
      const res = await runLoad({ ...load, port: s.port, seconds: Number(v.seconds) });
      const t1 = cpuTimes(s.pid);
      if (res.errors > 0) throw new Error(`${s.name}: ${res.firstError}`);
      samples.get(s)?.push({ user: ((t1.user - t0.user) * 1e6) / res.requests, system: ((t1.system - t0.system) * 1e6) / res.requests, ops: res.opsPerSec });
    }
  }
  const rows = [["server", "ops/s", "vs memcached", "user µs/req", "system µs/req", "total µs/req"]];
  const memcachedOps = median((samples.get(servers[0]) ?? []).map((x) => x.ops));
  for (const s of servers) {
    const xs = samples.get(s) ?? [];
    const med = (f: (x: (typeof xs)[number]) => number): number => median(xs.map(f));
    const ops = med((x) => x.ops);
    rows.push([s.name, String(Math.round(ops)), (ops / memcachedOps).toFixed(2), med((x) => x.user).toFixed(2), med((x) => x.system).toFixed(2), med((x) => x.user + x.system).toFixed(2)]);
  }
  console.log(`90% get, 16 conns x 1 in flight, ${keys} keys of ${valueSize} B; medians of ${v.rounds} rounds of ${v.seconds} s\n`);
  console.log(table(rows));
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
