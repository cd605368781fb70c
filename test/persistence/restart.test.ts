import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { talk } from "../oracle/client.ts";
import { startOurs } from "../oracle/servers.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "mcts-restart-"));
  dirs.push(d);
  return d;
}

const CHANGES =
  "set a 0 0 1\r\n5\r\nset b 3 0 5\r\nhello\r\nincr a 10\r\nappend b 0 0 3\r\nxyz\r\nprepend b 0 0 2\r\n<<\r\n" +
  "set c 0 0 1\r\nq\r\ndelete c\r\nset d 0 0 2\r\ndd\r\ntouch d 1000\r\nset e 0 0 2\r\nee\r\n" +
  "ms f 3 T0 F7\r\nfff\r\nmd e q\r\nma a MI D3\r\nset g 0 -1 1\r\ng\r\nmn\r\n";

for (const sync of ["always", "everysec", "no"]) {
  test(`--sync ${sync}: every kind of change is there after a restart, and again after a second one`, async () => {
    const dir = tempDir();
    const first = await startOurs(["--aof", dir, "--sync", sync]);
    await talk(first.port, CHANGES);
    const before = await talk(first.port, "gets a b c d e f g\r\nmg d t\r\n");
    await first.server.close(true);
    for (let round = 0; round < 2; round++) {
      const again = await startOurs(["--aof", dir, "--sync", sync]);
      const got = await talk(again.port, "gets a b c d e f g\r\nmg d t\r\n");
      await again.server.close(true);
      assert.equal(got.replace(/t\d+\r\n$/, ""), before.replace(/t\d+\r\n$/, ""));
      assert.match(before, /VALUE a 0 2 \d+\r\n18\r\nVALUE b 3 10 \d+\r\n<<helloxyz\r\nVALUE d 0 2 \d+\r\ndd\r\nVALUE f 7 3 \d+\r\nfff\r\nEND\r\nHD t(999|1000)\r\n/);
    }
  });
}

test("flush_all survives a restart: nothing set before it comes back", async () => {
  const dir = tempDir();
  const s = await startOurs(["--aof", dir, "--sync", "always"]);
  await talk(s.port, "set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nflush_all\r\nset c 0 0 1\r\n3\r\n");
  await s.server.close(true);
  const again = await startOurs(["--aof", dir]);
  assert.equal(await talk(again.port, "get a b c\r\n"), "VALUE c 0 1\r\n3\r\nEND\r\n");
  await again.server.close(true);
});

test("CAS ids are never handed out twice across restarts", async () => {
  const dir = tempDir();
  const s = await startOurs(["--aof", dir, "--sync", "everysec"]);
  const first = await talk(s.port, "set a 0 0 1\r\n1\r\ngets a\r\n");
  const cas1 = Number(/VALUE a 0 1 (\d+)/.exec(first)?.[1]);
  await s.server.close(true);
  const again = await startOurs(["--aof", dir, "--sync", "everysec"]);
  const second = await talk(again.port, "set b 0 0 1\r\n1\r\ngets a b\r\n");
  const [, casA, casB] = /VALUE a 0 1 (\d+)\r\n1\r\nVALUE b 0 1 (\d+)/.exec(second) ?? [];
  assert.equal(Number(casA), cas1);
  assert.ok(Number(casB) > cas1 + 1000, `a new CAS id after restart (${casB}) lies well above the old ones (${cas1})`);
  await again.server.close(true);
});

test("snapshot: a new base replaces the logs, and the data loads from it", async () => {
  const dir = tempDir();
  const s = await startOurs(["--aof", dir, "--sync", "always"]);
  let text = "";
  for (let i = 0; i < 500; i++) text += `set k${i} ${i} 0 ${String(i).length}\r\n${i}\r\n`;
  await talk(s.port, text + "delete k7\r\n");
  assert.equal(await talk(s.port, "snapshot\r\n"), "OK\r\n");
  const p = s.server.ctx.persistence;
  assert.ok(p !== null);
  while (p.snapshotRunning) await new Promise((r) => setTimeout(r, 5));
  const stats = await talk(s.port, "stats persistence\r\n");
  assert.match(stats, /STAT snapshots 1\r\n/);
  assert.match(stats, /STAT last_snapshot_items 499\r\n/);
  assert.match(stats, /STAT log_files 1\r\n/);
  await talk(s.port, "set after 0 0 1\r\nx\r\n");
  await s.server.close(true);
  const again = await startOurs(["--aof", dir]);
  assert.equal(await talk(again.port, "get k0 k7 k499 after\r\n"), "VALUE k0 0 1\r\n0\r\nVALUE k499 499 3\r\n499\r\nVALUE after 0 1\r\nx\r\nEND\r\n");
  assert.match(await talk(again.port, "stats persistence\r\n"), /STAT recovery_records 50[0-9]\r\n/);
  await again.server.close(true);
});

test("replay is not traffic: stats after a restart count no sets, items linked or evictions", async () => {
  const dir = tempDir();
  const s = await startOurs(["--aof", dir, "-m", "8"]);
  let text = "";
  for (let i = 0; i < 3000; i++) text += `set k${i} 0 0 4000\r\n${"x".repeat(4000)}\r\n`;
  await talk(s.port, text);
  const before = await talk(s.port, "stats\r\n");
  assert.match(before, /STAT evictions [1-9]\d*\r\n/);
  await s.server.close(true);
  const again = await startOurs(["--aof", dir, "-m", "8"]);
  const stats = await talk(again.port, "stats\r\n");
  assert.match(stats, /STAT cmd_set 0\r\n/);
  assert.match(stats, /STAT total_items 0\r\n/);
  assert.match(stats, /STAT evictions 0\r\n/);
  assert.match(stats, /STAT curr_items [1-9]\d*\r\n/);
  await again.server.close(true);
});

