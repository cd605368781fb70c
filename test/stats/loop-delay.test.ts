import assert from "node:assert/strict";
import { test } from "node:test";
import { RawClient } from "../oracle/client.ts";
import { startOurs } from "../oracle/servers.ts";
import { LoopDelay } from "../../src/stats/loop-delay.ts";

async function stats(c: RawClient, line: string): Promise<string> {
  await c.send(line);
  await c.settle();
  return c.take().toString("latin1");
}

function stat(text: string, name: string): number {
  const m = new RegExp(`^STAT ${name} (\\d+)\\r$`, "m").exec(text);
  assert.ok(m, `${name} missing in:\n${text}`);
  return Number(m[1]);
}

test("stats reports the worst event-loop stall; stats reset clears it", async () => {
  const s = await startOurs();
  const c = new RawClient(s.port);
  try {
    await new Promise((r) => setTimeout(r, 20));
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // block the event loop: a stall the monitor must see
    }
    await new Promise((r) => setTimeout(r, 20));
    const before = await stats(c, "stats memcached_ts\r\n");
    assert.ok(stat(before, "event_loop_delay_max_us") >= 40_000);
    assert.ok(stat(before, "event_loop_delay_p99_us") <= stat(before, "event_loop_delay_max_us"));
    assert.equal(await stats(c, "stats reset\r\n"), "RESET\r\n");
    const after = await stats(c, "stats memcached_ts\r\n");
    assert.ok(stat(after, "event_loop_delay_max_us") < 40_000);
  } finally {
    c.socket.destroy();
    await s.stop();
  }
});

test("a stall before a rest still counts after it; the rest itself is no stall", async () => {
  const d = new LoopDelay();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await sleep(20);
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // block the event loop
    }
    await sleep(20);
    d.stop();
    await sleep(300);
    d.resume();
    await sleep(20);
    const max = Object.fromEntries(d.stats()).event_loop_delay_max_us;
    assert.ok(max >= 40_000 && max < 200_000, `max ${max} µs`);
    d.reset();
    assert.ok(Object.fromEntries(d.stats()).event_loop_delay_max_us < 40_000);
  } finally {
    d.stop();
  }
});
