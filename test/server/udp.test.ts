import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { silentLogger } from "../../src/log.ts";
import { startServer } from "../../src/server/server.ts";
import { INBOX_BYTES, INBOX_DATAGRAMS, UdpConnection } from "../../src/server/udp.ts";
import { parseCli } from "../../src/settings/cli.ts";
import { RawClient, talk } from "../oracle/client.ts";
import { freePort, startOurs, waitConnectable } from "../oracle/servers.ts";
import { UdpClient, frame, freeTcpAndUdpPort, freeUdpPort, waitUdp } from "../oracle/udp.ts";

const NODE = "node_modules/.bin/node";

/** The inodes of the UDP sockets on this host (IPv4 and IPv6). */
function udpInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
    for (const line of readFileSync(table, "latin1").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** How many of a process's open sockets are UDP sockets. */
function udpSocketsOf(pid: number): number {
  const udp = udpInodes();
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link = "";
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m !== null && udp.has(m[1])) n++;
  }
  return n;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** One request datagram; resolves with the payloads of the replies that came within `ms`. */
async function ask(port: number, request: string, ms = 200): Promise<string[]> {
  const c = new UdpClient();
  try {
    await c.send(port, frame(1, request));
    await c.settle(30, ms, ms);
    return c.take().map((d) => d.payload.toString("latin1"));
  } finally {
    c.close();
  }
}

test("UDP is off unless -U names a port (memcached 1.6's default): no UDP socket at all", async () => {
  const port = await freePort();
  const child = spawn(NODE, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1"], { stdio: "ignore" });
  try {
    await waitConnectable(port, Date.now() + 10000);
    assert.equal(udpSocketsOf(child.pid as number), 0);
    assert.match(await talk(port, "stats settings\r\n"), /STAT udpport 0\r\n/);
  } finally {
    await stop(child);
  }
});

test("-U without -p serves UDP and TCP on that port, as memcached does", async () => {
  let port = 0;
  let child: ChildProcess | null = null;
  // The port can still be taken for TCP between the check and the server's bind (it exits then).
  for (let tries = 0; child === null; tries++) {
    port = await freeTcpAndUdpPort();
    const c = spawn(NODE, ["src/main.ts", "-U", String(port), "-l", "127.0.0.1"], { stdio: "ignore" });
    const exited = new Promise<boolean>((r) => c.once("exit", () => r(true)));
    const up = waitConnectable(port, Date.now() + 10000).then(
      () => false,
      () => true,
    );
    if (await Promise.race([up, exited])) {
      // Never left behind: a server still starting after the deadline is stopped too.
      c.kill("SIGKILL");
      assert.ok(tries < 3, "the server could not listen");
    } else child = c;
  }
  try {
    await waitUdp(port);
    assert.equal(udpSocketsOf(child.pid as number), 1);
    assert.deepEqual(await ask(port, "set u 0 0 2\r\nhi\r\nget u\r\n"), ["STORED\r\n", "VALUE u 0 2\r\nhi\r\nEND\r\n"]);
    assert.match(await talk(port, "stats settings\r\n"), new RegExp(`STAT tcpport ${port}\\r\\nSTAT udpport ${port}\\r\\n`));
  } finally {
    await stop(child);
  }
});

test("a UDP port in use: exit 71 naming it, with nothing left listening", async () => {
  const taken = createSocket("udp4");
  await new Promise<void>((r) => taken.bind(0, "127.0.0.1", () => r()));
  const udp = taken.address().port;
  const tcp = await freePort();
  try {
    const child = spawn(NODE, ["src/main.ts", "-p", String(tcp), "-U", String(udp), "-l", "127.0.0.1"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    assert.equal(code, 71);
    assert.match(stderr, new RegExp(`cannot listen on UDP 127\\.0\\.0\\.1:${udp}: .*EADDRINUSE`));
  } finally {
    taken.close();
  }
});

test("stats settings shows -U's port; -s (a unix socket) serves no UDP, as in memcached", async () => {
  const port = await freeUdpPort();
  const ours = await startOurs(["-U", String(port)]);
  try {
    await waitUdp(port);
    assert.match(await talk(ours.port, "stats settings\r\n"), new RegExp(`STAT udpport ${port}\\r\\n[\\s\\S]*STAT num_threads_per_udp 4\\r\\n`));
  } finally {
    await ours.stop();
  }
  const path = join(mkdtempSync(join(tmpdir(), "mcts-udp-")), "mc.sock");
  const parsed = parseCli(["-s", path, "-U", String(port)]);
  assert.ok(parsed.kind === "run");
  const onSocket = await startServer(parsed.settings, silentLogger());
  try {
    assert.deepEqual(await ask(port, "version\r\n"), []);
    // Nothing holds the port: it can be bound here.
    const probe = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.bind(port, "127.0.0.1", () => resolve());
    });
    probe.close();
  } finally {
    await onSocket.close();
  }
});

test("closing the server (graceful or not) closes its UDP socket", async () => {
  for (const graceful of [true, false]) {
    const port = await freeUdpPort();
    const ours = await startOurs(["-U", String(port)]);
    await waitUdp(port);
    await ours.server.close(graceful);
    const again = await startOurs(["-U", String(port)]);
    try {
      await waitUdp(port);
    } finally {
      await again.stop();
    }
  }
});

test("--sync always: a UDP reply waits for the log, and the write survives a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcts-udp-aof-"));
  const port = await freeUdpPort();
  const first = await startOurs(["--aof", dir, "--sync", "always", "-U", String(port)]);
  try {
    await waitUdp(port);
    assert.deepEqual(await ask(port, "set d 7 0 3\r\nabc\r\nincr n 1\r\nget d\r\n"), ["STORED\r\n", "NOT_FOUND\r\n", "VALUE d 7 3\r\nabc\r\nEND\r\n"]);
  } finally {
    await first.stop();
  }
  const again = await startOurs(["--aof", dir]);
  try {
    assert.equal(await talk(again.port, "get d\r\n"), "VALUE d 7 3\r\nabc\r\nEND\r\n");
  } finally {
    await again.stop();
  }
});

