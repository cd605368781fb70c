import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { writeManifestSync } from "../../src/persistence/manifest.ts";
import { attr, baseBegin, baseEnd, basePayloads, del, flush, item, writeFile } from "./records.ts";
import { tempDir } from "./scan-helper.ts";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function check(...args: string[]): Run {
  const r = spawnSync(process.execPath, ["src/main.ts", "check", ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FAR_FUTURE = 4_000_000_000;

/** base.000002 (a, b) then log.000002 (c; delete a; touch c; flush state) and log.000003 (d, e expired). */
function goodSet(): { dir: string; log2: { bytes: Buffer; offsets: number[] } } {
  const dir = tempDir("check");
  writeFile(join(dir, "base.000002"), "base", 2, basePayloads([item({ key: "a", cas: 5 }), item({ key: "b", cas: 6 })], baseBegin({ casCounter: 9 })));
  const log2 = writeFile(join(dir, "log.000002"), "log", 2, [
    item({ key: "c", cas: 10 }),
    del("a"),
    attr({ key: "c", cas: 11, exptime: FAR_FUTURE }),
    flush(FAR_FUTURE),
  ]);
  writeFile(join(dir, "log.000003"), "log", 3, [item({ key: "d", cas: 12 }), item({ key: "e", cas: 13, exptime: 1 })]);
  writeManifestSync(dir, { base: "base.000002", logs: ["log.000002", "log.000003"] });
  return { dir, log2 };
}

function lines(r: Run): string[] {
  return r.stdout.trimEnd().split("\n");
}

test("a good set loads as is: exit 0, one line per file, the keys after replay", () => {
  const { dir } = goodSet();
  writeFileSync(join(dir, "log.000001"), "");
  writeFileSync(join(dir, "manifest.tmp"), "");
  const r = check(dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stderr, "");
  assert.deepEqual(lines(r), [
    `manifest: ${join(dir, "manifest")}: base base.000002; logs log.000002 log.000003`,
    "file base.000002: kind base, generation 2, size 138, valid 138, records 4 (items 2, deletes 0, attrs 0, flushes 0), BASE_END matches 2 items",
    "file log.000002: kind log, generation 2, size 111, valid 111, records 4 (items 1, deletes 1, attrs 1, flushes 1)",
    "file log.000003: kind log, generation 3, size 82, valid 82, records 2 (items 2, deletes 0, attrs 0, flushes 0)",
    "note: stray files not named by the manifest (start-up deletes them): log.000001 manifest.tmp",
    "set: 3 live keys (4 stored, 1 expired, 0 flushed), highest cas 13",
    "result: loads as is",
  ]);
});

test("a torn or zero tail is a warning that names what start-up truncates; still exit 0", () => {
  const { dir } = goodSet();
  appendFileSync(join(dir, "log.000003"), Buffer.from([40, 0, 0]));
  appendFileSync(join(dir, "log.000002"), Buffer.alloc(100));
  const r = check(dir);
  assert.equal(r.code, 0, r.stdout);
  assert.ok(lines(r).includes("warning log.000002: zero-tail at offset 111: 100 zero bytes to EOF; would truncate 100 bytes"), r.stdout);
  assert.ok(lines(r).includes("warning log.000003: torn-tail at offset 82: frame header cut after 3 bytes; would truncate 3 bytes"), r.stdout);
  assert.equal(lines(r).at(-1), "result: loads, after truncating (0 errors, 2 warnings)");
});

test("corruption in the middle of a log: exit 1, the offset and how to repair", () => {
  const { dir, log2 } = goodSet();
  const bytes = Buffer.from(log2.bytes);
  bytes[log2.offsets[1] + 9] ^= 1;
  writeFileSync(join(dir, "log.000002"), bytes);
  const r = check(dir);
  assert.equal(r.code, 1, r.stdout);
  const at = log2.offsets[1];
  assert.ok(
    lines(r).includes(
      `error log.000002: corrupt at offset ${at}: CRC mismatch in a frame of 5 bytes; start-up refuses: corrupt at offset ${at} (use --fix-corrupted to keep the first ${at} bytes)`,
    ),
    r.stdout,
  );
  assert.ok(lines(r).includes(`file log.000002: kind log, generation 2, size 111, valid ${at}, records 1 (items 1, deletes 0, attrs 0, flushes 0)`), r.stdout);
  assert.equal(lines(r).at(-1), "result: start-up refuses (1 error, 0 warnings)");
});

test("a missing file, a bad manifest, a header that contradicts its name: exit 1", () => {
  const missing = goodSet().dir;
  rmSync(join(missing, "log.000003"));
  let r = check(missing);
  assert.equal(r.code, 1);
  assert.ok(lines(r).includes("error log.000003: missing (named by the manifest)"), r.stdout);

  const badManifest = goodSet().dir;
  appendFileSync(join(badManifest, "manifest"), "log log.000004\n");
  r = check(badManifest);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`^error manifest: ${join(badManifest, "manifest")}: bad crc: the last line is not`, "m"));

  const swapped = goodSet().dir;
  writeFile(join(swapped, "log.000003"), "log", 7, [item({ key: "x" })]);
  writeFile(join(swapped, "base.000002"), "log", 2, [item({ key: "x" })]);
  r = check(swapped);
  assert.equal(r.code, 1);
  assert.ok(lines(r).includes("error base.000002: the header says log, expected base"), r.stdout);
  assert.ok(lines(r).includes("error log.000003: the header says generation 7, the name 3"), r.stdout);
});

test("an empty log is truncatable; an empty or incomplete base is not", () => {
  const { dir } = goodSet();
  truncateSync(join(dir, "log.000003"), 0);
  let r = check(dir);
  assert.equal(r.code, 0, r.stdout);
  assert.ok(lines(r).includes("warning log.000003: zero-tail at offset 0: file of 0 bytes holds no header; would truncate 0 bytes"), r.stdout);

  truncateSync(join(dir, "base.000002"), 10);
  r = check(dir);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /^error base.000002: torn-tail at offset 0: file of 10 bytes is shorter than its 16-byte header; start-up refuses: a base file with no header$/m);

  writeFile(join(dir, "base.000002"), "base", 2, [baseBegin(), item({ key: "a" }), baseEnd(2)]);
  r = check(dir);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /, BASE_END missing or wrong$/m);
  assert.match(r.stdout, /^error base.000002: corrupt at offset 85: BASE_END counts 2 items, the base holds 1; start-up refuses/m);
});

