import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { LEND_MIN } from "../../src/protocol/out-buffer.ts";
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
