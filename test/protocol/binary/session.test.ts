import assert from "node:assert/strict";
import { test } from "node:test";
import { RawClient } from "../../oracle/client.ts";
import { startOurs } from "../../oracle/servers.ts";
import { Op, cat, get, noop, req, set } from "../../conformance/binary-packets.ts";

/** Walks binary responses; returns how many of each opcode came back. */
function count(b: Buffer): Map<number, number> {
  const n = new Map<number, number>();
  for (let at = 0; at + 24 <= b.length; at += 24 + b.readUInt32BE(at + 8)) n.set(b[at + 1], (n.get(b[at + 1]) ?? 0) + 1);
  return n;
}

test("many pipelined gets of a large value are all answered without gathering them all at once", async () => {
  const server = await startOurs();
  const c = new RawClient(server.port);
  try {
    const value = Buffer.alloc(500_000, 0x61);
    await c.send(set("big", value));
    await c.waitBytes(24);
    c.take();
    const gets = 200;
    await c.send(cat(...Array.from({ length: gets }, () => get("big", Op.getk)), noop()));
    const each = 24 + 4 + 3 + value.length;
    await c.waitBytes(gets * each + 24, 20_000);
    const got = count(c.take());
    assert.equal(got.get(Op.getk), gets);
    assert.equal(got.get(Op.noop), 1);
  } finally {
    c.close();
    await server.stop();
  }
});

test("a header cut anywhere waits for the rest; a connection closed mid-value leaks no item", async () => {
  const server = await startOurs();
  try {
    const c = new RawClient(server.port);
    const packet = cat(set("k", "value"), get("k"));
    for (const b of packet) await c.send(Buffer.from([b]));
    await c.waitBytes(24 + 24 + 4 + 5);
    assert.deepEqual(count(c.take()), new Map([[Op.set, 1], [Op.get, 1]]));
    await c.send(req(Op.set, { key: "half", extras: Buffer.alloc(8), bodyLength: 8 + 4 + 1000 }));
    c.close();
    const d = new RawClient(server.port);
    await d.send(get("half"));
    await d.waitBytes(24);
    assert.equal(d.take().readUInt16BE(6), 1, "not found");
    d.close();
  } finally {
    await server.stop();
  }
});
