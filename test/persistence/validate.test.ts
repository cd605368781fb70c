import assert from "node:assert/strict";
import { test } from "node:test";
import { writeU32 } from "../../src/persistence/format.ts";
import { MAX_KEY_BYTES, validatePayload } from "../../src/persistence/validate.ts";
import { attr, baseBegin, baseEnd, del, flush, item } from "./records.ts";

const longKey = "k".repeat(MAX_KEY_BYTES);

function withByte(p: Buffer, at: number, v: number): Buffer {
  const b = Buffer.from(p);
  b[at] = v;
  return b;
}

test("well-formed records of every type pass where they belong", () => {
  const everywhere = [item({ key: "a", value: "v", exptime: 0xffffffff, time: 0xffffffff, cas: 2 ** 53 - 1 }), item({ key: longKey })];
  for (const p of everywhere) {
    assert.equal(validatePayload(p, "log"), null);
    assert.equal(validatePayload(p, "base"), null);
  }
  for (const p of [del("a"), del(longKey), attr({ key: "a", exptime: 0xffffffff }), flush(0xffffffff, 2 ** 53 - 1)]) {
    assert.equal(validatePayload(p, "log"), null);
  }
  for (const p of [baseBegin({ takenAt: 1, casCounter: 2 ** 53 - 1, oldestLive: 3, oldestCas: 4 }), baseEnd(0)]) {
    assert.equal(validatePayload(p, "base"), null);
  }
});

test("commands are not allowed in a base, base markers not in a log", () => {
  assert.equal(validatePayload(del("a"), "base"), "DELETE record in a base file");
  assert.equal(validatePayload(attr({ key: "a" }), "base"), "ATTR record in a base file");
  assert.equal(validatePayload(flush(1), "base"), "FLUSH record in a base file");
  assert.equal(validatePayload(baseBegin(), "log"), "BASE_BEGIN record in a log file");
  assert.equal(validatePayload(baseEnd(1), "log"), "BASE_END record in a log file");
});

test("unknown types and empty payloads are rejected", () => {
  assert.equal(validatePayload(Buffer.alloc(0), "log"), "empty payload");
  for (const type of [0, 7, 255]) assert.equal(validatePayload(Buffer.from([type, 0, 0, 0]), "log"), `unknown record type ${type}`);
});

test("keyed records: key length 1..250, within the payload, nothing after a DELETE's or ATTR's key", () => {
  const cases: [Buffer, RegExp][] = [
    [item({ key: "abc" }).subarray(0, 24), /ITEM of 24 bytes is shorter than its 24-byte header and a key/],
    [withByte(item({ key: "abc" }), 2, 0), /ITEM key length 0 is outside 1\.\.250/],
    [withByte(item({ key: "abc" }), 2, 251), /ITEM key length 251/],
    [withByte(item({ key: "abc", value: "xy" }), 2, 6), /ITEM key of 6 bytes runs past its 29-byte payload/],
    [withByte(item({ key: "abc" }), 3, 1), /ITEM reserved byte 3 is 1/],
    [del("abc").subarray(0, 4), /DELETE of 4 bytes is shorter/],
    [withByte(del("abc"), 1, 0), /DELETE key length 0/],
    [withByte(del("abc"), 1, 4), /DELETE key of 4 bytes runs past/],
    [withByte(del("abc"), 1, 2), /DELETE of 7 bytes has 1 bytes after its key/],
    [withByte(del("abc"), 2, 1), /DELETE reserved byte 2 is 1/],
    [withByte(attr({ key: "abc" }), 2, 251), /ATTR key length 251/],
    [Buffer.concat([attr({ key: "abc" }), Buffer.from("x")]), /ATTR of 20 bytes has 1 bytes after its key/],
    [withByte(attr({ key: "abc" }), 3, 9), /ATTR reserved byte 3 is 9/],
  ];
  for (const [p, reason] of cases) assert.match(validatePayload(p, "log") ?? "null", reason);
});

test("fixed-size records are exactly their size with zero reserved bytes", () => {
  const cases: [Buffer, "log" | "base", RegExp][] = [
    [flush(1).subarray(0, 15), "log", /FLUSH is 15 bytes, not 16/],
    [Buffer.concat([flush(1), Buffer.alloc(1)]), "log", /FLUSH is 17 bytes, not 16/],
    [withByte(flush(1), 2, 1), "log", /FLUSH reserved byte 2 is 1/],
    [baseBegin().subarray(0, 27), "base", /BASE_BEGIN is 27 bytes, not 28/],
    [withByte(baseBegin(), 1, 1), "base", /BASE_BEGIN reserved byte 1/],
    [Buffer.concat([baseEnd(1), Buffer.alloc(4)]), "base", /BASE_END is 16 bytes, not 12/],
  ];
  for (const [p, kind, reason] of cases) assert.match(validatePayload(p, kind) ?? "null", reason);
});

test("a u64 of 2^53 or more is damage: readU64 could not read it exactly", () => {
  const big = (p: Buffer, at: number): Buffer => {
    const b = Buffer.from(p);
    writeU32(b, at + 4, 0x20_0000);
    return b;
  };
  assert.match(validatePayload(big(item({ key: "a" }), 16), "log") ?? "null", /u64 at 16 is 2\^53 or more/);
  assert.match(validatePayload(big(attr({ key: "a" }), 8), "log") ?? "null", /u64 at 8/);
  assert.match(validatePayload(big(flush(1), 8), "log") ?? "null", /u64 at 8/);
  assert.match(validatePayload(big(baseBegin(), 8), "base") ?? "null", /u64 at 8/);
  assert.match(validatePayload(big(baseBegin(), 20), "base") ?? "null", /u64 at 20/);
  assert.match(validatePayload(big(baseEnd(0), 4), "base") ?? "null", /u64 at 4/);
});
