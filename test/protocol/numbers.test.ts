import assert from "node:assert/strict";
import { test } from "node:test";
import { type ParsedNumber, parseF64, parseI32, parseU32, parseU64, writeDecimal } from "../../src/protocol/numbers.ts";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const slot = (): ParsedNumber => ({ ok: false, value: 0 });

test("parseU64 follows safe_strtoull", () => {
  assert.equal(parseU64(b("0"), 0, 1), 0n);
  assert.equal(parseU64(b("18446744073709551615"), 0, 20), 18446744073709551615n);
  assert.equal(parseU64(b("18446744073709551616"), 0, 20), -1n, "ERANGE");
  assert.equal(parseU64(b("-1"), 0, 2), -1n, "negative refused");
  assert.equal(parseU64(b("-0"), 0, 2), 0n);
  assert.equal(parseU64(b("+5"), 0, 2), 5n);
  assert.equal(parseU64(b("12x"), 0, 3), -1n, "trailing garbage");
  assert.equal(parseU64(b("12\t"), 0, 3), 12n, "trailing whitespace accepted");
  assert.equal(parseU64(b("\t7"), 0, 2), 7n, "leading whitespace accepted");
  assert.equal(parseU64(b(""), 0, 0), -1n);
});

test("parseU32 truncates the 64-bit value like memcached's flags", () => {
  assert.deepEqual(parseU32(b("4294967295"), 0, 10, slot()), { ok: true, value: 4294967295 });
  assert.deepEqual(parseU32(b("4294967296"), 0, 10, slot()), { ok: true, value: 0 });
  assert.equal(parseU32(b("-1"), 0, 2, slot()).ok, false);
  assert.equal(parseU32(b("abc"), 0, 3, slot()).ok, false);
});

test("parseI32 accepts signs and rejects out-of-range longs", () => {
  assert.deepEqual(parseI32(b("-1"), 0, 2, slot()), { ok: true, value: -1 });
  assert.deepEqual(parseI32(b("123"), 0, 3, slot()), { ok: true, value: 123 });
  assert.equal(parseI32(b("99999999999999999999"), 0, 20, slot()).ok, false);
  assert.equal(parseI32(b("1.5"), 0, 3, slot()).ok, false);
});

test("writeDecimal writes digits in place", () => {
  const buf = Buffer.alloc(20);
  for (const v of [0, 7, 10, 99, 4294967295, 2 ** 53 - 1]) {
    const end = writeDecimal(buf, 0, v);
    assert.equal(buf.toString("latin1", 0, end), String(v));
  }
});

test("parseF64 follows safe_strtod: the whole token must be a number", () => {
  const f = (s: string): number => parseF64(Buffer.from(s, "latin1"), 0, s.length);
  assert.equal(f("0.5"), 0.5);
  assert.equal(f("2"), 2);
  assert.equal(f("-1.5e2"), -150);
  assert.equal(f(".25"), 0.25);
  assert.equal(f("inf"), Infinity);
  assert.ok(Number.isNaN(f("")));
  assert.ok(Number.isNaN(f("x")));
  assert.ok(Number.isNaN(f("1x")));
  assert.ok(Number.isNaN(f("1e999")), "out of range, as strtod's ERANGE");
});
