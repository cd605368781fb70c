import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { writeAuthFile } from "../oracle/auth-file.ts";
import { saslSetup } from "../oracle/sasl.ts";
import { startMemcached, startOurs } from "../oracle/servers.ts";
import { type Case, play } from "./conversation.ts";

const RETRIES = 2;

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
      const sasl = c.sasl === true ? saslSetup() : undefined;
      test(c.name, async (t) => {
        // Never a silent skip: without the tool the oracle has no SASL users, and the case fails.
        assert.ok(sasl !== null, "saslpasswd2 is needed to give memcached SASL users: apt-get install -y sasl2-bin (.ci/run does)");
        const auth = c.authFile === undefined ? [] : ["-Y", writeAuthFile(c.authFile)];
        const args = [...(sasl ? ["-S"] : []), ...auth, ...(c.args ?? [])];
        // A step is over when its connection has been quiet for a while; on a loaded machine a
        // reply can come later than that. Such a timing miss is retried with fresh servers and
        // more patience; a real difference is deterministic and fails every attempt.
        for (let attempt = 1; ; attempt++) {
          const [oracle, ours] = await Promise.all([startMemcached(args, sasl?.oracleEnv), startOurs(args, undefined, sasl?.oursEnv)]);
          try {
            const patience = attempt === 1 ? 1 : 4;
            const [expected, actual] = await Promise.all([play(oracle.port, c, patience), play(ours.port, c, patience)]);
            if (actual === expected || attempt === RETRIES + 1) {
              if (attempt > 1) t.diagnostic(`matched on attempt ${attempt}`);
              assert.equal(actual, expected);
              return;
            }
          } finally {
            await Promise.all([oracle.stop(), ours.stop()]);
          }
        }
      });
    }
  });
}
