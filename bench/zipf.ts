import { PHASE_FLAGS, PHASE_HELP, parseBenchArgs, phaseOptions } from "./lib/cli.ts";
import { stats } from "./lib/client.ts";
import { table } from "./lib/report.ts";
import { type BenchServer, startMemcached, startOurs } from "./lib/servers.ts";
import { type LoadOptions, runLoad } from "./load.ts";

const HELP = `Usage: node bench/zipf.ts [options]
A read-through cache workload (get a zipf-distributed key; on a miss, set it) against a fresh
memcached-ts and a fresh memcached with the same small -m, so that eviction decides what stays.
Prints the hit ratio of each and the difference. A warm-up phase fills the cache first.

  --keys N          key space (1000000)
  --zipf-s S        zipf exponent; key rank 0 is the hottest (0.99)
  --value-size N    value bytes (512)
  --key-size N      key bytes (16)
  --memory MB       -m for both servers (64)
  --ops N           measured requests (2000000)
  --warmup-ops N    requests before measuring (1000000)
${PHASE_HELP}
  --help            this text
`;

const v = parseBenchArgs(HELP, {
  keys: { type: "string", default: "1000000" },
  "zipf-s": { type: "string", default: "0.99" },
  "value-size": { type: "string", default: "512" },
  "key-size": { type: "string", default: "16" },
  memory: { type: "string", default: "64" },
  ops: { type: "string", default: "2000000" },
  "warmup-ops": { type: "string", default: "1000000" },
  ...PHASE_FLAGS,
});
const m = ["-m", v.memory];
const load: Omit<LoadOptions, "port" | "host" | "ops"> = {
  dist: "zipf",
  zipfS: Number(v["zipf-s"]),
  getRatio: 1,
  missSet: true,
  multiget: 1,
  keys: Number(v.keys),
  valueSize: Number(v["value-size"]),
  keySize: Number(v["key-size"]),
  ...phaseOptions(v),
};

interface Outcome {
  hitRatio: number;
  gets: number;
  failedSets: number;
  items: string;
  evictions: string;
}

async function measure(s: BenchServer): Promise<Outcome> {
  try {
    await runLoad({ ...load, port: s.port, ops: Number(v["warmup-ops"]) });
    const r = await runLoad({ ...load, port: s.port, ops: Number(v.ops) });
    const st = await stats(s.port);
    return { hitRatio: r.hits / r.gets, gets: r.gets, failedSets: r.errors, items: st.get("curr_items") ?? "-", evictions: st.get("evictions") ?? "-" };
  } finally {
    await s.stop();
  }
}

const ours = await measure(await startOurs(m));
const theirs = await measure(await startMemcached(m, "memcached"));
const rows = [["server", "gets", "hit ratio", "items held", "evictions", "failed sets"]];
for (const [name, o] of [["memcached-ts", ours], ["memcached", theirs]] as const) {
  rows.push([name, String(o.gets), `${(o.hitRatio * 100).toFixed(2)}%`, o.items, o.evictions, String(o.failedSets)]);
}
process.stdout.write(`zipf s=${v["zipf-s"]} over ${v.keys} keys, ${v["value-size"]} B values, -m ${v.memory}; get, set on miss\n${table(rows)}`);
process.stdout.write(`hit ratio ours - memcached: ${((ours.hitRatio - theirs.hitRatio) * 100).toFixed(2)} percentage points\n`);
