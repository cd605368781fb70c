import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { silentLogger } from "../../src/log.ts";
import type { CompactionStep } from "../../src/persistence/persistence.ts";
import { startServer } from "../../src/server/server.ts";
import { parseCli } from "../../src/settings/cli.ts";
import { talk } from "../oracle/client.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, crashAt?: CompactionStep): Promise<Awaited<ReturnType<typeof startServer>>> {
  const parsed = parseCli(["-p", "0", "-l", "127.0.0.1", "--aof", dir, "--sync", "always"]);
  if (parsed.kind !== "run") throw new Error("bad args");
  return startServer(parsed.settings, silentLogger(), { persistence: { crashAt } });
}

function sets(from: number, to: number): string {
  let t = "";
  for (let i = from; i < to; i++) t += `set k${i} ${i} 0 ${String(i * 7).length}\r\n${i * 7}\r\n`;
  return t;
}

function gets(to: number): string {
  let keys = "";
  let want = "";
  for (let i = 0; i < to; i++) {
    keys += ` k${i}`;
    want += `VALUE k${i} ${i} ${String(i * 7).length}\r\n${i * 7}\r\n`;
  }
  return `get${keys}\r\n\u0000${want}END\r\n`;
}

const STEPS: CompactionStep[] = ["log-created", "log-switched", "base-written", "base-renamed", "manifest-replaced"];

for (const step of STEPS) {
  test(`a compaction that dies at "${step}" leaves a set of files that loads whole`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcts-crash-"));
    dirs.push(dir);
    const s = await start(dir, step);
    await talk(s.port, sets(0, 200) + "delete k3\r\n");
    assert.equal(await talk(s.port, "snapshot\r\n"), "OK\r\n");
    const p = s.ctx.persistence;
    assert.ok(p !== null);
    while (p.snapshotRunning) await new Promise((r) => setTimeout(r, 5));
    assert.equal(p.snapshots.failed, 1);
    // The server goes on after the failed compaction; what it logs now must load as well.
    await talk(s.port, sets(200, 300) + "set k3 3 0 2\r\n21\r\n");
    await s.close();
    const again = await start(dir);
    const [cmd, want] = gets(300).split("\u0000");
    assert.equal(await talk(again.port, cmd), want);
    await again.close();
    // Start-up removed what the dead compaction left behind.
    const left = readdirSync(dir).filter((f) => f.endsWith(".tmp"));
    assert.deepEqual(left, []);
  });
}
