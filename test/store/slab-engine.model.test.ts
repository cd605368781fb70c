import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ArithResult, Cache, DeleteResult, StoreMode, StoreResult } from "../../src/store/cache.ts";
import type { ManualClock } from "../../src/store/clock.ts";
import { ALLOC_NO_MEMORY_DATA } from "../../src/store/engine.ts";
import { checkIntegrity } from "../../src/store/integrity.ts";
import { HEADER_BYTES } from "../../src/store/arena.ts";
import { type TestStore, testStore, valueOf } from "./fixture.ts";

interface ModelItem {
  value: Buffer;
  flags: number;
  /** Absolute unix seconds, 0 = never. */
  exptime: number;
}

type Op =
  | { op: "store"; mode: StoreMode; key: number; flags: number; ttl: number; size: number; fill: number }
  | { op: "get" | "delete"; key: number }
  | { op: "touch"; key: number; ttl: number }
  | { op: "arith"; key: number; incr: boolean; delta: number }
  | { op: "flush" }
  | { op: "advance"; seconds: number };

const KEYS = 24;
const keyOf = (k: number): Buffer => Buffer.from(`key:${k}`);

/** `flushWeight`: flush_all's share, of 150 (a flush every ~15 operations at the default). */
function opsArb(keys: number, size: fc.Arbitrary<number>, flushWeight = 10): fc.Arbitrary<Op> {
  const key = fc.nat(keys - 1);
  return fc.oneof(
    {
      weight: 60,
      arbitrary: fc.record({
        op: fc.constant("store" as const),
        mode: fc.constantFrom(StoreMode.set, StoreMode.set, StoreMode.add, StoreMode.replace, StoreMode.append, StoreMode.prepend),
        key,
        flags: fc.constantFrom(0, 1, 0xffffffff),
        ttl: fc.constantFrom(0, 0, 0, 1, 5, 100),
        size: fc.oneof({ weight: 8, arbitrary: size }, { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 700_000 }) }),
        fill: fc.nat(255),
      }),
    },
    { weight: 40, arbitrary: fc.record({ op: fc.constantFrom("get" as const, "delete" as const), key }) },
    { weight: 10, arbitrary: fc.record({ op: fc.constant("touch" as const), key, ttl: fc.constantFrom(0, 2, 50) }) },
    { weight: 20, arbitrary: fc.record({ op: fc.constant("arith" as const), key, incr: fc.boolean(), delta: fc.nat(1000) }) },
    { weight: flushWeight, arbitrary: fc.constant({ op: "flush" as const }) },
    { weight: 10, arbitrary: fc.record({ op: fc.constant("advance" as const), seconds: fc.nat(3) }) },
  );
}

function setup(limitMb: number): TestStore {
  return testStore({ limitBytes: limitMb * 1024 * 1024 });
}

/**
 * Applies one operation to the cache and the model; returns false if the cache showed data
 * the model says cannot exist (with `exact`, also any item the model has that the cache lost).
 */
function apply(cache: Cache, clock: ManualClock, model: Map<number, ModelItem>, op: Op, exact: boolean): void {
  const now = clock.now();
  for (const [k, it] of model) if (it.exptime !== 0 && it.exptime <= now) model.delete(k);
  const key = op.op === "flush" || op.op === "advance" ? Buffer.alloc(0) : keyOf(op.key);
  const m = op.op === "flush" || op.op === "advance" ? undefined : model.get(op.key);
  switch (op.op) {
    case "store": {
      const value = Buffer.alloc(op.size, op.fill);
      const exptime = cache.absoluteExptime(op.ttl);
      const h = cache.beginStore(op.mode, key, 0, key.length, op.flags, exptime, op.size);
      if (h < 0) {
        assert.ok(!exact, `allocation failed (${h}) without eviction pressure`);
        // A failed set drops the old value, unless it failed as memcached does while reading
        // a chunked value (see ALLOC_NO_MEMORY_DATA).
        if (op.mode === StoreMode.set && h !== ALLOC_NO_MEMORY_DATA) model.delete(op.key);
        return;
      }
      cache.engine.writeValue(h, 0, value, 0, value.length);
      const r = cache.commitStore(h, op.mode, 0, false);
      const present = m !== undefined;
      if (op.mode === StoreMode.set || (op.mode === StoreMode.add && !present)) {
        assert.ok(r > 0, "stored");
        model.set(op.key, { value, flags: op.flags, exptime });
      } else if (op.mode === StoreMode.add) {
        // An add over a present item succeeds only if the cache evicted it.
        if (exact) assert.equal(r, StoreResult.notStored);
        if (r > 0) model.set(op.key, { value, flags: op.flags, exptime });
      } else if (!present) {
        assert.ok(r < 0, "replaced or appended to an item the model does not have");
      } else if (op.mode === StoreMode.replace) {
        if (exact) assert.ok(r > 0, "stored");
        if (r > 0) model.set(op.key, { value, flags: op.flags, exptime });
        else model.delete(op.key);
      } else if (overItemLimit(key.length, m.flags, m.value.length + value.length)) {
        assert.ok(r < 0, "a join larger than -I is refused, the old value kept");
      } else {
        if (r > 0) {
          const joined = op.mode === StoreMode.append ? Buffer.concat([m.value, value]) : Buffer.concat([value, m.value]);
          model.set(op.key, { value: joined, flags: m.flags, exptime: m.exptime });
        } else {
          // As in memcached, an append/prepend whose joined item cannot be allocated leaves the
          // old item as it was (a later eviction is the get's business).
          assert.ok(!exact, "append/prepend failed without eviction pressure");
        }
      }
      return;
    }
    case "get": {
      const h = cache.get(key, 0, key.length, false, 0);
      if (h < 0) {
        if (exact) assert.equal(m, undefined, `key ${op.key} missing`);
        model.delete(op.key);
        return;
      }
      assert.ok(m !== undefined, `key ${op.key} present in cache but not in model`);
      assert.deepEqual(valueOf(cache, h), m.value);
      assert.equal(cache.engine.flags(h), m.flags);
      return;
    }
    case "delete": {
      const found = cache.delete(key, 0, key.length) === DeleteResult.deleted;
      if (exact) assert.equal(found, m !== undefined);
      else if (found) assert.ok(m !== undefined);
      model.delete(op.key);
      return;
    }
    case "touch": {
      const exptime = cache.absoluteExptime(op.ttl);
      const found = cache.touch(key, 0, key.length, exptime);
      if (exact) assert.equal(found, m !== undefined);
      if (found && m !== undefined) m.exptime = exptime;
      if (!found) model.delete(op.key);
      return;
    }
    case "arith": {
      const r = cache.arith(key, 0, key.length, op.incr, BigInt(op.delta), 0).code;
      if (r === ArithResult.notFound) {
        if (exact) assert.equal(m, undefined);
        model.delete(op.key);
        return;
      }
      assert.ok(m !== undefined);
      const cur = storedNumber(m.value, key.length);
      if (cur === null) {
        assert.equal(r, ArithResult.nonNumeric);
        return;
      }
      assert.equal(r, ArithResult.ok);
      const next = op.incr ? (cur + BigInt(op.delta)) & 0xffff_ffff_ffff_ffffn : cur < BigInt(op.delta) ? 0n : cur - BigInt(op.delta);
      const digits = next.toString();
      m.value = Buffer.from(digits.length < m.value.length ? digits.padEnd(m.value.length, " ") : digits, "latin1");
      return;
    }
    case "flush":
      cache.flushAll(0);
      model.clear();
      return;
    case "advance":
      clock.advance(op.seconds);
      return;
  }
}

