import assert from "node:assert/strict";
import { test } from "node:test";
import { Arena } from "../../src/store/arena.ts";
import { checkIntegrity } from "../../src/store/integrity.ts";
import { PAGE_SIZE } from "../../src/store/slab-classes.ts";
import { startOurs } from "../oracle/servers.ts";
import { manualFiller, storeValue } from "./fixture.ts";

/** Takes a page and marks it as its owner's, so a later zero fill over it would show. */
function take(a: Arena, cls: number): number {
  const p = a.takePage(cls);
  if (p !== 0) a.u8.fill(0xa5, p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
  return p;
}

test("pages being faulted in ahead are never handed out; skipped ones come back once filled", () => {
  const a = new Arena(12);
  const { fills, filler } = manualFiller();
  a.faultAheadWith(filler);
  // The next two never-used pages are filled first; one fill at a time.
  assert.deepEqual(fills.map((f) => [f.offset / PAGE_SIZE, f.length / PAGE_SIZE]), [[1, 2]]);
  const taken = [take(a, 1)];
  // Page 1 is still being filled: the cursor jumps over the fill instead of waiting.
  assert.equal(taken[0], 3);
  taken.push(take(a, 1));
  assert.equal(taken[1], 4);
  fills[0].finish();
  assert.equal(a.pagesFaultedAhead, 2);
  // The skipped pages are free now; the next fill starts past the cursor.
  taken.push(take(a, 2), take(a, 2));
  assert.deepEqual(taken.slice(2).sort(), [1, 2]);
  assert.deepEqual(fills.slice(1).map((f) => f.offset / PAGE_SIZE), [5]);
  fills[1].finish();
  for (let p = take(a, 3); p !== 0; p = take(a, 3)) {
    taken.push(p);
    fills.at(-1)?.finish();
  }
  // Every page once, each still holding what its owner wrote: no fill ran over a taken page.
  assert.deepEqual([...taken].sort((x, y) => x - y), Array.from({ length: 12 }, (_, i) => i + 1));
  for (const p of taken) assert.ok(a.u8.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE).every((b) => b === 0xa5), `page ${p}`);
});

test("without a filler, pages are handed out in order and nothing is faulted ahead", () => {
  const a = new Arena(3);
  assert.deepEqual([a.takePage(1), a.takePage(1), a.takePage(2), a.takePage(2)], [1, 2, 3, 0]);
  assert.equal(a.pagesFaultedAhead, 0);
});

test("a server faults the memory its cache grows into ahead of use, off the event loop, and its items stay intact", async () => {
  const t = await startOurs(["-m", "64"]);
  try {
    const { cache, engine } = t.server.ctx;
    const value = Buffer.alloc(100_000, 0x61);
    const before = engine.arena.pagesFaultedAhead;
    for (let i = 0; i < 40; i++) {
      assert.ok(storeValue(cache, `k${i}`, value) >= 0);
      // Let the thread pool's fills complete between stores, as the time between requests does.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 2));
    }
    // 40 values of 100 kB take five 1 MiB pages: the fills kept ahead of them, beyond the two at start-up.
    assert.ok(engine.arena.pagesFaultedAhead >= before + 4, `${before} -> ${engine.arena.pagesFaultedAhead} pages faulted ahead`);
    for (let i = 0; i < 40; i++) {
      const h = cache.lookup(Buffer.from(`k${i}`), 0, `k${i}`.length, false);
      assert.ok(h >= 0, `k${i}`);
      const out = { got: [] as number[], bytes(src: Uint8Array, s: number, e: number): void { for (let j = s; j < e; j++) this.got.push(src[j]); } };
      engine.readValue(h, out);
      assert.ok(out.got.length === value.length && out.got.every((b) => b === 0x61), `k${i} value`);
    }
    assert.deepEqual(checkIntegrity(engine), []);
  } finally {
    await t.stop();
  }
});
