/** `npm run soak -- --minutes N`: the soak of test/soak/soak.ts for N minutes, with its figures. */
import { parseArgs } from "node:util";
import { soak } from "./soak.ts";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "2" } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) {
  process.stderr.write("soak: --minutes takes a number above 0\n");
  process.exit(64);
}
const r = await soak(minutes * 60);
process.stdout.write(
  `soak ${minutes} min: ${r.requests} load requests, ${r.sideCommands} side commands, worst RSS ${(r.worstRss / 1048576).toFixed(0)} MB, ` +
    `${r.items} items at the end (metadump and restart agree), ${r.snapshots} snapshots, integrity clean\n`,
);
process.exit(0);
