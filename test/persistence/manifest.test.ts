import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { crc32c } from "../../src/persistence/crc32c.ts";
import {
  type Manifest,
  ManifestError,
  fileName,
  fsyncDir,
  parseFileName,
  readManifest,
  strayFiles,
  writeManifest,
  writeManifestSync,
} from "../../src/persistence/manifest.ts";
import { tempDir } from "./scan-helper.ts";

const m: Manifest = { base: "base.000002", logs: ["log.000002", "log.000003"] };

/** A manifest file with a correct CRC over `body`, so each test damages exactly one thing. */
function withCrc(body: string): string {
  return `${body}crc ${crc32c(Buffer.from(body, "latin1")).toString(16).padStart(8, "0")}\n`;
}

test("file names are zero-padded generations and parse back; other spellings are not ours", () => {
  assert.equal(fileName("log", 12), "log.000012");
  assert.equal(fileName("base", 1234567), "base.1234567");
  assert.deepEqual(parseFileName("log.000012"), { kind: "log", generation: 12 });
  assert.deepEqual(parseFileName("base.4294967295"), { kind: "base", generation: 4294967295 });
  for (const name of ["log.12", "log.0000012", "log.000012.tmp", "LOG.000012", "snap.000001", "base.4294967296", "log.-00001", "manifest"]) {
    assert.equal(parseFileName(name), null, name);
  }
  assert.throws(() => fileName("log", -1), RangeError);
  assert.throws(() => fileName("log", 1.5), RangeError);
});

test("the manifest round-trips in the documented text format", async () => {
  const dir = tempDir("manifest");
  assert.equal(readManifest(dir), null);
  writeManifestSync(dir, m);
  assert.deepEqual(readManifest(dir), m);
  assert.equal(readFileSync(join(dir, "manifest"), "latin1"), withCrc("memcached-ts manifest 1\nbase base.000002\nlog log.000002\nlog log.000003\n"));

  const noBase: Manifest = { base: null, logs: ["log.000001"] };
  await writeManifest(dir, noBase);
  assert.deepEqual(readManifest(dir), noBase);
  assert.equal(readFileSync(join(dir, "manifest"), "latin1"), withCrc("memcached-ts manifest 1\nbase -\nlog log.000001\n"));
  await fsyncDir(dir);
});

test("a leftover manifest.tmp is ignored by the reader, listed as stray, and replaced by the next write", async () => {
  const dir = tempDir("manifest");
  writeManifestSync(dir, m);
  // A write that crashed before its rename.
  writeFileSync(join(dir, "manifest.tmp"), "memcached-ts manifest 1\nbase -\nlo");
  for (const name of ["base.000001", "log.000001", "log.000002", "log.000003", "log.000004", "base.000002", "base.000003.tmp", "notes.txt", "log.12"]) {
    writeFileSync(join(dir, name), "");
  }
  assert.deepEqual(readManifest(dir), m);
  assert.deepEqual(strayFiles(dir, m), ["base.000001", "base.000003.tmp", "log.000001", "log.000004", "manifest.tmp"]);
  const next: Manifest = { base: "base.000004", logs: ["log.000004"] };
  await writeManifest(dir, next);
  assert.deepEqual(readManifest(dir), next);
  assert.deepEqual(strayFiles(dir, next), ["base.000001", "base.000002", "base.000003.tmp", "log.000001", "log.000002", "log.000003"]);
});

test("each kind of damage throws a ManifestError naming the file", () => {
  const dir = tempDir("manifest");
  const path = join(dir, "manifest");
  const good = withCrc("memcached-ts manifest 1\nbase base.000002\nlog log.000002\n");
  const cases: [string, RegExp][] = [
    ["", /bad first line/],
    [good.replace("manifest 1", "manifest 2"), /bad first line/],
    [good.replace("log.000002", "log.000003"), /bad crc: the file says [0-9a-f]{8}, its bytes give [0-9a-f]{8}/],
    [good.slice(0, -1), /bad crc: the last line is not/],
    [good.slice(0, good.indexOf("crc")), /bad crc: the last line is not/],
    [withCrc("memcached-ts manifest 1\nlog log.000002\n"), /line 2: expected "base NAME" or "base -", found "log log.000002"/],
    [withCrc("memcached-ts manifest 1\nbase -\nlog log.000002\nfoo bar\n"), /line 4: unknown line "foo bar"/],
    [withCrc("memcached-ts manifest 1\nbase -\nlog log.000002\n\n"), /line 4: unknown line ""/],
    [withCrc("memcached-ts manifest 1\nbase -\n"), /names no log/],
    [withCrc("memcached-ts manifest 1\nbase log.000001\nlog log.000002\n"), /"log.000001" is not a base file name/],
    [withCrc("memcached-ts manifest 1\nbase -\nlog log.2\n"), /"log.2" is not a log file name/],
    [withCrc("memcached-ts manifest 1\nbase -\nlog base.000002\n"), /"base.000002" is not a log file name/],
    [withCrc("memcached-ts manifest 1\nbase -\nlog log.000003\nlog log.000003\n"), /logs out of order: log.000003 after generation 3/],
  ];
  for (const [text, reason] of cases) {
    writeFileSync(path, text, "latin1");
    assert.throws(
      () => readManifest(dir),
      (err: unknown) => err instanceof ManifestError && err.message.startsWith(`${path}: `) && reason.test(err.message) && !err.message.includes("\n"),
      JSON.stringify(text),
    );
  }
});

test("a manifest that could not be read back is never written", async () => {
  const dir = tempDir("manifest");
  assert.throws(() => writeManifestSync(dir, { base: null, logs: [] }), /refusing to write a manifest: names no log/);
  await assert.rejects(writeManifest(dir, { base: "log.000001", logs: ["log.000002"] }), ManifestError);
  assert.equal(readManifest(dir), null);
});
