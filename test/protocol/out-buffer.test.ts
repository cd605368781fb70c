import assert from "node:assert/strict";
import { test } from "node:test";
import { LEND_MIN, LentItems, OutBuffer, type WriteNow, Wrote } from "../../src/protocol/out-buffer.ts";

/**
 * A reply buffer lending to a socket stand-in whose kernel takes at most `room` bytes of a
 * gathered write at once and, like the native write, reads the rest from the same parts when
 * `later()` is called. While that rest waits, further gathered writes are refused.
 */
function lendingBuffer(room: number): { out: OutBuffer; items: LentItems; wire: () => string; written: Buffer[]; gathered: Uint8Array[][]; later: () => void } {
  const out = new OutBuffer(64);
  const items = new LentItems();
  const written: Buffer[] = [];
  const gathered: Uint8Array[][] = [];
  let pending: { parts: readonly Uint8Array[]; skip: number } | null = null;
  const writeNow: WriteNow = (parts) => {
    if (pending !== null) return Wrote.nothing;
    gathered.push([...parts]);
    const all = Buffer.concat(parts);
    const n = Math.min(room, all.length);
    written.push(Buffer.from(all.subarray(0, n)));
    if (n === all.length) return Wrote.all;
    pending = { parts, skip: n };
    return Wrote.queued;
  };
  const later = (): void => {
    if (pending === null) return;
    written.push(Buffer.from(Buffer.concat(pending.parts).subarray(pending.skip)));
    pending = null;
  };
  out.lendTo(items, writeNow);
  return { out, items, written, gathered, later, wire: () => Buffer.concat(written).toString("latin1") };
}

/** Item memory stand-in: a value of `n` bytes of `c` in a larger shared buffer. */
function item(n: number, c: string): { mem: Uint8Array; start: number; end: number } {
  const mem = new Uint8Array(new SharedArrayBuffer(n + 32));
  mem.fill(c.charCodeAt(0), 16, 16 + n);
  return { mem, start: 16, end: 16 + n };
}

const copyWrite =
  (into: Buffer[]) =>
  (chunk: Buffer): boolean => {
    into.push(Buffer.from(chunk));
    return true;
  };

test("a long value is lent, not copied, and goes out between the bytes around it in one gathered write", () => {
  const { out, wire, written, gathered } = lendingBuffer(1 << 30);
  const v = item(LEND_MIN, "a");
  out.ascii("VALUE k 0 8192\r\n");
  out.items.bytes(v.mem, v.start, v.end);
  out.ascii("\r\nEND\r\n");
  assert.equal(out.len, 16 + 7, "the value is not in the buffer");
  assert.equal(out.size, 16 + 7 + LEND_MIN);
  out.flush(copyWrite(written));
  assert.equal(gathered.length, 1);
  assert.equal(gathered[0][1].buffer, v.mem.buffer, "the item memory itself was written");
  assert.equal(wire(), `VALUE k 0 8192\r\n${"a".repeat(LEND_MIN)}\r\nEND\r\n`);
  assert.equal(out.size, 0);
});

test("a short value, or any value without lending, is copied", () => {
  const { out, gathered, written } = lendingBuffer(1 << 30);
  const v = item(LEND_MIN - 1, "b");
  out.items.bytes(v.mem, v.start, v.end);
  assert.equal(out.len, LEND_MIN - 1);
  out.flush(copyWrite(written));
  assert.equal(gathered.length, 0, "no gathered write for copied bytes");
  const plain = new OutBuffer(64);
  const w = item(LEND_MIN * 2, "c");
  plain.items.bytes(w.mem, w.start, w.end);
  assert.equal(plain.len, LEND_MIN * 2);
});

test("what the kernel does not take at once goes out later from the same parts, and the bytes around them are not reused meanwhile", () => {
  const { out, written, gathered, later } = lendingBuffer(100);
  const v = item(LEND_MIN + 10, "d");
  out.ascii("head\r\n");
  out.items.bytes(v.mem, v.start, v.end);
  out.ascii("tail\r\n");
  const behind: Buffer[] = [];
  out.flush(copyWrite(behind));
  assert.equal(behind.length, 0, "nothing copied: the write goes on from the parts");
  assert.equal(gathered[0][1].buffer, v.mem.buffer);
  // Replies gathered while the write waits must not land on the bytes it still reads.
  out.ascii("x".repeat(40));
  out.items.bytes(v.mem, v.start, v.end);
  out.ascii("\r\n");
  out.flush(copyWrite(behind));
  assert.equal(behind.length, 1, "a write while another waits: copied and queued behind it");
  later();
  v.mem.fill(0x58);
  assert.equal(Buffer.concat([...written, ...behind]).toString("latin1"), `head\r\n${"d".repeat(LEND_MIN + 10)}tail\r\n${"x".repeat(40)}${"d".repeat(LEND_MIN + 10)}\r\n`);
});

