/**
 * Process-level fault tests of persistence (GUIDE section 4): the server runs as a child
 * process so that a crash is a real SIGKILL, files are damaged on disk between runs, and a
 * full disk is a small tmpfs. Every server started here is killed in after() hooks.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { FILE_HEADER_BYTES, FRAME_HEADER_BYTES, ItemField, RecordType, readU32 } from "../../src/persistence/format.ts";
import { startOurs } from "../oracle/servers.ts";
import { runWriters, verifyWriters } from "./load.ts";
import { Client, digest, killAllChildren, persistenceStats, runCheck, runRefused, sleep, startServer } from "./proc.ts";

const dirs: string[] = [];
const mounts: string[] = [];
after(async () => {
  await killAllChildren();
  for (const m of mounts) spawnSync("umount", ["-l", m]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `mcts-fault-${name}-`));
  dirs.push(d);
  return d;
}

/** The frames of a log file: [start, end) of each, after the 16-byte header. */
function frames(file: Buffer): { start: number; end: number; payload: Buffer }[] {
  const out: { start: number; end: number; payload: Buffer }[] = [];
  for (let pos = FILE_HEADER_BYTES; pos + FRAME_HEADER_BYTES <= file.length; ) {
    const len = readU32(file, pos);
    const end = pos + FRAME_HEADER_BYTES + len;
    if (end > file.length) break;
    out.push({ start: pos, end, payload: file.subarray(pos + FRAME_HEADER_BYTES, end) });
    pos = end;
  }
  return out;
}

/** The log files the manifest names, in order. */
function manifestLogs(dir: string): string[] {
  return readFileSync(join(dir, "manifest"), "latin1")
    .split("\n")
    .filter((l) => l.startsWith("log "))
    .map((l) => l.slice(4));
}

// ---- 1, 2: kill -9 under write load ----

const WRITERS = 8;
const LOAD_MS = 2000;

test("kill -9 under 8 writers, --sync always: every acknowledged set and incr survives", { timeout: 30000 }, async (t) => {
  const dir = tempDir("kill-always");
  const s = await startServer(["--aof", dir, "--sync", "always"]);
  let killAt = 0;
  const records = await runWriters(
    s.port,
    WRITERS,
    sleep(LOAD_MS).then(async () => {
      killAt = Date.now();
      await s.kill9();
    }),
  );
  const again = await startServer(["--aof", dir, "--sync", "always"]);
  const v = await verifyWriters(again.port, records, Infinity, killAt);
  await again.kill9();
  t.diagnostic(`${v.acknowledged} acknowledged writes checked`);
  assert.ok(v.acknowledged > 8 * 20, `the load ran (${v.acknowledged} acknowledged writes)`);
  assert.deepEqual(v.errors, []);
  assert.equal(v.lostSets + v.lostIncrs, 0);
});

test("kill -9 under 8 writers, --sync everysec: everything acknowledged 2 s before the kill survives", { timeout: 30000 }, async (t) => {
  const dir = tempDir("kill-everysec");
  const s = await startServer(["--aof", dir, "--sync", "everysec"]);
  let killAt = 0;
  const records = await runWriters(
    s.port,
    WRITERS,
    // Longer than 2 s, so that some writes fall before the window that may be lost.
    sleep(LOAD_MS + 800).then(async () => {
      killAt = Date.now();
      await s.kill9();
    }),
  );
  const again = await startServer(["--aof", dir, "--sync", "everysec"]);
  const v = await verifyWriters(again.port, records, killAt - 2000, killAt);
  await again.kill9();
  // SIGKILL takes the process, not the page cache: under everysec only what was encoded but
  // not yet handed to write(2) can be lost, i.e. the replies of the last event-loop turn.
  const lost = `${v.lostSets} sets and ${v.lostIncrs} incrs of ${v.acknowledged} acknowledged writes lost; oldest lost acknowledged ${v.oldestLostMs} ms before the kill`;
  t.diagnostic(lost);
  assert.ok(v.acknowledged > 8 * 20, `the load ran (${v.acknowledged} acknowledged writes)`);
  assert.deepEqual(v.errors, [], lost);
  assert.ok(v.oldestLostMs <= 2000, lost);
});

test("kill -9 during compactions under 8 writers, --sync always, twice: every acknowledged write survives", { timeout: 40000 }, async (t) => {
  const dir = tempDir("kill-compact");
  const args = ["--aof", dir, "--sync", "always", "--compact-min-size", "1m", "--compact-ratio", "0.5"];
  const notes: string[] = [];
  for (let round = 0; round < 2; round++) {
    const s = await startServer(args);
    const admin = await Client.open(s.port);
    let killAt = 0;
    let snapshots = "";
    let stopped = false;
    // A compaction asked for every 50 ms: the kill lands in one, at whatever step it is.
    const snapshotter = (async (): Promise<void> => {
      while (!stopped) {
        await admin.request("snapshot\r\n").catch(() => "");
        await sleep(50);
      }
    })();
    const records = await runWriters(
      s.port,
      WRITERS,
      sleep(1200 + round * 150).then(async () => {
        const st = await persistenceStats(admin);
        snapshots = `${st.get("snapshots")} done, in progress ${st.get("snapshot_in_progress")}`;
        killAt = Date.now();
        stopped = true;
        await s.kill9();
      }),
      `r${round}-`,
    );
    await snapshotter;
    admin.close();
    const again = await startServer(args);
    const v = await verifyWriters(again.port, records, Infinity, killAt);
    await again.kill9();
    notes.push(`round ${round}: ${v.acknowledged} acknowledged, snapshots ${snapshots}`);
    // Compactions every 50 ms on a busy 2-core machine can slow the load to a few hundred writes.
    assert.ok(v.acknowledged > 8 * 5, `round ${round}: the load ran (${v.acknowledged} acknowledged writes)`);
    assert.deepEqual(v.errors, [], `round ${round}`);
  }
  t.diagnostic(notes.join("; "));
  const check = runCheck(dir);
  assert.equal(check.status, 0, check.out);
});

