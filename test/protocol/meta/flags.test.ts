import assert from "node:assert/strict";
import { test } from "node:test";
import { MetaFlags, MetaKey } from "../../../src/protocol/meta/flags.ts";
import { M } from "../../../src/protocol/meta/replies.ts";
import { Tokens } from "../../../src/protocol/text/tokens.ts";
import { Counters } from "../../../src/stats/counters.ts";
import { Cache } from "../../../src/store/cache.ts";
import { ManualClock } from "../../../src/store/clock.ts";
import type { Engine } from "../../../src/store/engine.ts";

const clock = new ManualClock(1_700_000_000);
// The parser only converts exptimes; it never reaches the engine.
const cache = new Cache({} as Engine, clock, new Counters());
const tokens = new Tokens();
const flags = new MetaFlags();
const key = new MetaKey();

/** Parses a meta line whose flags start at token `first`; returns the error line or "ok". */
function parse(line: string, first = 2): string {
  const buf = Buffer.from(line, "latin1");
  tokens.tokenize(buf, 0, buf.length);
  return flags.parse(buf, tokens, first, key, cache) ? "ok" : Buffer.from(flags.error).toString("latin1").trim();
}

const keyOf = (): string => Buffer.from(key.buf.subarray(key.start, key.end)).toString("latin1");

test("no flags: defaults", () => {
  assert.equal(parse("mg foo"), "ok");
  assert.equal(keyOf(), "foo");
  assert.equal(flags.value, false);
  assert.equal(flags.noReply, false);
  assert.equal(flags.delta, 1n);
  assert.equal(flags.initial, 0n);
  assert.equal(flags.mode, 0);
});

test("boolean flags", () => {
  assert.equal(parse("mg foo v q u I"), "ok");
  assert.equal(flags.value, true);
  assert.equal(flags.noReply, true);
  assert.equal(flags.noUpdate, true);
  assert.equal(flags.setStale, true);
});

test("return-only and ignored flags are accepted", () => {
  assert.equal(parse("mg foo k s t c f l h O123 Pxyz L"), "ok");
});

test("a flag is its first byte; the rest of a boolean flag's token is ignored", () => {
  assert.equal(parse("mg foo vvv qx"), "ok");
  assert.equal(flags.value, true);
  assert.equal(flags.noReply, true);
});

test("state is reset between commands", () => {
  assert.equal(parse("ma foo v q D5 J7 MD C9 F3"), "ok");
  assert.equal(parse("ma foo"), "ok");
  assert.equal(flags.value, false);
  assert.equal(flags.noReply, false);
  assert.equal(flags.delta, 1n);
  assert.equal(flags.initial, 0n);
  assert.equal(flags.mode, 0);
  assert.equal(flags.hasCas, false);
  assert.equal(flags.clientFlags, 0);
});

test("TTL tokens become absolute exptimes", () => {
  const now = clock.now();
  assert.equal(parse("mg foo T30 N60 R90"), "ok");
  assert.equal(flags.exptime, now + 30);
  assert.equal(flags.newTtl, true);
  assert.equal(flags.autovivExptime, now + 60);
  assert.equal(flags.vivify, true);
  assert.equal(flags.recacheTime, now + 90);
  assert.equal(parse("mg foo T0"), "ok");
  assert.equal(flags.exptime, 0);
  // Negative and past absolute times are already expired.
  assert.equal(parse("mg foo T-1"), "ok");
  assert.equal(flags.exptime, 1);
  assert.equal(parse(`mg foo T${now + 100}`), "ok");
  assert.equal(flags.exptime, now + 100);
});

test("numeric tokens", () => {
  assert.equal(parse("ma foo D18446744073709551615 J42 C12345 F4294967295"), "ok");
  assert.equal(flags.delta, 18446744073709551615n);
  assert.equal(flags.initial, 42n);
  assert.equal(flags.reqCas, 12345);
  assert.equal(flags.hasCas, true);
  assert.equal(flags.clientFlags, 4294967295);
  assert.equal(parse("ms foo 1 F4294967296", 3), "ok");
  assert.equal(flags.clientFlags, 0, "flags truncate to 32 bits like safe_strtoul on 64-bit");
});

test("mode token", () => {
  assert.equal(parse("ms foo 1 ME", 3), "ok");
  assert.equal(flags.mode, 0x45);
  assert.equal(parse("ms foo 1 M", 3), "CLIENT_ERROR incorrect length for M token");
  assert.equal(parse("ms foo 1 MEE", 3), "CLIENT_ERROR incorrect length for M token");
});

