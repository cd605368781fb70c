import { type Socket, connect } from "node:net";
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { indexOfByte } from "../../src/bytes.ts";
import { type ReplyWriter, replyWriter } from "../../src/server/reply-writer.ts";
import { READ_BUFFER_SIZE, readStraight } from "../../src/server/reused-read.ts";
import type { LoadOptions } from "../load.ts";
import { Histogram, type HistogramData } from "./histogram.ts";

/**
 * One load-generator thread: `conns` connections, each keeping up to `depth` requests in flight.
 * Replies come back in order on a connection, so a ring of send times per connection gives each
 * request its own latency. Requests are written into one buffer per refill from prebuilt parts,
 * replies parsed by scanning bytes: no per-request strings or objects.
 */

export interface WorkerInput {
  options: LoadOptions;
  /** This worker's number, 0-based: decides which connections' share of keys and ops it has. */
  index: number;
}

/** What a load counted, per worker and in total. */
export interface Tally {
  gets: number;
  sets: number;
  hits: number;
  misses: number;
  errors: number;
  firstError: string;
}

export interface WorkerReport extends Tally {
  histogram: HistogramData;
  /** From the start signal to the last reply. */
  elapsedMs: number;
}

const GET = 0;
const SET = 1;
const CR = 13;
const LF = 10;
/** After the time bound, how long to wait for replies still in flight before giving up on the server. */
const DRAIN_GRACE_MS = 10_000;

const { options: o, index } = workerData as WorkerInput;
const port = parentPort;
if (port === null) throw new Error("load-worker runs only as a worker thread");

const GET_PREFIX = Buffer.from("get ");
const SET_PREFIX = Buffer.from("set ");
const SET_TAIL = Buffer.concat([Buffer.from(` 0 0 ${o.valueSize}\r\n`), Buffer.alloc(o.valueSize, "x"), Buffer.from("\r\n")]);
const KEY_TEMPLATE = Buffer.from("k".padEnd(o.keySize, "0"));
/** A get names `multiget` keys: "get k1 k2 ... kN\r\n". */
const GET_LEN = GET_PREFIX.length + o.multiget * (o.keySize + 1) + 1;
const SET_LEN = SET_PREFIX.length + o.keySize + SET_TAIL.length;
const totalConns = o.workers * o.conns;

/** The buffer every connection of this thread reads into; what must outlive a read is copied. */
const readBuffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);
const histogram = new Histogram();
const report: WorkerReport = { histogram, gets: 0, sets: 0, hits: 0, misses: 0, errors: 0, firstError: "", elapsedMs: 0 };
let endAt = Infinity;

