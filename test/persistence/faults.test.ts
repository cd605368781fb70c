/**
 * Process-level fault tests of persistence (GUIDE section 4): the server runs as a child
 * process so that a crash is a real SIGKILL, files are damaged on disk between runs, and a
 * full disk is a small tmpfs. Every server started here is killed in after() hooks.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FILE_HEADER_BYTES, FRAME_HEADER_BYTES, ItemField, RecordType, readU32 } from "../../src/persistence/format.ts";
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
    sleep(LOAD_MS + 1500).then(async () => {
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
