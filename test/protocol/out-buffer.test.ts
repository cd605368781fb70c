import assert from "node:assert/strict";
import { test } from "node:test";
import { OutBuffer } from "../../src/protocol/out-buffer.ts";

/** An OutBuffer whose connection takes `take(total)` bytes of each gathered write; records every write. */
function harness(take: (total: number) => number): { out: OutBuffer; gathered: Uint8Array[][]; written: Buffer[]; sent: () => string } {
  const out = new OutBuffer(64);
  const gathered: Uint8Array[][] = [];
  const written: Buffer[] = [];
  let wire = "";
  out.trySyncWritev = (chunks) => {
    gathered.push(chunks);
    const all = Buffer.concat(chunks);
    const n = take(all.length);
    if (n > 0) wire += all.subarray(0, n).toString("latin1");
    return n;
  };
  const write = (chunk: Buffer): boolean => {
    written.push(Buffer.from(chunk));
    wire += chunk.toString("latin1");
    return true;
  };
  return { out, gathered, written, sent: () => (out.flush(write), wire) };
}

const item = Buffer.from("....the value bytes....");

test("a referenced value goes out from its own memory, between what was gathered before and after it", () => {
  const h = harness((n) => n);
  h.out.bytes(Buffer.from("HEAD "));
  h.out.reference(item, 4, 19);
  h.out.bytes(Buffer.from(" TAIL"));
  assert.equal(h.sent(), "HEAD the value bytes TAIL");
  assert.equal(h.gathered.length, 1);
  assert.equal(h.gathered[0][1].buffer, item.buffer, "the middle chunk is a view of the item, not a copy");
  assert.equal(h.written.length, 0);
  assert.equal(h.out.len, 0);
});

test("a socket that takes part of it: the rest is copied and written the ordinary way, in order", () => {
  for (const taken of [0, 3, 5, 12, 20, 24]) {
    const h = harness(() => taken);
    h.out.bytes(Buffer.from("HEAD "));
    h.out.reference(item, 4, 19);
    h.out.bytes(Buffer.from(" TAIL"));
    assert.equal(h.sent(), "HEAD the value bytes TAIL", `taken ${taken}`);
    assert.equal(h.written.length, 1);
    assert.equal(h.written[0].length, 25 - taken);
  }
});

test("a connection that cannot write now (-1), or none at all: the value is copied into place", () => {
  const h = harness(() => -1);
  h.out.bytes(Buffer.from("HEAD "));
  h.out.reference(item, 4, 19);
  h.out.bytes(Buffer.from(" TAIL"));
  assert.equal(h.sent(), "HEAD the value bytes TAIL");
  assert.equal(h.written.length, 1);
  const plain = new OutBuffer(64);
  plain.reference(item, 4, 19);
  assert.equal(plain.buf.subarray(0, plain.len).toString(), "the value bytes", "without trySyncWritev it is an ordinary copy");
});

test("materialize copies the value in at its place, so the item may change afterwards", () => {
  const h = harness((n) => n);
  const mutable = Buffer.from(item);
  h.out.bytes(Buffer.from("A "));
  h.out.reference(mutable, 4, 19);
  h.out.bytes(Buffer.from(" B"));
  h.out.materialize();
  mutable.fill(0x21);
  assert.equal(h.sent(), "A the value bytes B");
  assert.equal(h.gathered.length, 0, "nothing left to write from item memory");
});

test("a second reference materializes the first: at most one value is held by reference", () => {
  const h = harness((n) => n);
  const first = Buffer.from("first value");
  h.out.reference(first, 0, 5);
  h.out.bytes(Buffer.from("|"));
  h.out.reference(Buffer.from("second"), 0, 6);
  first.fill(0x21);
  assert.equal(h.sent(), "first|second");
  assert.equal(h.gathered[0].length, 3);
  assert.equal(Buffer.from(h.gathered[0][0]).toString(), "first|");
});

test("a partial flush (replies held behind a half-read data block) counts the value where it stands", () => {
  const out = new OutBuffer(64);
  out.trySyncWritev = () => {
    throw new Error("not for a partial flush");
  };
  out.bytes(Buffer.from("AB"));
  out.reference(item, 4, 7);
  out.bytes(Buffer.from("CD"));
  const chunks: string[] = [];
  // 3 counts gathered bytes only: "AB", the value gathered after them, then "C".
  out.flush((c) => (chunks.push(c.toString()), true), 3);
  assert.deepEqual(chunks, ["ABtheC"]);
  assert.equal(out.buf.subarray(0, out.len).toString(), "D");
});
