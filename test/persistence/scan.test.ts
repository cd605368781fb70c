import assert from "node:assert/strict";
import { test } from "node:test";
import { FRAME_HEADER_BYTES, MAX_PAYLOAD, writeU32 } from "../../src/persistence/format.ts";
import { attr, baseBegin, baseEnd, basePayloads, del, encodeFile, fileHeader, flush, frame, item } from "./records.ts";
import { type Scanned, scanBytes, tempDir } from "./scan-helper.ts";

const dir = tempDir("scan");
const logRecords = [
  item({ key: "alpha", value: "one", flags: 7, exptime: 100, time: 50, cas: 1 }),
  del("alpha"),
  item({ key: "beta", value: Buffer.alloc(300, 0x62), cas: 2 }),
  attr({ key: "beta", exptime: 5, cas: 3 }),
  flush(1_700_000_000, 3),
  item({ key: "gamma", value: "last one", cas: 4 }),
];
const good = encodeFile("log", 12, logRecords);
const lastOffset = good.offsets[good.offsets.length - 1];

function assertPrefix(s: Scanned, count: number): void {
  assert.equal(s.result.records, count);
  assert.deepEqual(s.payloads, logRecords.slice(0, count));
  assert.deepEqual(s.offsets, good.offsets.slice(0, count));
}

function flipped(bytes: Buffer, at: number): Buffer {
  const b = Buffer.from(bytes);
  b[at] ^= 0x20;
  return b;
}

test("a good log delivers every record with its frame offset", () => {
  for (const chunkBytes of [undefined, 1, 17, 64]) {
    const s = scanBytes(dir, good.bytes, { chunkBytes });
    assert.equal(s.result.kind, "log");
    assert.equal(s.result.generation, 12);
    assert.equal(s.result.size, good.bytes.length);
    assert.equal(s.result.validEnd, good.bytes.length);
    assert.equal(s.result.problem, null);
    assertPrefix(s, logRecords.length);
  }
});

test("a header-only file is a valid, empty log", () => {
  const s = scanBytes(dir, fileHeader("log", 3));
  assert.deepEqual({ ...s.result, path: "" }, { path: "", size: 16, kind: "log", generation: 3, records: 0, validEnd: 16, problem: null });
});

test("the last record cut at every byte offset is a torn tail; every earlier record is delivered", () => {
  for (let cut = lastOffset + 1; cut < good.bytes.length; cut++) {
    for (const chunkBytes of [undefined, 13]) {
      const s = scanBytes(dir, good.bytes.subarray(0, cut), { chunkBytes });
      assert.equal(s.result.problem?.kind, "torn-tail", `cut at ${cut}`);
      assert.equal(s.result.problem?.offset, lastOffset);
      assert.equal(s.result.validEnd, lastOffset);
      assertPrefix(s, logRecords.length - 1);
    }
  }
});

test("zero padding of any length after a frame boundary is a zero tail", () => {
  for (const pad of [1, 7, 8, 9, 100, 4096, 5 * 1024 * 1024]) {
    const s = scanBytes(dir, Buffer.concat([good.bytes, Buffer.alloc(pad)]), { chunkBytes: pad > 4096 ? undefined : 32 });
    assert.equal(s.result.problem?.kind, "zero-tail", `pad ${pad}`);
    assert.equal(s.result.problem?.offset, good.bytes.length);
    assert.equal(s.result.validEnd, good.bytes.length);
    assertPrefix(s, logRecords.length);
  }
});

test("zeros after one non-zero byte are not a zero tail", () => {
  const bytes = Buffer.concat([good.bytes, Buffer.alloc(100)]);
  bytes[good.bytes.length + 50] = 1;
  const s = scanBytes(dir, bytes);
  assert.equal(s.result.problem?.kind, "corrupt");
  assert.equal(s.result.problem?.offset, good.bytes.length);
  assertPrefix(s, logRecords.length);
});

test("a flipped byte in a middle record is corruption named by its frame offset", () => {
  const victim = 2;
  const start = good.offsets[victim];
  // In the CRC field, the first payload byte, and the last payload byte.
  for (const at of [start + 4, start + FRAME_HEADER_BYTES, good.offsets[victim + 1] - 1]) {
    const s = scanBytes(dir, flipped(good.bytes, at));
    assert.equal(s.result.problem?.kind, "corrupt", `flip at ${at}`);
    assert.equal(s.result.problem?.offset, start);
    assert.match(s.result.problem?.detail ?? "", /CRC mismatch/);
    assert.equal(s.result.validEnd, start);
    assertPrefix(s, victim);
  }
});

