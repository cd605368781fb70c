import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkPlain, isPlain } from "../../../src/protocol/binary/sasl.ts";

const msg = (s: string): Buffer => Buffer.from(s, "latin1");

function pwdb(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "mcts-pwdb-")), "pwdb");
  writeFileSync(path, content);
  return path;
}

test("PLAIN checks user and password against the MEMCACHED_SASL_PWDB file", () => {
  const db = pwdb("ann:pw1\nbob:pw2:extra fields\r\ncarl:pw3\r\n");
  assert.equal(checkPlain(db, msg("\0ann\0pw1")), true);
  assert.equal(checkPlain(db, msg("\0ann\0pw")), false, "a prefix of the password");
  assert.equal(checkPlain(db, msg("\0ann\0pw12")), false, "a longer password");
  assert.equal(checkPlain(db, msg("\0bob\0pw2")), true, "fields after a colon are ignored");
  assert.equal(checkPlain(db, msg("\0carl\0pw3")), true, "DOS line ends");
  assert.equal(checkPlain(db, msg("\0an\0pw1")), false, "a user that is a prefix of another");
  assert.equal(checkPlain(db, msg("\0dan\0pw1")), false, "an unknown user");
  assert.equal(checkPlain(db, msg("ann\0ann\0pw1")), true, "authzid of the same user");
  assert.equal(checkPlain(db, msg("bob\0ann\0pw1")), false, "authzid of another user");
  assert.equal(checkPlain(db, msg("ann\0pw1")), false, "one NUL only");
  assert.equal(checkPlain(db, msg("\0ann\0pw1\0")), false, "three NULs");
  assert.equal(checkPlain(db, msg("\0\0pw1")), false, "an empty user");
});

test("the first line for a user decides, and the file is read at each attempt", () => {
  const path = pwdb("ann:old\nann:new\n");
  assert.equal(checkPlain(path, msg("\0ann\0new")), false);
  writeFileSync(path, "ann:new\n");
  assert.equal(checkPlain(path, msg("\0ann\0new")), true);
});

test("no database, or an unreadable one, refuses everyone", () => {
  assert.equal(checkPlain(null, msg("\0ann\0pw1")), false);
  assert.equal(checkPlain("/nonexistent/pwdb", msg("\0ann\0pw1")), false);
});

test("user and password longer than memcached's 252 bytes are refused", () => {
  const user = "u".repeat(200);
  const db = pwdb(`${user}:${"p".repeat(52)}\n${user}x:${"p".repeat(53)}\n`);
  assert.equal(checkPlain(db, msg(`\0${user}\0${"p".repeat(52)}`)), true);
  assert.equal(checkPlain(db, msg(`\0${user}x\0${"p".repeat(53)}`)), false);
});

test("the mechanism name is matched without regard to case", () => {
  assert.equal(isPlain(msg("PLAIN"), 5), true);
  assert.equal(isPlain(msg("plain"), 5), true);
  assert.equal(isPlain(msg("PLAINX"), 6), false);
  assert.equal(isPlain(msg("CRAM-"), 5), false);
});
