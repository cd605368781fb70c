import { parseBenchArgs } from "./lib/cli.ts";
import { cpuRunSeconds, cpuTimes } from "./lib/proc.ts";
import { median, ratio, table, us } from "./lib/report.ts";
import { type BenchServer, startMemcached, startOurs } from "./lib/servers.ts";
import { LOAD_FLAGS, LOAD_HELP, type LoadOptions, fillEveryKey, loadOptionsFrom, runLoad } from "./load.ts";

/**
 * The workloads the performance targets are stated for, most common first: one request in
 * flight per connection is how most applications use memcached (a web request does a get,
 * waits, renders), so it leads; pipelining and multi-get, where batching flatters a server
 * that writes once per read, come after it.
 */
interface Workload {
  id: string;
  title: string;
  load: Partial<LoadOptions>;
  /** Targets as ratios ours/memcached: at least `throughput`, at most `cpu` and `p99`. */
  targets: { throughput?: number; cpu?: number; p99?: number };
}

const ONE_IN_FLIGHT = { workers: 1, depth: 1 } as const;
const SUITE: Workload[] = [
  { id: "get16", title: "90% get, 16 conns, 1 in flight", load: { ...ONE_IN_FLIGHT, conns: 16 }, targets: { throughput: 0.95, cpu: 1.1, p99: 1.2 } },
  { id: "get50", title: "90% get, 50 conns, 1 in flight", load: { ...ONE_IN_FLIGHT, conns: 50 }, targets: { throughput: 0.95, cpu: 1.1, p99: 1.2 } },
  { id: "set16", title: "sets only, 16 conns, 1 in flight", load: { ...ONE_IN_FLIGHT, conns: 16, getRatio: 0 }, targets: { throughput: 0.9, cpu: 1.15 } },
  { id: "set50", title: "sets only, 50 conns, 1 in flight", load: { ...ONE_IN_FLIGHT, conns: 50, getRatio: 0 }, targets: { throughput: 0.9, cpu: 1.15 } },
  { id: "pipelined", title: "90% get, 4 conns x 32 in flight", load: { workers: 1, conns: 4, depth: 32 }, targets: { throughput: 1.0 } },
  { id: "multiget", title: "get of 100 keys, 16 conns, 1 in flight (keys/s)", load: { ...ONE_IN_FLIGHT, conns: 16, getRatio: 1, multiget: 100 }, targets: { throughput: 0.95 } },
  { id: "large", title: "90% get, 16 KB values, 16 conns, 1 in flight", load: { ...ONE_IN_FLIGHT, conns: 16, valueSize: 16 * 1024, keys: 10_000 }, targets: { throughput: 0.95 } },
];

const HELP = `Usage: node bench/compare.ts [options]
Runs each workload against memcached-ts and memcached -t 1 (the same thread count), both
started here on free loopback ports, in alternating rounds, and prints medians and the ratios
ours/memcached next to the targets. Server CPU per request (from /proc/<pid>/stat) is the figure
to trust on a shared machine; throughput and latency move with whatever else runs. 100 B values
and 100k keys (all present: gets hit, sets overwrite) unless a workload says otherwise.

Workloads (ids for --only): ${SUITE.map((w) => w.id).join(", ")}

  --only IDS        comma-separated workload ids (all)
  --rounds N        rounds; each runs both servers once, in alternating order (5)
  --seconds S       length of one server's turn in a round (2)
  --warmup S        unmeasured load per server before each workload's rounds (1)
  --quick           one round of 1 s, 0.5 s warm-up: the whole table in under a minute
  --memory MB       -m for every server (1024)
  --custom          one workload from the load flags below instead of the suite:
${LOAD_HELP}
  --help            this text
`;

const v = parseBenchArgs(HELP, {
  ...LOAD_FLAGS,
  only: { type: "string", default: "" },
  rounds: { type: "string", default: "5" },
  seconds: { type: "string", default: "2" },
  warmup: { type: "string", default: "1" },
  quick: { type: "boolean", default: false },
  memory: { type: "string", default: "1024" },
  custom: { type: "boolean", default: false },
});
const rounds = v.quick ? 1 : Number(v.rounds);
const seconds = v.quick ? 1 : Number(v.seconds);
const warmup = v.quick ? 0.5 : Number(v.warmup);
const m = ["-m", v.memory];

let workloads = SUITE;
if (v.custom) {
  const load = loadOptionsFrom(v);
  workloads = [{ id: "custom", title: `${load.workers}x${load.conns} conns x depth ${load.depth}, ${load.getRatio * 100}% get, ${load.valueSize} B`, load, targets: {} }];
} else if (v.only !== "") {
  const ids = v.only.split(",");
  const unknown = ids.filter((id) => !SUITE.some((w) => w.id === id));
  if (unknown.length > 0) {
    process.stderr.write(`unknown workload ${unknown.join(", ")}; known: ${SUITE.map((w) => w.id).join(", ")}\n`);
    process.exit(64);
  }
  workloads = SUITE.filter((w) => ids.includes(w.id));
}

interface Sample {
  /** Requests per second; keys per second for a multi-get. */
  throughput: number;
  p50: number;
  p99: number;
  /** Every thread's scheduler time (/proc/<pid>/task/<tid>/schedstat), exact to the ns. */
  cpuUsPerReq: number;
  /**
   * The user-space part of it: the kernel's share is about the same for both servers. Linux
   * splits a process's exact CPU time into user and system by sampling at each timer tick
   * (250 a second here), so over one round this part moves by about ±0.3 µs; the total does not.
   */
  userUsPerReq: number;
  generatorCores: number;
}