test("a flipped byte in the last record is a torn tail, also when zeros follow it", () => {
  for (const pad of [0, 3, 4096]) {
    const s = scanBytes(dir, Buffer.concat([flipped(good.bytes, good.bytes.length - 2), Buffer.alloc(pad)]));
    assert.equal(s.result.problem?.kind, "torn-tail", `pad ${pad}`);
    assert.equal(s.result.problem?.offset, lastOffset);
    assertPrefix(s, logRecords.length - 1);
  }
});

test("a huge declared length is corruption mid-file and a torn tail at the end", () => {
  const mid = Buffer.from(good.bytes);
  writeU32(mid, good.offsets[1], MAX_PAYLOAD + 1);
  const s = scanBytes(dir, mid);
  assert.equal(s.result.problem?.kind, "corrupt");
  assert.equal(s.result.problem?.offset, good.offsets[1]);
  assert.match(s.result.problem?.detail ?? "", /exceeds/);
  assertPrefix(s, 1);

  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  writeU32(header, 0, 0xffffffff);
  for (const tail of [header, Buffer.concat([header, Buffer.alloc(20)])]) {
    const t = scanBytes(dir, Buffer.concat([good.bytes, tail]));
    assert.equal(t.result.problem?.kind, "torn-tail");
    assert.equal(t.result.problem?.offset, good.bytes.length);
    assertPrefix(t, logRecords.length);
  }
});

test("a declared length within bounds that runs past EOF is a torn tail", () => {
  const header = Buffer.alloc(FRAME_HEADER_BYTES + 3, 1);
  writeU32(header, 0, 1000);
  const s = scanBytes(dir, Buffer.concat([good.bytes, header]));
  assert.equal(s.result.problem?.kind, "torn-tail");
  assert.match(s.result.problem?.detail ?? "", /runs past EOF \(3 present\)/);
  assertPrefix(s, logRecords.length);
});

test("records larger than the chunk buffer are read whole", () => {
  const big = [item({ key: "k1", value: Buffer.alloc(5000, 1) }), item({ key: "k2", value: "s" }), item({ key: "k3", value: Buffer.alloc(70_000, 3) })];
  const f = encodeFile("log", 1, big);
  for (const chunkBytes of [16, 100, 4096]) {
    const s = scanBytes(dir, f.bytes, { chunkBytes });
    assert.equal(s.result.problem, null);
    assert.deepEqual(s.payloads, big);
    assert.deepEqual(s.offsets, f.offsets);
  }
  const huge = item({ key: "h", value: Buffer.alloc(5 * 1024 * 1024, 0x68) });
  const s = scanBytes(dir, encodeFile("log", 1, [huge, big[1]]).bytes);
  assert.equal(s.result.problem, null);
  assert.deepEqual(s.payloads, [huge, big[1]]);
});

test("a damaged record larger than the chunk buffer is caught while streaming it", () => {
  const big = [item({ key: "k1", value: Buffer.alloc(5000, 1) }), item({ key: "k2", value: Buffer.alloc(3000, 2) })];
  const f = encodeFile("log", 1, big);
  for (const [at, kind] of [
    [f.offsets[0] + 4000, "corrupt"],
    [f.bytes.length - 1, "torn-tail"],
  ] as const) {
    const s = scanBytes(dir, flipped(f.bytes, at), { chunkBytes: 256 });
    assert.equal(s.result.problem?.kind, kind);
    assert.equal(s.result.problem?.offset, f.offsets.findLast((o) => o <= at));
    assert.deepEqual(s.payloads, big.slice(0, kind === "corrupt" ? 0 : 1));
  }
});

test("progress reports grow to the file size", () => {
  const seen: number[] = [];
  const s = scanBytes(dir, good.bytes, { chunkBytes: 64, onProgress: (done, size) => (assert.equal(size, good.bytes.length), seen.push(done)) });
  assert.equal(s.result.problem, null);
  assert.ok(seen.length > 1);
  assert.deepEqual([...seen].sort((a, b) => a - b), seen);
  assert.equal(seen[seen.length - 1], good.bytes.length);
});

test("empty, short and all-zero files are empty: nothing valid, kind unknown, truncatable", () => {
  const cases: [Buffer, "zero-tail" | "torn-tail"][] = [
    [Buffer.alloc(0), "zero-tail"],
    [Buffer.alloc(9), "zero-tail"],
    [Buffer.alloc(5000), "zero-tail"],
    [fileHeader("log", 1).subarray(0, 15), "torn-tail"],
    [Buffer.from("MCTS"), "torn-tail"],
  ];
  for (const [bytes, kind] of cases) {
    const s = scanBytes(dir, bytes);
    assert.deepEqual(
      { kind: s.result.kind, generation: s.result.generation, records: s.result.records, validEnd: s.result.validEnd, problem: s.result.problem?.kind, at: s.result.problem?.offset },
      { kind: null, generation: 0, records: 0, validEnd: 0, problem: kind, at: 0 },
      `${bytes.length} bytes`,
    );
  }
});

