import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { StoreMode } from "../../src/store/cache.ts";
import { checkIntegrity } from "../../src/store/integrity.ts";
import { storeValue, testStore } from "./fixture.ts";

// A reply's write that the kernel did not take at once keeps reading the item memory it was
// lent (Engine.hold). Random stores, deletes, incrs, flushes and page moves run while such
// writes are in flight: the bytes they read never change, and the store stays sound. As in
// the server, values are lent by a get and held when the read's replies are written, and
// in between only deletes and flushes can happen: anything that may overwrite item memory
// first makes the replies copy what they were lent (LentItems.reclaim), so nothing is held.

type Op =
  | { op: "store"; key: number; size: number; fill: number }
  | { op: "number"; key: number; digits: number }
  | { op: "lend" | "delete" | "incr"; key: number }
  | { op: "write" }
  | { op: "unhold"; which: number }
  | { op: "flush" }
  | { op: "reassign"; src: number; dst: number }
  | { op: "tick"; times: number };

const KEYS = 8;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.record({
      op: fc.constant("store" as const),
      key: fc.nat(KEYS - 1),
      // Small and large classes, and chunked values (past slab_chunk_max, 512 KiB).
      size: fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 8000, max: 70_000 }), fc.integer({ min: 520_000, max: 900_000 })),
      fill: fc.integer({ min: 0x61, max: 0x7a }),
    }),
  },
  { weight: 10, arbitrary: fc.record({ op: fc.constant("number" as const), key: fc.nat(KEYS - 1), digits: fc.integer({ min: 1, max: 12_000 }) }) },
  { weight: 30, arbitrary: fc.record({ op: fc.constantFrom("lend" as const, "delete" as const, "incr" as const), key: fc.nat(KEYS - 1) }) },
  { weight: 15, arbitrary: fc.constant({ op: "write" as const }) },
  { weight: 15, arbitrary: fc.record({ op: fc.constant("unhold" as const), which: fc.nat(100) }) },
  { weight: 2, arbitrary: fc.constant({ op: "flush" as const }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant("reassign" as const), src: fc.integer({ min: 1, max: 42 }), dst: fc.integer({ min: 0, max: 42 }) }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant("tick" as const), times: fc.integer({ min: 1, max: 20 }) }) },
);

interface Held {
  parts: Uint8Array[];
  copies: Buffer[];
}

test("model: memory held by writes in flight keeps its bytes through stores, deletes, incrs, flushes and page moves", () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 20, maxLength: 120 }), (ops) => {
      const { cache, engine, clock } = testStore({ limitBytes: 6 * 1024 * 1024 });
      const held: Held[] = [];
      /** Lent by gets of the current read, not written yet. */
      let lent: Held[] = [];
      const key = (k: number): Buffer => Buffer.from(`key:${k}`);
      for (const op of ops) {
        // Only deletes and flushes leave lent values in place; see the top of the file.
        if (op.op !== "lend" && op.op !== "delete" && op.op !== "flush" && op.op !== "write") lent = [];
        switch (op.op) {
          case "store":
            storeValue(cache, `key:${op.key}`, Buffer.alloc(op.size, op.fill));
            break;
          case "number":
            storeValue(cache, `key:${op.key}`, Buffer.from("9".padEnd(op.digits, " ")));
            break;
          case "lend": {
            const h = cache.get(key(op.key), 0, key(op.key).length, false, 0);
            if (h < 0) break;
            // As a reply lends a value: piece by piece, each a view of item memory.
            const parts: Uint8Array[] = [];
            engine.readValue(h, { bytes: (src, start, end) => parts.push(src.subarray(start, end)) });
            lent.push({ parts, copies: parts.map((p) => Buffer.from(p)) });
            break;
          }
          case "write":
            for (const w of lent) for (const p of w.parts) assert.ok(engine.hold(p));
            held.push(...lent);
            lent = [];
            break;
          case "unhold": {
            if (held.length === 0) break;
            const [w] = held.splice(op.which % held.length, 1);
            for (const p of w.parts) engine.unhold(p);
            break;
          }
          case "delete":
            cache.delete(key(op.key), 0, key(op.key).length);
            break;
          case "incr":
            cache.arith(key(op.key), 0, key(op.key).length, true, 1n, 0);
            break;
          case "flush":
            cache.flushAll(0);
            break;
          case "reassign":
            engine.reassign(op.src, op.dst);
            break;
          case "tick":
            for (let t = 0; t < op.times; t++) engine.maintain(clock.now());
            break;
        }
        for (const w of [...held, ...lent]) w.parts.forEach((p, i) => assert.ok(w.copies[i].equals(p), "lent or held bytes changed"));
        assert.deepEqual(checkIntegrity(engine), []);
      }
      for (const w of held) for (const p of w.parts) engine.unhold(p);
      assert.equal(engine.heldChunks, 0);
      for (let t = 0; t < 100 && engine.drainingPage !== 0; t++) engine.maintain(clock.now());
      assert.deepEqual(checkIntegrity(engine), []);
      // Everything given back is usable: the cache fills up again.
      for (let i = 0; i < 200; i++) assert.ok(storeValue(cache, `fill:${i}`, Buffer.alloc(20_000, 0x41), 0, StoreMode.set) > 0);
      assert.deepEqual(checkIntegrity(engine), []);
    }),
    {
      numRuns: 80,
      examples: [
        // Lent, deleted (its chunk back on the free list), then written: held off the free list.
        [[{ op: "store", key: 0, size: 100, fill: 0x61 }, { op: "lend", key: 0 }, { op: "delete", key: 0 }, { op: "write" }, { op: "store", key: 1, size: 100, fill: 0x62 }, { op: "store", key: 2, size: 100, fill: 0x63 }]],
        // A held number is incremented: not in place.
        [[{ op: "number", key: 3, digits: 9000 }, { op: "lend", key: 3 }, { op: "write" }, { op: "incr", key: 3 }, { op: "incr", key: 3 }]],
      ],
    },
  );
});