// ---- 3: replay is idempotent ----

test("two restarts in a row (after kill -9) load the same store as before the crash", { timeout: 30000 }, async () => {
  const dir = tempDir("twice");
  const args = ["--aof", dir, "--sync", "always"];
  const s = await startServer(args);
  const c = await Client.open(s.port);
  // Every kind of record: items, deletes, attrs (touch, gat), flush, incr/append states.
  const script = [
    "set a 1 0 3\r\naaa\r\n",
    "set b 2 1000 3\r\nbbb\r\n",
    "set n 0 0 2\r\n10\r\n",
    "incr n 5\r\n",
    "append a 0 0 2\r\nAA\r\n",
    "prepend b 0 0 1\r\n<\r\n",
    "flush_all\r\n",
    "set c 3 0 3\r\nccc\r\n",
    "set d 4 0 3\r\nddd\r\n",
    "set n 0 0 1\r\n7\r\n",
    "incr n 100\r\n",
    "decr n 3\r\n",
    "touch c 2000\r\n",
    "gat 3000 d\r\n",
    "delete d\r\n",
    "set d 5 0 4\r\nDDDD\r\n",
    "cas d 6 0 1 999999\r\nx\r\n",
    "ms e 2 T500 F9\r\nee\r\n",
    "ma n D4\r\n",
    "md c q\r\nmn\r\n", // quiet: the only reply is mn's
  ];
  for (let i = 0; i < 50; i++) script.push(`set k${i} ${i} ${i % 3 === 0 ? 0 : 5000} ${String(i * i).length}\r\n${i * i}\r\n`);
  for (let i = 0; i < 50; i += 7) script.push(`delete k${i}\r\n`);
  for (const line of script) await c.request(line, line.startsWith("gat") ? "values" : "line");
  c.close();
  const before = await digest(s.port);
  await s.kill9();
  const first = await startServer(args);
  const once = await digest(first.port);
  await first.kill9();
  const second = await startServer(args);
  const twice = await digest(second.port);
  await second.kill9();
  assert.ok(before.length > 40, `the store holds the script's keys (${before.length})`);
  assert.deepEqual(once, before, "first restart");
  assert.deepEqual(twice, once, "second restart");
});

// ---- helpers for damaged logs ----

/** A persistence directory holding `log` as its only log, under the manifest of `source`. */
function dirWithLog(source: string, logName: string, log: Buffer, name: string): string {
  const d = tempDir(name);
  copyFileSync(join(source, "manifest"), join(d, "manifest"));
  writeFileSync(join(d, logName), log);
  return d;
}

/** Starts a server on `dir`, reads its digest and recovery stats, kills it. */
async function loadOnce(dir: string, extra: readonly string[] = []): Promise<{ digest: string[]; truncated: number; records: number }> {
  const s = await startServer(["--aof", dir, "--sync", "always", ...extra]);
  try {
    const c = await Client.open(s.port);
    const stats = await persistenceStats(c);
    c.close();
    return { digest: await digest(s.port), truncated: Number(stats.get("recovery_truncated_bytes")), records: Number(stats.get("recovery_records")) };
  } finally {
    await s.kill9();
  }
}

/** As loadOnce, with the server's start-up run inside this process (no Node start to pay). */
async function loadInProcess(dir: string): Promise<{ digest: string[]; truncated: number; records: number }> {
  const s = await startOurs(["--aof", dir, "--sync", "always"]);
  try {
    const c = await Client.open(s.port);
    const stats = await persistenceStats(c);
    c.close();
    return { digest: await digest(s.port), truncated: Number(stats.get("recovery_truncated_bytes")), records: Number(stats.get("recovery_records")) };
  } finally {
    await s.server.close(true);
  }
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: width }, lane));
}

/** A fresh tmpfs of `size`, unmounted in after(). */
function smallDisk(name: string, size: string): string {
  const d = tempDir(name);
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", d], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  mounts.unshift(d);
  return d;
}

