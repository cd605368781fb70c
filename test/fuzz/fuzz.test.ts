import { after, before, test } from "node:test";
import { type Target, targets } from "./targets.ts";

// Each fuzz target for a bounded number of runs with a fresh seed (printed on failure, so a
// crash replays with `fc.assert(..., { seed })`); `npm run fuzz -- --minutes N` runs longer.
let list: Target[] = [];
let close: () => Promise<void> = async () => {};
before(async () => ({ list, close } = await targets()));
after(() => close());

for (const name of ["text and meta protocol", "ASCII authentication handshake (-Y), then the text protocol", "auth file", "binary protocol", "persistence records replayed", "persistence file scanner", "JSON config file"]) {
  test(`fuzz: ${name}`, async () => {
    const t = list.find((x) => x.name === name);
    if (t === undefined) throw new Error(`no fuzz target ${name}`);
    t.run(500);
  });
}
