import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { PERSISTED_BITS, StoreMode } from "../../src/store/cache.ts";
import { storeValue, testStore, valueOf, type TestStore } from "../store/fixture.ts";

/** An item's state as a snapshot must record it. */
function stateOf(s: TestStore, h: number): string {
  const e = s.engine;
  const key = Buffer.from(e.keyBuffer(h).subarray(e.keyStart(h), e.keyStart(h) + e.keyLength(h))).toString("latin1");
  return `${key} f=${e.flags(h)} x=${e.exptime(h)} c=${e.cas(h)} b=${e.bits(h) & PERSISTED_BITS} v=${valueOf(s.cache, h).toString("hex")}`;
}

function image(s: TestStore): string[] {
  const all: string[] = [];
  s.engine.forEach((h) => all.push(stateOf(s, h)));
  return all.sort();
}

const op = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), key: fc.integer({ min: 0, max: 300 }), size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 3000, max: 3100 }), fc.integer({ min: 20_000, max: 40_000 })) }),
  fc.record({ kind: fc.constant("number" as const), key: fc.integer({ min: 0, max: 300 }), n: fc.integer({ min: 0, max: 99_999 }) }),
  fc.record({ kind: fc.constant("append" as const), key: fc.integer({ min: 0, max: 300 }), size: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ kind: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant("touch" as const), key: fc.integer({ min: 0, max: 300 }), ttl: fc.integer({ min: 1, max: 1000 }) }),
  fc.record({ kind: fc.constant("incr" as const), key: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant("step" as const), budget: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("move" as const), src: fc.integer({ min: 1, max: 40 }), dst: fc.integer({ min: 0, max: 40 }) }),
);

test("a snapshot is the store as it was when it began, whatever clients do during the walk", () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 50, maxLength: 600, size: "max" }), fc.array(op, { minLength: 20, maxLength: 300, size: "max" }), (before, during) => {
      // A small cache, so sets evict and automove moves pages meanwhile.
      const s = testStore({ limitBytes: 4 * 1024 * 1024, automove: 1 });
      const run = (o: (typeof before)[number]): void => {
        const key = "key" in o ? Buffer.from(`k${o.key}`) : Buffer.alloc(0);
        switch (o.kind) {
          case "set":
            storeValue(s.cache, key.toString(), Buffer.alloc(o.size, 0x61 + (o.key % 26)));
            return;
          case "number":
            storeValue(s.cache, key.toString(), Buffer.from(String(o.n)));
            return;
          case "append":
            storeValue(s.cache, key.toString(), Buffer.alloc(o.size, 0x7a), 0, StoreMode.append);
            return;
          case "delete":
            s.cache.delete(key, 0, key.length);
            return;
          case "touch":
            s.cache.touch(key, 0, key.length, s.cache.absoluteExptime(o.ttl));
            return;
          case "incr":
            s.cache.arith(key, 0, key.length, true, 7n, 0);
            return;
          case "move":
            s.engine.reassign(o.src, o.dst);
            s.engine.maintain(s.clock.now());
            return;
          case "step":
            if (s.engine.snapshotRunning) s.engine.snapshotStep(o.budget);
            return;
        }
      };
      for (const o of before) run(o);
      const atStart = image(s);
      const saved: string[] = [];
      s.engine.beginSnapshot((h) => saved.push(stateOf(s, h)));
      for (const o of during) run(o);
      while (!s.engine.snapshotStep(64));
      assert.deepEqual(saved.sort(), atStart);
      // The next snapshot sees everything again, each item once.
      const second: string[] = [];
      const now = image(s);
      s.engine.beginSnapshot((h) => second.push(stateOf(s, h)));
      while (!s.engine.snapshotStep(1000));
      assert.deepEqual(second.sort(), now);
    }),
    { numRuns: 100 },
  );
});

test("an item a page move carries behind the snapshot walk is still in the image", () => {
  const s = testStore({ limitBytes: 16 * 1024 * 1024, automove: 0 });
  const e = s.engine;
  const value = Buffer.alloc(3000, 0x61);
  const cls = (): number => e.slabClass(e.find(Buffer.from("a0"), 0, 2));
  for (let i = 0; i < 700; i++) storeValue(s.cache, `a${i}`, value);
  const a = cls();
  const firstPage = e.classPages[a][0];
  // Empty the class's first (lowest) page, so the class takes it back later as its newest.
  assert.equal(e.reassign(a, 0), "ok");
  for (let t = 0; t < 10 && e.drainingPage !== 0; t++) e.maintain(s.clock.now());
  for (let i = 700; i < 1400; i++) storeValue(s.cache, `a${i}`, value);
  assert.ok(e.classPages[a].includes(firstPage), "the low page came back to the class");
  assert.notEqual(e.classPages[a][0], firstPage);
  // Free chunks on the low page, where the next move will put items.
  e.forEachInPage(firstPage, (h) => {
    const k = Buffer.from(e.keyBuffer(h).subarray(e.keyStart(h), e.keyStart(h) + e.keyLength(h)));
    s.cache.delete(k, 0, k.length);
  });
  const atStart = image(s);
  const saved: string[] = [];
  e.beginSnapshot((h) => saved.push(stateOf(s, h)));
  // Walk past the low page only, then move the class's oldest (higher) page onto it.
  while (e.snapshotStep(1) === false && saved.length === 0);
  assert.equal(e.reassign(a, 0), "ok");
  for (let t = 0; t < 10 && e.drainingPage !== 0; t++) e.maintain(s.clock.now());
  while (!e.snapshotStep(64));
  assert.deepEqual(saved.sort(), atStart);
});