test(
  "a zero hole where the last record's first page should be (written back out of order, then power lost): a torn tail, truncated",
  {
    timeout: 30000,
  },
  async () => {
    const source = tempDir("hole-src");
    const s = await startServer(["--aof", source, "--sync", "always"]);
    const c = await Client.open(s.port);
    for (let i = 0; i < 5; i++) assert.equal(await c.set(`k${i}`, "v".repeat(100)), "STORED\r\n");
    assert.equal(await c.set("last", "L".repeat(6000)), "STORED\r\n");
    c.close();
    assert.equal((await s.term()).code, 0);
    const [logName] = manifestLogs(source);
    const log = readFileSync(join(source, logName));
    const last = frames(log).at(-1);
    assert.ok(last !== undefined && last.end === log.length && last.end - last.start > 4096);
    // The last append spans two pages; the first (holding the frame header) never landed.
    const holed = Buffer.from(log);
    holed.fill(0, last.start, 4096);
    const dir = dirWithLog(source, logName, holed, "hole");
    const got = await loadOnce(dir).catch((err: Error) => ({ digest: [err.message.slice(0, 300)], truncated: 0, records: 0 }));
    assert.equal(got.truncated, holed.length - last.start, `starts and truncates the torn append: ${got.digest.join(" ")}`);
    assert.equal(got.digest.length, 5);
  },
);

