import { type Socket, createServer } from "node:net";
import { parseArgs } from "node:util";
import { reexecWithHugePages } from "../../src/huge-pages.ts";
import { LEND_MIN, Wrote } from "../../src/protocol/out-buffer.ts";
import { READ_BUFFER_SIZE, adoptWithReusedBuffer } from "../../src/server/reused-read.ts";
import { type ReplyWriter, replyWriter } from "../../src/server/reply-writer.ts";

/**
 * The floor under memcached-ts: a server that reads and writes its sockets exactly as
 * memcached-ts does (shared read buffer, replies straight to the handle) but does nothing
 * else. Every `get` line is answered with one hit of `--value-size` bytes: below LEND_MIN a
 * constant reply written whole, as memcached-ts copies small values into its reply buffer;
 * from LEND_MIN on, a gathered write of a header, one of `--keys` values kept in a
 * SharedArrayBuffer on huge pages (picked at random, so the kernel reads it from memory as
 * it reads memcached-ts' item memory) and the END line, as memcached-ts lends large values.
 * Every `set` is answered STORED once its data block has gone by. What it costs per request
 * is what Node's I/O costs before any cache work. Not a memcached: only for bench/floor.ts.
 */
reexecWithHugePages();
const { values: opts } = parseArgs({ options: { p: { type: "string" }, "value-size": { type: "string", default: "100" }, keys: { type: "string", default: "100000" } } });
const size = Number(opts["value-size"]);
const HEADER = Buffer.from(`VALUE k000000000000000 0 ${size}\r\n`);
const HIT = Buffer.concat([HEADER, Buffer.alloc(size, "x"), Buffer.from("\r\nEND\r\n")]);
const STORED = Buffer.from("STORED\r\n");
const readBuffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);

/** Large values, one per key: the memory a lent reply is gathered from. */
const slots = size >= LEND_MIN ? Number(opts.keys) : 0;
const stride = size + 64;
const valueMemory = new Uint8Array(new SharedArrayBuffer(slots * stride)).fill(0x78);
const parts: Uint8Array[] = [HEADER, HEADER, HIT.subarray(HEADER.length + size)];

function writeHit(writer: ReplyWriter): void {
  if (slots === 0 || writer.writeNow === null) {
    writer.write(HIT);
    return;
  }
  const at = Math.floor(Math.random() * slots) * stride;
  parts[1] = valueMemory.subarray(at, at + size);
  // Behind a write still waiting, the parts are copied and queued, as memcached-ts does.
  if (writer.writeNow(parts) === Wrote.nothing) writer.write(Buffer.concat(parts));
}

/** One connection: the data bytes of a `set` still to skip, and a cut line, across reads. */
class FloorConnection {
  private skip = 0;
  /** A line cut by the end of a read (rare: only deep pipelines of large sets). */
  private partial: Buffer | null = null;
  private readonly writer: ReplyWriter;

  constructor(writer: ReplyWriter) {
    this.writer = writer;
  }

  answer(chunk: Buffer, read: number): void {
    let buf = chunk;
    let n = read;
    if (this.partial !== null) {
      buf = Buffer.concat([this.partial, chunk.subarray(0, read)]);
      n = buf.length;
      this.partial = null;
    }
    let p = 0;
    while (p < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - p);
        this.skip -= take;
        p += take;
        if (this.skip === 0) this.writer.write(STORED);
        continue;
      }
      const nl = buf.indexOf(0x0a, p);
      if (nl < 0 || nl >= n) {
        this.partial = Buffer.from(buf.subarray(p, n));
        return;
      }
      if (buf[p] === 0x73 /* set <key> <flags> <exptime> <bytes>: skip the data block and its CRLF */) {
        const sp = buf.lastIndexOf(0x20, nl);
        this.skip = Number(buf.toString("latin1", sp + 1, nl - 1)) + 2;
      } else writeHit(this.writer);
      p = nl + 1;
    }
  }
}

createServer({ pauseOnConnect: true, noDelay: true }, (socket: Socket) => {
  let conn: FloorConnection | null = null;
  const adopted = adoptWithReusedBuffer(socket, readBuffer, (buf, n) => conn?.answer(buf, n));
  if (adopted === null) throw new Error("this Node cannot re-wrap accepted sockets");
  adopted.setNoDelay(true);
  // A load that ends with replies unread resets its connections: not the floor's failure.
  adopted.on("error", () => adopted.destroy());
  conn = new FloorConnection(replyWriter(adopted, true, () => adopted.resume(), () => adopted.destroy()));
  adopted.resume();
}).listen(Number(opts.p), "127.0.0.1");
