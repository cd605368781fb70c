import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { type AddressInfo, type Socket, createServer } from "node:net";
import { test } from "node:test";
import { Histogram } from "../../bench/lib/histogram.ts";
import { startScript } from "../../bench/lib/servers.ts";
import { runLoad } from "../../bench/load.ts";
import { RawClient } from "../oracle/client.ts";
import { startOurs } from "../oracle/servers.ts";

test("histogram quantiles are within 1/64 of the exact values, max exact, merge adds", () => {
  const h = new Histogram();
  const values: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const v = Math.floor(Math.exp(Math.random() * 22));
    values.push(v);
    h.record(v);
  }
  values.sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const exact = values[Math.ceil(q * values.length) - 1];
    const got = h.quantile(q);
    assert.ok(got >= exact && got <= exact * (1 + 1 / 64) + 1, `q=${q}: ${got} vs ${exact}`);
  }
  assert.equal(h.quantile(1), values[values.length - 1]);
  const merged = Histogram.from(h);
  merged.merge(h);
  assert.equal(merged.total, 2 * h.total);
  assert.equal(merged.quantile(0.5), h.quantile(0.5));
});

test("runLoad: every request answered and timed; seq covers each key once; gets then hit", async () => {
  const s = await startOurs();
  try {
    const keys = 2000;
    const pre = await runLoad({ port: s.port, dist: "seq", keys, ops: keys, getRatio: 0, workers: 2, conns: 3, depth: 7, valueSize: 3000 });
    assert.deepEqual([pre.requests, pre.sets, pre.errors], [keys, keys, 0]);
    assert.equal(s.server.ctx.cache.engine.count(), keys);
    const r = await runLoad({ port: s.port, keys, ops: 5000, getRatio: 0.8, dist: "zipf", workers: 2, conns: 2, depth: 16, valueSize: 3000 });
    assert.equal(r.errors, 0, r.firstError);
    assert.equal(r.requests, 5000);
    assert.equal(r.gets + r.sets, 5000);
    assert.equal(r.hits, r.gets);
    assert.equal(r.latency.total, 5000);
  } finally {
    await s.stop();
  }
});

test("runLoad with missSet sets each key it missed (one at a time, so each key misses once)", async () => {
  const s = await startOurs();
  try {
    const r = await runLoad({ port: s.port, keys: 50, ops: 2000, getRatio: 1, missSet: true, workers: 1, conns: 1, depth: 1 });
    assert.equal(r.errors, 0, r.firstError);
    assert.ok(r.misses >= 1 && r.misses <= 50, `misses ${r.misses}`);
    // The quota may run out right after a miss, before its set.
    assert.ok(r.sets === r.misses || r.sets === r.misses - 1, `sets ${r.sets}, misses ${r.misses}`);
  } finally {
    await s.stop();
  }
});

test("runLoad: onStart runs once the load starts; aborting the signal ends it early, every reply still counted", async () => {
  const s = await startOurs();
  try {
    const stop = new AbortController();
    let started = 0;
    const t0 = performance.now();
    const r = await runLoad(
      { port: s.port, keys: 100, getRatio: 0.5, seconds: 30, workers: 1, conns: 2, depth: 4 },
      {
        signal: stop.signal,
        onStart: () => {
          started++;
          setTimeout(() => stop.abort(), 200);
        },
      },
    );
    assert.equal(started, 1);
    assert.equal(r.errors, 0, r.firstError);
    assert.ok(performance.now() - t0 < 10_000, "the signal did not end the load");
    assert.equal(r.latency.total, r.gets + r.sets);
  } finally {
    await s.stop();
  }
});

test("runLoad with multiget: each get names that many keys; hits and misses count keys", async () => {
  const s = await startOurs();
  try {
    const keys = 200;
    await runLoad({ port: s.port, dist: "seq", keys: keys / 2, ops: keys / 2, getRatio: 0, workers: 1, conns: 2, depth: 4 });
    const r = await runLoad({ port: s.port, keys, ops: 300, getRatio: 1, multiget: 10, workers: 1, conns: 3, depth: 2 });
    assert.equal(r.errors, 0, r.firstError);
    assert.equal(r.gets, 300);
    assert.equal(r.hits + r.misses, 3000);
    // Half the key space exists: about half the keys named hit.
    assert.ok(r.hits > 1000 && r.misses > 1000, `hits ${r.hits}, misses ${r.misses}`);
    assert.equal(s.server.ctx.counters.cmdGet, 3000, "the server saw every key");
  } finally {
    await s.stop();
  }
});

/**
 * A strict stand-in server for the generator's own I/O: answers every get with a 5-byte hit,
 * checks each set's line and data block to the byte (CLIENT_ERROR otherwise), optionally sends
 * each reply a byte per write (so replies reach the generator cut at every point) and may
 * leave its clients unread for `pauseMs` first (so their writes cannot finish at once).
 */
