import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startMemcached, startOurs } from "../oracle/servers.ts";
import { type Case, play } from "./conversation.ts";

/**
 * Registers one test per case: the conversation is played against a fresh memcached and a
 * fresh memcached-ts started with the same arguments, and the transcripts must be equal.
 */
export function differential(suite: string, cases: readonly Case[]): void {
  const names = new Set<string>();
  for (const c of cases) {
    assert.ok(!names.has(c.name), `duplicate case name ${c.name}`);
    names.add(c.name);
  }
  describe(suite, { concurrency: 4 }, () => {
    for (const c of cases) {
      test(c.name, async () => {
        const [oracle, ours] = await Promise.all([startMemcached(c.args), startOurs(c.args)]);
        try {
          const [expected, actual] = await Promise.all([play(oracle.port, c), play(ours.port, c)]);
          assert.equal(actual, expected);
        } finally {
          await Promise.all([oracle.stop(), ours.stop()]);
        }
      });
    }
  });
}
