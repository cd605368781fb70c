import { type Socket, createServer } from "node:net";
import { parseArgs } from "node:util";
import { READ_BUFFER_SIZE, adoptWithReusedBuffer } from "../../src/server/reused-read.ts";
import { type ReplyWriter, replyWriter } from "../../src/server/reply-writer.ts";

/**
 * The floor under memcached-ts: a server that reads and writes its sockets exactly as
 * memcached-ts does (shared read buffer, replies straight to the handle) but does nothing
 * else: every `get` line is answered with one constant 100-byte hit, every `set` (line and
 * data block in the same read, as the load generator sends them) with STORED. What it costs
 * per request is what Node's I/O costs before any cache work. Not a memcached: only for
 * bench/floor.ts.
 */
const { values } = parseArgs({ options: { p: { type: "string" } } });
const HIT = Buffer.from(`VALUE k000000000000000 0 100\r\n${"x".repeat(100)}\r\nEND\r\n`);
const STORED = Buffer.from("STORED\r\n");
const readBuffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);

function answer(writer: ReplyWriter, buf: Buffer, n: number): void {
  let p = 0;
  while (p < n) {
    const nl = buf.indexOf(0x0a, p);
    if (nl < 0 || nl >= n) return;
    if (buf[p] === 0x73 /* set: skip its data block too */) {
      writer.write(STORED);
      const end = buf.indexOf(0x0a, nl + 1);
      p = end < 0 ? n : end + 1;
    } else {
      writer.write(HIT);
      p = nl + 1;
    }
  }
}

createServer({ pauseOnConnect: true, noDelay: true }, (socket: Socket) => {
  let writer: ReplyWriter | null = null;
  const adopted = adoptWithReusedBuffer(socket, readBuffer, (buf, n) => {
    if (writer !== null) answer(writer, buf, n);
  });
  if (adopted === null) throw new Error("this Node cannot re-wrap accepted sockets");
  adopted.setNoDelay(true);
  writer = replyWriter(adopted, true, () => adopted.resume(), () => adopted.destroy());
  adopted.resume();
}).listen(Number(values.p), "127.0.0.1");