test("a busy UDP connection holds at most INBOX_DATAGRAMS request datagrams and INBOX_BYTES of them; the rest are dropped", async () => {
  const ours = await startOurs();
  const client = createSocket("udp4");
  const conns: UdpConnection[] = [];
  try {
    /** A connection kept busy (as by a long reply, or replies waiting for the log), and what it holds. */
    const busyConnection = async (): Promise<{ port: number; held: { inbox: unknown[]; inboxBytes: number } }> => {
      const socket = createSocket("udp4");
      await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
      const conn = new UdpConnection(socket, ours.server.ctx, silentLogger());
      conns.push(conn);
      const inside = conn as unknown as { busy: boolean; inbox: unknown[]; inboxBytes: number };
      inside.busy = true;
      return { port: socket.address().port, held: inside };
    };
    /** Sends `count` datagrams of `size` bytes, paced so the receiving side keeps up, and waits until it has read them. */
    const flood = async (port: number, count: number, size: number, held: () => number): Promise<void> => {
      const d = frame(1, "x".repeat(size - 8));
      // A batch stays well within the receiving socket's default buffer (208 KiB): a datagram
      // it has no room for is dropped by the kernel before the connection sees it.
      const batch = Math.min(20, Math.floor(65536 / size));
      for (let sent = 0; sent < count; sent += batch) {
        await Promise.all(Array.from({ length: Math.min(batch, count - sent) }, () => new Promise((r) => client.send(d, port, "127.0.0.1", r))));
        await sleep(1);
      }
      for (let last = -1, same = 0; same < 5; await sleep(20)) {
        same = held() === last ? same + 1 : 0;
        last = held();
      }
    };
    const small = await busyConnection();
    await flood(small.port, 2 * INBOX_DATAGRAMS, 24, () => small.held.inbox.length);
    assert.equal(small.held.inbox.length, INBOX_DATAGRAMS);
    const large = await busyConnection();
    const size = 8192;
    await flood(large.port, (2 * INBOX_BYTES) / size, size, () => large.held.inboxBytes);
    assert.equal(large.held.inboxBytes, INBOX_BYTES, "full to the byte");
    assert.equal(large.held.inbox.length, INBOX_BYTES / size);
  } finally {
    client.close();
    await Promise.all(conns.map((c) => c.close()));
    await ours.stop();
  }
});

test("a get naming a 1 MB value 400 times over UDP goes out in slices: bounded memory, other clients served meanwhile", async (t) => {
  const [tcpPort, port] = [await freePort(), await freeUdpPort()];
  const child = spawn(NODE, ["src/main.ts", "-p", String(tcpPort), "-U", String(port), "-l", "127.0.0.1", "-m", "64"], { stdio: "ignore" });
  const rss = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]) * 1024;
  const size = 1_000_000;
  const client = createSocket({ type: "udp4", recvBufferSize: 1 << 20 });
  let datagrams = 0;
  let firstCount = -1;
  client.on("message", (m) => {
    if (datagrams++ === 0) firstCount = m.readUInt16BE(4);
  });
  await new Promise<void>((r) => client.bind(0, "127.0.0.1", () => r()));
  let tcp: RawClient | null = null;
  try {
    await waitConnectable(tcpPort, Date.now() + 10000);
    await waitUdp(port);
    assert.equal(await talk(tcpPort, `set big 0 0 ${size}\r\n${"v".repeat(size)}\r\n`), "STORED\r\n");
    tcp = new RawClient(tcpPort);
    const base = rss();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rss() - base)), 5);
    client.send(frame(5, `get ${"big ".repeat(400)}\r\n`), port, "127.0.0.1");
    while (datagrams === 0) await new Promise((r) => setTimeout(r, 1));
    // A TCP client is answered while the UDP reply is still going out.
    const asked = Date.now();
    await tcp.send("version\r\n");
    await tcp.settle(20);
    const answeredIn = Date.now() - asked;
    assert.equal(tcp.take().toString("latin1"), "VERSION 1.6.18\r\n");
    assert.deepEqual(await ask(port, "version\r\n", 60000), ["VERSION 1.6.18\r\n"], "UDP is served again once the reply is out");
    clearInterval(sampler);
    t.diagnostic(`400 MB over UDP: ${datagrams} datagrams received, RSS +${(peak / 2 ** 20).toFixed(1)} MB at most, TCP answered in ${answeredIn} ms`);
    assert.ok(answeredIn < 1000, `version took ${answeredIn} ms`);
    assert.equal(firstCount, Math.ceil((`VALUE big 0 ${size}\r\n`.length + size + 2) / 1392));
    assert.ok(peak < 48 * 2 ** 20, `RSS grew ${peak} bytes for a 400 MB reply`);
  } finally {
    client.close();
    tcp?.close();
    await stop(child);
  }
});
