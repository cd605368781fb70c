import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { Histogram } from "./lib/histogram.ts";
import type { Tally, WorkerInput, WorkerReport } from "./lib/load-worker.ts";
import { latencyLine } from "./lib/report.ts";

/**
 * Pipelined, multi-threaded load generator for the memcached text protocol (get/set), with
 * per-request latency. A library (runLoad) for the comparison scripts and a CLI (--help).
 */

export interface LoadOptions {
  host: string;
  port: number;
  /** Generator threads; each has its own event loop, so the generator is not one core's worth. */
  workers: number;
  /** Connections per worker. */
  conns: number;
  /** Requests kept in flight per connection. */
  depth: number;
  /** Fraction of requests that are gets (the rest are sets). */
  getRatio: number;
  keys: number;
  /** Keys are `k` followed by the zero-padded key number, this many bytes in all. */
  keySize: number;
  valueSize: number;
  /** uniform, zipf (rank 0 hottest), or seq (each key once in turn across all connections). */
  dist: "uniform" | "zipf" | "seq";
  zipfS: number;
  /** Time bound; the run stops sending then, whatever `ops` says. */
  seconds: number;
  /** Total requests to send (0: until the time bound). */
  ops: number;
  /** Keys named by each get (a multi-get when above 1; `hits` and `misses` count keys). */
  multiget: number;
  /** On a single-key get miss, set that key next (a read-through cache client). */
  missSet: boolean;
}

export const DEFAULTS: Omit<LoadOptions, "port"> = {
  host: "127.0.0.1",
  workers: 2,
  conns: 25,
  depth: 8,
  getRatio: 0.9,
  keys: 100_000,
  keySize: 16,
  valueSize: 100,
  dist: "uniform",
  zipfS: 0.99,
  seconds: 5,
  ops: 0,
  multiget: 1,
  missSet: false,
};

export interface LoadResult extends Tally {
  requests: number;
  seconds: number;
  opsPerSec: number;
  /** Per-request latency in nanoseconds. */
  latency: Histogram;
  /** CPU the generator itself used, in cores (near the core count: the generator is the bottleneck). */
  generatorCores: number;
}

