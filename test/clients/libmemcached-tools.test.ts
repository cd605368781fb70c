import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type TestServer, startOurs } from "../oracle/servers.ts";

const run = promisify(execFile);
let server: TestServer;
let servers: string;

before(async () => {
  server = await startOurs();
  servers = `--servers=127.0.0.1:${server.port}`;
});
after(() => server.stop());

/** Runs a libmemcached tool (text protocol, its default); returns exit code and output. */
async function tool(name: string, ...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run(name, [servers, ...args], { timeout: 10000 });
    return { code: 0, stdout: r.stdout };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string };
    if (e.code === "ENOENT") throw new Error(`${name} is missing: apt-get install -y libmemcached-tools`);
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "" };
  }
}

test("memccp stores a file, memccat reads it back, memcrm deletes it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcts-tools-"));
  const file = join(dir, "greeting.txt");
  writeFileSync(file, "hello from memccp\n");
  assert.equal((await tool("memccp", file)).code, 0);
  const key = basename(file);
  const got = await tool("memccat", key);
  assert.equal(got.code, 0);
  // memccat prints a newline after each value.
  assert.equal(got.stdout, "hello from memccp\n\n");
  assert.equal((await tool("memcrm", key)).code, 0);
  assert.notEqual((await tool("memccat", key)).code, 0);
});

test("memcstat reads our stats", async () => {
  const r = await tool("memcstat");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Server: 127\.0\.0\.1 \(\d+\)/);
  assert.match(r.stdout, /version: 1\.6\.\d+/);
  assert.match(r.stdout, /curr_connections: \d+/);
});