test("before item memory changes, a lent value is copied: the reply keeps the bytes it was made with", () => {
  const { out, items, wire, written } = lendingBuffer(1 << 30);
  const v = item(LEND_MIN, "e");
  out.items.bytes(v.mem, v.start, v.end);
  out.ascii("\r\n");
  items.reclaim();
  v.mem.fill(0x58);
  out.flush(copyWrite(written));
  assert.equal(wire(), `${"e".repeat(LEND_MIN)}\r\n`);
});

test("lending from a second buffer copies what the first was lent", () => {
  const a = lendingBuffer(1 << 30);
  const b = new OutBuffer(64);
  b.lendTo(a.items, () => Wrote.nothing);
  const v = item(LEND_MIN, "f");
  a.out.items.bytes(v.mem, v.start, v.end);
  a.out.ascii("\r\n");
  b.items.bytes(v.mem, v.start, v.end);
  v.mem.fill(0x58);
  a.out.flush(copyWrite(a.written));
  assert.equal(a.wire(), `${"f".repeat(LEND_MIN)}\r\n`);
});

test("a flush of part of the buffer writes the lent values before that point and keeps copies of the rest", () => {
  const { out, wire, written } = lendingBuffer(1 << 30);
  const v = item(LEND_MIN, "g");
  const w = item(LEND_MIN, "h");
  out.ascii("1\r\n");
  out.items.bytes(v.mem, v.start, v.end);
  out.ascii("\r\n");
  const point = out.len;
  out.ascii("2\r\n");
  out.items.bytes(w.mem, w.start, w.end);
  out.ascii("\r\n");
  out.flush(copyWrite(written), point);
  assert.equal(wire(), `1\r\n${"g".repeat(LEND_MIN)}\r\n`);
  w.mem.fill(0x58);
  assert.equal(out.size, 3 + LEND_MIN + 2);
  out.flush(copyWrite(written));
  assert.equal(wire(), `1\r\n${"g".repeat(LEND_MIN)}\r\n2\r\n${"h".repeat(LEND_MIN)}\r\n`);
});

test("truncate drops the lent values at or past the cut with the bytes", () => {
  const { out, wire, written } = lendingBuffer(1 << 30);
  const v = item(LEND_MIN, "i");
  out.ascii("kept\r\n");
  const cut = out.len;
  out.ascii("VALUE\r\n");
  out.items.bytes(v.mem, v.start, v.end);
  out.ascii("\r\n");
  out.truncate(cut);
  assert.equal(out.size, cut);
  out.ascii("next\r\n");
  out.flush(copyWrite(written));
  assert.equal(Buffer.concat(written).toString("latin1"), "kept\r\nnext\r\n");
  assert.equal(wire(), "kept\r\nnext\r\n");
});

test("several lent values in one flush go out in order, around the bytes between them", () => {
  const { out, written, gathered, later } = lendingBuffer(LEND_MIN + 50);
  const values = ["j", "k", "l"].map((c) => item(LEND_MIN, c));
  let expect = "";
  for (const [i, v] of values.entries()) {
    out.ascii(`VALUE ${i}\r\n`);
    out.items.bytes(v.mem, v.start, v.end);
    out.ascii("\r\n");
    expect += `VALUE ${i}\r\n${String.fromCharCode(v.mem[v.start]).repeat(LEND_MIN)}\r\n`;
  }
  out.ascii("END\r\n");
  expect += "END\r\n";
  const after: Buffer[] = [];
  out.flush(copyWrite(after));
  assert.equal(gathered[0].length, 7, "three values and the four runs of bytes around them");
  later();
  for (const v of values) v.mem.fill(0x58);
  assert.equal(Buffer.concat([...written, ...after]).toString("latin1"), expect);
  assert.equal(out.size, 0);
});
