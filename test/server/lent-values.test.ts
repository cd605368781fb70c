import assert from "node:assert/strict";
import { type Socket, connect } from "node:net";
import { test } from "node:test";
import { LEND_MIN } from "../../src/protocol/out-buffer.ts";
import { checkIntegrity } from "../../src/store/integrity.ts";
import type { SlabEngine } from "../../src/store/slab-engine.ts";
import { startOurs } from "../oracle/servers.ts";

// Hits on values of LEND_MIN bytes or more are written straight from item memory
// (OutBuffer.lend). These check the replies byte for byte where that is hardest: a client
// that does not read at first, so writes stop part way, while the same commands replace the
// values and reuse their memory.

/** Sends `data` at once, reads nothing for `deafMs`, then collects `expect` bytes. */
async function slowReader(port: number, data: Buffer, expect: number, deafMs: number): Promise<Buffer> {
  const s = connect(port, "127.0.0.1");
  await new Promise<void>((r) => s.once("connect", () => r()));
  s.pause();
  s.write(data);
  await new Promise((r) => setTimeout(r, deafMs));
  const got: Buffer[] = [];
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${n} of ${expect} bytes came back`)), 20_000);
    s.on("data", (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (n >= expect) {
        clearTimeout(timer);
        resolve();
      }
    });
    s.on("error", reject);
    s.resume();
  });
  s.destroy();
  return Buffer.concat(got);
}

const value = (i: number, round: number, size: number): string => `${i}:${round}:`.padEnd(size, String.fromCharCode(97 + ((i + round) % 26)));

test("a reader that waits gets every lent value intact, while later commands replace them and reuse their memory", async () => {
  const s = await startOurs(["-m", "64"]);
  try {
    // Several commands fit in one read, so memory is reused in the read that lent it.
    const size = LEND_MIN;
    const keys = 600;
    let setup = "";
    for (let i = 0; i < keys; i++) setup += `set v${i} 0 0 ${size} noreply\r\n${value(i, 0, size)}\r\n`;
    // Each get is followed by a set of the same key and a delete of the one before: more than
    // 4 MiB of replies (the session then waits for the client), pieces left for later writes.
    let send = setup;
    let expect = "";
    for (let i = 0; i < keys; i++) {
      send += `get v${i}\r\nset v${i} 0 0 ${size}\r\n${value(i, 1, size)}\r\n`;
      expect += `VALUE v${i} 0 ${size}\r\n${value(i, 0, size)}\r\nEND\r\nSTORED\r\n`;
      if (i > 0) {
        send += `delete v${i - 1}\r\nset w${i} 0 0 ${size} noreply\r\n${value(i, 2, size)}\r\n`;
        expect += "DELETED\r\n";
      }
    }
    send += `get v${keys - 1} w1\r\n`;
    expect += `VALUE v${keys - 1} 0 ${size}\r\n${value(keys - 1, 1, size)}\r\nVALUE w1 0 ${size}\r\n${value(1, 2, size)}\r\nEND\r\n`;
    const got = await slowReader(s.port, Buffer.from(send, "latin1"), expect.length, 500);
    assert.equal(got.length, expect.length);
    // Compared in pieces so a failure names where the bytes differ rather than printing megabytes.
    for (let at = 0; at < expect.length; at += 4096) {
      assert.equal(got.toString("latin1", at, Math.min(at + 4096, expect.length)), expect.slice(at, at + 4096), `bytes from ${at} on`);
    }
    assert.equal(s.server.ctx.counters.bytesWritten, expect.length, "bytes_written counts lent bytes once");
  } finally {
    await s.stop();
  }
});

/** Sends `data` on a new connection and returns the first `expect` bytes that come back. */
async function exchange(port: number, data: string, expect: number): Promise<string> {
  const s = connect(port, "127.0.0.1");
  const got: Buffer[] = [];
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    s.on("data", (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (n >= expect) resolve();
    });
    s.on("error", reject);
    s.write(data, "latin1");
  });
  s.destroy();
  return Buffer.concat(got).toString("latin1");
}

const SIZE = 16 * 1024;
/** More than loopback buffers absorb (~10 MB), so the write goes on as the client reads. */
const KEYS = 1000;

/**
 * Stores KEYS values of SIZE bytes, then has a client that reads nothing ask for all of them
 * in one get, and waits until the write of the reply holds item memory.
 */
async function stalledMultiGet(port: number, engine: SlabEngine): Promise<Socket> {
  let setup = "";
  for (let i = 0; i < KEYS; i++) setup += `set k${i} 0 0 ${SIZE}\r\n${value(i, 0, SIZE)}\r\n`;
  await exchange(port, setup, KEYS * "STORED\r\n".length);
  const slow = connect(port, "127.0.0.1");
  await new Promise<void>((r) => slow.once("connect", () => r()));
  slow.pause();
  slow.write(`get ${Array.from({ length: KEYS }, (_, i) => `k${i}`).join(" ")}\r\n`);
  for (let t = 0; t < 200 && engine.heldChunks === 0; t++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(engine.heldChunks > 0, "a write in flight holds item memory");
  return slow;
}

/** Another client deletes every value and stores as many new ones of the same size. */
async function replaceAll(port: number): Promise<void> {
  let churn = "";
  for (let i = 0; i < KEYS; i++) churn += `delete k${i}\r\nset n${i} 0 0 ${SIZE}\r\n${value(i, 1, SIZE)}\r\n`;
  assert.equal(await exchange(port, churn, KEYS * "DELETED\r\nSTORED\r\n".length), "DELETED\r\nSTORED\r\n".repeat(KEYS));
}

test("values a write still sends to a slow client keep their bytes while other clients delete them and reuse their memory", async () => {
  const s = await startOurs(["-m", "64"]);
  try {
    const engine = s.server.ctx.cache.engine as SlabEngine;
    const slow = await stalledMultiGet(s.port, engine);
    // The freed chunks are reused at once, but not the ones the write still reads.
    await replaceAll(s.port);
    // The get answered its first keys (about 4 MiB, OUT_HIGH_WATER) before it waited for the
    // client; the rest were deleted by the time it went on.
    const got: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no END came back")), 20_000);
      slow.on("data", (d: Buffer) => {
        got.push(d);
        if (Buffer.concat(got.slice(-2)).toString("latin1").endsWith("\r\nEND\r\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
      slow.resume();
    });
    slow.destroy();
    const all = Buffer.concat(got).toString("latin1");
    let at = 0;
    let i = 0;
    for (; all.startsWith("VALUE", at); i++) {
      const head = `VALUE k${i} 0 ${SIZE}\r\n`;
      assert.equal(all.slice(at, at + head.length), head);
      at += head.length;
      assert.equal(all.slice(at, at + SIZE + 2), `${value(i, 0, SIZE)}\r\n`, `k${i}'s value`);
      at += SIZE + 2;
    }
    assert.equal(all.slice(at), "END\r\n");
    assert.ok(i * SIZE > 2 * 1024 * 1024 && i < KEYS, `${i} values came back`);
    for (let t = 0; t < 100 && engine.heldChunks > 0; t++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(engine.heldChunks, 0, "given back once written");
    assert.deepEqual(checkIntegrity(engine), []);
  } finally {
    await s.stop();
  }
});

test("a client that closes with a write of lent values unfinished gives the held memory back", async () => {
  const s = await startOurs(["-m", "64"]);
  try {
    const engine = s.server.ctx.cache.engine as SlabEngine;
    const slow = await stalledMultiGet(s.port, engine);
    slow.destroy();
    for (let t = 0; t < 200 && engine.heldChunks > 0; t++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(engine.heldChunks, 0);
    // The chunks are usable again: the cache takes as many new values as it held before.
    await replaceAll(s.port);
    assert.deepEqual(checkIntegrity(engine), []);
  } finally {
    await s.stop();
  }
});