test("a directory without a manifest is fine only when it holds none of our files", () => {
  const dir = tempDir("check");
  let r = check(dir);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^note: .*manifest does not exist: an unused directory/m);
  writeFileSync(join(dir, "log.000001"), "");
  r = check(dir);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /^error manifest: .*manifest does not exist, yet the directory holds 1 log or base files$/m);
});

test("a single file is checked on its own, its name giving the kind", () => {
  const { dir } = goodSet();
  const r = check(join(dir, "log.000002"));
  assert.equal(r.code, 0, r.stdout);
  assert.deepEqual(lines(r), [
    "file log.000002: kind log, generation 2, size 111, valid 111, records 4 (items 1, deletes 1, attrs 1, flushes 1)",
    "set: 1 live keys (1 stored, 0 expired, 0 flushed), highest cas 11",
    "result: loads as is",
  ]);
  const other = join(dir, "elsewhere.bin");
  writeFileSync(other, "not a persistence file at all");
  const bad = check(other);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^error elsewhere.bin: corrupt at offset 0: bad magic "not a pe"; start-up refuses/m);
});

test("usage errors exit 64 with one line on stderr; --help prints usage", () => {
  const dir = tempDir("check");
  mkdirSync(join(dir, "sub"));
  for (const args of [[], [dir, dir], ["--verbose"], [join(dir, "nothing-here")]]) {
    const r = check(...args);
    assert.equal(r.code, 64, JSON.stringify(args));
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^memcached-ts check: [^\n]+\n$/);
  }
  const help = check("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: memcached-ts check PATH\n/);
  assert.match(help.stdout, /64 +usage error/);
});
