/**
 * `npm run fuzz -- --minutes N [--differential]`: the fuzz targets (test/fuzz/targets.ts) in
 * turn for N minutes in all, each run with a fresh seed; with --differential, random
 * conversations (test/fuzz/conversations.ts) are also played against memcached and
 * memcached-ts side by side and must get the same replies. Prints what it ran and stops at
 * the first failure with its seed.
 */
import { parseArgs } from "node:util";
import { play } from "../conformance/conversation.ts";
import { startMemcached, startOurs } from "../oracle/servers.ts";
import { randomConversation } from "./conversations.ts";
import { targets } from "./targets.ts";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "1" }, differential: { type: "boolean", default: false } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) {
  process.stderr.write("fuzz: --minutes takes a number above 0\n");
  process.exit(64);
}
const deadline = Date.now() + minutes * 60_000;
const { list, close } = await targets();
const runs = new Map<string, number>();
let conversations = 0;
try {
  while (Date.now() < deadline) {
    for (const t of list) {
      t.run(100_000, 5000);
      runs.set(t.name, (runs.get(t.name) ?? 0) + 1);
    }
    if (values.differential) {
      for (let i = 0; i < 10 && Date.now() < deadline; i++) {
        const seed = (Math.random() * 2 ** 31) | 0;
        const c = randomConversation(seed);
        const [oracle, ours] = await Promise.all([startMemcached(), startOurs()]);
        try {
          const [expected, actual] = await Promise.all([play(oracle.port, c, 2), play(ours.port, c, 2)]);
          if (expected !== actual) throw new Error(`replies differ for conversation seed ${seed}:\n--- memcached\n${expected}\n--- memcached-ts\n${actual}`);
        } finally {
          await Promise.all([oracle.stop(), ours.stop()]);
        }
        conversations++;
      }
    }
  }
} finally {
  await close();
}
for (const [name, n] of runs) process.stdout.write(`${name}: ${n} rounds of up to 5 s\n`);
if (values.differential) process.stdout.write(`differential: ${conversations} conversations, no difference\n`);
process.exit(0);