function validate(o: LoadOptions): void {
  const positiveInt = (name: keyof LoadOptions, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, not ${v}`);
  };
  positiveInt("port", o.port);
  positiveInt("workers", o.workers);
  positiveInt("conns", o.conns);
  positiveInt("depth", o.depth);
  positiveInt("keys", o.keys);
  positiveInt("multiget", o.multiget);
  if (o.missSet && o.multiget > 1) throw new Error(`missSet works with single-key gets only`);
  if (!Number.isInteger(o.valueSize) || o.valueSize < 0) throw new Error(`valueSize must be a non-negative integer`);
  if (!(o.getRatio >= 0 && o.getRatio <= 1)) throw new Error(`getRatio must be within 0..1`);
  if (!(o.seconds > 0)) throw new Error(`seconds must be positive`);
  if (!Number.isInteger(o.ops) || o.ops < 0) throw new Error(`ops must be a non-negative integer`);
  if (!["uniform", "zipf", "seq"].includes(o.dist)) throw new Error(`dist must be uniform, zipf or seq`);
  if (!(o.zipfS >= 0)) throw new Error(`zipfS must be >= 0`);
  const digits = String(o.keys - 1).length;
  if (o.keySize < 1 + digits || o.keySize > 250) throw new Error(`keySize must be within ${1 + digits}..250 for ${o.keys} keys`);
}

/** Steering a running load from the caller's thread (not options: a signal cannot go to a worker). */
export interface LoadControl {
  /** Called once every worker has been told to start sending. */
  onStart?: () => void;
  /** Ends the load early, as the time bound would: no new requests; replies in flight are awaited. */
  signal?: AbortSignal;
}

/** Runs one load against a server and returns merged figures from all worker threads. */
export async function runLoad(options: Partial<LoadOptions> & { port: number }, control: LoadControl = {}): Promise<LoadResult> {
  const o: LoadOptions = { ...DEFAULTS, ...options };
  validate(o);
  const workers = Array.from({ length: o.workers }, (_, index) => new Worker(new URL("./lib/load-worker.ts", import.meta.url), { workerData: { options: o, index } satisfies WorkerInput }));
  try {
    // A worker that dies (or exits before reporting) fails the run; one that has reported may exit.
    const failed = workers.map(
      (w) =>
        new Promise<never>((_, reject) => {
          w.once("error", reject);
          w.once("exit", (code) => reject(new Error(`load worker exited before reporting (code ${code})`)));
        }),
    );
    for (const f of failed) f.catch(() => {});
    const next = (i: number): Promise<unknown> => Promise.race([new Promise((resolve) => workers[i].once("message", resolve)), failed[i]]);
    await Promise.all(workers.map((_, i) => next(i)));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const reports = workers.map((_, i) => next(i) as Promise<WorkerReport>);
    for (const w of workers) w.postMessage("go");
    control.onStart?.();
    const stop = (): void => workers.forEach((w) => w.postMessage("stop"));
    if (control.signal?.aborted === true) stop();
    else control.signal?.addEventListener("abort", stop, { once: true });
    const done = await Promise.all(reports);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const latency = new Histogram();
    const sum = (f: (r: WorkerReport) => number): number => done.reduce((a, r) => a + f(r), 0);
    for (const r of done) latency.merge(r.histogram);
    const seconds = Math.max(...done.map((r) => r.elapsedMs)) / 1000;
    return {
      requests: latency.total,
      seconds,
      opsPerSec: latency.total / seconds,
      gets: sum((r) => r.gets),
      sets: sum((r) => r.sets),
      hits: sum((r) => r.hits),
      misses: sum((r) => r.misses),
      errors: sum((r) => r.errors),
      firstError: done.find((r) => r.firstError !== "")?.firstError ?? "",
      latency,
      generatorCores: (cpu.user + cpu.system) / 1000 / wallMs,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * Sets every key of `load`'s key space once (its key and value sizes), so that measured gets
 * hit and sets overwrite, as in a warm cache. Throws, naming `server`, if any set failed.
 */
export async function fillEveryKey(load: Partial<LoadOptions> & { port: number }, server: string): Promise<void> {
  const pre = await runLoad({ ...load, workers: 1, conns: 16, depth: 64, dist: "seq", getRatio: 0, multiget: 1, ops: load.keys ?? DEFAULTS.keys, seconds: 120 });
  if (pre.errors > 0) throw new Error(`${server}: preload failed: ${pre.firstError}`);
}

/** Command-line flags shared by every bench script that drives load (names as in LoadOptions). */
export const LOAD_FLAGS = {
  workers: { type: "string", default: String(DEFAULTS.workers) },
  conns: { type: "string", default: String(DEFAULTS.conns) },
  depth: { type: "string", default: String(DEFAULTS.depth) },
  "get-ratio": { type: "string", default: String(DEFAULTS.getRatio) },
  keys: { type: "string", default: String(DEFAULTS.keys) },
  "key-size": { type: "string", default: String(DEFAULTS.keySize) },
  "value-size": { type: "string", default: String(DEFAULTS.valueSize) },
  dist: { type: "string", default: DEFAULTS.dist },
  "zipf-s": { type: "string", default: String(DEFAULTS.zipfS) },
  multiget: { type: "string", default: String(DEFAULTS.multiget) },
} as const;

export const LOAD_HELP = `  --workers N       generator threads (${DEFAULTS.workers})
  --conns N         connections per worker (${DEFAULTS.conns})
  --depth N         requests in flight per connection (${DEFAULTS.depth})
  --get-ratio F     fraction of gets, the rest sets (${DEFAULTS.getRatio})
  --keys N          key space (${DEFAULTS.keys})
  --key-size N      key length in bytes (${DEFAULTS.keySize})
  --value-size N    value length in bytes (${DEFAULTS.valueSize})
  --dist D          uniform | zipf | seq (${DEFAULTS.dist})
  --zipf-s S        zipf exponent (${DEFAULTS.zipfS})
  --multiget N      keys named by each get (${DEFAULTS.multiget})`;

/** LoadOptions from flags parsed with LOAD_FLAGS (a caller overrides what its workload fixes). */
export function loadOptionsFrom(v: { [K in keyof typeof LOAD_FLAGS]: string }): Omit<LoadOptions, "port" | "host" | "seconds" | "ops" | "missSet"> {
  return {
    workers: Number(v.workers),
    conns: Number(v.conns),
    depth: Number(v.depth),
    getRatio: Number(v["get-ratio"]),
    keys: Number(v.keys),
    keySize: Number(v["key-size"]),
    valueSize: Number(v["value-size"]),
    dist: v.dist as LoadOptions["dist"],
    zipfS: Number(v["zipf-s"]),
    multiget: Number(v.multiget),
  };
}

const HELP = `Usage: node bench/load.ts --port PORT [options]
Sends a pipelined get/set load to a memcached-protocol server on 127.0.0.1 and prints ops/s and
per-request latency percentiles.

  --port N          server port (required)
  --host H          server address (${DEFAULTS.host})
${LOAD_HELP}
  --seconds S       duration; also the time bound when --ops is given (${DEFAULTS.seconds})
  --ops N           stop after N requests (0: run --seconds) (0)
  --miss-set        after a get miss, set that key
  --json            print one JSON line instead of text
  --help            this text
`;

if (import.meta.main) {
  const { values: v } = parseArgs({
    options: {
      ...LOAD_FLAGS,
      port: { type: "string" },
      host: { type: "string", default: DEFAULTS.host },
      seconds: { type: "string", default: String(DEFAULTS.seconds) },
      ops: { type: "string", default: "0" },
      "miss-set": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (v.help || v.port === undefined) {
    process.stdout.write(HELP);
    process.exit(v.help ? 0 : 64);
  }
  const r = await runLoad({
    ...loadOptionsFrom(v),
    port: Number(v.port),
    host: v.host,
    seconds: Number(v.seconds),
    ops: Number(v.ops),
    missSet: v["miss-set"],
  });
  const us = (q: number): number => Math.round(r.latency.quantile(q) / 1000);
  if (v.json) {
    const { latency: _latency, ...rest } = r;
    process.stdout.write(`${JSON.stringify({ ...rest, opsPerSec: Math.round(r.opsPerSec), p50us: us(0.5), p99us: us(0.99), p999us: us(0.999), maxUs: us(1) })}\n`);
  } else {
    process.stdout.write(`${Math.round(r.opsPerSec)} ops/s over ${r.seconds.toFixed(1)} s (${r.requests} requests: ${r.gets} gets, ${r.hits} hits; ${r.sets} sets; ${r.errors} errors${r.firstError && `, first: ${r.firstError}`})\n`);
    process.stdout.write(`latency ${latencyLine(r.latency)}; generator used ${r.generatorCores.toFixed(2)} cores\n`);
  }
}
