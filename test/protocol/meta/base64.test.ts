import assert from "node:assert/strict";
import { test } from "node:test";
import { base64Decode, base64Encode, base64EncodedLength } from "../../../src/protocol/meta/base64.ts";

const enc = (bytes: Uint8Array): string => {
  const out = new Uint8Array(base64EncodedLength(bytes.length));
  return Buffer.from(out.subarray(0, base64Encode(bytes, 0, bytes.length, out, 0))).toString("latin1");
};
const dec = (s: string): number[] | null => {
  const src = Buffer.from(s, "latin1");
  const out = new Uint8Array(src.length);
  const n = base64Decode(src, 0, src.length, out, 0);
  return n === 0 ? null : [...out.subarray(0, n)];
};

test("encode matches Node's base64 for every length and byte", () => {
  for (let len = 0; len < 40; len++) {
    const bytes = new Uint8Array(len).map((_, i) => (i * 97 + len * 31) & 0xff);
    assert.equal(enc(bytes), Buffer.from(bytes).toString("base64"));
  }
});

test("decode round-trips canonical input", () => {
  for (let len = 1; len < 40; len++) {
    const bytes = Buffer.from(new Uint8Array(len).map((_, i) => (i * 53 + 7) & 0xff));
    assert.deepEqual(dec(bytes.toString("base64")), [...bytes]);
  }
});

test("decode follows memcached's quirks", () => {
  // Groups of four significant characters are required: no unpadded tails.
  assert.equal(dec("YQ"), null);
  assert.equal(dec("Zm9"), null);
  // Bytes outside the alphabet are skipped.
  assert.deepEqual(dec("Zm!9v"), [...Buffer.from("foo")]);
  assert.deepEqual(dec("Z m9v"), [...Buffer.from("foo")]);
  assert.equal(dec("!!!!"), null);
  assert.equal(dec(""), null);
  // Decoding stops after the first padded group.
  assert.deepEqual(dec("YQ==YWJj"), [0x61]);
  // Three pad characters are invalid.
  assert.equal(dec("Y==="), null);
  // A pad anywhere in the group counts: one pad drops one output byte, whatever its place.
  assert.deepEqual(dec("YQ=x"), [0x61, 0]);
});

test("decode may write over its own input", () => {
  const buf = Buffer.from("AAEC/w==", "latin1");
  const n = base64Decode(buf, 0, buf.length, buf, 0);
  assert.deepEqual([...buf.subarray(0, n)], [0, 1, 2, 0xff]);
});