// The TTL test mostly sleeps through its downtime and the full-disk tests mostly wait on a
// tmpfs: the byte-cut test runs meanwhile.
describe("TTLs, damaged logs, full disks", { concurrency: 2 }, () => {
  // ---- 4: TTLs are absolute ----

  test("TTLs are absolute across a restart: time down counts against them", { timeout: 30000 }, async () => {
    const dir = tempDir("ttl");
    const args = ["--aof", dir, "--sync", "always"];
    const s = await startServer(args);
    const c = await Client.open(s.port);
    const setAt = Date.now();
    assert.equal(await c.set("short", "s", 0, 3), "STORED\r\n");
    assert.equal(await c.set("long", "l", 0, 10), "STORED\r\n");
    assert.match(await c.request("mg long t v\r\n", "meta"), /^VA 1 t(9|10)\r\nl\r\n$/);
    c.close();
    assert.equal((await s.term()).code, 0);
    // A second past the 3 s TTL: the clock has second granularity.
    await sleep(Math.max(0, setAt + 4200 - Date.now()));
    const again = await startServer(args);
    const c2 = await Client.open(again.port);
    const downFor = (Date.now() - setAt) / 1000;
    assert.equal(await c2.request("get short\r\n", "values"), "END\r\n", "the 3 s key expired while the server was down");
    const mg = await c2.request("mg long t v\r\n", "meta");
    c2.close();
    await again.kill9();
    const m = /^VA 1 t(\d+)\r\nl\r\n$/.exec(mg);
    assert.ok(m !== null, `the 10 s key is still there: ${JSON.stringify(mg)}`);
    const left = Number(m[1]);
    assert.ok(left >= 10 - Math.ceil(downFor) - 1 && left <= 10 - Math.floor(downFor) + 1, `${left} s left after ${downFor.toFixed(1)} s`);
    assert.ok(left <= 6, `remaining TTL ${left} s reflects the ${downFor.toFixed(1)} s since the set`);
  });

  // ---- 5: a torn last record, zero padding, a flipped byte in the middle ----

  test("a log damaged on disk: the last record cut at every byte, zero padding, a flipped byte in the middle", { timeout: 60000 }, async (t) => {
    const source = tempDir("damage-src");
    const s = await startServer(["--aof", source, "--sync", "always"]);
    const c = await Client.open(s.port);
    for (let i = 0; i < 30; i++) assert.equal(await c.set(`k${i}`, `value-${i}`, i), "STORED\r\n");
    assert.equal(await c.request("delete k3\r\n"), "DELETED\r\n");
    assert.equal(await c.request("touch k4 3000\r\n"), "TOUCHED\r\n");
    assert.equal(await c.request("incr k5 1\r\n"), "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    // The shortest record there is (1-byte key and value): 33 cut points, one start each.
    assert.equal(await c.set("z", "Z"), "STORED\r\n");
    c.close();
    assert.equal((await s.term()).code, 0);
    const [logName] = manifestLogs(source);
    const log = readFileSync(join(source, logName));
    const fr = frames(log);
    assert.equal(fr.length, 33, "30 sets, a delete, a touch and the last set are 33 records");
    assert.equal(fr.at(-1)?.end, log.length);
    const last = fr[fr.length - 1];
    assert.equal(last.payload[0], RecordType.item);
    assert.equal(last.payload.toString("latin1", ItemField.key, ItemField.key + 1), "z");

    // What every valid prefix holds: without the last record, and with it.
    const without = await loadOnce(dirWithLog(source, logName, log.subarray(0, last.start), "damage-ref"));
    const whole = await loadOnce(dirWithLog(source, logName, log, "damage-whole"));
    assert.equal(without.truncated, 0);
    assert.equal(without.digest.length, 29, "k0..k29 but k3");
    assert.deepEqual(whole.digest.filter((l) => !l.startsWith("z ")), without.digest);
    assert.equal(whole.digest.length, 30);

    // Every cut inside the last frame: starts, keeps every earlier record, reports the cut.
    // Each cut is loaded by the server's own start-up (recovery, listener, stats) run in this
    // process, which costs milliseconds; a child process costs a Node start (~0.5-1 s of CPU,
    // far more on a loaded machine), so only a few cuts, one per kind of tear, go through the
    // real binary: inside the frame header, at the payload's first byte, one byte short.
    const cuts = Array.from({ length: last.end - last.start - 1 }, (_, i) => last.start + 1 + i);
    const throughProcess = new Set([last.start + 3, last.start + FRAME_HEADER_BYTES, last.end - 1]);
    const t0 = Date.now();
    const bad: string[] = [];
    await inParallel(cuts, 3, async (cut) => {
      const dir = dirWithLog(source, logName, log.subarray(0, cut), `cut${cut}`);
      const got = throughProcess.has(cut) ? await loadOnce(dir) : await loadInProcess(dir);
      if (got.truncated !== cut - last.start) bad.push(`cut at ${cut}: recovery_truncated_bytes ${got.truncated}, expected ${cut - last.start}`);
      if (JSON.stringify(got.digest) !== JSON.stringify(without.digest)) bad.push(`cut at ${cut}: store differs: ${got.digest.length} items`);
    });
    t.diagnostic(`${cuts.length} cuts of the last record (offsets ${last.start + 1}..${last.end - 1}; ${throughProcess.size} of them in a child process) in ${Date.now() - t0} ms`);
    assert.deepEqual(bad, []);

    // Zero padding after the last record (a file that grew but whose data never landed).
    const padded = await loadInProcess(dirWithLog(source, logName, Buffer.concat([log, Buffer.alloc(4096)]), "padded"));
    assert.equal(padded.truncated, 4096);
    assert.deepEqual(padded.digest, whole.digest);

    // A flipped byte in a middle record: refused, naming file and offset; repaired on request.
    const victim = fr[15];
    const flipped = Buffer.from(log);
    flipped[victim.end - 1] ^= 0x40;
    const damagedDir = dirWithLog(source, logName, flipped, "flipped");
    const refused = await runRefused(["--aof", damagedDir, "--sync", "always"]);
    assert.equal(refused.exit.code, 65, refused.stderr);
    const lines = refused.stderr.split("\n").filter((l) => l.startsWith("memcached-ts:"));
    assert.equal(lines.length, 1, refused.stderr);
    assert.ok(lines[0].includes(join(damagedDir, logName)) && lines[0].includes(`offset ${victim.start}`), lines[0]);
    assert.equal(readFileSync(join(damagedDir, logName)).length, flipped.length, "a refused start leaves the file alone");
    const before = await loadInProcess(dirWithLog(source, logName, log.subarray(0, victim.start), "before-victim"));
    const fixed = await loadOnce(damagedDir, ["--fix-corrupted"]);
    assert.equal(fixed.truncated, flipped.length - victim.start);
    assert.equal(fixed.records, 15);
    assert.deepEqual(fixed.digest, before.digest);
    assert.equal(fixed.digest.length, 15, "k0..k14");
  });

  // ---- 6: a full disk ----

  for (const sync of ["always", "everysec"] as const) {
    test(`a full disk (--sync ${sync}): writes refused, reads served, writes back once space returns, nothing half written`, { timeout: 40000 }, async (t) => {
      const disk = smallDisk(`full-${sync}`, "2m");
      const filler = join(disk, "filler");
      writeFileSync(filler, Buffer.alloc(1024 * 1024, 1));
      const dir = join(disk, "aof");
      const args = ["--aof", dir, "--sync", sync];
      const s = await startServer(args);
      const acked = new Map<string, string>();
      let c = await Client.open(s.port);
      let firstError = "";
      let i = 0;
      for (; i < 1000 && firstError === ""; i++) {
        const key = `d${i}`;
        const value = `${key}:`.padEnd(8000, String.fromCharCode(97 + (i % 26)));
        const reply = await c.set(key, value).catch((err: Error) => `closed: ${err.message}`);
        if (reply === "STORED\r\n") acked.set(key, value);
        else firstError = reply;
        // everysec: the reply leaves before the write; give the failing write its turn.
        if (sync === "everysec") await sleep(1);
      }
      t.diagnostic(`${acked.size} sets of 8 KB acknowledged before the first refusal: ${firstError.trim().slice(0, 120)}`);
      assert.match(firstError, /^SERVER_ERROR (persistence write failed|writes refused, the log cannot be written): .*ENOSPC/);
      assert.ok(acked.size > 50, "the disk held a few dozen sets before filling up");
      if (sync === "always") {
        // The client whose batch failed cannot match replies to requests any more: it is closed.
        assert.match(firstError, /^SERVER_ERROR persistence write failed: /);
        await sleep(50);
        assert.ok(c.closed, "the connection whose write failed is closed");
      }
      c.close();
      c = await Client.open(s.port);
      // While full: reads answer, writes are refused, and stats say so.
      const some = [...acked.keys()].filter((_, n) => n % 10 === 0);
      const got = await c.gets(some);
      for (const k of some) assert.equal(got.get(k)?.value, acked.get(k), `get ${k} while the disk is full`);
      assert.match(await c.set("while-full", "x"), /^SERVER_ERROR writes refused, the log cannot be written: .*ENOSPC/);
      assert.match(await c.request("delete d0\r\n"), /^SERVER_ERROR writes refused/);
      assert.match(await c.request("incr d1 1\r\n"), /^SERVER_ERROR writes refused|^CLIENT_ERROR/);
      assert.equal((await persistenceStats(c)).get("last_write_status"), "err");
      // Space returns: within a few seconds (one retry a second) writes go through again.
      unlinkSync(filler);
      const freedAt = Date.now();
      let back = "";
      while (Date.now() - freedAt < 5000) {
        back = await c.set("after-full", "back");
        if (back === "STORED\r\n") break;
        await sleep(100);
      }
      assert.equal(back, "STORED\r\n", "writes accepted again within 5 s of freeing space");
      t.diagnostic(`writes accepted again ${Date.now() - freedAt} ms after the space returned`);
      acked.set("after-full", "back");
      assert.equal((await persistenceStats(c)).get("last_write_status"), "ok");
      // everysec gathers a few ms of records into one write: a kill -9 may take the last ones
      // (its promise is "all but the last second or two"), so wait until they are written.
      for (let i = 0; i < 100 && (await persistenceStats(c)).get("log_pending_bytes") !== "0"; i++) await sleep(10);
      c.close();
      await s.kill9();
      const check = runCheck(dir);
      assert.equal(check.status, 0, `memcached-ts check: ${check.out}`);
      assert.doesNotMatch(check.out, /warning/, "no torn record left behind");
      const again = await startServer(args);
      const c2 = await Client.open(again.port);
      const keys = [...acked.keys()];
      const after = await c2.gets(keys);
      c2.close();
      await again.kill9();
      const missing = keys.filter((k) => after.get(k)?.value !== acked.get(k));
      assert.deepEqual(missing, [], "every acknowledged write is there after the restart");
    });
  }

  test("start-up on a full disk: exit 74 with one line naming the directory", { timeout: 20000 }, async () => {
    const disk = smallDisk("full-start", "1m");
    // Fill it to the last block: the new log's header cannot be written.
    writeFileSync(join(disk, "filler"), Buffer.alloc(1024 * 1024 - 4096, 1));
    try {
      for (let i = 0; ; i++) writeFileSync(join(disk, `f${i}`), Buffer.alloc(1024, 1));
    } catch {
      // ENOSPC: full.
    }
    const dir = join(disk, "aof");
    const r = await runRefused(["--aof", dir]);
    assert.equal(r.exit.code, 74, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("memcached-ts:"));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^memcached-ts: persistence directory ${dir}: .*ENOSPC`));
  });

  test("a disk that fills up during compactions (--sync always)", { timeout: 40000 }, async (t) => {
    const disk = smallDisk("full-compact", "2m");
    const filler = join(disk, "filler");
    writeFileSync(filler, Buffer.alloc(1024 * 1024, 1));
    const dir = join(disk, "aof");
    const args = ["--aof", dir, "--sync", "always", "--compact-min-size", "100k", "--compact-ratio", "0.5"];
    const s = await startServer(args);
    let c = await Client.open(s.port);
    const acked = new Map<string, string>();
    // The set without a reply (refused, or cut by the connection closing) may have landed.
    let inFlight: { key: string; value: string } | null = null;
    let refusal = "";
    for (let i = 0; i < 2000 && refusal === ""; i++) {
      const key = `k${i % 150}`;
      const value = `${key}:${i}:`.padEnd(3000, "y");
      const reply = await c.set(key, value).catch((err: Error) => `closed: ${err.message}`);
      if (reply === "STORED\r\n") acked.set(key, value);
      else {
        refusal = reply;
        inFlight = { key, value };
      }
    }
    await sleep(300);
    const alive = s.running;
    const stderr = s.stderr;
    let resumed = "";
    if (alive) {
      if (c.closed) c = await Client.open(s.port);
      unlinkSync(filler);
      for (let i = 0; i < 50 && resumed !== "STORED\r\n"; i++) {
        resumed = await c.set("after", "x");
        if (resumed !== "STORED\r\n") await sleep(100);
      }
    } else unlinkSync(filler);
    c.close();
    await s.kill9();

    await t.test(
      "the server stays up, refuses writes, and takes them again once space returns",
      {
      },
      () => {
        assert.ok(alive, `server died after ${acked.size} acknowledged sets (refusal ${JSON.stringify(refusal.slice(0, 80))}): ${stderr.slice(0, 400)}`);
        assert.equal(resumed, "STORED\r\n");
      },
    );
    await t.test("every acknowledged write is there after a restart, and the directory checks clean", async () => {
      const check = runCheck(dir);
      assert.equal(check.status, 0, check.out);
      const again = await startServer(args);
      const c2 = await Client.open(again.port);
      const got = await c2.gets([...acked.keys()]);
      c2.close();
      await again.kill9();
      assert.ok(acked.size > 100);
      const wrong = [...acked.keys()].filter((k) => got.get(k)?.value !== acked.get(k) && !(k === inFlight?.key && got.get(k)?.value === inFlight.value));
      assert.deepEqual(wrong, []);
    });
  });
});

// ---- 7: no reply before its record is durable (--sync always) ----

// The slow-disk test mostly waits on a sleeping fdatasync: the crash loop runs meanwhile.
describe("crashes right after STORED, and a slow disk under everysec", { concurrency: 2 }, () => {
  test("--sync always: sets acknowledged just before kill -9 are there (12 crashes, two sets racing each)", { timeout: 40000 }, async (t) => {
    // Two lanes of six crashes, each lane on its own directory. In each round two connections
    // set a fresh key at once and the server is killed the moment the first STORED arrives;
    // every STORED that arrived counts, and each restart must hold every key acknowledged so
    // far. (The probe test below is the sharper check: SIGKILL keeps the page cache.)
    const t0 = Date.now();
    let total = 0;
    const lane = async (laneId: number): Promise<void> => {
      const dir = tempDir(`ack-kill-${laneId}`);
      const args = ["--aof", dir, "--sync", "always"];
      const acked: string[] = [];
      for (let round = 0; round < 6; round++) {
        const s = await startServer(args);
        const conns = await Promise.all([Client.open(s.port), Client.open(s.port)]);
        const have = await conns[0].gets(acked);
        assert.deepEqual(acked.filter((k) => have.get(k)?.value !== `v-${k}`), [], `lane ${laneId} round ${round}: keys acknowledged before the last crashes`);
        const keys = [0, 1].map((j) => `lane${laneId}-${round}-${j}`);
        const replies = await Promise.all(
          keys.map((key, j) =>
            conns[j].set(key, `v-${key}`).then(
              (reply) => {
                s.child.kill("SIGKILL");
                return reply;
              },
              () => "closed",
            ),
          ),
        );
        assert.ok(replies.includes("STORED\r\n"), `lane ${laneId} round ${round}: ${JSON.stringify(replies)}`);
        keys.forEach((k, j) => {
          if (replies[j] === "STORED\r\n") acked.push(k);
        });
        await s.exited;
        for (const c of conns) c.close();
      }
      const s = await startServer(args);
      const c = await Client.open(s.port);
      const have = await c.gets(acked);
      c.close();
      await s.kill9();
      assert.deepEqual(acked.filter((k) => have.get(k)?.value !== `v-${k}`), [], `lane ${laneId}: after the last crash`);
      total += acked.length;
    };
    await Promise.all([lane(0), lane(1)]);
    t.diagnostic(`12 crashes right after STORED, ${total} acknowledged sets checked, in ${Date.now() - t0} ms`);
  });

  test("--sync everysec on a slow disk (fdatasync 2.5 s): writers are held back only once the fsync is over 2 s behind", { timeout: 30000 }, async (t) => {
    const probe = buildProbe();
    assert.ok(probe !== null, "a C compiler (cc) is needed to build the fdatasync probe: apt-get install -y gcc");
    const dir = tempDir("behind");
    const probeLog = `${dir}.fdatasync`;
    dirs.push(probeLog);
    const args = ["--aof", dir, "--sync", "everysec"];
    const s = await startServer(args, { ...process.env, LD_PRELOAD: probe, FDATASYNC_LOG: probeLog, FDATASYNC_DELAY_MS: "2500" });
    const c = await Client.open(s.port);
    const t0 = Date.now();
    const latencies: { at: number; ms: number }[] = [];
    const acked: string[] = [];
    for (let i = 0; Date.now() - t0 < 4500; i++) {
      const sent = Date.now();
      assert.equal(await c.set(`e${i}`, `value-${i}`), "STORED\r\n");
      acked.push(`e${i}`);
      latencies.push({ at: sent - t0, ms: Date.now() - sent });
      await sleep(20);
    }
    const stats = await persistenceStats(c);
    c.close();
    await s.kill9();
    const slow = latencies.filter((l) => l.ms > 500);
    t.diagnostic(`${latencies.length} sets; held back: ${slow.map((l) => `${l.ms} ms at +${l.at} ms`).join(", ")}; delayed_fsyncs ${stats.get("delayed_fsyncs")}`);
    // The first fdatasync starts within a second of the first write and stays out 2.5 s: until
    // it is 2 s old (so for at least the first 2.5 s) replies go out at once.
    assert.deepEqual(latencies.filter((l) => l.at < 2500 && l.ms > 500), [], "no set is held while the fsync is less than 2 s behind");
    assert.ok(slow.length > 0, "a set is held once the fsync is more than 2 s behind");
    assert.ok(Number(stats.get("delayed_fsyncs")) > 0);
    const again = await startServer(args);
    const c2 = await Client.open(again.port);
    const got = await c2.gets(acked);
    c2.close();
    await again.kill9();
    assert.equal(got.size, acked.length, "every acknowledged set is there after kill -9 (the page cache survives)");
  });
});

/**
 * SIGKILL keeps what was written to the page cache, so the test above cannot tell a reply
 * sent after write(2) from one sent after fdatasync(2). This one watches fdatasync itself:
 * an LD_PRELOAD probe (fixtures/fdatasync-probe.c) records, before each successful
 * fdatasync returns, the file and the size it had when the call began. When a reply arrives,
 * the record it acknowledges must end within a size already recorded for its log file.
 */
async function repliesBeforeDurable(sync: "always" | "everysec", probe: string): Promise<{ checked: number; early: string[] }> {
  const dir = tempDir(`probe-${sync}`);
  const probeLog = join(dir, "..", `${dir.split("/").at(-1)}.fdatasync`);
  dirs.push(probeLog);
  const s = await startServer(["--aof", dir, "--sync", sync], { ...process.env, LD_PRELOAD: probe, FDATASYNC_LOG: probeLog });
  const c = await Client.open(s.port);
  const early: string[] = [];
  let checked = 0;
  try {
    for (let i = 0; i < 100; i++) {
      const key = `p${i}`;
      // One client, one request at a time: no other write can cause an fdatasync between
      // this reply and the look at the probe's record.
      const reply = await c.set(key, `value-${i}`.repeat(1 + (i % 5)));
      assert.equal(reply, "STORED\r\n");
      const synced = existsSync(probeLog) ? readFileSync(probeLog, "latin1") : "";
      const [logName] = manifestLogs(dir);
      const logPath = join(dir, logName);
      let durable = 0;
      for (const line of synced.split("\n")) {
        const sp = line.lastIndexOf(" ");
        if (line.slice(0, sp) === logPath) durable = Math.max(durable, Number(line.slice(sp + 1)));
      }
      const logBytes = readFileSync(logPath);
      const record = frames(logBytes).findLast((f) => f.payload[0] === RecordType.item && f.payload.toString("latin1", ItemField.key, ItemField.key + f.payload[ItemField.keyLength]) === key);
      checked++;
      // Not even written yet (everysec writes after replying) counts as early too.
      if (record === undefined) early.push(`${key}: its record is not in ${logName} (${logBytes.length} bytes) yet`);
      else if (record.end > durable) early.push(`${key}: its record ends at ${record.end}, fdatasync'ed so far up to ${durable}`);
    }
  } finally {
    c.close();
    await s.kill9();
  }
  return { checked, early };
}

function buildProbe(): string | null {
  const out = join(tempDir("probe"), "fdatasync-probe.so");
  const src = new URL("fixtures/fdatasync-probe.c", import.meta.url).pathname;
  const r = spawnSync("cc", ["-shared", "-fPIC", "-O2", "-o", out, src, "-ldl"], { encoding: "utf8" });
  return r.status === 0 ? out : null;
}

test("--sync always: no reply leaves before fdatasync covered its record (observed with an LD_PRELOAD probe)", { timeout: 30000 }, async (t) => {
  const probe = buildProbe();
  assert.ok(probe !== null, "a C compiler (cc) is needed to build the fdatasync probe: apt-get install -y gcc");
  const always = await repliesBeforeDurable("always", probe);
  assert.equal(always.checked, 100);
  assert.deepEqual(always.early, []);
  // The same observation under everysec must see early replies, or the probe sees nothing.
  const everysec = await repliesBeforeDurable("everysec", probe);
  t.diagnostic(`everysec: ${everysec.early.length} of ${everysec.checked} replies left before their record was fdatasync'ed`);
  assert.ok(everysec.early.length > 0, "the probe can tell: under everysec some replies precede the fdatasync");
});

// ---- 8: compaction under write load, then a graceful stop ----

test("compactions under write load, then SIGTERM mid-compaction: the restart holds exactly the store (keys, values, flags, CAS, TTLs)", { timeout: 40000 }, async (t) => {
  const dir = tempDir("compact");
  const args = ["--aof", dir, "--sync", "everysec", "--compact-min-size", "1m", "--compact-ratio", "0.5"];
  const s = await startServer(args);
  let stopped = false;
  // mulberry32: a seeded generator whose low bits are as random as its high ones.
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) % n;
  };
  const writer = async (id: number): Promise<number> => {
    const c = await Client.open(s.port);
    let ops = 0;
    while (!stopped) {
      const key = `key${rand(1500)}`;
      const r = rand(100);
      let line: string;
      if (r < 70) {
        const len = 100 + rand(3000);
        const value = String.fromCharCode(97 + rand(26)).repeat(len);
        line = `set ${key} ${rand(1000)} ${rand(4) === 0 ? 5000 : 0} ${len}\r\n${value}\r\n`;
      } else if (r < 78) line = `delete ${key}\r\n`;
      else if (r < 85) line = `incr n${id}-${rand(20)} 3\r\n`;
      else if (r < 90) line = `set n${id}-${rand(20)} 0 0 1\r\n5\r\n`;
      else if (r < 95) line = `append ${key} 0 0 3\r\n+++\r\n`;
      else line = `touch ${key} ${1000 + rand(1000)}\r\n`;
      const reply = await c.request(line);
      assert.match(reply, /^(STORED|NOT_STORED|DELETED|NOT_FOUND|TOUCHED|\d+)\r\n$/, line.slice(0, 40));
      ops++;
    }
    c.close();
    return ops;
  };
  const admin = await Client.open(s.port);
  const snapshotReplies: string[] = [];
  const snapshotter = (async (): Promise<void> => {
    while (!stopped) {
      snapshotReplies.push((await admin.request("snapshot\r\n")).trim());
      await sleep(250);
    }
  })();
  const load = Promise.all([0, 1, 2, 3].map(writer));
  await sleep(3000);
  stopped = true;
  const ops = (await load).reduce((a, b) => a + b, 0);
  await snapshotter;
  const stats = await persistenceStats(admin);
  const before = await digest(s.port);
  // One more compaction, still running (most likely) when the SIGTERM arrives.
  assert.match(await admin.request("snapshot\r\n"), /^(OK|BUSY currently writing a snapshot)\r\n$/);
  const inProgress = (await persistenceStats(admin)).get("snapshot_in_progress");
  admin.close();
  const exit = await s.term();
  t.diagnostic(
    `${ops} ops; ${stats.get("snapshots")} snapshots done (${snapshotReplies.filter((r) => r === "OK").length} asked for, ${snapshotReplies.filter((r) => r !== "OK").length} BUSY), ` +
      `${stats.get("snapshots_failed")} failed; ${before.length} items; compaction in progress at SIGTERM: ${inProgress}`,
  );
  assert.equal(exit.code, 0, `graceful stop: ${s.stderr}`);
  assert.equal(stats.get("snapshots_failed"), "0");
  assert.ok(Number(stats.get("snapshots")) >= 3, `compactions ran under load (${stats.get("snapshots")})`);
  assert.ok(before.length > 500, `the store is not trivial (${before.length} items)`);
  const again = await startServer(args);
  const after = await digest(again.port);
  await again.kill9();
  assert.equal(after.length, before.length, "as many items after the restart");
  assert.deepEqual(after, before);
});

