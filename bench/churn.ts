import { PHASE_FLAGS, PHASE_HELP, parseBenchArgs, phaseOptions } from "./lib/cli.ts";
import { stats, statsReset } from "./lib/client.ts";
import { withControl } from "./lib/control.ts";
import { memory } from "./lib/proc.ts";
import { ratio, table, us } from "./lib/report.ts";
import { type BenchServer, startMemcached, startOurs } from "./lib/servers.ts";
import { type LoadResult, runLoad } from "./load.ts";

const HELP = `Usage: node bench/churn.ts [options]
Sends random sets over a key space to a fresh memcached-ts, then a fresh memcached (same -m), and
prints per-request latency (p99.9 is the figure of interest: GC pauses under churn show there) and
memcached-ts' worst event-loop stall (its 'stats memcached_ts' event_loop_delay_max_us), next to
this script's own worst stall meanwhile ("control"): a stall there too was the machine's.
A warm-up of --warmup-sets sets over the same keys comes first, for both servers, and is measured
apart: memcached-ts' first requests run before V8 has compiled the request path, a one-time
stall of ~10-30 ms after each start that says nothing about behaviour under churn.

  --sets N          sets to send (5000000)
  --warmup-sets N   sets sent before, measured apart (200000)
  --keys N          key space (2000000)
  --value-size N    value bytes (100)
  --key-size N      key bytes (16)
  --memory MB       -m for both servers (1024)
${PHASE_HELP}
  --help            this text
`;

const v = parseBenchArgs(HELP, {
  sets: { type: "string", default: "5000000" },
  "warmup-sets": { type: "string", default: "200000" },
  keys: { type: "string", default: "2000000" },
  "value-size": { type: "string", default: "100" },
  "key-size": { type: "string", default: "16" },
  memory: { type: "string", default: "1024" },
  ...PHASE_FLAGS,
});
const sets = Number(v.sets);
const warmupSets = Number(v["warmup-sets"]);
const m = ["-m", v.memory];

interface Outcome {
  load: LoadResult;
  rss: number;
  stall: { max: string; p99: string };
  controlStallUs: number;
  /** The warm-up's worst stall: start-up compilation shows there. */
  warmupStallMax: string;
}

/** `ours`: the server is memcached-ts, which alone has `stats memcached_ts` (memcached answers ERROR). */
async function churn(s: BenchServer, ours: boolean): Promise<Outcome> {
  try {
    const phase = (ops: number): Promise<LoadResult> =>
      runLoad({ port: s.port, dist: "uniform", getRatio: 0, ops, keys: Number(v.keys), valueSize: Number(v["value-size"]), keySize: Number(v["key-size"]), ...phaseOptions(v) });
    // Start-up (module loading) stalls the loop too: only the warm-up's and the churn's count, apart.
    await statsReset(s.port);
    let warmupStallMax = "-";
    if (warmupSets > 0) {
      const warmup = await phase(warmupSets);
      if (warmup.errors > 0) throw new Error(`${s.name}: ${warmup.errors} failed warm-up sets, first: ${warmup.firstError}`);
      if (ours) warmupStallMax = (await stats(s.port, "memcached_ts")).get("event_loop_delay_max_us") ?? "-";
      await statsReset(s.port);
    }
    const { result: load, controlStallUs } = await withControl(() => phase(sets));
    if (load.errors > 0) throw new Error(`${s.name}: ${load.errors} failed sets, first: ${load.firstError}`);
    if (load.requests < sets) process.stderr.write(`warning: ${s.name} got only ${load.requests} of ${sets} sets in --seconds ${v.seconds}\n`);
    const st = ours ? await stats(s.port, "memcached_ts") : new Map<string, string>();
    return { load, rss: memory(s.pid).rss, stall: { max: st.get("event_loop_delay_max_us") ?? "-", p99: st.get("event_loop_delay_p99_us") ?? "-" }, controlStallUs, warmupStallMax };
  } finally {
    await s.stop();
  }
}

const ours = await churn(await startOurs(m), true);
const theirs = await churn(await startMemcached(m, "memcached"), false);
const rows = [["server", "sets/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "RSS MB", "loop stall max µs", "loop stall p99 µs", "control stall max µs", "warm-up stall max µs"]];
for (const [name, o] of [["memcached-ts", ours], ["memcached", theirs]] as const) {
  const h = o.load.latency;
  rows.push([name, String(Math.round(o.load.opsPerSec)), us(h.quantile(0.5)), us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max), (o.rss / 1024 / 1024).toFixed(0), o.stall.max, o.stall.p99, String(o.controlStallUs), o.warmupStallMax]);
}
process.stdout.write(`${sets} random sets over ${v.keys} keys, ${v["value-size"]} B values, -m ${v.memory}\n${table(rows)}`);
process.stdout.write(`p99.9 ours/memcached: ${ratio(ours.load.latency.quantile(0.999), theirs.load.latency.quantile(0.999))}\n`);
