import { Counters } from "../../src/stats/counters.ts";
import { Cache, StoreMode } from "../../src/store/cache.ts";
import { ManualClock } from "../../src/store/clock.ts";
import type { PageFiller } from "../../src/store/arena.ts";
import { SlabEngine, type SlabEngineOptions } from "../../src/store/slab-engine.ts";

export interface TestStore {
  cache: Cache;
  engine: SlabEngine;
  clock: ManualClock;
}

/** A Cache over a SlabEngine with memcached's defaults (8 MiB unless overridden) and a manual clock. */
export function testStore(overrides: Partial<SlabEngineOptions> = {}): TestStore {
  const clock = new ManualClock();
  const engine: SlabEngine = new SlabEngine({
    limitBytes: 8 * 1024 * 1024,
    maxItemSize: 1024 * 1024,
    noEvict: false,
    growthFactor: 1.25,
    minChunkSize: 48,
    slabChunkMax: 512 * 1024,
    hotLruPct: 20,
    warmLruPct: 40,
    hotMaxFactor: 0.2,
    warmMaxFactor: 2,
    temporaryTtl: 0,
    isDead: (h) => cache.isDead(h),
    hashSeed: 12345,
    ...overrides,
  });
  const cache = new Cache(engine, clock, new Counters());
  return { cache, engine, clock };
}

/** A classic set through the Cache; the handle-or-error from beginStore, or the store result. */
export function storeValue(cache: Cache, key: string, value: Uint8Array, ttl = 0, mode: StoreMode = StoreMode.set): number {
  const k = Buffer.from(key, "latin1");
  const h = cache.beginStore(mode, k, 0, k.length, 0, cache.absoluteExptime(ttl), value.length);
  if (h < 0) return h;
  cache.engine.writeValue(h, 0, value, 0, value.length);
  return cache.commitStore(h, mode, 0, false);
}

/** The whole value of an item, copied out. */
export function valueOf(cache: Cache, h: number): Buffer {
  const parts: Buffer[] = [];
  cache.engine.readValue(h, { bytes: (src, start, end) => parts.push(Buffer.from(src.subarray(start, end))) });
  return Buffer.concat(parts);
}

export interface Fill {
  offset: number;
  length: number;
  finish: () => void;
}

/** A filler that writes its zeros only when the test says the fill is done, as a slow thread might. */
export function manualFiller(): { fills: Fill[]; filler: PageFiller } {
  const fills: Fill[] = [];
  return {
    fills,
    filler: (memory, offset, length, done) => {
      let finished = false;
      fills.push({
        offset,
        length,
        finish: () => {
          if (finished) return;
          finished = true;
          memory.fill(0, offset, offset + length);
          done();
        },
      });
    },
  };
}
