import assert from "node:assert/strict";
import { type Socket, connect } from "node:net";
import { test } from "node:test";
import { silentLogger } from "../../src/log.ts";
import { startServer } from "../../src/server/server.ts";
import { DEFAULTS } from "../../src/settings/settings.ts";

/** A deterministic pseudo-random split of `data` into packets of 1..maxPacket bytes. */
function split(data: Buffer, maxPacket: number, seed: number): Buffer[] {
  const parts: Buffer[] = [];
  let x = seed;
  for (let i = 0; i < data.length; ) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const n = 1 + (x % maxPacket);
    parts.push(data.subarray(i, i + n));
    i += n;
  }
  return parts;
}

/** Sends the packets one by one (each flushed before the next) and collects `expectBytes` of reply. */
async function converse(port: number, packets: Buffer[], expectBytes: number, whileOpen: () => void): Promise<Buffer> {
  const s = connect(port, "127.0.0.1");
  s.setNoDelay(true);
  const got: Buffer[] = [];
  let n = 0;
  const done = new Promise<void>((resolve, reject) => {
    s.on("data", (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (n >= expectBytes) resolve();
    });
    s.on("error", reject);
  });
  await new Promise<void>((r) => s.once("connect", () => r()));
  for (const p of packets) {
    await new Promise<void>((r) => s.write(p, () => r()));
  }
  await done;
  whileOpen();
  s.destroy();
  return Buffer.concat(got);
}

function script(): { request: Buffer; reply: Buffer } {
  const req: Buffer[] = [];
  const rep: Buffer[] = [];
  const big = Buffer.alloc(100_000, "v");
  for (let i = 0; i < 40; i++) {
    const value = i % 10 === 7 ? big : Buffer.from(`value-${i}-${"x".repeat(i * 13)}`);
    req.push(Buffer.from(`set key${i} ${i} 0 ${value.length}\r\n`), value, Buffer.from("\r\n"));
    rep.push(Buffer.from("STORED\r\n"));
    req.push(Buffer.from(`get key${i} missing${i}\r\n`));
    rep.push(Buffer.from(`VALUE key${i} ${i} ${value.length}\r\n`), value, Buffer.from("\r\nEND\r\n"));
  }
  const keys = Array.from({ length: 300 }, (_, i) => `absent-key-${i}`).join(" ");
  req.push(Buffer.from(`get ${keys}\r\n`));
  rep.push(Buffer.from("END\r\n"));
  return { request: Buffer.concat(req), reply: Buffer.concat(rep) };
}

for (const mode of ["onread", "data"] as const) {
  test(`read path "${mode}": pipelined and split input, values larger than the read buffer`, async () => {
    const server = await startServer({ ...DEFAULTS, port: 0, listen: ["127.0.0.1"] }, silentLogger(), { readMode: mode });
    try {
      const { request, reply } = script();
      for (const [maxPacket, seed] of [[request.length, 1], [70_000, 2], [300, 3], [40, 4]]) {
        const packets = split(request, maxPacket, seed);
        let modes: string[] = [];
        const got = await converse(server.port, packets, reply.length, () => {
          modes = [...server.ctx.connections()].filter((c) => c.listenAddress !== null).map((c) => c.readMode as string);
        });
        assert.ok(got.equals(reply), `replies differ with packets up to ${maxPacket} bytes`);
        assert.deepEqual(modes, [mode], "the connection used the requested read path");
      }
    } finally {
      await server.close();
    }
  });
}

/** Reads from `s` until `n` bytes have come. */
function collect(s: Socket, n: number): Promise<Buffer> {
  const got: Buffer[] = [];
  let have = 0;
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      got.push(d);
      have += d.length;
      if (have >= n) {
        s.off("data", onData);
        resolve(Buffer.concat(got));
      }
    };
    s.on("data", onData);
    s.once("error", reject);
  });
}

