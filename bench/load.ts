import { connect } from "node:net";
import { parseArgs } from "node:util";

/**
 * Load generator: `conns` connections, each sending `depth` pipelined requests (get/set mix
 * over `keys` keys with `size`-byte values) and waiting for all replies before the next batch,
 * for `seconds`. Prints one JSON line: ops/s and latency percentiles in microseconds.
 */
const { values: o } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    conns: { type: "string", default: "50" },
    depth: { type: "string", default: "10" },
    "get-ratio": { type: "string", default: "0.9" },
    keys: { type: "string", default: "10000" },
    size: { type: "string", default: "100" },
    seconds: { type: "string", default: "10" },
  },
});
const port = Number(o.port);
const conns = Number(o.conns);
const depth = Number(o.depth);
const getRatio = Number(o["get-ratio"]);
const keys = Number(o.keys);
const value = "x".repeat(Number(o.size));
const endAt = Date.now() + Number(o.seconds) * 1000;
const END = Buffer.from("END\r\n");
const STORED = Buffer.from("STORED\r\n");
const EMPTY = Buffer.alloc(0);
const latencies: number[] = [];
let ops = 0;

function count(buf: Buffer, pat: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(pat); i >= 0; i = buf.indexOf(pat, i + pat.length)) n++;
  return n;
}

function runConn(): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: o.host, noDelay: true });
    let expected = 0;
    let got = 0;
    let sentAt = 0n;
    let tail = EMPTY;
    const batch = (): void => {
      if (Date.now() >= endAt) {
        s.destroy();
        resolve();
        return;
      }
      let req = "";
      for (let i = 0; i < depth; i++) {
        const k = `key:${Math.floor(Math.random() * keys)}`;
        req += Math.random() < getRatio ? `get ${k}\r\n` : `set ${k} 0 0 ${value.length}\r\n${value}\r\n`;
      }
      expected = depth;
      got = 0;
      sentAt = process.hrtime.bigint();
      s.write(req);
    };
    s.on("connect", batch);
    s.on("error", reject);
    s.on("data", (d: Buffer) => {
      // Bytes after the last newline are a partial terminator: rescan them with the next read.
      const buf = tail.length > 0 ? Buffer.concat([tail, d]) : d;
      got += count(buf, END) + count(buf, STORED);
      const nl = buf.lastIndexOf(0x0a);
      tail = nl === buf.length - 1 ? EMPTY : Buffer.from(buf.subarray(Math.max(nl + 1, buf.length - 7)));
      if (got >= expected) {
        const us = Number(process.hrtime.bigint() - sentAt) / 1000;
        for (let i = 0; i < depth; i++) latencies.push(us);
        ops += depth;
        tail = EMPTY;
        batch();
      }
    });
  });
}

const started = Date.now();
await Promise.all(Array.from({ length: conns }, runConn));
const secs = (Date.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
process.stdout.write(JSON.stringify({ ops, opsPerSec: Math.round(ops / secs), p50: pct(0.5), p99: pct(0.99), p999: pct(0.999) }) + "\n");