interface Outcome {
  workload: Workload;
  ours: Sample;
  theirs: Sample;
  cpuSpread: string;
}

async function measure(w: Workload, servers: readonly BenchServer[]): Promise<Map<BenchServer, Sample[]>> {
  const base = { ...w.load };
  const run = (s: BenchServer, extra: Partial<LoadOptions>) => runLoad({ ...base, port: s.port, ...extra });
  for (const s of servers) {
    await fillEveryKey({ ...base, port: s.port }, s.name);
    await run(s, { seconds: warmup });
  }
  const samples = new Map<BenchServer, Sample[]>(servers.map((s) => [s, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + r) % servers.length];
      const cpu0 = cpuTimes(s.pid);
      const run0 = cpuRunSeconds(s.pid);
      const res = await run(s, { seconds });
      const cpu = cpuRunSeconds(s.pid) - run0;
      const user = cpuTimes(s.pid).user - cpu0.user;
      if (res.errors > 0) throw new Error(`${s.name}: ${res.errors} errors, first: ${res.firstError}`);
      const perSecond = (base.multiget ?? 1) > 1 ? (res.hits + res.misses) / res.seconds : res.opsPerSec;
      samples.get(s)?.push({ throughput: perSecond, p50: res.latency.quantile(0.5), p99: res.latency.quantile(0.99), cpuUsPerReq: (cpu * 1e6) / res.requests, userUsPerReq: (user * 1e6) / res.requests, generatorCores: res.generatorCores });
    }
  }
  return samples;
}

function medians(xs: readonly Sample[]): Sample {
  const med = (f: (x: Sample) => number): number => median(xs.map(f));
  return { throughput: med((x) => x.throughput), p50: med((x) => x.p50), p99: med((x) => x.p99), cpuUsPerReq: med((x) => x.cpuUsPerReq), userUsPerReq: med((x) => x.userUsPerReq), generatorCores: med((x) => x.generatorCores) };
}

/**
 * The rounds' own CPU ratios (each round runs both servers back to back): their median and
 * middle half. On a shared machine one round's ratio moves by ±0.1 and the machine's speed
 * drifts between rounds, which the ratio of the two servers' medians does not cancel and a
 * round's own ratio does, so the two medians can differ by a few hundredths; a figure near
 * its target is met or missed by chance, and this says how near. "-" with fewer than 3 rounds.
 */
function cpuSpread(ours: readonly Sample[], theirs: readonly Sample[]): string {
  const rs = ours.map((x, i) => x.cpuUsPerReq / theirs[i].cpuUsPerReq).sort((a, b) => a - b);
  if (rs.length < 3) return "-";
  return `${median(rs).toFixed(2)} (${rs[Math.floor((rs.length - 1) / 4)].toFixed(2)}-${rs[Math.ceil(((rs.length - 1) * 3) / 4)].toFixed(2)})`;
}

/** "0.97 (>= 0.95 ok)": the ratio and, when the workload has a target for it, whether it is met. */
function judged(ours: number, theirs: number, target: number | undefined, atLeast: boolean): string {
  const r = ratio(ours, theirs);
  if (target === undefined) return r;
  const met = atLeast ? ours / theirs >= target : ours / theirs <= target;
  return `${r} (${atLeast ? ">=" : "<="} ${target} ${met ? "ok" : "MISSED"})`;
}

const servers: BenchServer[] = [];
try {
  servers.push(await startOurs(m), await startMemcached(["-t", "1", ...m], "memcached -t 1"));
  const [oursServer, theirsServer] = servers;
  const outcomes: Outcome[] = [];
  for (const w of workloads) {
    const res = await measure(w, servers);
    const ours = res.get(oursServer);
    const theirs = res.get(theirsServer);
    if (ours === undefined || theirs === undefined) throw new Error("missing samples");
    outcomes.push({ workload: w, ours: medians(ours), theirs: medians(theirs), cpuSpread: cpuSpread(ours, theirs) });
    process.stderr.write(`${w.id} done\n`);
  }
  console.log(`memcached-ts vs memcached -t 1; medians of ${rounds} round(s) of ${seconds} s; ratios are ours / memcached\n`);
  const ratios = [["workload", "throughput", "CPU per request", "CPU, rounds' own: median (middle half)", "p99"]];
  for (const { workload: w, ours, theirs, cpuSpread } of outcomes) {
    ratios.push([
      w.title,
      judged(ours.throughput, theirs.throughput, w.targets.throughput, true),
      judged(ours.cpuUsPerReq, theirs.cpuUsPerReq, w.targets.cpu, false),
      cpuSpread,
      judged(ours.p99, theirs.p99, w.targets.p99, false),
    ]);
  }
  console.log(table(ratios));
  const detail = [["workload", "server", "ops/s (keys/s)", "p50 µs", "p99 µs", "server CPU µs/req", "of it user", "generator cores"]];
  for (const { workload: w, ours, theirs } of outcomes) {
    for (const [name, x] of [["memcached-ts", ours], ["memcached -t 1", theirs]] as const) {
      detail.push([w.id, name, String(Math.round(x.throughput)), us(x.p50), us(x.p99), x.cpuUsPerReq.toFixed(2), x.userUsPerReq.toFixed(2), x.generatorCores.toFixed(2)]);
    }
  }
  console.log(table(detail));
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
