import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseBenchArgs } from "./lib/cli.ts";
import { command, stats, statsReset } from "./lib/client.ts";
import { withControl } from "./lib/control.ts";
import { cpuSeconds } from "./lib/proc.ts";
import { median, ratio, table, us } from "./lib/report.ts";
import { type BenchServer, startMemcached, startOurs } from "./lib/servers.ts";
import { type LoadOptions, type LoadResult, runLoad } from "./load.ts";

const PARTS = ["setrate", "always", "recovery", "compaction"] as const;
type Part = (typeof PARTS)[number];

const HELP = `Usage: node bench/persistence.ts [options]
What persistence (--aof) costs memcached-ts, measured on servers started here on free loopback
ports, with their directories under ${tmpdir()} (removed at the end):

  setrate     sets of 100 B values: --sync everysec and --sync no against the same server
              without persistence and memcached -t 1, in alternating rounds (medians), at
              depth 1 and depth 8 on 16 connections; ops/s and server CPU per request.
              Target: everysec >= 0.9x the throughput without persistence.
  always      --sync always (group commit) at 1, 16 and 50 connections, one request in flight
              each: ops/s, latency, fsyncs/s and sets per fsync (the group size).
  recovery    loads N items, stops the server with SIGTERM, restarts it on the same directory:
              from the log alone, then (after a snapshot) from the base snapshot alone; time
              from spawn to accepting connections and the server's own recovery_ms.
              Target: 1M items under 2 s.
  compaction  with N items loaded and a get/set load running, a snapshot (compaction): the
              worst event-loop stall and the load's latency, against the same load without one.
              Target: stall under 10 ms.

The load generator runs in this process's worker threads (1 worker for setrate/always, 2 for
compaction); its CPU is printed next to the server's, since this machine has 2 cores.

  --only LIST            parts to run, comma-separated (${PARTS.join(",")})
  --quick                small sizes and short rounds: a sanity check in under a minute
  --rounds N             setrate/always rounds (5; quick 2)
  --seconds S            one server's turn in a round (2; quick 0.5)
  --keys N               setrate/always key space (100000; quick 20000)
  --recovery-items LIST  items to recover, comma-separated (1000000,5000000; quick 100000)
  --compaction-items N   items in the store while compacting (1000000; quick 100000)
  --compaction-rounds N  snapshot + baseline pairs (3; quick 1)
  --help                 this text
`;

const v = parseBenchArgs(HELP, {
  only: { type: "string", default: PARTS.join(",") },
  quick: { type: "boolean", default: false },
  rounds: { type: "string" },
  seconds: { type: "string" },
  keys: { type: "string" },
  "recovery-items": { type: "string" },
  "compaction-items": { type: "string" },
  "compaction-rounds": { type: "string" },
});
const quick = v.quick === true;
const pick = (given: string | undefined, full: string, small: string): string => given ?? (quick ? small : full);
const positive = (name: string, s: string): number => {
  const n = Number(s);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, not '${s}'`);
  return n;
};
const rounds = positive("rounds", pick(v.rounds, "5", "2"));
const seconds = positive("seconds", pick(v.seconds, "2", "0.5"));
const keys = positive("keys", pick(v.keys, "100000", "20000"));
const recoveryItems = pick(v["recovery-items"], "1000000,5000000", "100000")
  .split(",")
  .map((s) => positive("recovery-items", s));
const compactionItems = positive("compaction-items", pick(v["compaction-items"], "1000000", "100000"));
const compactionRounds = positive("compaction-rounds", pick(v["compaction-rounds"], "3", "1"));
const only = v.only.split(",").map((s) => s.trim());
for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part '${p}' (${PARTS.join(", ")})`);

const VALUE_SIZE = 100;
/** Keeps automatic compaction out of parts that time something else (recovery, compaction). */
const NO_AUTO_COMPACTION = ["--compact-min-size", "1000g"];
/** For reference in the always table: the Go original, syncing after every command. */
const GO_ALWAYS_OPS = 4800;