test("a wrong magic or a bad header CRC is corruption at offset 0", () => {
  const wrongMagic = Buffer.from(good.bytes);
  wrongMagic.write("MCTSLOG9", 0, "latin1");
  const badCrc = flipped(good.bytes, 9);
  for (const [bytes, detail] of [
    [wrongMagic, /bad magic "MCTSLOG9"/],
    [badCrc, /header CRC/],
  ] as const) {
    const s = scanBytes(dir, bytes);
    assert.equal(s.result.kind, null);
    assert.equal(s.result.validEnd, 0);
    assert.equal(s.result.problem?.kind, "corrupt");
    assert.equal(s.result.problem?.offset, 0);
    assert.match(s.result.problem?.detail ?? "", detail);
    assert.equal(s.payloads.length, 0);
  }
});

test("a CRC-valid but malformed record is corruption, even as the last record", () => {
  const bad = Buffer.from([9, 0, 0, 0]);
  for (const payloads of [[logRecords[0], bad, logRecords[1]], [logRecords[0], bad]]) {
    const f = encodeFile("log", 1, payloads);
    const s = scanBytes(dir, f.bytes);
    assert.equal(s.result.problem?.kind, "corrupt");
    assert.equal(s.result.problem?.offset, f.offsets[1]);
    assert.match(s.result.problem?.detail ?? "", /unknown record type 9/);
    assert.equal(s.result.records, 1);
  }
  // A zero-length frame whose CRC (of nothing) is 0, followed by data.
  const s = scanBytes(dir, Buffer.concat([good.bytes, Buffer.alloc(FRAME_HEADER_BYTES), frame(logRecords[0])]));
  assert.equal(s.result.problem?.kind, "corrupt");
  assert.equal(s.result.problem?.detail, "empty payload");
});

test("a complete base loads; its BASE_END is delivered", () => {
  const items = [item({ key: "a", value: "1" }), item({ key: "b", value: "2" })];
  const f = encodeFile("base", 4, basePayloads(items, baseBegin({ casCounter: 9 })));
  for (const bytes of [f.bytes, Buffer.concat([f.bytes, Buffer.alloc(10)])]) {
    const s = scanBytes(dir, bytes);
    assert.equal(s.result.kind, "base");
    assert.equal(s.result.generation, 4);
    assert.equal(s.result.records, 4);
    assert.equal(s.result.validEnd, f.bytes.length);
    assert.equal(s.result.problem?.kind ?? null, bytes === f.bytes ? null : "zero-tail");
  }
});

test("a base that is incomplete, miscounted or out of order is corrupt", () => {
  const a = item({ key: "a" });
  const b = item({ key: "b" });
  const cases: { payloads: Buffer[]; cut?: number; at: number; detail: RegExp }[] = [
    { payloads: [baseBegin(), a, b], at: 3, detail: /^incomplete base: no BASE_END$/ },
    { payloads: [baseBegin(), a, b, baseEnd(2)], cut: 5, at: 3, detail: /^incomplete base: no BASE_END \(torn-tail: frame of 12 bytes runs past EOF/ },
    { payloads: [baseBegin(), a, b, baseEnd(3)], at: 3, detail: /BASE_END counts 3 items, the base holds 2/ },
    { payloads: [a, baseEnd(1)], at: 0, detail: /does not start with BASE_BEGIN/ },
    { payloads: [baseBegin(), a, baseBegin(), baseEnd(1)], at: 2, detail: /second BASE_BEGIN/ },
    { payloads: [baseBegin(), baseEnd(0), a], at: 2, detail: /record after BASE_END/ },
    { payloads: [baseBegin(), del("a"), baseEnd(0)], at: 1, detail: /DELETE record in a base file/ },
    { payloads: [], at: 0, detail: /^incomplete base: no BASE_END$/ },
  ];
  for (const c of cases) {
    const f = encodeFile("base", 1, c.payloads);
    const s = scanBytes(dir, f.bytes.subarray(0, f.bytes.length - (c.cut ?? 0)));
    // Past the last record means the end of the file.
    const offset = f.offsets[c.at] ?? f.bytes.length;
    assert.equal(s.result.problem?.kind, "corrupt", String(c.detail));
    assert.match(s.result.problem?.detail ?? "", c.detail);
    assert.equal(s.result.problem?.offset, offset);
    assert.equal(s.result.validEnd, offset);
    assert.equal(s.result.records, c.at);
  }
});

test("base records in a log are corrupt", () => {
  const f = encodeFile("log", 1, [logRecords[0], baseEnd(0)]);
  const s = scanBytes(dir, f.bytes);
  assert.equal(s.result.problem?.kind, "corrupt");
  assert.match(s.result.problem?.detail ?? "", /BASE_END record in a log file/);
});
