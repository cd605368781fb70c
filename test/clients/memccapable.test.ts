import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { startMemcached, startOurs } from "../oracle/servers.ts";

const run = promisify(execFile);

/** memccapable's verdict per test ("binary get" -> "pass"), from its output. */
async function capable(port: number, ...flags: string[]): Promise<Map<string, string>> {
  let stdout: string;
  try {
    stdout = (await run("memccapable", [...flags, "-h", "127.0.0.1", "-p", String(port)], { timeout: 60_000 })).stdout;
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string };
    if (e.code === "ENOENT") throw new Error("memccapable is missing: apt-get install -y libmemcached-tools");
    stdout = e.stdout ?? "";
  }
  const verdicts = new Map<string, string>();
  for (const m of stdout.matchAll(/^(.+?)\s+\[(\w+)\]$/gm)) verdicts.set(m[1], m[2]);
  return verdicts;
}

test("memccapable -b: every binary test passes, as against memcached", async () => {
  const [ours, oracle] = await Promise.all([startOurs(), startMemcached()]);
  try {
    const [got, reference] = await Promise.all([capable(ours.port, "-b"), capable(oracle.port, "-b")]);
    assert.equal(got.size, 27, "memccapable ran all its binary tests");
    for (const [name, verdict] of got) assert.equal(verdict, "pass", name);
    assert.deepEqual(got, reference);
  } finally {
    await Promise.all([ours.stop(), oracle.stop()]);
  }
});
