import { RawClient } from "../oracle/client.ts";

/** One step of a scripted conversation. A bare string is sent on connection 0. */
export type Step =
  | string
  | Buffer
  | {
      /** Bytes to send; an array is sent as separate packets `gapMs` apart. */
      send: string | Buffer | (string | Buffer)[];
      /** Connection number; a new number opens a new connection. */
      conn?: number;
      gapMs?: number;
      /** How long the reply must be quiet before the next step (default 40 ms). */
      quietMs?: number;
    }
  | { sleep: number };

export interface Case {
  name: string;
  /** Server arguments given to both memcached and memcached-ts. */
  args?: string[];
  steps: Step[];
  /** Case-specific volatile text (fd numbers, ephemeral ports): every match becomes "*". */
  mask?: RegExp[];
}

function escape(b: Buffer): string {
  let s = "";
  for (const c of b) {
    if (c === 0x0d) s += "\\r";
    else if (c === 0x0a) s += "\\n\n";
    else if (c === 0x5c) s += "\\\\";
    else if (c < 0x20 || c > 0x7e) s += `\\x${c.toString(16).padStart(2, "0")}`;
    else s += String.fromCharCode(c);
  }
  return s;
}

/** Stats whose values legitimately differ between two servers (times, pids, builds, buffers). */
const VOLATILE_STATS = new Set([
  "pid", "uptime", "time", "libevent", "rusage_user", "rusage_system", "bytes_read", "bytes_written",
  "response_obj_count", "response_obj_bytes", "read_buf_count", "read_buf_bytes", "read_buf_bytes_free",
  "connection_structures", "lru_crawler_starts", "lru_maintainer_juggles", "hash_bytes", "hash_power_level",
  "reserved_fds", "tcpport", "total_malloced", "log_worker_written", "log_watcher_sent",
  // The harness probes memcached's port until it accepts, which memcached counts as connections.
  "total_connections",
  // LRU segment moves need the segmented-LRU engine (issue 3); the simple engine has one list.
  "moves_to_cold", "moves_to_warm",
]);
/** Stat lines only memcached-ts prints. */
const OUR_STATS = new Set(["memcached_ts_version"]);

/** The normalizations every comparison applies; each is a documented legitimate difference. */
export function normalize(transcript: string): string {
  return transcript
    .split("\n")
    .filter((line) => {
      const m = /^(?:\[\d+\] << )?STAT (\S+) /.exec(line);
      return m === null || !OUR_STATS.has(m[1]);
    })
    .map((line) => line.replace(/^((?:\[\d+\] << )?)STAT (\S+) (.*)\\r\\n$/, (all, pre: string, name: string) => (VOLATILE_STATS.has(name) ? `${pre}STAT ${name} *\\r\\n` : all)))
    .join("\n");
}

/**
 * Plays a conversation against a server and returns the transcript of what came back.
 * `patience` multiplies every quiet period (a retry on a loaded machine waits longer).
 */
export async function play(port: number, c: Case, patience = 1): Promise<string> {
  const conns = new Map<number, RawClient>();
  const get = (n: number): RawClient => {
    let cl = conns.get(n);
    if (cl === undefined) {
      cl = new RawClient(port);
      conns.set(n, cl);
    }
    return cl;
  };
  let out = "";
  try {
    for (const step of c.steps) {
      if (typeof step === "object" && !Buffer.isBuffer(step) && "sleep" in step) {
        await new Promise((r) => setTimeout(r, step.sleep));
        out += `-- slept ${step.sleep} ms\n`;
        continue;
      }
      const s = typeof step === "string" || Buffer.isBuffer(step) ? { send: step } : step;
      const n = s.conn ?? 0;
      const cl = get(n);
      const parts = Array.isArray(s.send) ? s.send : [s.send];
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, s.gapMs ?? 15));
        await cl.send(parts[i]);
      }
      await cl.settle((s.quietMs ?? 60) * patience);
      const sent = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p, "latin1"))));
      const shown = sent.length > 300 ? Buffer.concat([sent.subarray(0, 120), Buffer.from(`...(${sent.length} bytes)`)]) : sent;
      out += `[${n}] >> ${escape(shown)}\n[${n}] << ${escape(cl.take())}${cl.closed ? "\n[closed]" : ""}\n`;
    }
  } finally {
    for (const cl of conns.values()) cl.close();
  }
  let transcript = normalize(out);
  for (const m of c.mask ?? []) transcript = transcript.replace(m, "*");
  return transcript;
}
