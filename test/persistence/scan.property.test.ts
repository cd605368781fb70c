import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FILE_HEADER_BYTES } from "../../src/persistence/format.ts";
import { attr, del, encodeFile, flush, item } from "./records.ts";
import { scanBytes, tempDir } from "./scan-helper.ts";

const u32 = fc.nat({ max: 0xffff_ffff });
const cas = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const key = fc.string({ minLength: 1, maxLength: 40 });
const record: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ key, value: fc.uint8Array({ maxLength: 600 }), flags: u32, exptime: u32, time: u32, cas, bits: fc.nat(255) }).map((f) => item({ ...f, value: Buffer.from(f.value) })) },
  { weight: 1, arbitrary: key.map(del) },
  { weight: 1, arbitrary: fc.record({ key, exptime: u32, cas, bits: fc.nat(255) }).map(attr) },
  { weight: 1, arbitrary: fc.tuple(u32, cas).map(([live, oldest]) => flush(live, oldest)) },
);

type Damage = { kind: "none" } | { kind: "cut"; at: number } | { kind: "flip"; at: number; mask: number } | { kind: "pad"; bytes: number };
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.constant({ kind: "none" as const }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("pad" as const), bytes: fc.integer({ min: 1, max: 3000 }) }),
);

const dir = tempDir("scan-prop");

test("whatever the damage, the scanner returns the longest valid prefix and nothing after it", () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 30 }), damage, fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }), (records, d, chunkBytes) => {
      const f = encodeFile("log", 5, records);
      const ends = f.offsets.map((_, k) => f.offsets[k + 1] ?? f.bytes.length);
      let bytes = f.bytes;
      // The records that survive the damage intact, counted from the start.
      let intact = records.length;
      let headerGone = false;
      let lengthField = false;
      if (d.kind === "cut" || d.kind === "flip") {
        // `at` wraps around the file so that any generated number lands inside it.
        const at = d.at % (d.kind === "cut" ? bytes.length + 1 : bytes.length);
        headerGone = at < FILE_HEADER_BYTES;
        if (d.kind === "cut") {
          bytes = bytes.subarray(0, at);
          intact = ends.filter((end) => end <= at).length;
        } else {
          bytes = Buffer.from(bytes);
          bytes[at] ^= d.mask;
          intact = headerGone ? 0 : f.offsets.filter((o) => o <= at).length - 1;
          lengthField = !headerGone && at - f.offsets[intact] < 4;
        }
      } else if (d.kind === "pad") {
        bytes = Buffer.concat([bytes, Buffer.alloc(d.bytes)]);
      }

      const s = scanBytes(dir, bytes, { chunkBytes });
      const r = s.result;
      assert.deepEqual(s.payloads, records.slice(0, intact));
      assert.deepEqual(s.offsets, f.offsets.slice(0, intact));
      assert.equal(r.records, intact);
      const validEnd = headerGone ? 0 : intact === 0 ? FILE_HEADER_BYTES : ends[intact - 1];
      assert.equal(r.validEnd, validEnd);
      if (r.validEnd === bytes.length && !headerGone) {
        assert.equal(r.problem, null);
        return;
      }
      assert.ok(r.problem !== null);
      assert.equal(r.problem.offset, headerGone ? 0 : validEnd);
      if (d.kind === "pad") assert.equal(r.problem.kind, "zero-tail");
      if (d.kind === "cut") assert.notEqual(r.problem.kind, "corrupt");
      // A damaged length moves the frame boundary, so the class depends on where it points;
      // damage to the payload or CRC is torn only in the last frame.
      if (d.kind === "flip" && !lengthField && !headerGone) assert.equal(r.problem.kind, intact === records.length - 1 ? "torn-tail" : "corrupt");
    }),
    { numRuns: 400 },
  );
});