/** Zipf(s) over ranks 0..keys-1 by inverse CDF: rank 0 is the most popular key. */
function zipfPicker(keys: number, s: number): () => number {
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let i = 0; i < keys; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  for (let i = 0; i < keys; i++) cdf[i] /= sum;
  return () => {
    const u = Math.random();
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const sharedPicker = o.dist === "zipf" ? zipfPicker(o.keys, o.zipfS) : () => Math.floor(Math.random() * o.keys);

/** `seq`: connection g of C sends keys g, g+C, g+2C, ... so together they cover each key once. */
function seqPicker(g: number): () => number {
  let next = g % o.keys;
  return () => {
    const k = next;
    next = (next + totalConns) % o.keys;
    return k;
  };
}

function writeKey(buf: Buffer, p: number, key: number): void {
  buf.set(KEY_TEMPLATE, p);
  for (let j = p + o.keySize - 1; key > 0; j--) {
    buf[j] = 48 + (key % 10);
    key = Math.floor(key / 10);
  }
}

class Conn {
  private readonly sock: Socket;
  private readonly pick: () => number;
  /** In-flight requests, oldest at `tail`: send time, operation, key. */
  private readonly sentAt: Float64Array;
  private readonly op: Uint8Array;
  private readonly key: Int32Array;
  private tail = 0;
  private inflight = 0;
  /** Keys whose get missed, to be set next (read-through cache behaviour, `missSet`). */
  private readonly refill: Int32Array;
  private refillHead = 0;
  private refillLen = 0;
  private readonly batchOp: Uint8Array;
  private readonly batchKey: Int32Array;
  /** Requests this connection may still send. */
  private left: number;
  /** Bytes of a VALUE's data block (plus CRLF) still to skip. */
  private skip = 0;
  /** VALUE lines seen for the get being answered. */
  private hits = 0;
  /** A reply line cut by the end of a read, completed by the next. */
  private carry: Buffer | null = null;
  /** Where requests are written; replaced when a write leaves it in the kernel's hands. */
  private out: Buffer;
  private writer: ReplyWriter | null = null;
  private finished = false;
  readonly done: Promise<void>;
  private resolve: () => void = () => {};
  readonly ready: Promise<void>;

  constructor(g: number) {
    const d = o.depth;
    this.sentAt = new Float64Array(d);
    this.op = new Uint8Array(d);
    this.key = new Int32Array(d);
    this.refill = new Int32Array(d);
    this.batchOp = new Uint8Array(d);
    this.batchKey = new Int32Array(d);
    this.pick = o.dist === "seq" ? seqPicker(g) : sharedPicker;
    this.left = o.ops > 0 ? Math.floor(o.ops / totalConns) + (g < o.ops % totalConns ? 1 : 0) : Infinity;
    this.out = Buffer.allocUnsafe(d * Math.max(GET_LEN, SET_LEN));
    const onRead = (buf: Buffer, n: number): void => this.onData(buf, n);
    this.sock = connect({
      port: o.port,
      host: o.host,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (n: number, buf: Uint8Array) => {
          onRead(buf as Buffer, n);
          return true;
        },
      },
    });
    let fail: (err: Error) => void = () => {};
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      fail = reject;
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.sock.once("connect", () => {
        readStraight(this.sock, readBuffer, onRead);
        this.writer = replyWriter(
          this.sock,
          true,
          () => {},
          (errno) => fail(new Error(`write failed (errno ${errno})`)),
        );
        resolve();
      });
      this.sock.once("error", reject);
    });
    this.sock.on("error", (err) => fail(err));
    this.sock.on("close", () => {
      if (!this.finished) fail(new Error(`server closed the connection with ${this.inflight} replies pending`));
    });
  }

  start(): void {
    this.send();
  }

  /** Gives up on replies still in flight (the time bound has long passed). */
  abandon(): void {
    if (this.finished) return;
    report.errors++;
    report.firstError ||= `no reply to ${this.inflight} requests ${DRAIN_GRACE_MS} ms after the end`;
    this.finish();
  }

  private finish(): void {
    this.finished = true;
    this.sock.destroy();
    this.resolve();
  }

  /** Tops the pipeline back up to `depth` requests in flight, in one write. */
  private send(): void {
    if (this.finished) return;
    const now = performance.now();
    if (now >= endAt) this.left = 0;
    let n = 0;
    let len = 0;
    while (this.inflight + n < o.depth && this.left > 0) {
      if (this.refillLen > 0) {
        this.batchOp[n] = SET;
        this.batchKey[n] = this.refill[this.refillHead];
        this.refillHead = (this.refillHead + 1) % o.depth;
        this.refillLen--;
      } else {
        this.batchOp[n] = Math.random() < o.getRatio ? GET : SET;
        this.batchKey[n] = this.pick();
      }
      len += this.batchOp[n] === GET ? GET_LEN : SET_LEN;
      n++;
      this.left--;
    }
    if (n === 0) {
      if (this.inflight === 0) this.finish();
      return;
    }
    const buf = this.out;
    let p = 0;
    let slot = (this.tail + this.inflight) % o.depth;
    for (let i = 0; i < n; i++) {
      const op = this.batchOp[i];
      const key = this.batchKey[i];
      if (op === GET) {
        buf.set(GET_PREFIX, p);
        writeKey(buf, p + GET_PREFIX.length, key);
        for (let k = 1, q = p + GET_PREFIX.length + o.keySize; k < o.multiget; k++, q += o.keySize + 1) {
          buf[q] = 0x20;
          writeKey(buf, q + 1, this.pick());
        }
        p += GET_LEN;
        buf[p - 2] = CR;
        buf[p - 1] = LF;
      } else {
        buf.set(SET_PREFIX, p);
        writeKey(buf, p + SET_PREFIX.length, key);
        buf.set(SET_TAIL, p + SET_PREFIX.length + o.keySize);
        p += SET_LEN;
      }
      this.sentAt[slot] = now;
      this.op[slot] = op;
      this.key[slot] = key;
      slot = slot + 1 === o.depth ? 0 : slot + 1;
    }
    this.inflight += n;
    // A write the kernel did not take at once still reads `buf`: the next requests go elsewhere.
    if (!(this.writer as ReplyWriter).write(buf.subarray(0, len))) this.out = Buffer.allocUnsafe(buf.length);
  }

  /** Replies in `chunk[0..n)`, which is only valid during this call. */
  private onData(chunk: Buffer, n: number): void {
    let buf = chunk;
    let end = n;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk.subarray(0, n)]);
      end = buf.length;
      this.carry = null;
    }
    const now = performance.now();
    let pos = 0;
    while (pos < end) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - pos);
        pos += n;
        this.skip -= n;
        continue;
      }
      const nl = indexOfByte(buf, LF, pos, end);
      if (nl < 0) {
        this.carry = Buffer.from(buf.subarray(pos, end));
        break;
      }
      if (buf[pos] === 0x56 /* VALUE <key> <flags> <bytes> */) {
        this.hits++;
        this.skip = valueBytes(buf, nl) + 2;
      } else this.complete(buf, pos, nl, now);
      pos = nl + 1;
    }
    this.send();
  }

  /** A reply line that ends a request: END (get), STORED (set), or an error. */
  private complete(buf: Buffer, pos: number, nl: number, now: number): void {
    if (this.inflight === 0) throw new Error(`reply without a request: ${buf.toString("latin1", pos, nl)}`);
    const t = this.tail;
    this.tail = t + 1 === o.depth ? 0 : t + 1;
    this.inflight--;
    histogram.record(Math.round((now - this.sentAt[t]) * 1e6));
    const c0 = buf[pos];
    const c1 = buf[pos + 1];
    if (this.op[t] === GET) {
      report.gets++;
      if (c0 === 0x45 && c1 === 0x4e /* END */) {
        report.hits += this.hits;
        report.misses += o.multiget - this.hits;
        if (this.hits === 0 && o.missSet) {
          this.refill[(this.refillHead + this.refillLen) % o.depth] = this.key[t];
          this.refillLen++;
        }
      } else this.error(buf, pos, nl);
      this.hits = 0;
    } else {
      report.sets++;
      if (c0 !== 0x53 || c1 !== 0x54 /* STORED */) this.error(buf, pos, nl);
    }
  }

  private error(buf: Buffer, pos: number, nl: number): void {
    report.errors++;
    report.firstError ||= buf.toString("latin1", pos, nl).trim();
  }
}

/** The <bytes> field: the last token of a VALUE line (a plain get has no CAS token). */
function valueBytes(buf: Buffer, nl: number): number {
  let end = nl;
  if (buf[end - 1] === CR) end--;
  let j = end - 1;
  while (buf[j] !== 0x20) j--;
  let n = 0;
  for (j++; j < end; j++) n = n * 10 + (buf[j] - 48);
  return n;
}

const conns = Array.from({ length: o.conns }, (_, i) => new Conn(index * o.conns + i));
await Promise.all(conns.map((c) => c.ready));
port.once("message", () => {
  // The next message, if any, is "stop": end the load now, as the time bound would.
  port.once("message", () => (endAt = 0));
  const started = performance.now();
  endAt = started + o.seconds * 1000;
  const watchdog = setTimeout(() => conns.forEach((c) => c.abandon()), o.seconds * 1000 + DRAIN_GRACE_MS);
  for (const c of conns) c.start();
  void Promise.all(conns.map((c) => c.done)).then(() => {
    clearTimeout(watchdog);
    report.elapsedMs = performance.now() - started;
    port.postMessage(report);
  });
});
port.postMessage("ready");
