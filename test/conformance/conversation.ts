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
  /** Binary protocol: replies are shown packet by packet, with every header field. */
  binary?: boolean;
  /** Both servers run with -S and the same users (see test/oracle/sasl.ts). */
  sasl?: boolean;
  /** Both servers run with -Y and a file of these `user:password` lines (see test/oracle/auth-file.ts). */
  authFile?: string | Buffer;
  steps: Step[];
  /** Case-specific volatile text (fd numbers, ephemeral ports): every match becomes "*". */
  mask?: RegExp[];
}

export function escape(b: Buffer): string {
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
  "tcpport", "total_malloced", "log_worker_written", "log_watcher_sent",
  // The harness probes memcached's port until it accepts, which memcached counts as connections.
  "total_connections",
  // memcached yields after -R requests per read event; how many requests one read holds depends
  // on how the kernel splits the stream.
  "conn_yields",
  // LRU segment moves need the segmented-LRU engine (issue 3); the simple engine has one list.
  "moves_to_cold", "moves_to_warm",
  // Counted by memcached's background LRU maintainer and crawler threads when they happen to
  // pass an item a request still holds: timing, not semantics.
  "lrutail_reflocked", "crawler_items_checked",
]);

/**
 * Meta seconds counters: mg/ma's `t` (TTL left) and `l` (seconds since last access), and me's
 * `exp=` and `la=`. memcached's clock ticks once a second from its own timer, ours at wall
 * clock seconds, so a tick between a store and a read can fall on one server and not the
 * other and shift these by one. They are rounded to the nearest multiple of 10 (cases use
 * TTLs that are multiples of 10 and stay seconds away from them); -1 (no expiry) is kept.
 */
const META_STATUS = /^((?:\[\d+\] << )?)((?:HD|VA \d+|EN|NF|NS|EX)(?: \S+)*\\r\\n)$/;
const META_DEBUG = /^((?:\[\d+\] << )?)(ME \S+ exp=-?\d+ la=\d+ .*\\r\\n)$/;
/**
 * me's `cls=`: the slab engine picks a chunk class from its own item header size, not
 * memcached's, so an item near a class boundary sits one class away. `size=` (memcached's
 * item size accounting, which we match) is still compared.
 */
const ME_CLASS = / cls=\d+ /;

function roundSeconds(v: string): string {
  const n = Number(v);
  return n === -1 ? v : String(Math.round(n / 10) * 10 || 0);
}

function normalizeMeta(line: string): string {
  const status = META_STATUS.exec(line);
  if (status !== null) {
    return status[1] + status[2].replace(/ ([tl])(\d+)(?= |\\r)/g, (_all, flag: string, v: string) => ` ${flag}${roundSeconds(v)}`);
  }
  const debug = META_DEBUG.exec(line);
  if (debug !== null) {
    return debug[1] + debug[2].replace(/ (exp|la)=(-?\d+)/g, (_all, name: string, v: string) => ` ${name}=${roundSeconds(v)}`).replace(ME_CLASS, " cls=* ");
  }
  return line;
}

/** Volatile stats in binary STAT responses, as in text: `*` for the value. */
function binaryStatValue(name: string, value: string): string {
  return VOLATILE_STATS.has(name) || /^items:\d+:age(?:_hot|_warm)?$/.test(name) ? "*" : value;
}

function inline(b: Buffer): string {
  return escape(b).replace(/\n\n/g, "\\n");
}

/**
 * Binary responses, one line per packet with every header field (magic 0x81 implied), so a
 * difference names the field; bytes that do not form a whole packet are shown raw.
 */
export function describeBinary(b: Buffer): string {
  const lines: string[] = [];
  let at = 0;
  while (at + 24 <= b.length && b[at] === 0x81) {
    const bodyLength = b.readUInt32BE(at + 8);
    if (at + 24 + bodyLength > b.length) break;
    const op = b[at + 1];
    const extLength = b[at + 4];
    const body = b.subarray(at + 24, at + 24 + bodyLength);
    const key = body.subarray(extLength, extLength + b.readUInt16BE(at + 2));
    const name = key.toString("latin1");
    let value = inline(body.subarray(extLength + key.length));
    if (op === 0x10) value = binaryStatValue(name, value);
    {
      const fields = [
        `op=${op.toString(16).padStart(2, "0")}`,
        `status=${b.readUInt16BE(at + 6).toString(16)}`,
        `type=${b[at + 5]}`,
        `opaque=${b.readUInt32BE(at + 12).toString(16)}`,
        `cas=${b.readBigUInt64BE(at + 16)}`,
        `ext=${body.subarray(0, extLength).toString("hex")}`,
        `key=${inline(key)}`,
        `value=${value}`,
      ];
      lines.push(`  ${fields.join(" ")}`);
    }
    at += 24 + bodyLength;
  }
  if (at < b.length) lines.push(`  raw ${inline(b.subarray(at))}`);
  return lines.length === 0 ? "" : `\n${lines.join("\n")}`;
}

/** The normalizations every comparison applies; each is a documented legitimate difference. */
export function normalize(transcript: string): string {
  return transcript
    .split("\n")
    .map((line) => line.replace(/^((?:\[\d+\] << )?)STAT (\S+) (.*)\\r\\n$/, (all, pre: string, name: string) => (VOLATILE_STATS.has(name) ? `${pre}STAT ${name} *\\r\\n` : all)))
    // Before normalizeTimes, whose metadump pattern also matches me's `exp=-1 la=N`.
    .map(normalizeMeta)
    .map(normalizeTimes)
    .join("\n");
}

/**
 * Times two servers read from their own clocks: LRU ages in `stats items` (whole seconds
 * since an item's last access) are shown as `*`; metadump's absolute `la` as `*` and its
 * `exp` relative to `la` (the TTL left at the last access), which is exact in both servers.
 */
function normalizeTimes(line: string): string {
  return line
    .replace(/^((?:\[\d+\] << )?STAT items:\d+:age(?:_hot|_warm)?) \d+/, "$1 *")
    .replace(/exp=(-1|\d+) la=(\d+) /, (_all, exp: string, la: string) => `exp=${exp === "-1" ? exp : `+${Number(exp) - Number(la)}`} la=* `);
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
      const got = cl.take();
      out += `[${n}] >> ${escape(shown)}\n[${n}] << ${c.binary === true ? describeBinary(got) : escape(got)}${cl.closed ? "\n[closed]" : ""}\n`;
    }
  } finally {
    for (const cl of conns.values()) cl.close();
  }
  let transcript = normalize(out);
  for (const m of c.mask ?? []) transcript = transcript.replace(m, "*");
  return transcript;
}