for (const mode of ["onread", "data"] as const) {
  test(`write path of "${mode}": a client that reads late gets every byte, then is served again`, { timeout: 30_000 }, async () => {
    const server = await startServer({ ...DEFAULTS, port: 0, listen: ["127.0.0.1"] }, silentLogger(), { readMode: mode });
    const s = connect(server.port, "127.0.0.1");
    try {
      await new Promise<void>((r) => s.once("connect", () => r()));
      const value = Buffer.alloc(900_000);
      for (let i = 0; i < value.length; i++) value[i] = 97 + (i % 26);
      s.write(Buffer.concat([Buffer.from(`set big 7 0 ${value.length}\r\n`), value, Buffer.from("\r\n")]));
      assert.equal((await collect(s, 8)).toString(), "STORED\r\n");
      // 27 MB of replies the client does not read for a while: the kernel takes only part,
      // so writes finish later, and reading waits for them.
      const one = Buffer.concat([Buffer.from(`VALUE big 7 ${value.length}\r\n`), value, Buffer.from("\r\nEND\r\n")]);
      s.pause();
      s.write("get big\r\n".repeat(30));
      await new Promise((r) => setTimeout(r, 300));
      const late = collect(s, one.length * 30);
      s.resume();
      const got = await late;
      assert.equal(got.length, one.length * 30);
      for (let i = 0; i < 30; i++) assert.ok(got.subarray(i * one.length, (i + 1) * one.length).equals(one), `reply ${i} intact`);
      s.write("version\r\n");
      assert.match((await collect(s, 10)).toString(), /^VERSION \S+\r\n$/);
    } finally {
      s.destroy();
      await server.close();
    }
  });
}

for (const mode of ["onread", "data"] as const) {
  test(`large values of "${mode}": intact and in order for a client that reads late, never changed by a later command of the same read`, { timeout: 30_000 }, async () => {
    const server = await startServer({ ...DEFAULTS, port: 0, listen: ["127.0.0.1"] }, silentLogger(), { readMode: mode });
    const s = connect(server.port, "127.0.0.1");
    s.setNoDelay(true);
    try {
      await new Promise<void>((r) => s.once("connect", () => r()));
      const a = Buffer.alloc(100_000);
      for (let i = 0; i < a.length; i++) a[i] = 97 + (i % 26);
      const b = Buffer.alloc(20_000, 0x62);
      const set = (key: string, v: Buffer): Buffer => Buffer.concat([Buffer.from(`set ${key} 0 0 ${v.length}\r\n`), v, Buffer.from("\r\n")]);
      const hit = (key: string, v: Buffer): Buffer => Buffer.concat([Buffer.from(`VALUE ${key} 0 ${v.length}\r\n`), v, Buffer.from("\r\n")]);
      s.write(Buffer.concat([set("a", a), set("b", b)]));
      assert.equal((await collect(s, 16)).toString(), "STORED\r\nSTORED\r\n");
      // One get per packet while the client reads nothing: the socket fills, writes are cut short.
      const one = Buffer.concat([hit("a", a), Buffer.from("END\r\n")]);
      s.pause();
      for (let i = 0; i < 150; i++) {
        s.write("get a\r\n");
        await new Promise((r) => setTimeout(r, 1));
      }
      const late = collect(s, one.length * 150);
      s.resume();
      const got = await late;
      for (let i = 0; i < 150; i++) assert.ok(got.subarray(i * one.length, (i + 1) * one.length).equals(one), `reply ${i} intact`);
      // Two large values in one reply; then a get and an overwrite in one packet: the get has the old value.
      s.write("get a b\r\n");
      const two = Buffer.concat([hit("a", a), hit("b", b), Buffer.from("END\r\n")]);
      assert.ok((await collect(s, two.length)).equals(two));
      // (The second overwrite takes the chunk the first one freed: the old value's memory.)
      const b2 = Buffer.alloc(b.length, 0x79);
      const b3 = Buffer.alloc(b.length, 0x7a);
      s.write(Buffer.concat([Buffer.from("get b\r\n"), set("b", b2), set("b", b3), Buffer.from("get b\r\n")]));
      const swapped = Buffer.concat([hit("b", b), Buffer.from("END\r\nSTORED\r\nSTORED\r\n"), hit("b", b3), Buffer.from("END\r\n")]);
      assert.ok((await collect(s, swapped.length)).equals(swapped));
      // bytes_written counts what went out either way.
      const before = server.ctx.counters.bytesWritten;
      s.write("get a\r\n");
      await collect(s, one.length);
      assert.equal(server.ctx.counters.bytesWritten - before, one.length);
    } finally {
      s.destroy();
      await server.close();
    }
  });
}
