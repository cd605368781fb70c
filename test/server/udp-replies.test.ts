import assert from "node:assert/strict";
import { test } from "node:test";
import { FRAME_PAYLOAD, type Peer, ResponseQueue } from "../../src/server/udp-replies.ts";

const peer: Peer = { address: "127.0.0.1", port: 1, family: "IPv4" };

interface Sent {
  id: number;
  seq: number;
  count: number;
  bytes: number;
}

function collect(q: ResponseQueue, buf: Buffer, budget = Infinity): Sent[] {
  const sent: Sent[] = [];
  while (!q.send(buf, budget, (_p, id, seq, count, _b, start, end) => sent.push({ id, seq, count, bytes: end - start })));
  return sent;
}

test("a response object of more than 65535 datagrams says 65535 and its sequence number wraps, as memcached's u16 fields do", () => {
  const total = 65537;
  const buf = Buffer.alloc(total * FRAME_PAYLOAD - 100);
  const q = new ResponseQueue();
  q.start(0, 9, peer, false);
  q.begin(buf.length, true);
  const sent = collect(q, buf, 1000);
  q.finish();
  assert.equal(sent.length, total);
  assert.ok(sent.every((d) => d.count === 0xffff && d.id === 9));
  assert.deepEqual(sent.slice(65534, 65537).map((d) => d.seq), [65534, 65535, 0]);
  assert.equal(sent[total - 1].bytes, FRAME_PAYLOAD - 100);
});

test("sending resumes where a budget stopped it, within one series", () => {
  const buf = Buffer.alloc(5 * FRAME_PAYLOAD);
  const q = new ResponseQueue();
  q.start(0, 1, peer, false);
  q.start(3 * FRAME_PAYLOAD, 2, peer, false);
  q.begin(buf.length, true);
  const steps: number[] = [];
  const sent: Sent[] = [];
  for (;;) {
    const before = sent.length;
    const done = q.send(buf, 2, (_p, id, seq, count) => sent.push({ id, seq, count, bytes: 0 }));
    steps.push(sent.length - before);
    if (done) break;
  }
  assert.deepEqual(steps, [2, 2, 1]);
  assert.deepEqual(sent.map((d) => `${d.id}:${d.seq}/${d.count}`), ["1:0/3", "1:1/3", "1:2/3", "2:0/2", "2:1/2"]);
});

test("replies after memcached's last write wait while a data block is half read; their offsets follow the buffer", () => {
  const buf = Buffer.from("STORED\r\nEND\r\nSTORED\r\n");
  const q = new ResponseQueue();
  q.start(0, 1, peer, false);
  q.start(8, 2, peer, true);
  q.written(true);
  q.start(13, 3, peer, false);
  q.begin(13, false);
  assert.deepEqual(collect(q, buf).map((d) => `${d.id}:${d.bytes}`), ["1:8", "2:5"]);
  q.finish();
  q.begin(8, true);
  assert.deepEqual(collect(q, buf.subarray(13)).map((d) => `${d.id}:${d.bytes}`), ["3:8"]);
  q.finish();
});
