import assert from "node:assert/strict";
import { unlinkSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { AuthFile, AuthFileError, MAX_ENTRIES, MAX_LINE, parseAuthFile } from "../../src/auth/auth-file.ts";
import { writeAuthFile } from "../oracle/auth-file.ts";

/** The parsed users as `user:password` strings, or the malformed line number. */
function parse(text: string): string[] | number {
  const r = parseAuthFile(Buffer.from(text, "latin1"));
  return typeof r === "number" ? r : r.map((e) => `${e.user.toString("latin1")}:${e.password.toString("latin1")}`);
}

test("auth file lines: user up to the first colon, password to the line's end, CR or NUL", () => {
  assert.deepEqual(parse("alice:secret\nbob:hunter 2\n"), ["alice:secret", "bob:hunter 2"]);
  assert.deepEqual(parse("a:b:c\r\nd:\n:e\n"), ["a:b:c", "d:", ":e"]);
  assert.deepEqual(parse("a:b\rjunk\nc:d\n"), ["a:b", "c:d"]);
  assert.deepEqual(parse("alice:secret\nbob:pw"), ["alice:secret", "bob:pw"]);
  assert.deepEqual(parse(""), []);
});

test("auth file: a one-line file without newline keeps its last byte (memcached 1.6.18 drops it; 1.6.32 fixed that)", () => {
  assert.deepEqual(parse("alice:secret"), ["alice:secret"]);
});

test("auth file: a line without a colon, a blank line or a NUL in the user is malformed, with its line number", () => {
  assert.equal(parse("alice:secret\n\nbob:pw\n"), 2);
  assert.equal(parse("alice:secret\nbob:pw\n\n"), 3);
  assert.equal(parse("# users\nalice:secret\n"), 1);
  assert.equal(parse("al\0ice:secret\n"), 1);
  assert.equal(parse(`a:b\n${"x".repeat(MAX_LINE + 10)}:y\n`), 2);
});

test(`auth file limits: ${MAX_ENTRIES} users, ${MAX_LINE}-byte lines, a NUL in a password ends the file`, () => {
  const nine = Array.from({ length: 9 }, (_, i) => `u${i}:p${i}\n`).join("");
  assert.deepEqual(parse(nine), Array.from({ length: 8 }, (_, i) => `u${i}:p${i}`));
  // Nothing after the eighth user is read, not even a malformed line.
  assert.equal((parse(`${nine}garbage\n`) as string[]).length, 8);
  const long = `u:${"p".repeat(300)}\nv:w\n`;
  assert.deepEqual(parse(long), [`u:${"p".repeat(MAX_LINE - 2)}`]);
  assert.deepEqual(parse(`u:${"p".repeat(MAX_LINE - 3)}\nv:w\n`), [`u:${"p".repeat(MAX_LINE - 3)}`, "v:w"]);
  // A CR inside a long line: the rest of the line is read as the next line, which has no colon.
  assert.equal(parse(`u:p\r${"x".repeat(300)}\n`), 1);
  assert.deepEqual(parse("a:b\0c\nd:e\n"), ["a:b"]);
});

test("AuthFile.check: exact user and password of any entry", () => {
  const users = new AuthFile(writeAuthFile("alice:one\nalice:two\nbob:hunter 2\n"));
  const ok = (u: string, p: string): boolean => users.check(Buffer.from(u), Buffer.from(p));
  assert.equal(ok("alice", "one"), true);
  assert.equal(ok("alice", "two"), true);
  assert.equal(ok("bob", "hunter 2"), true);
  assert.equal(ok("alice", "on"), false);
  assert.equal(ok("alice", "one "), false);
  assert.equal(ok("alic", "one"), false);
  assert.equal(ok("bob", "one"), false);
  assert.equal(ok("", ""), false);
});

test("AuthFile: start-up errors in memcached's words; a failed reload keeps the users", () => {
  assert.throws(() => new AuthFile("/nonexistent/users"), (err: Error) => err instanceof AuthFileError && !err.malformed && err.message.startsWith("Could not open authfile [/nonexistent/users] for reading, error ENOENT"));
  const path = writeAuthFile("alice:secret\n");
  const users = new AuthFile(path);
  writeFileSync(path, "alice:secret\nbroken\n");
  assert.throws(() => users.reload(), (err: Error) => err instanceof AuthFileError && err.malformed && err.message === `Authfile [${path}] has a malformed entry. Should be 'user:password' (line 2)`);
  unlinkSync(path);
  assert.throws(() => users.reload(), AuthFileError);
  assert.equal(users.check(Buffer.from("alice"), Buffer.from("secret")), true);
  writeFileSync(path, "bob:new\n");
  users.reload();
  assert.equal(users.check(Buffer.from("alice"), Buffer.from("secret")), false);
  assert.equal(users.check(Buffer.from("bob"), Buffer.from("new")), true);
});
