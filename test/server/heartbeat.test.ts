import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { Heartbeat } from "../../src/server/heartbeat.ts";
import { RawClient } from "../oracle/client.ts";
import { freePort, waitConnectable } from "../oracle/servers.ts";

const PACE = { activeMs: 2, idleMs: 200, quietTicks: 5 };

/** A heartbeat whose work reports `busy`, recording its ticks and its pace changes. */
function watched(busy: () => boolean) {
  const log: string[] = [];
  let ticks = 0;
  const beat = new Heartbeat(
    () => {
      ticks++;
      return busy();
    },
    () => log.push("sleep"),
    () => log.push("wake"),
    PACE,
  );
  return { beat, log, ticks: () => ticks };
}

test("the heartbeat slows down after quiet ticks, and the first read wakes it at once", async () => {
  const { beat, log, ticks } = watched(() => false);
  try {
    await sleep(150);
    assert.equal(beat.resting, true);
    assert.deepEqual(log, ["sleep"]);
    // At the idle pace (200 ms) hardly a tick comes in 150 ms; at 2 ms dozens would.
    const before = ticks();
    await sleep(150);
    assert.ok(ticks() - before <= 1, `${ticks() - before} ticks while resting`);
    beat.heard();
    // The wake runs before heard() returns: the read's commands see a fresh clock.
    assert.deepEqual(log, ["sleep", "wake"]);
    assert.equal(beat.resting, false);
    const woke = ticks();
    await sleep(40);
    assert.ok(ticks() - woke >= 5, `${ticks() - woke} ticks after waking`);
  } finally {
    beat.stop();
  }
});

test("reads and background work keep the heartbeat at its active pace; work found while resting wakes it", async () => {
  let busy = false;
  const { beat, log } = watched(() => busy);
  try {
    // A read every few ticks: never five quiet ticks in a row.
    for (let i = 0; i < 30; i++) {
      beat.heard();
      await sleep(3);
    }
    assert.equal(beat.resting, false);
    busy = true;
    await sleep(60);
    assert.equal(beat.resting, false);
    busy = false;
    await sleep(150);
    assert.equal(beat.resting, true);
    // A scheduled crawl, say, found on an idle tick.
    busy = true;
    await sleep(300);
    assert.equal(beat.resting, false);
    assert.deepEqual(log, ["sleep", "wake"]);
  } finally {
    beat.stop();
  }
});

test("an idle server wakes about once a second, and answers with a fresh clock and no rest counted as a stall after", async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1"], { stdio: "ignore" });
  try {
    await waitConnectable(port, Date.now() + 20_000);
    const c = new RawClient(port);
    await c.send("version\r\n");
    await c.waitBytes(8, 5000);
    c.take();
    // One second of quiet puts it to rest; then count the main thread's sleeps for two seconds.
    await sleep(1500);
    const switches = (): number => Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, "latin1"))?.[1]);
    const before = switches();
    await sleep(2000);
    const wakeups = switches() - before;
    // Before: a 10 ms maintenance tick and a 1 ms loop-delay timer, ~900 wakeups a second.
    assert.ok(wakeups <= 20, `${wakeups} wakeups in 2 s of idleness`);
    // An item that expires while the server rests is gone at the next request, as memcached's.
    await c.send("set k 0 1 1\r\nv\r\n");
    await c.waitBytes(8, 5000);
    assert.equal(c.take().toString("latin1"), "STORED\r\n");
    await sleep(2200);
    await c.send("get k\r\nstats\r\nstats memcached_ts\r\n");
    await c.settle(100, 5000);
    const reply = c.take().toString("latin1");
    assert.ok(reply.startsWith("END\r\nSTAT pid "), reply.slice(0, 100));
    const time = Number(/STAT time (\d+)/.exec(reply)?.[1]);
    assert.ok(Math.abs(time - Date.now() / 1000) < 1.1, `STAT time ${time}, now ${Date.now() / 1000}`);
    // Rests of over a second are no stall: loop-delay sampling starts afresh after each.
    const worst = Number(/STAT event_loop_delay_max_us (\d+)/.exec(reply)?.[1]);
    assert.ok(worst >= 0 && worst < 500_000, `event_loop_delay_max_us ${worst}`);
    c.close();
  } finally {
    child.kill("SIGKILL");
  }
});

test("a stopped heartbeat stays stopped, even when a read comes after", async () => {
  const { beat, ticks } = watched(() => false);
  await sleep(150);
  assert.equal(beat.resting, true);
  beat.stop();
  beat.heard();
  const before = ticks();
  await sleep(50);
  assert.equal(ticks(), before);
});
