import assert from "node:assert/strict";
import { test } from "node:test";
import { RawClient } from "../../oracle/client.ts";
import { startOurs } from "../../oracle/servers.ts";
import { noop } from "../../conformance/binary-packets.ts";

/** A small seeded generator, so a failure replays. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/** A request with the binary magic and random opcode, lengths and bytes; lengths may disagree. */
function hostile(r: () => number): Buffer {
  const ext = Math.floor(r() * 24);
  const key = Math.floor(r() * (r() < 0.1 ? 400 : 20));
  const value = Math.floor(r() * 64);
  const declared = r() < 0.2 ? Math.floor(r() * 0xffff_ffff) : ext + key + value + Math.floor(r() * 3) - 1;
  const b = Buffer.alloc(24 + ext + key + value);
  for (let i = 24; i < b.length; i++) b[i] = Math.floor(r() * 256);
  b[0] = r() < 0.03 ? Math.floor(r() * 256) : 0x80;
  b[1] = Math.floor(r() * 0x30);
  b.writeUInt16BE(key, 2);
  b[4] = ext;
  b.writeUInt32BE(Math.max(0, declared) >>> 0, 8);
  b.writeUInt32BE(Math.floor(r() * 0xffff_ffff), 12);
  return b;
}

test("random binary requests never crash the server nor leave it unable to serve", async () => {
  const server = await startOurs(["-I", "2k", "-o", "slab_chunk_max=1024", "-m", "8"]);
  try {
    const r = random(20261130);
    for (let conn = 0; conn < 40; conn++) {
      const c = new RawClient(server.port);
      const parts = Array.from({ length: 25 }, () => hostile(r));
      // Sent whole or cut at random places, as TCP may deliver it.
      const all = Buffer.concat(parts);
      const cut = Math.floor(r() * all.length);
      await c.send(all.subarray(0, cut));
      await c.send(all.subarray(cut));
      await c.settle(5, 200, 20);
      c.close();
    }
    const probe = new RawClient(server.port);
    await probe.send(noop(42));
    await probe.waitBytes(24);
    const reply = probe.take();
    probe.close();
    assert.equal(reply[1], 0x0a);
    assert.equal(reply.readUInt32BE(12), 42);
  } finally {
    await server.stop();
  }
});
