import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_TOKENS, Tokens } from "../../src/protocol/text/tokens.ts";

function split(line: string): { words: string[]; count: number; rest: string | null } {
  const buf = Buffer.from(line, "latin1");
  const t = new Tokens();
  t.tokenize(buf, 0, buf.length);
  const words: string[] = [];
  for (let i = 0; i < t.count - 1; i++) words.push(buf.toString("latin1", t.start[i], t.end[i]));
  return { words, count: t.count, rest: t.rest < 0 ? null : buf.toString("latin1", t.rest) };
}

test("spaces separate tokens, runs collapse, tabs do not separate", () => {
  assert.deepEqual(split("get  a\tb   c"), { words: ["get", "a\tb", "c"], count: 4, rest: null });
  assert.deepEqual(split("  "), { words: [], count: 1, rest: null });
});

test("after MAX_TOKENS - 1 tokens the rest of the line is left over", () => {
  const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
  const r = split(`get ${keys.join(" ")}`);
  assert.equal(r.count, MAX_TOKENS);
  assert.equal(r.words.length, MAX_TOKENS - 1);
  assert.equal(r.rest, keys.slice(MAX_TOKENS - 2).join(" "));
});
