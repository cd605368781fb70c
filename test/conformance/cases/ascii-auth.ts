import type { Case, Step } from "../conversation.ts";

/** bob's password has a space: the handshake splits on spaces, so bob can never log in. */
const USERS = "alice:secret\nbob:hunter 2\n";

/** The handshake: a set whose data block is `<user> <password>`. */
const login = (user: string, password: string, line = "set k 0 0"): string => `${line} ${user.length + 1 + password.length}\r\n${user} ${password}\r\n`;
const ALICE = login("alice", "secret");

const auth = (name: string, steps: Step[], extra: Partial<Case> = {}): Case => ({ name: `-Y ${name}`, authFile: USERS, steps, ...extra });
/** A case with its own auth file, and a login attempt per user:password pair. */
const file = (name: string, contents: string | Buffer, tries: [string, string][]): Case => ({
  name: `-Y file: ${name}`,
  authFile: contents,
  steps: tries.map(([user, password], i) => ({ send: login(user, password), conn: i })),
});

/** memcached 1.6.18's ASCII authentication (-Y), byte for byte. */
export const asciiAuth: Case[] = [
  auth("commands before auth are refused, the connection stays", ["version\r\n", "get a\r\n", "stats\r\n", "flush_all\r\n", "shutdown\r\n", "quit\r\n", "GET / HTTP/1.1\r\n", "bogus\r\n", "version\r\n"]),
  auth("a good handshake, then every command", [ALICE, "set a 0 0 1\r\nx\r\n", "get a\r\n", "version\r\n", "mn\r\n", "quit\r\n"]),
  auth("handshake and commands in one packet", [ALICE + "set a 0 0 1\r\nx\r\nget a\r\n"]),
  auth("wrong password: refused, the connection stays, a retry works", [login("alice", "secreX"), "version\r\n", login("alice", "secret"), "version\r\n"]),
  auth("unknown user", [login("carol", "secret"), login("alic", "secret"), login("alicex", "secret")]),
  auth("a password must match in full", [login("alice", "secre"), login("alice", "secrets"), login("alice", "SECRET")]),
  auth("a password with a space can never match", [login("bob", "hunter 2"), login("bob", "hunter"), `set k 0 0 8\r\nhunter 2\r\n`]),
  auth("tokens after the password are ignored", ["set k 0 0 18\r\nalice secret extra\r\n", "version\r\n"]),
  auth("runs of spaces in the data block", ["set k 0 0 15\r\n  alice  secret\r\n", "version\r\n"]),
  auth("key, flags and exptime are ignored, noreply too", [login("alice", "secret", "set anykey 4294967295 -1"), "get anykey\r\n"]),
  auth("noreply does not silence the handshake", ["set k 0 0 12 noreply\r\nalice secret\r\n", "version\r\n"]),
  auth("a set with too few tokens", ["set k 0 12\r\nalice secret\r\n", "set k 0 0\r\n", "version\r\n"]),
  auth("a set whose size is not a number", ["set k 0 0 x\r\n", "set k 0 0 -1\r\n", "set k 0 0 12x\r\n", "set k 0 0 0x0c\r\n", "version\r\n"]),
  auth("size spellings memcached's strtoul takes", ["set k 0 0 +12\r\nalice secret\r\n", "version\r\n"]),
  auth("size followed by a tab", ["set k 0 0 12\tjunk\r\nalice secret\r\n", "version\r\n"]),
  auth("size that wraps past 2^32", ["set k 0 0 4294967308\r\nalice secret\r\n", "version\r\n"]),
  auth("size of 2^32 - 1: a block of one byte", ["set k 0 0 4294967295\r\nalice secret\r\n", "version\r\n"]),
  auth("-0 is a size of 0", ["set k 0 0 -0\r\n\r\n", "version\r\n"]),
  auth("the command is case-sensitive", ["SET k 0 0 12\r\nalice secret\r\n", "sets k 0 0 12\r\nalice secret\r\n", "version\r\n"]),
  auth("other storage commands do not authenticate", ["add k 0 0 12\r\nalice secret\r\n", "cas k 0 0 12 1\r\nalice secret\r\n", "version\r\n"]),
  auth("data block shorter than declared", ["set k 0 0 14\r\nalice secret\r\n", "xy", "version\r\n"]),
  auth("data block longer than declared", ["set k 0 0 10\r\nalice secret\r\n", "version\r\n", "set k 0 0 11\r\nalice secret\r\n", "version\r\n"]),
  auth("data block ending in a bare newline", ["set k 0 0 12\r\nalice secret\n\n", "version\r\n"]),
  auth("data block with one token", ["set k 0 0 5\r\nalice\r\n", "set k 0 0 0\r\n\r\n", "set k 0 0 3\r\n   \r\n", "version\r\n"]),
  auth("NUL ends the line and the data block", ["set k 0 0 12\0 junk\r\nalice secret\r\n", "version\r\n"]),
  auth("NUL inside the password ends it", ["set k 0 0 14\r\nalice secret\0x\r\n", "version\r\n"]),
  auth("NUL inside the user name ends the data", ["set k 0 0 14\r\nal\0ice secret\r\n", "version\r\n"]),
  auth("meta commands before auth", ["mn\r\n", "mg a v\r\n", "ms a 1\r\nx\r\n", "md a\r\n", "ma a\r\n", "me a\r\n", "version\r\n"]),
  auth("meta commands after auth", [ALICE, "ms a 1 T0\r\nx\r\n", "mg a v\r\n", "mn\r\n"]),
  auth("answers before auth replace each other within one read", ["version\r\nversion\r\nget a\r\n", "bogus\r\n" + ALICE, ALICE]),
  auth("a refusal is written before memcached waits for a split data block", [{ send: ["version\r\nset k 0 0 12\r\nali", "ce secret\r\n"] }, "version\r\n"]),
  auth("a failure followed by a good handshake in one packet", [login("alice", "bad") + ALICE + "version\r\n"]),
  auth("a handshake split at every part", [{ send: ["se", "t k 0 0 1", "2\r", "\n", "alice ", "secret", "\r", "\n"] }, "version\r\n"]),
  auth("a lone newline waits for a second byte", [{ send: ["\n", "version\r\n"] }, "version\r\n"]),
  auth("25 refusals in one read are written twice (-R 20)", ["version\r\n".repeat(25), "version\r\n"]),
  auth("-R 3 with refusals and a handshake", ["version\r\n".repeat(7) + ALICE + "version\r\n".repeat(4), "stats\r\n"], { args: ["-R", "3"] }),
  auth("a line without newline past 2048 bytes closes", ["version\r\n", "x".repeat(2049)]),
  auth("a partial line of 2048 bytes waits", [{ send: ["x".repeat(2048), "\r\n"] }, "version\r\n"]),
  auth("a get line without newline past 2048 bytes closes too", [`get ${"k".repeat(3000)}`]),
  auth("a long line with its newline is refused", [`${"x".repeat(10000)}\r\n`, "version\r\n"]),
  auth("a data block filling the 16 KiB buffer fits", [`set k 0 0 16382\r\n${"x".repeat(16382)}\r\n`, "version\r\n"]),
  auth("a data block larger than the 16 KiB buffer closes", [`set k 0 0 16383\r\n${"x".repeat(16383)}\r\n`]),
  auth("a data block larger than the buffer, sent slowly, closes once past it", [{ send: ["set k 0 0 20000\r\n", "x".repeat(16000), "x".repeat(300), "x".repeat(1000)], gapMs: 50 }, "version\r\n"]),
  auth("binary protocol bytes are text with -Y", [Buffer.from("800b000000000000000000000000000000000000000000000d0a", "hex"), "version\r\n"]),
  auth("each connection authenticates on its own", [ALICE, { send: "version\r\n", conn: 1 }, "version\r\n", { send: ALICE + "version\r\n", conn: 1 }]),
  auth("refresh_certs before auth, and without TLS after it", ["refresh_certs\r\n", ALICE, "refresh_certs\r\n", "refresh_certs noreply\r\n", "version\r\n"]),
  auth("auth counters and settings in stats", [login("alice", "bad"), login("carol", "x"), "set k 0 0 5\r\nalice\r\n", "set k 0 0 10\r\nalice secret\r\n", ALICE, "stats\r\n", "stats settings\r\n"]),
  auth("stats settings with -S and -Y: ASCII with the auth file", [ALICE, "stats settings\r\n"], { sasl: true }),
  file("duplicate users: any of their passwords works", "alice:one\nalice:two\n", [["alice", "one"], ["alice", "two"], ["alice", "three"]]),
  file("at most 8 users: the ninth is ignored", Array.from({ length: 9 }, (_, i) => `u${i + 1}:p${i + 1}\n`).join(""), [["u1", "p1"], ["u8", "p8"], ["u9", "p9"]]),
  file("a line of 255 bytes or more keeps what fits and ends the file", `u:${"p".repeat(300)}\nv:w\n`, [["u", "p".repeat(253)], ["u", "p".repeat(300)], ["v", "w"]]),
  file("a line of 254 bytes is whole", `u:${"p".repeat(252)}\nv:w\n`, [["u", "p".repeat(252)], ["v", "w"]]),
  file("CRLF lines", "alice:secret\r\nbob:pw\r\n", [["alice", "secret"], ["bob", "pw"]]),
  file("the password is all after the first colon", "a:b:c\nd::\n", [["a", "b:c"], ["a", "b"], ["d", ":"]]),
  file("spaces are part of user and password", " a : b \nc:d\n", [["a", "b"], ["c", "d"]]),
  file("a last line without newline", "alice:secret\nbob:pw", [["alice", "secret"], ["bob", "pw"]]),
  file("a NUL in a password ends it and the file", Buffer.from("alice:sec\0ret\nbob:pw\n", "latin1"), [["alice", "sec"], ["bob", "pw"]]),
  file("an empty file refuses everyone", "", [["alice", "secret"]]),
  file("an empty password cannot be sent", "alice:\n", [["alice", ""]]),
];
