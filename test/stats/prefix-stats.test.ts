import assert from "node:assert/strict";
import { test } from "node:test";
import { PrefixStats } from "../../src/stats/prefix-stats.ts";
import { murmur3 } from "../../src/store/hash.ts";

const bytes = (s: string) => Buffer.from(s, "latin1");

test("murmur3 is MurmurHash3_x86_32, its 32 bits as a signed int32", () => {
  const h = (s: string) => murmur3(bytes(s), 0, s.length, 0);
  assert.equal(h(""), 0);
  // Published vectors with the top bit set: they come back negative, never as a uint32.
  assert.equal(h("abc"), 0xb3dd93fa | 0);
  assert.equal(murmur3(bytes(""), 0, 0, 0xffffffff), 0x81f16f39 | 0);
  assert.equal(h("hello"), 0x248bfa47);
  assert.equal(h("The quick brown fox jumps over the lazy dog"), 0x2e4ff723);
  const framed = bytes("xxhelloyy");
  assert.equal(murmur3(framed, 2, 7, 0), 0x248bfa47);
});

test("prefix stats count by the text before the first ':' and ignore keys without one", () => {
  const p = new PrefixStats();
  const get = (k: string, hit: boolean) => p.recordGet(bytes(k), 0, k.length, hit);
  get("user:1", true);
  get("user:2", false);
  get("plain", true);
  p.recordSet(bytes("user:3"), 0, 6);
  p.recordDelete(bytes(":x"), 0, 2);
  assert.equal(p.dump().split("\r\n").sort().join("|"), "|END|PREFIX  get 0 hit 0 set 0 del 1|PREFIX user get 2 hit 1 set 1 del 0");
  p.clear();
  assert.equal(p.dump(), "END\r\n");
});
