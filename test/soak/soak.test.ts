import { test } from "node:test";
import { soak } from "./soak.ts";

test("soak: two minutes of mixed load with eviction, expiry, flushes and persistence", { timeout: 300_000 }, async (t) => {
  const r = await soak(120);
  t.diagnostic(`${r.requests} requests, worst RSS ${(r.worstRss / 1048576).toFixed(0)} MB, ${r.items} items, ${r.snapshots} snapshots`);
});