const root = mkdtempSync(join(tmpdir(), "mcts-bench-persistence-"));
// Ctrl-C: bench/lib/servers.ts exits the process, and this still runs.
process.on("exit", () => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
function freshDir(label: string): string {
  const d = join(root, `${++dirs}-${label}`);
  mkdirSync(d);
  return d;
}

const out = (s: string): void => void process.stdout.write(s);
const note = (s: string): void => void process.stderr.write(`${s}\n`);

function stat(m: Map<string, string>, name: string): number {
  const s = m.get(name);
  if (s === undefined) throw new Error(`no STAT ${name}`);
  return Number(s);
}

/** Fails the run on any error reply: a figure from failed requests means nothing. */
function checked(name: string, r: LoadResult): LoadResult {
  if (r.errors > 0) throw new Error(`${name}: ${r.errors} errors, first: ${r.firstError}`);
  return r;
}

/** Sets keys 0..n-1 once each, pipelined (the fastest way in). */
async function preload(s: BenchServer, n: number): Promise<void> {
  const r = checked(`${s.name} preload`, await runLoad({ port: s.port, dist: "seq", getRatio: 0, keys: n, ops: n, valueSize: VALUE_SIZE, workers: 1, conns: 8, depth: 64, seconds: 600 }));
  if (r.requests < n) throw new Error(`${s.name}: preload sent only ${r.requests} of ${n} sets within 600 s`);
}

async function itemsIn(s: BenchServer): Promise<number> {
  return stat(await stats(s.port), "curr_items");
}

/** Starts a snapshot and waits until stats persistence shows it done; returns its stats. */
async function snapshotAndWait(s: BenchServer): Promise<Map<string, string>> {
  const before = stat(await stats(s.port, "persistence"), "snapshots");
  const reply = await command(s.port, "snapshot", "\r\n");
  if (reply !== "OK\r\n") throw new Error(`${s.name}: snapshot answered ${reply.trim()}`);
  for (;;) {
    const p = await stats(s.port, "persistence");
    if (stat(p, "snapshot_in_progress") === 0) {
      if (stat(p, "snapshots") > before) return p;
      throw new Error(`${s.name}: snapshot ended without completing: ${p.get("last_snapshot_status")}`);
    }
    await sleep(20);
  }
}

async function stopAll(servers: readonly BenchServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}

// ---------------------------------------------------------------- setrate

interface RateSample {
  ops: number;
  p50: number;
  p99: number;
  cpuUsPerReq: number;
  generatorCores: number;
}

async function setrate(): Promise<void> {
  const m = ["-m", "1024"];
  const servers: BenchServer[] = [];
  const logDirs = [freshDir("everysec"), freshDir("no")];
  try {
    servers.push(
      await startOurs(m, "no persistence"),
      await startOurs([...m, "--aof", logDirs[0], "--sync", "everysec"], "--sync everysec"),
      await startOurs([...m, "--aof", logDirs[1], "--sync", "no"], "--sync no"),
      await startMemcached(["-t", "1", ...m], "memcached -t 1"),
    );
    for (const s of servers) await preload(s, keys);
    for (const depth of [1, 8]) {
      const load: Omit<LoadOptions, "port" | "host"> = { workers: 1, conns: 16, depth, getRatio: 0, keys, keySize: 16, valueSize: VALUE_SIZE, dist: "uniform", zipfS: 0, seconds, ops: 0, multiget: 1, missSet: false };
      const ours = servers.slice(0, 3);
      const persisted = async (): Promise<Map<string, string>[]> => Promise.all(ours.slice(1).map(async (s) => stats(s.port, "persistence")));
      const p0 = await persisted();
      for (const s of servers) checked(s.name, await runLoad({ ...load, port: s.port, seconds: Math.min(1, seconds) }));
      const samples = new Map<BenchServer, RateSample[]>(servers.map((s) => [s, []]));
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < servers.length; i++) {
          const s = servers[(i + r) % servers.length];
          const cpu0 = cpuSeconds(s.pid);
          const res = checked(s.name, await runLoad({ ...load, port: s.port }));
          const cpu = cpuSeconds(s.pid) - cpu0;
          samples.get(s)?.push({ ops: res.opsPerSec, p50: res.latency.quantile(0.5), p99: res.latency.quantile(0.99), cpuUsPerReq: (cpu * 1e6) / res.requests, generatorCores: res.generatorCores });
        }
        note(`setrate depth ${depth}: round ${r + 1}/${rounds} done`);
      }
      const p1 = await persisted();
      const med = (s: BenchServer, f: (x: RateSample) => number): number => median((samples.get(s) ?? []).map(f));
      const base = servers[0];
      const rows = [["server", "sets/s", "x no persistence", "p50 µs", "p99 µs", "server CPU µs/req", "x no persistence", "generator cores", "compactions", "delayed fsyncs"]];
      for (const [i, s] of servers.entries()) {
        // Counted over the warm-up and all rounds of this depth.
        const delta = (name: string): string => (i >= 1 && i <= 2 ? String(stat(p1[i - 1], name) - stat(p0[i - 1], name)) : "-");
        rows.push([s.name, String(Math.round(med(s, (x) => x.ops))), ratio(med(s, (x) => x.ops), med(base, (x) => x.ops)), us(med(s, (x) => x.p50)), us(med(s, (x) => x.p99)), med(s, (x) => x.cpuUsPerReq).toFixed(2), ratio(med(s, (x) => x.cpuUsPerReq), med(base, (x) => x.cpuUsPerReq)), med(s, (x) => x.generatorCores).toFixed(2), delta("snapshots"), delta("delayed_fsyncs")]);
      }
      out(`\n[setrate] sets only, ${VALUE_SIZE} B values, ${keys} keys (all preloaded), 1 worker x 16 conns x depth ${depth}; medians of ${rounds} rounds of ${seconds} s\n`);
      out(table(rows));
    }
    out(`target: --sync everysec >= 0.90x the sets/s without persistence ("compactions": automatic ones during the rounds, at the default --compact-min-size 64m --compact-ratio 2; "delayed fsyncs": replies held because the everysec fsync was over 2 s behind)\n`);
  } finally {
    await stopAll(servers);
    // Deleted now, their dirty pages are dropped instead of written back under the next part.
    for (const d of logDirs) rmSync(d, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- always

/** This disk's own pace for what one group commit does: a small write and fdatasync, in a loop. */
function rawFdatasyncPerSec(dir: string, ms: number): number {
  const fd = openSync(join(dir, "fdatasync-probe"), "w");
  try {
    const rec = Buffer.alloc(150, 0x61);
    let n = 0;
    const end = performance.now() + ms;
    const t0 = performance.now();
    while (performance.now() < end) {
      writeSync(fd, rec);
      fdatasyncSync(fd);
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    closeSync(fd);
  }
}

interface AlwaysSample {
  ops: number;
  p50: number;
  p99: number;
  fsyncsPerSec: number;
  setsPerFsync: number;
  cpuUsPerReq: number;
  generatorCores: number;
  /** This disk's pace in the same round (see rawFdatasyncPerSec). */
  rawFsyncsPerSec: number;
}

async function always(): Promise<void> {
  const dir = freshDir("always");
  const s = await startOurs(["-m", "1024", "--aof", dir, "--sync", "always"], "--sync always");
  try {
    const connCounts = [1, 16, 50];
    const samples = new Map<number, AlwaysSample[]>(connCounts.map((c) => [c, []]));
    const load = (conns: number): Partial<LoadOptions> & { port: number } => ({ port: s.port, workers: 1, conns, depth: 1, getRatio: 0, keys, valueSize: VALUE_SIZE, seconds });
    for (const c of connCounts) checked(s.name, await runLoad({ ...load(c), seconds: Math.min(1, seconds) }));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < connCounts.length; i++) {
        const c = connCounts[(i + r) % connCounts.length];
        const f0 = stat(await stats(s.port, "persistence"), "log_fsyncs");
        const cpu0 = cpuSeconds(s.pid);
        const res = checked(`${s.name} ${c} conns`, await runLoad(load(c)));
        const cpu = cpuSeconds(s.pid) - cpu0;
        const fsyncs = stat(await stats(s.port, "persistence"), "log_fsyncs") - f0;
        // The disk's pace drifts with what else writes: probe it next to each run.
        const rawFsyncsPerSec = rawFdatasyncPerSec(dir, Math.min(500, seconds * 1000));
        samples.get(c)?.push({ rawFsyncsPerSec, ops: res.opsPerSec, p50: res.latency.quantile(0.5), p99: res.latency.quantile(0.99), fsyncsPerSec: fsyncs / res.seconds, setsPerFsync: fsyncs === 0 ? 0 : res.sets / fsyncs, cpuUsPerReq: (cpu * 1e6) / res.requests, generatorCores: res.generatorCores });
      }
      note(`always: round ${r + 1}/${rounds} done`);
    }
    const rows = [["conns (depth 1)", "sets/s", `x Go ${GO_ALWAYS_OPS}`, "p50 µs", "p99 µs", "fsyncs/s", "sets per fsync", "raw fdatasyncs/s", "server CPU µs/req", "generator cores"]];
    for (const c of connCounts) {
      const med = (f: (x: AlwaysSample) => number): number => median((samples.get(c) ?? []).map(f));
      rows.push([String(c), String(Math.round(med((x) => x.ops))), ratio(med((x) => x.ops), GO_ALWAYS_OPS), us(med((x) => x.p50)), us(med((x) => x.p99)), String(Math.round(med((x) => x.fsyncsPerSec))), med((x) => x.setsPerFsync).toFixed(1), String(Math.round(med((x) => x.rawFsyncsPerSec))), med((x) => x.cpuUsPerReq).toFixed(2), med((x) => x.generatorCores).toFixed(2)]);
    }
    out(`\n[always] --sync always (group commit), sets of ${VALUE_SIZE} B over ${keys} keys, 1 worker; medians of ${rounds} rounds of ${seconds} s\n`);
    out(table(rows));
    out(`raw fdatasyncs/s: this script writing 150 B + fdatasync in a loop to the same disk for ${Math.min(500, seconds * 1000)} ms after each run (the disk's pace then); the Go original did ${GO_ALWAYS_OPS} ops/s syncing per command\n`);
  } finally {
    await s.stop();
  }
}

// ---------------------------------------------------------------- recovery

interface Restart {
  wallMs: number;
  /** CPU the server used from spawn to accepting: near wallMs when recovery computes, far below when it waits (disk, a busy machine). */
  cpuMs: number;
  recoveryMs: number;
  records: number;
  items: number;
}

/** Starts a server on `dir` and reads what its recovery took; the caller stops it. */
async function restart(args: readonly string[], name: string): Promise<{ server: BenchServer; r: Restart }> {
  const server = await startOurs(args, name, { timeoutMs: 300_000 });
  const cpuMs = cpuSeconds(server.pid) * 1000;
  const p = await stats(server.port, "persistence");
  return { server, r: { wallMs: server.startMs, cpuMs, recoveryMs: stat(p, "recovery_ms"), records: stat(p, "recovery_records"), items: await itemsIn(server) } };
}

async function graceful(s: BenchServer): Promise<void> {
  const code = await s.terminate();
  if (code !== 0) throw new Error(`${s.name}: exited with ${code} after SIGTERM`);
}

async function recovery(): Promise<void> {
  const rows = [["items", "recovered from", "files MB", "spawn to accepting ms", "server CPU ms", "recovery_ms", "records", "items/s (recovery_ms)", "curr_items", "target"]];
  const mb = (b: number): string => (b / 1048576).toFixed(0);
  // Node's own start-up, for reading the wall times: an empty directory.
  const empty = await restart(["-m", "1024", "--aof", freshDir("empty"), ...NO_AUTO_COMPACTION], "empty");
  await graceful(empty.server);
  rows.push(["0", "(empty directory)", "0", empty.r.wallMs.toFixed(0), empty.r.cpuMs.toFixed(0), String(empty.r.recoveryMs), "0", "-", "0", "-"]);
  const mismatches: string[] = [];
  for (const n of recoveryItems) {
    const dir = freshDir(`recovery-${n}`);
    const args = ["-m", String(n > 2_000_000 ? 2048 * Math.ceil(n / 5_000_000) : 1024), "--aof", dir, ...NO_AUTO_COMPACTION];
    const target = n === 1_000_000 ? "< 2000 ms" : "-";
    const first = await startOurs(args, `load ${n}`);
    let live: BenchServer = first;
    try {
      await preload(first, n);
      const loaded = await itemsIn(first);
      if (loaded !== n) throw new Error(`loaded ${loaded} items, not ${n} (is -m large enough?)`);
      const logBytes = stat(await stats(first.port, "persistence"), "log_bytes");
      await graceful(first);
      note(`recovery ${n}: loaded, restarting from the log`);

      const fromLog = await restart(args, `restart ${n} (log)`);
      live = fromLog.server;
      const snap = await snapshotAndWait(live);
      const baseBytes = stat(snap, "base_bytes");
      await graceful(live);
      note(`recovery ${n}: snapshot written, restarting from it`);

      const fromBase = await restart(args, `restart ${n} (base)`);
      live = fromBase.server;
      await graceful(live);

      for (const [label, r, bytes] of [
        ["log", fromLog.r, logBytes],
        ["base snapshot", fromBase.r, baseBytes],
      ] as const) {
        if (r.items !== loaded) mismatches.push(`${n} from ${label}: curr_items ${r.items}, loaded ${loaded}`);
        const rate = r.recoveryMs > 0 ? String(Math.round((n / r.recoveryMs) * 1000)) : "-";
        rows.push([String(n), label, mb(bytes), r.wallMs.toFixed(0), r.cpuMs.toFixed(0), String(r.recoveryMs), String(r.records), rate, r.items === loaded ? `${r.items} ok` : `${r.items} WRONG`, target]);
      }
    } finally {
      await live.stop();
      await first.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  out(`\n[recovery] N sets of ${VALUE_SIZE} B values (16 B keys), SIGTERM, restart on the same directory; spawn-to-accepting includes Node's start-up (first row), polled every 10 ms\n`);
  out(table(rows));
  for (const m of mismatches) out(`MISMATCH: ${m}\n`);
}

// ---------------------------------------------------------------- compaction

interface PhaseSample {
  load: LoadResult;
  stallMaxUs: number;
  stallP99Us: number;
  snapshotMs: number;
  worstSliceUs: number;
  snapshotItems: number;
  /** The worst stall of this script's own (nearly idle) event loop meanwhile: what the machine did to everyone. */
  controlStallUs: number;
}

async function compaction(): Promise<void> {
  const n = compactionItems;
  const s = await startOurs(["-m", "1024", "--aof", freshDir("compaction"), ...NO_AUTO_COMPACTION], "compaction");
  try {
    await preload(s, n);
    const load: Partial<LoadOptions> & { port: number } = { port: s.port, workers: 2, conns: 8, depth: 1, getRatio: 0.5, keys: n, valueSize: VALUE_SIZE, dist: "uniform" };
    const stalls = async (): Promise<{ stallMaxUs: number; stallP99Us: number }> => {
      const st = await stats(s.port, "memcached_ts");
      return { stallMaxUs: stat(st, "event_loop_delay_max_us"), stallP99Us: stat(st, "event_loop_delay_p99_us") };
    };
    const withSnapshot: PhaseSample[] = [];
    const baseline: PhaseSample[] = [];
    for (let r = 0; r < compactionRounds; r++) {
      // The load starts, a snapshot starts 200 ms later, and the load ends when it is done.
      await statsReset(s.port);
      const stop = new AbortController();
      let snapshot: Promise<Map<string, string>> | null = null;
      const { result: res, controlStallUs } = await withControl(async () =>
        runLoad(
          { ...load, seconds: 300 },
          {
            signal: stop.signal,
            onStart: () => {
              snapshot = sleep(200).then(() => snapshotAndWait(s));
              snapshot.then(() => stop.abort(), () => stop.abort());
            },
          },
        ),
      );
      checked("load during snapshot", res);
      if (snapshot === null) throw new Error("the load never started");
      const p = await snapshot;
      withSnapshot.push({ load: res, ...(await stalls()), snapshotMs: stat(p, "last_snapshot_ms"), worstSliceUs: stat(p, "last_snapshot_worst_slice_us"), snapshotItems: stat(p, "last_snapshot_items"), controlStallUs });
      // The same load for as long, with no snapshot.
      await statsReset(s.port);
      const b = await withControl(async () => runLoad({ ...load, seconds: res.seconds }));
      checked("baseline load", b.result);
      baseline.push({ load: b.result, ...(await stalls()), snapshotMs: 0, worstSliceUs: 0, snapshotItems: 0, controlStallUs: b.controlStallUs });
      note(`compaction: round ${r + 1}/${compactionRounds} done`);
    }
    const rows = [["phase", "s", "ops/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "loop stall max µs", "loop stall p99 µs", "snapshot ms", "worst slice µs", "control stall max µs", "generator cores"]];
    const med = (xs: PhaseSample[], f: (x: PhaseSample) => number): number => median(xs.map(f));
    const q = (x: PhaseSample, p: number): number => x.load.latency.quantile(p);
    const line = (label: string, xs: PhaseSample[]): string[] => [
      label,
      med(xs, (x) => x.load.seconds).toFixed(1),
      String(Math.round(med(xs, (x) => x.load.opsPerSec))),
      us(med(xs, (x) => q(x, 0.5))),
      us(med(xs, (x) => q(x, 0.99))),
      us(med(xs, (x) => q(x, 0.999))),
      us(med(xs, (x) => x.load.latency.max)),
      String(med(xs, (x) => x.stallMaxUs)),
      String(med(xs, (x) => x.stallP99Us)),
      xs === baseline ? "-" : String(med(xs, (x) => x.snapshotMs)),
      xs === baseline ? "-" : String(med(xs, (x) => x.worstSliceUs)),
      String(med(xs, (x) => x.controlStallUs)),
      med(xs, (x) => x.load.generatorCores).toFixed(2),
    ];
    rows.push(line("during snapshot", withSnapshot), line("baseline (no snapshot)", baseline));
    const worst = Math.max(...withSnapshot.map((x) => x.stallMaxUs));
    const rr = (f: (x: PhaseSample) => number): string => ratio(med(withSnapshot, f), med(baseline, f));
    out(`\n[compaction] ${n} items of ${VALUE_SIZE} B; load: 2 workers x 8 conns x depth 1, 50% gets, uniform; medians of ${compactionRounds} round(s)\n`);
    out(table(rows));
    out(table([["snapshot / baseline", "p99", "p99.9", "loop stall max"], ["", rr((x) => q(x, 0.99)), rr((x) => q(x, 0.999)), rr((x) => x.stallMaxUs)]]));
    out(`worst loop stall in any snapshot round: ${worst} µs (target < 10000 µs); per round: ${withSnapshot.map((x) => x.stallMaxUs).join(", ")} µs; snapshot items: ${withSnapshot.map((x) => x.snapshotItems).join(", ")}\n`);
    out(`"worst slice": the server's longest turn of the snapshot walk (bounded at ~2 ms of work); "control": this script's own event loop, idle but for polling stats, over the same time: a stall there too is the machine's (other processes, steal), not the server's\n`);
  } finally {
    await s.stop();
  }
}

/** How busy the machine is (other processes skew everything here): /proc/loadavg's 1, 5, 15 min figures. */
const loadavg = (): string => readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(" ");

const run: Record<Part, () => Promise<void>> = { setrate, always, recovery, compaction };
const t0 = performance.now();
try {
  out(`load average at start: ${loadavg()}\n`);
  for (const p of PARTS) {
    if (!only.includes(p)) continue;
    const tp = performance.now();
    await run[p]();
    note(`${p}: ${((performance.now() - tp) / 1000).toFixed(0)} s`);
  }
  out(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s; load average at the end: ${loadavg()}\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