test(
  "SIGTERM while the disk is full (--sync everysec): acknowledged writes are not dropped silently",
  {
    timeout: 30000,
  },
  async () => {
    const disk = smallDisk("full-term", "2m");
    const filler = join(disk, "filler");
    writeFileSync(filler, Buffer.alloc(1024 * 1024, 1));
    const args = ["--aof", join(disk, "aof"), "--sync", "everysec"];
    const s = await startServer(args);
    const c = await Client.open(s.port);
    const acked: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const reply = await c.set(`d${i}`, "x".repeat(8000));
      if (reply !== "STORED\r\n") break;
      acked.push(`d${i}`);
      await sleep(1);
    }
    c.close();
    assert.ok(acked.length > 50 && acked.length < 1000, `the disk filled up after ${acked.length} sets`);
    const exit = await s.term();
    unlinkSync(filler);
    const again = await startServer(args);
    const c2 = await Client.open(again.port);
    const got = await c2.gets(acked);
    c2.close();
    await again.kill9();
    const missing = acked.filter((k) => !got.has(k));
    // Either nothing acknowledged is lost, or the stop says so: a failure exit and a message.
    assert.ok(missing.length === 0 || (exit.code !== 0 && s.stderr.length > 0), `exit ${exit.code}, stderr ${JSON.stringify(s.stderr)}, acknowledged but lost: ${missing.join(" ")}`);
  },
);

