import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { RawClient } from "../oracle/client.ts";
import { freePort, startOurs, waitConnectable } from "../oracle/servers.ts";

const dir = mkdtempSync(join(tmpdir(), "mcts-progress-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A log big enough that loading it takes a few hundred ms. */
async function fill(aof: string): Promise<void> {
  const s = await startOurs(["--aof", aof, "--sync", "no", "-m", "256"]);
  const c = new RawClient(s.port);
  const value = "v".repeat(200);
  for (let batch = 0; batch < 40; batch++) {
    let text = "";
    for (let i = 0; i < 10_000; i++) text += `set k${batch}_${i} 0 0 ${value.length} noreply\r\n${value}\r\n`;
    await c.send(text);
  }
  await c.send("mn\r\n");
  await c.waitBytes(4, 30_000);
  c.close();
  await s.server.close(true);
}

/** Starts the server as a child (under `script`, when `tty`, so stderr is a terminal) and returns what it printed while recovering. */
async function recoverOutput(aof: string, tty: boolean): Promise<string> {
  const port = await freePort();
  const logFile = join(dir, `log-${tty}.txt`);
  const server = [process.execPath, "src/main.ts", "-p", String(port), "-l", "127.0.0.1", "-m", "256", "--aof", aof, "--log-level", "info"];
  const argv = tty ? ["script", "-qfec", server.join(" "), "/dev/null"] : [...server, "--log-destination", logFile];
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString("latin1")));
  child.stderr.on("data", (d: Buffer) => (out += d.toString("latin1")));
  const printed = (): string => (tty ? out : existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  try {
    await waitConnectable(port, Date.now() + 30_000);
    // The server accepts connections a moment before it installs its SIGTERM handler; a signal
    // in between would kill it before the log file is written. Its last start-up line says it is past that.
    for (const deadline = Date.now() + 30_000; !printed().includes("memcached-ts listening"); await sleep(20)) {
      assert.ok(Date.now() < deadline, `no "listening" line; printed: ${printed()}`);
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
  return printed();
}

test("recovery shows a progress bar on a terminal, and progress lines in the log otherwise", { timeout: 120_000 }, async () => {
  const aof = join(dir, "aof");
  await fill(aof);
  const onTty = await recoverOutput(aof, true);
  assert.match(onTty, /recovering \[[#.]{25}\] +\d+% [\d.]+\/[\d.]+ MB/);
  const logged = await recoverOutput(aof, false);
  // A line when it starts, one a second while it runs (this one is shorter), one when it ends.
  assert.match(logged, /"files":1,"bytes":\d+,"msg":"recovery started"/);
  assert.match(logged, /"msg":"persistence recovered"/);
  assert.match(logged, /"records":400000/);
});
