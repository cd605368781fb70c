import { differential } from "../conformance/differential.ts";
import { randomConversation } from "./conversations.ts";

// Differential fuzzing in CI: a fresh set of random conversations each run (the seed is in the
// case name, so a difference replays), plus fixed seeds that once found differences.
const base = (Date.now() % 1_000_000) * 100;
differential("differential fuzz vs memcached", [
  // `mn` culled by a later bad get key: memcached had already written it.
  ...[1007, 1008, 1035, 1036, 1039].map(randomConversation),
  // A blank line right after `mn` was read as `mn` again (stale tokens).
  randomConversation(1309636767),
  ...Array.from({ length: 25 }, (_, i) => randomConversation(base + i)),
]);
