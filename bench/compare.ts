import { parseBenchArgs } from "./lib/cli.ts";
import { cpuSeconds } from "./lib/proc.ts";
import { median, ratio, table, us } from "./lib/report.ts";
import { type BenchServer, startMemcached, startOurs } from "./lib/servers.ts";
import { LOAD_FLAGS, LOAD_HELP, type LoadOptions, loadOptionsFrom, runLoad } from "./load.ts";

const HELP = `Usage: node bench/compare.ts [options]
Runs the same load against memcached-ts, memcached -t 1 and memcached -t 2, all started here on
free loopback ports, in alternating short rounds; prints medians per server and the ratios
ours/memcached. Server CPU per request (from /proc/<pid>/stat) is the figure to trust on a shared
machine; ops/s and latency move with whatever else runs.

  --rounds N        rounds; each runs every server once, in rotating order (5)
  --seconds S       length of one server's turn in a round (2)
  --warmup S        unmeasured load per server before the rounds (1)
  --memory MB       -m for every server (1024)
${LOAD_HELP}
  --help            this text
`;

const v = parseBenchArgs(HELP, {
  ...LOAD_FLAGS,
  rounds: { type: "string", default: "5" },
  seconds: { type: "string", default: "2" },
  warmup: { type: "string", default: "1" },
  memory: { type: "string", default: "1024" },
});
const load = loadOptionsFrom(v);
const rounds = Number(v.rounds);
const seconds = Number(v.seconds);
const m = ["-m", v.memory];

interface Sample {
  opsPerSec: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  cpuUsPerReq: number;
  generatorCores: number;
}

const servers: BenchServer[] = [];
try {
  servers.push(await startOurs(m), await startMemcached(["-t", "1", ...m], "memcached -t 1"), await startMemcached(["-t", "2", ...m], "memcached -t 2"));
  const run = (s: BenchServer, extra: Partial<LoadOptions>) => runLoad({ ...load, port: s.port, ...extra });
  for (const s of servers) {
    // Every key exists before measuring, so gets are hits and sets overwrite, as in a warm cache.
    const pre = await run(s, { dist: "seq", getRatio: 0, ops: load.keys, seconds: 120, depth: 64 });
    if (pre.errors > 0) throw new Error(`${s.name}: preload failed: ${pre.firstError}`);
    await run(s, { seconds: Number(v.warmup) });
  }
  const samples = new Map<BenchServer, Sample[]>(servers.map((s) => [s, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + r) % servers.length];
      const cpu0 = cpuSeconds(s.pid);
      const res = await run(s, { seconds });
      const cpu = cpuSeconds(s.pid) - cpu0;
      if (res.errors > 0) throw new Error(`${s.name}: ${res.errors} errors, first: ${res.firstError}`);
      const q = (x: number): number => res.latency.quantile(x);
      samples.get(s)?.push({ opsPerSec: res.opsPerSec, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: res.latency.max, cpuUsPerReq: (cpu * 1e6) / res.requests, generatorCores: res.generatorCores });
    }
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }

  const med = (s: BenchServer, f: (x: Sample) => number): number => median((samples.get(s) ?? []).map(f));
  console.log(
    `${load.workers} workers x ${load.conns} conns x depth ${load.depth}, ${load.getRatio * 100}% gets, ${load.keys} keys (${load.dist}${load.dist === "zipf" ? ` s=${load.zipfS}` : ""}), ${load.valueSize} B values; medians of ${rounds} rounds of ${seconds} s\n`,
  );
  const rows = [["server", "ops/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "server CPU µs/req", "generator cores"]];
  for (const s of servers) {
    rows.push([s.name, String(Math.round(med(s, (x) => x.opsPerSec))), us(med(s, (x) => x.p50)), us(med(s, (x) => x.p99)), us(med(s, (x) => x.p999)), us(med(s, (x) => x.max)), med(s, (x) => x.cpuUsPerReq).toFixed(2), med(s, (x) => x.generatorCores).toFixed(2)]);
  }
  console.log(table(rows));
  const ours = servers[0];
  const ratios = [["ours / ...", "ops/s", "p50", "p99", "p99.9", "CPU per request"]];
  for (const s of servers.slice(1)) {
    const rt = (f: (x: Sample) => number): string => ratio(med(ours, f), med(s, f));
    ratios.push([s.name, rt((x) => x.opsPerSec), rt((x) => x.p50), rt((x) => x.p99), rt((x) => x.p999), rt((x) => x.cpuUsPerReq)]);
  }
  console.log(table(ratios));
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