async function strictServer(opts: { bytewise: boolean; pauseMs: number }): Promise<{ port: number; sets: () => number; close: () => Promise<void> }> {
  let sets = 0;
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    let pending = Buffer.alloc(0);
    let out: number[] = [];
    const flushBytewise = (): void => {
      const b = out.shift();
      if (b === undefined || sock.destroyed) return;
      sock.write(Buffer.of(b));
      setImmediate(flushBytewise);
    };
    const send = (reply: string): void => {
      if (!opts.bytewise) {
        sock.write(reply);
        return;
      }
      const idle = out.length === 0;
      out = out.concat([...Buffer.from(reply)]);
      if (idle) setImmediate(flushBytewise);
    };
    const take = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const nl = pending.indexOf("\r\n");
        if (nl < 0) return;
        const line = pending.toString("latin1", 0, nl);
        if (line.startsWith("get ")) {
          for (const key of line.slice(4).split(" ")) send(`VALUE ${key} 0 5\r\nhello\r\n`);
          send("END\r\n");
          pending = pending.subarray(nl + 2);
          continue;
        }
        const m = /^set k\d+ 0 0 (\d+)$/.exec(line);
        if (m === null) {
          send("ERROR\r\n");
          pending = pending.subarray(nl + 2);
          continue;
        }
        const n = Number(m[1]);
        if (pending.length < nl + 2 + n + 2) return;
        const data = pending.subarray(nl + 2, nl + 2 + n + 2);
        const intact = data.subarray(0, n).every((c) => c === 0x78) && data[n] === 0x0d && data[n + 1] === 0x0a;
        sets++;
        send(intact ? "STORED\r\n" : "CLIENT_ERROR bad data chunk\r\n");
        pending = pending.subarray(nl + 2 + n + 2);
      }
    };
    if (opts.pauseMs > 0) {
      sock.pause();
      setTimeout(() => sock.resume(), opts.pauseMs);
    }
    sock.on("data", take);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    sets: () => sets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

test("runLoad reads replies cut at any byte: a server that sends them a byte per write", async () => {
  const s = await strictServer({ bytewise: true, pauseMs: 0 });
  try {
    const r = await runLoad({ port: s.port, keys: 100, ops: 300, getRatio: 0.7, multiget: 3, valueSize: 20, workers: 1, conns: 2, depth: 4 });
    assert.equal(r.errors, 0, r.firstError);
    assert.equal(r.requests, 300);
    assert.equal(r.hits, r.gets * 3);
    assert.equal(r.sets, s.sets());
  } finally {
    await s.close();
  }
});

test("runLoad: requests a write left with the kernel are sent intact while the next ones are written", async () => {
  // 32 requests in flight, half of them sets of 200 KB, are far more than the socket takes
  // while the server does not read. Gets and sets mixed: requests written after a few short
  // gets were answered would overwrite bytes of sets still waiting to be sent.
  const s = await strictServer({ bytewise: false, pauseMs: 300 });
  try {
    const r = await runLoad({ port: s.port, keys: 50, ops: 1000, getRatio: 0.5, valueSize: 200_000, workers: 1, conns: 1, depth: 32 });
    assert.equal(r.errors, 0, r.firstError);
    assert.equal(r.requests, 1000);
    assert.ok(r.sets > 300, `sets ${r.sets}`);
    assert.equal(s.sets(), r.sets);
  } finally {
    await s.close();
  }
});

test("the floor server answers gets and sets as the load generator expects", async () => {
  const floor = await startScript("bench/lib/floor-server.ts", "floor");
  try {
    const r = await runLoad({ port: floor.port, keys: 100, ops: 2000, getRatio: 0.5, workers: 1, conns: 4, depth: 3 });
    assert.equal(r.errors, 0, r.firstError);
    assert.equal(r.requests, 2000);
    assert.equal(r.hits, r.gets);
  } finally {
    await floor.stop();
  }
});

test("the floor server gathers large values from memory and follows set lines and data that span reads", async () => {
  const floor = await startScript("bench/lib/floor-server.ts", "floor", ["--value-size", "30000", "--keys", "50"]);
  try {
    // Five 30 KB sets in flight per connection overrun the 64 KiB read buffer, so data blocks split across reads.
    const r = await runLoad({ port: floor.port, keys: 50, ops: 1200, getRatio: 0.5, workers: 1, conns: 4, depth: 5, valueSize: 30_000 });
    assert.equal(r.errors, 0, r.firstError);
    assert.equal(r.requests, 1200);
    assert.ok(r.sets > 300 && r.gets > 300, `${r.sets} sets, ${r.gets} gets`);
    assert.equal(r.hits, r.gets);
    // Lines, too, cut by the ends of reads (deep pipelines of large sets do that).
    const c = new RawClient(floor.port);
    const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 30));
    await c.send("set k 0 0 5\r");
    await pause();
    await c.send("\nhello\r\nge");
    await pause();
    await c.send("t k\r\n");
    const header = "VALUE k000000000000000 0 30000\r\n";
    const expected = `STORED\r\n${header}${"x".repeat(30_000)}\r\nEND\r\n`;
    await c.waitBytes(expected.length);
    c.close();
    assert.equal(c.take().toString("latin1"), expected);
  } finally {
    await floor.stop();
  }
});

