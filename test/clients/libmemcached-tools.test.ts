import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
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

/** Runs a libmemcached tool (text protocol unless --binary is given); returns exit code and output. */
async function tool(name: string, ...args: string[]): Promise<{ code: number; stdout: string }> {
  return toolOn(servers, name, ...args);
}

async function toolOn(target: string, name: string, ...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run(name, [target, ...args], { timeout: 10000 });
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

describe("libmemcached tools in binary mode (--binary)", () => {
  test("memccp, memccat, memctouch, memcrm and memcflush", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcts-tools-"));
    const file = join(dir, "binary.txt");
    writeFileSync(file, "sent in binary\n");
    assert.equal((await tool("memccp", "--binary", file)).code, 0);
    const key = basename(file);
    assert.equal((await tool("memccat", "--binary", key)).stdout, "sent in binary\n\n");
    assert.equal((await tool("memctouch", "--binary", "--expire=100", key)).code, 0);
    assert.equal((await tool("memcrm", "--binary", key)).code, 0);
    assert.notEqual((await tool("memccat", "--binary", key)).code, 0);
    assert.equal((await tool("memccp", "--binary", file)).code, 0);
    assert.equal((await tool("memcflush", "--binary")).code, 0);
    assert.notEqual((await tool("memccat", "--binary", key)).code, 0);
  });

  test("memcstat reads our stats over the binary protocol", async () => {
    const r = await tool("memcstat", "--binary");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /version: 1\.6\.\d+/);
    assert.match(r.stdout, /cmd_get: \d+/);
  });

  test("with -S the tools authenticate with --username and --password", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcts-tools-sasl-"));
    const pwdb = join(dir, "pwdb");
    writeFileSync(pwdb, "tool:pa55\n");
    const sasl = await startOurs(["-S"], undefined, { MEMCACHED_SASL_PWDB: pwdb });
    try {
      const target = `--servers=127.0.0.1:${sasl.port}`;
      const file = join(dir, "secret.txt");
      writeFileSync(file, "authenticated\n");
      assert.equal((await toolOn(target, "memccp", "--binary", "--username=tool", "--password=pa55", file)).code, 0);
      assert.equal((await toolOn(target, "memccat", "--binary", "--username=tool", "--password=pa55", "secret.txt")).stdout, "authenticated\n\n");
      assert.notEqual((await toolOn(target, "memccat", "--binary", "--username=tool", "--password=wrong", "secret.txt")).code, 0);
    } finally {
      await sasl.stop();
    }
  });
});