test("bad token arguments", () => {
  for (const f of ["T", "Tx", "T1x", "N", "Nabc", "R", "R-", "C", "Cx", "C-1", "T99999999999999999999"]) {
    assert.equal(parse(`mg foo ${f}`), "CLIENT_ERROR bad token in command line format", f);
  }
  assert.equal(parse("ma foo Dx"), "CLIENT_ERROR invalid numeric delta value");
  assert.equal(parse("ma foo D-1"), "CLIENT_ERROR invalid numeric delta value");
  assert.equal(parse("ma foo Jx"), "CLIENT_ERROR invalid numeric initial value");
  // F keeps whatever message came before (the command's default here).
  assert.equal(parse("ms foo 1 Fx", 3), "CLIENT_ERROR bad command line format");
  assert.equal(parse("ms foo 1 Tx Fx", 3), "CLIENT_ERROR bad token in command line format");
});

test("unknown and repeated flags stop the scan at once", () => {
  assert.equal(parse("mg foo !"), "CLIENT_ERROR invalid flag");
  assert.equal(parse("mg foo E5"), "CLIENT_ERROR invalid flag", "E is newer than 1.6.18");
  assert.equal(parse("mg foo v v"), "CLIENT_ERROR duplicate flag");
  assert.equal(parse("mg foo O1 O2"), "CLIENT_ERROR duplicate flag");
  assert.equal(parse("mg foo Tx !"), "CLIENT_ERROR invalid flag");
  assert.equal(parse("mg foo ! Tx"), "CLIENT_ERROR invalid flag");
  assert.equal(parse("mg foo Tx Rx q q"), "CLIENT_ERROR duplicate flag");
  // Bytes from 127 up count as repeats, as memcached's seen[127] table does.
  assert.equal(parse("mg foo \x7f"), "CLIENT_ERROR duplicate flag");
  assert.equal(parse("mg foo \xff"), "CLIENT_ERROR duplicate flag");
});

test("a flag seen in one command is not a repeat in the next, across the wrap of the command count", () => {
  assert.equal(parse("mg foo v q"), "ok");
  assert.equal(parse("mg foo v q"), "ok");
  // Commands are numbered to mark the flags each one saw; the numbers restart after 2^30 - 2.
  const internals = flags as unknown as { command: number };
  internals.command = 1;
  assert.equal(parse("mg foo k"), "ok");
  internals.command = 0x3fff_fffd;
  assert.equal(parse("mg foo v"), "ok");
  assert.equal(parse("mg foo v"), "ok");
  assert.equal(internals.command, 1);
  // Numbered 2 again: k's mark from the first command numbered 2 must be gone.
  assert.equal(parse("mg foo k"), "ok");
  assert.equal(parse("mg foo k k"), "CLIENT_ERROR duplicate flag");
});

test("the last token error wins", () => {
  assert.equal(parse("mg foo Tx Mabc"), "CLIENT_ERROR incorrect length for M token");
  assert.equal(parse("mg foo Mabc Tx"), "CLIENT_ERROR bad token in command line format");
});

test("b decodes the key into the key buffer", () => {
  assert.equal(parse("mg Zm9v b"), "ok");
  assert.equal(flags.keyBinary, true);
  assert.equal(keyOf(), "foo");
  assert.equal(key.buf, key.decoded);
  assert.equal(parse("mg AAEC/w== v b"), "ok");
  assert.deepEqual([...key.buf.subarray(key.start, key.end)], [0, 1, 2, 0xff]);
  assert.equal(parse("mg !!!! b"), "CLIENT_ERROR error decoding key");
  assert.equal(parse("mg !!!! b Tx"), "CLIENT_ERROR bad token in command line format");
  assert.equal(parse("mg !!!! b v v"), "CLIENT_ERROR duplicate flag");
});

test("ms flags start after the data length", () => {
  assert.equal(parse("ms foo 5 T10 c", 3), "ok");
  assert.equal(keyOf(), "foo");
  assert.equal(flags.newTtl, true);
});

test("error lines are memcached's", () => {
  assert.equal(Buffer.from(M.invalidOrDuplicateFlag).toString(), "CLIENT_ERROR invalid or duplicate flag\r\n");
  assert.equal(Buffer.from(M.mgFlagsTooLong).toString(), "CLIENT_ERROR options flags are too long\r\n");
});