test("bench:churn prints both servers' latencies, our loop stall, the script's own control stall and the warm-up's stall apart", () => {
  const r = spawnSync("node_modules/.bin/node", ["bench/churn.ts", "--sets", "3000", "--warmup-sets", "500", "--keys", "1000", "--memory", "64"], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  const header = lines.find((l) => l.startsWith("server"))?.trim().split(/\s{2,}/) ?? [];
  assert.deepEqual(header.slice(-4), ["loop stall max µs", "loop stall p99 µs", "control stall max µs", "warm-up stall max µs"]);
  const row = (name: string): string[] => lines.find((l) => l.startsWith(`${name} `))?.trim().split(/\s{2,}/) ?? [];
  const ours = row("memcached-ts");
  const theirs = row("memcached");
  assert.equal(ours.length, header.length, r.stdout);
  assert.ok(Number(ours[7]) >= 0 && Number(ours.at(-2)) >= 0 && Number(ours.at(-1)) >= 0, r.stdout);
  // memcached has no loop-stall stats; the control is measured for its run too.
  assert.deepEqual([theirs[7], theirs[8], theirs.at(-1)], ["-", "-", "-"]);
  assert.ok(Number(theirs.at(-2)) >= 0, r.stdout);
  assert.match(r.stdout, /^p99\.9 ours\/memcached: \d/m);
});

test("bench:path times each request kind in process, cold and warm, and side by side with another checkout", () => {
  const r = spawnSync("node_modules/.bin/node", ["bench/request-path.ts", "--keys", "1000", "--requests", "2000", "--rounds", "3", "--against", "."], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  const header = lines.find((l) => l.startsWith("request "))?.trim().split(/\s{2,}/) ?? [];
  assert.deepEqual(header, ["request", "cold ns", "warm ns", "cold ns (2)", "warm ns (2)", "cold ratio 1/2", "warm ratio 1/2"]);
  for (const request of ["get key:N", "get nokey:N", "set key:N 0 0 100", "mg key:N v f"]) {
    const row = lines.find((l) => l.startsWith(`${request}  `))?.trim().split(/\s{2,}/) ?? [];
    assert.equal(row.length, header.length, `${request}: ${r.stdout}`);
    // Times are positive once the timer's own cost is taken off; the same code against itself is near 1.
    for (const ns of row.slice(1, 5)) assert.ok(Number(ns) > 0, `${request}: ${r.stdout}`);
    for (const ratio of row.slice(5)) assert.ok(Number(ratio) > 0.2 && Number(ratio) < 5, `${request}: ${r.stdout}`);
  }
});

test("bench:ab runs each variant beside this checkout and prints the paired CPU ratio with its interval", () => {
  const args = ["bench/ab.ts", "--rounds", "3", "--seconds", "0.3", "--keys", "2000", "--memory", "64", "--against", ".", "--node-flags=--max-semi-space-size=16"];
  const r = spawnSync("node_modules/.bin/node", args, { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  const header = lines.find((l) => l.startsWith("variant "))?.trim().split(/\s{2,}/) ?? [];
  assert.deepEqual(header, ["variant", "ops/s", "CPU µs/req", "CPU ratio to baseline", "about 95% sure within"]);
  const row = (name: string): string[] => lines.find((l) => l.startsWith(`${name} `))?.trim().split(/\s{2,}/) ?? [];
  const base = row("this checkout (baseline)");
  assert.equal(base.length, 3, r.stdout);
  assert.ok(Number(base[1]) > 0 && Number(base[2]) > 0, r.stdout);
  for (const name of ["--against .", "--node-flags --max-semi-space-size=16"]) {
    const [, ops, cpu, ratio, within] = row(name);
    assert.ok(Number(ops) > 0 && Number(cpu) > 0, `${name}: ${r.stdout}`);
    // The same code (or nearly) beside itself: near 1, and inside its own interval.
    assert.ok(Number(ratio) > 0.2 && Number(ratio) < 5, `${name}: ${r.stdout}`);
    const [low, high] = (within ?? "").split("-").map(Number);
    assert.ok(low <= Number(ratio) && Number(ratio) <= high, `${name}: ${r.stdout}`);
  }
});

test("bench:ab refuses to run without a variant, or with a checkout that is not one, in one line", () => {
  for (const [args, message] of [
    [[], /nothing to compare/],
    [["--against", "/nonexistent"], /--against \/nonexistent: no src\/main\.ts there/],
    [["--node-flags", "--x"], /argument is ambiguous.*--help lists the flags/],
  ] as const) {
    const r = spawnSync("node_modules/.bin/node", ["bench/ab.ts", ...args], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 64, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});
