import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { type Socket, connect } from "node:net";
import { after, before, test } from "node:test";
import { RawClient } from "../oracle/client.ts";
import { freePort, waitConnectable } from "../oracle/servers.ts";

// Attacks from the hardening issue, against a real server process whose RSS is measured: the
// server stays up, answers another client quickly, and its memory stays bounded.

let child: ChildProcess;
let port = 0;
const MB = 1024 * 1024;
const BIG = 1024 * 1024 - 512;

async function startServer(): Promise<void> {
  child?.kill("SIGKILL");
  port = await freePort();
  child = spawn(process.execPath, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1", "-m", "1024", "-c", "4096"], { stdio: "ignore" });
  await waitConnectable(port, Date.now() + 20_000);
}

before(async () => {
  await startServer();
  const c = new RawClient(port);
  await c.send(`set big 0 0 ${BIG}\r\n${"b".repeat(BIG)}\r\n`);
  await c.waitBytes(8, 5000);
  c.close();
});

after(() => {
  child.kill("SIGKILL");
});

function rss(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

/** A client that sends and never reads what comes back. */
async function deaf(data: string | Buffer): Promise<Socket> {
  const s = connect({ port, host: "127.0.0.1" });
  await new Promise<void>((r) => s.once("connect", () => r()));
  s.pause();
  s.write(data);
  return s;
}

/** Milliseconds another client waits for `get small`. */
async function otherClientMs(): Promise<number> {
  const c = new RawClient(port);
  const t0 = performance.now();
  await c.send("set small 0 0 2\r\nok\r\nget small\r\n");
  await c.waitBytes("STORED\r\nVALUE small 0 2\r\nok\r\nEND\r\n".length, 5000);
  const ms = performance.now() - t0;
  assert.equal(c.take().toString(), "STORED\r\nVALUE small 0 2\r\nok\r\nEND\r\n");
  c.close();
  return ms;
}

async function underAttack(name: string, data: string | Buffer, t: { diagnostic(s: string): void }): Promise<void> {
  const base = rss();
  const sockets = [await deaf(data)];
  await new Promise((r) => setTimeout(r, 1500));
  const grown = rss() - base;
  const ms = await otherClientMs();
  t.diagnostic(`${name}: RSS +${(grown / MB).toFixed(1)} MB, another client answered in ${ms.toFixed(1)} ms`);
  for (const s of sockets) s.destroy();
  assert.ok(grown < 64 * MB, `${name}: RSS grew ${(grown / MB).toFixed(1)} MB`);
  assert.ok(ms < 1000, `${name}: another client waited ${ms.toFixed(0)} ms`);
}

test("a get line naming a 1 MB value 500 times, never read", async (t) => {
  await underAttack("get x500", `get${" big".repeat(500)}\r\n`, t);
});

test("a get line naming it 2000 times (6 KB)", async (t) => {
  await underAttack("get x2000", `get${" big".repeat(2000)}\r\n`, t);
});

test("64 KiB of pipelined mg for the 1 MB value", async (t) => {
  await underAttack("mg pipeline", "mg big v\r\n".repeat(6500), t);
});

test("binary GETQ pipeline for the 1 MB value", async (t) => {
  const req = Buffer.alloc(24 + 3);
  req[0] = 0x80;
  req[1] = 0x09; // GETQ
  req.writeUInt16BE(3, 2);
  req.writeUInt32BE(3, 8);
  req.write("big", 24);
  const noop = Buffer.alloc(24);
  noop[0] = 0x80;
  noop[1] = 0x0a;
  await underAttack("binary GETQ x2000", Buffer.concat([...Array.from({ length: 2000 }, () => req), noop]), t);
});

test("a thousand idle connections cost little each", async (t) => {
  // A fresh process: what earlier attacks left for the GC would blur the figure.
  await startServer();
  await otherClientMs().catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  const base = rss();
  const idle: Socket[] = [];
  for (let i = 0; i < 1000; i++) {
    const s = connect({ port, host: "127.0.0.1" });
    s.on("error", () => {});
    idle.push(s);
  }
  await Promise.all(idle.map((s) => new Promise<void>((r) => (s.connecting ? s.once("connect", () => r()) : r()))));
  await new Promise((r) => setTimeout(r, 500));
  const each = (rss() - base) / idle.length;
  const ms = await otherClientMs();
  t.diagnostic(`idle connection: ${(each / 1024).toFixed(1)} KB of RSS each; another client answered in ${ms.toFixed(1)} ms`);
  for (const s of idle) s.destroy();
  assert.ok(each < 32 * 1024, `${each} bytes per idle connection`);
});

test("clients trickling a byte every 100 ms tie up nothing", async (t) => {
  const slow: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (let i = 0; i < 50; i++) {
    const s = connect({ port, host: "127.0.0.1" });
    s.on("error", () => {});
    slow.push(s);
    const line = Buffer.from(`get small${i}\r\n`);
    let at = 0;
    timers.push(setInterval(() => s.write(line.subarray(at, ++at)), 100));
  }
  await new Promise((r) => setTimeout(r, 600));
  const ms = await otherClientMs();
  t.diagnostic(`50 trickling clients: another client answered in ${ms.toFixed(1)} ms`);
  for (const tm of timers) clearInterval(tm);
  for (const s of slow) s.destroy();
  assert.ok(ms < 500);
});