test("--snapshot-on-shutdown leaves a base and an empty log, so the next start replays nothing", async () => {
  const dir = tempDir();
  const s = await startOurs(["--aof", dir, "--snapshot-on-shutdown"]);
  await talk(s.port, "set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\ndelete a\r\n");
  await s.server.close(true);
  const again = await startOurs(["--aof", dir]);
  const stats = await talk(again.port, "stats persistence\r\n");
  // BASE_BEGIN, one item, BASE_END: no log record is replayed.
  assert.match(stats, /STAT recovery_records 3\r\n/);
  assert.match(stats, /STAT log_files 1\r\n/);
  assert.equal(await talk(again.port, "get a b\r\n"), "VALUE b 0 1\r\n2\r\nEND\r\n");
  await again.server.close(true);
});

test("--snapshot-interval writes a snapshot once the interval passed and something changed", async () => {
  const dir = tempDir();
  const s = await startOurs(["--aof", dir, "--snapshot-interval", "1"]);
  await talk(s.port, "set a 0 0 1\r\n1\r\n");
  const p = s.server.ctx.persistence;
  assert.ok(p !== null);
  const deadline = Date.now() + 5000;
  while (p.snapshots.completed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(p.snapshots.completed, 1);
  // Nothing changed since: no second snapshot.
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(p.snapshots.completed, 1);
  await s.server.close(true);
});

test("a log written with CAS, loaded with -C: every CAS is 0, as for any item under -C", async () => {
  const dir = tempDir();
  const first = await startOurs(["--aof", dir]);
  await talk(first.port, "set a 0 0 1\r\nx\r\nset b 0 0 1\r\ny\r\n");
  await first.stop();
  const second = await startOurs(["--aof", dir, "-C"]);
  try {
    assert.equal(await talk(second.port, "gets a b\r\n"), "VALUE a 0 1 0\r\nx\r\nVALUE b 0 1 0\r\ny\r\nEND\r\n");
  } finally {
    await second.stop();
  }
});

/** `stats persistence` of a running server, by name. */
async function persistenceStats(port: number): Promise<Map<string, number>> {
  const text = await talk(port, "stats persistence\r\nstats\r\n");
  return new Map([...text.matchAll(/STAT (\w+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

test("replay that must evict says how many items it evicted; every item it keeps has its last value", async () => {
  const dir = tempDir();
  const s = await startOurs(["--aof", dir, "-m", "8"]);
  // Twice the memory in 1000-byte values, each key written twice: the cache evicts all along,
  // which the log does not record, so replay brings evicted items back and must evict again.
  const value = (k: number, round: number): string => `${round}:${k}:`.padEnd(1000, "v");
  for (let round = 0; round < 2; round++) {
    for (let from = 0; from < 16_000; from += 500) {
      let text = "";
      for (let k = from; k < from + 500; k++) text += `set k${k} 0 0 1000 noreply\r\n${value(k, round)}\r\n`;
      await talk(s.port, text + "mn\r\n", 20);
    }
  }
  assert.ok((await persistenceStats(s.port)).get("evictions")! > 0, "the running cache evicted");
  assert.equal((await persistenceStats(s.port)).get("recovery_evicted"), 0, "an empty directory needed no eviction");
  await s.server.close(true);
  const again = await startOurs(["--aof", dir, "-m", "8"]);
  try {
    const st = await persistenceStats(again.port);
    assert.ok(st.get("recovery_evicted")! > 0, "replay evicted what did not fit");
    assert.ok(st.get("curr_items")! > 0);
    let text = "";
    for (let k = 0; k < 16_000; k++) text += `get k${k}\r\n`;
    const got = await talk(again.port, text, 200);
    const values = [...got.matchAll(/VALUE k(\d+) 0 1000\r\n(.{1000})\r\n/g)];
    assert.equal(values.length, st.get("curr_items"));
    for (const [, k, v] of values) assert.equal(v, value(Number(k), 1), `k${k} holds its last value`);
  } finally {
    await again.server.close(true);
  }
});

test("--sync always: a large value in a reply held for the disk is the value at the time of the get", async () => {
  const dir = tempDir();
  const s = await startOurs(["--aof", dir, "--sync", "always"]);
  const v = (c: string): string => c.repeat(20_000);
  try {
    for (let round = 0; round < 10; round++) {
      await talk(s.port, `set big 0 0 20000\r\n${v("a")}\r\n`);
      // The get's reply waits for the set before it to reach the disk; meanwhile another client
      // replaces the value twice, the second time in the chunk the first value had.
      const key = Buffer.from(`x${round}`);
      const held = talk(s.port, `set x${round} 0 0 1\r\nx\r\nget big\r\n`);
      while (s.server.ctx.cache.lookup(key, 0, key.length, false) < 0) await new Promise((r) => setImmediate(r));
      const other = talk(s.port, `set big 0 0 20000\r\n${v("b")}\r\nset big 0 0 20000\r\n${v("c")}\r\n`);
      const [reply] = await Promise.all([held, other]);
      assert.equal(reply, `STORED\r\nVALUE big 0 20000\r\n${v("a")}\r\nEND\r\n`, `round ${round}`);
    }
  } finally {
    await s.server.close(true);
  }
});
