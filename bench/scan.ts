import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanFile } from "../src/persistence/scan.ts";
// The test encoder until the product's log writer lands; swap it in then.
import { fileHeader, frame, item } from "../test/persistence/records.ts";
import { parseBenchArgs } from "./lib/cli.ts";

const HELP = `Usage: node bench/scan.ts [options]
Writes N ITEM records to a temp log file and times scanFile over it (page cache warm, as at a
restart that follows a clean stop): MB/s and records/s, each run and the median.
Recovery's budget is 2 s for 1M items.

  --records N     ITEM records (1000000)
  --value-size N  value bytes per item (100)
  --runs N        timed scans (5)
  --help          this text
`;

const v = parseBenchArgs(HELP, {
  records: { type: "string", default: "1000000" },
  "value-size": { type: "string", default: "100" },
  runs: { type: "string", default: "5" },
});
const records = Number(v.records);
const value = Buffer.alloc(Number(v["value-size"]), 0x76);
const runs = Number(v.runs);

const dir = mkdtempSync(join(tmpdir(), "mcts-bench-scan-"));
const path = join(dir, "log.000001");
try {
  const fd = openSync(path, "w");
  writeSync(fd, fileHeader("log", 1));
  const batch: Buffer[] = [];
  for (let i = 0; i < records; i++) {
    batch.push(frame(item({ key: `key:${String(i).padStart(12, "0")}`, value, cas: i + 1 })));
    if (batch.length === 10_000 || i === records - 1) writeSync(fd, Buffer.concat(batch.splice(0)));
  }
  closeSync(fd);

  const times: number[] = [];
  let size = 0;
  for (let r = 0; r < runs; r++) {
    let seen = 0;
    const t0 = process.hrtime.bigint();
    const result = scanFile(path, () => void seen++);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (result.problem !== null || seen !== records) throw new Error(`scan found a problem: ${JSON.stringify(result.problem)}`);
    times.push(s);
    size = result.size;
    process.stdout.write(`run ${r + 1}: ${line(size, s)}\n`);
  }
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  process.stdout.write(`median: ${line(size, median)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function line(bytes: number, seconds: number): string {
  const mb = bytes / (1024 * 1024);
  return `${records} records, ${mb.toFixed(1)} MiB in ${(seconds * 1000).toFixed(0)} ms: ${(mb / seconds).toFixed(0)} MiB/s, ${(records / seconds / 1e6).toFixed(2)} M records/s`;
}