// ---- a slow disk, made with the probe's FDATASYNC_DELAY_MS ----

test("--sync always on a slow disk (fdatasync 25 ms): group commit, one fdatasync serves many writers", { timeout: 30000 }, async (t) => {
  const probe = buildProbe();
  assert.ok(probe !== null, "a C compiler (cc) is needed to build the fdatasync probe: apt-get install -y gcc");
  const dir = tempDir("group");
  const probeLog = `${dir}.fdatasync`;
  dirs.push(probeLog);
  const s = await startServer(["--aof", dir, "--sync", "always"], { ...process.env, LD_PRELOAD: probe, FDATASYNC_LOG: probeLog, FDATASYNC_DELAY_MS: "25" });
  const records = await runWriters(s.port, WRITERS, sleep(1500));
  const c = await Client.open(s.port);
  const stats = await persistenceStats(c);
  c.close();
  await s.kill9();
  const acked = records.reduce((n, r) => n + r.incrAcks.length + [...r.writes.values()].flat().filter((w) => w.ackedAt !== null).length + 1, 0);
  const fsyncs = Number(stats.get("log_fsyncs"));
  const probed = readFileSync(probeLog, "latin1").split("\n").filter((l) => l.includes("/log.")).length;
  t.diagnostic(`${acked} acknowledged writes, ${fsyncs} log fdatasyncs of 25 ms (probe saw ${probed}): ${(acked / fsyncs).toFixed(1)} writes per fdatasync`);
  assert.ok(fsyncs > 10 && fsyncs <= 1500 / 25 + 5, `fdatasyncs run one at a time (${fsyncs} in 1.5 s)`);
  assert.ok(probed >= fsyncs, `the probe saw every fdatasync (${probed} >= ${fsyncs})`);
  // One writer, one request at a time: a request that arrives while an fdatasync is out waits
  // for the next one, so each spans about two and 8 writers share each by about 4. Without
  // grouping it would be at most 1.
  assert.ok(acked >= 3 * fsyncs, `8 writers share fdatasyncs: ${acked} writes, ${fsyncs} fdatasyncs`);
});