/**
 * Whether memcached refuses an item for its size: its ITEM_ntotal (48-byte header, 8-byte CAS,
 * the key and a NUL, 4 bytes of non-zero flags, the value and CRLF) over -I, 1 MiB here.
 */
function overItemLimit(keyLength: number, flags: number, valueLength: number): boolean {
  return 48 + 8 + keyLength + 1 + (flags === 0 ? 0 : 4) + valueLength + 2 > 1024 * 1024;
}

const U64 = 2n ** 64n;

/**
 * What memcached's incr/decr reads in a value: nothing in an empty or chunked item (one too
 * large for a 512 KiB chunk); otherwise safe_strtoull over the data and its "\r\n": leading
 * space, a sign, digits that fit 64 bits, then space, a NUL or the end. A minus sign wraps the
 * number, which counts only when the result is not negative as a signed 64-bit number.
 */
function storedNumber(value: Buffer, keyLength: number): bigint | null {
  if (value.length === 0 || HEADER_BYTES + keyLength + value.length > 512 * 1024) return null;
  const m = /^[\t\n\v\f\r ]*([+-]?)(\d+)(?:[\t\n\v\f\r \0]|$)/.exec(value.toString("latin1"));
  if (m === null) return null;
  const n = BigInt(m[2]);
  if (n >= U64) return null;
  if (m[1] !== "-") return n;
  const wrapped = (U64 - n) % U64;
  return wrapped >= U64 / 2n ? null : wrapped;
}

/** Stores digits under some keys so incr/decr have numbers to work on. */
function seedNumbers(cache: Cache, model: Map<number, ModelItem>): void {
  for (let k = 0; k < KEYS; k += 3) {
    const key = keyOf(k);
    const value = Buffer.from(String(k * 37));
    const h = cache.beginStore(StoreMode.set, key, 0, key.length, 0, 0, value.length);
    cache.engine.writeValue(h, 0, value, 0, value.length);
    cache.commitStore(h, StoreMode.set, 0, false);
    model.set(k, { value, flags: 0, exptime: 0 });
  }
}

test("model: with room for everything, the cache behaves exactly like a map with expiry", () => {
  fc.assert(
    fc.property(fc.array(opsArb(KEYS, fc.nat(3000)), { minLength: 1, maxLength: 120 }), (ops) => {
      const { cache, engine, clock } = setup(64);
      const model = new Map<number, ModelItem>();
      seedNumbers(cache, model);
      for (const op of ops) {
        apply(cache, clock, model, op, true);
        assert.deepEqual(checkIntegrity(engine), []);
      }
      assert.equal(engine.stats.evictions, 0);
    }),
    { numRuns: 60 },
  );
});

test("model: under eviction pressure the cache may forget but never returns wrong data, and stays within its limit", () => {
  let evictions = 0;
  fc.assert(
    // Values that fill a page in about a dozen, and flushes rare: most runs evict.
    fc.property(fc.array(opsArb(400, fc.integer({ min: 60_000, max: 90_000 }), 1), { minLength: 150, maxLength: 400 }), (ops) => {
      const { cache, engine, clock } = setup(2);
      const model = new Map<number, ModelItem>();
      seedNumbers(cache, model);
      for (const op of ops) {
        apply(cache, clock, model, op, false);
        engine.maintain(clock.now());
        assert.deepEqual(checkIntegrity(engine), []);
      }
      evictions += engine.stats.evictions;
    }),
    { numRuns: 60 },
  );
  assert.ok(evictions > 0, "the runs never put the engine under pressure");
});
