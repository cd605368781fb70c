import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { RawClient } from "../oracle/client.ts";
import { type TestServer, startOurs } from "../oracle/servers.ts";
import { againstBoth } from "./script.ts";

const run = promisify(execFile);
let server: TestServer;

before(async () => {
  server = await startOurs();
});
after(() => server.stop());

/** Runs a libmemcached tool on `port` (text protocol unless --binary is given); returns exit code and output. */
async function tool(port: number, name: string, ...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run(name, [`--servers=127.0.0.1:${port}`, ...args], { timeout: 20000 });
    return { code: 0, stdout: r.stdout };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string };
    if (e.code === "ENOENT") throw new Error(`${name} is missing: run "bash .ci/run --deps" (Debian libmemcached-tools)`);
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "" };
  }
}

/** Sends raw text commands on a fresh connection and returns the replies once `until` is seen. */
async function raw(port: number, commands: string, until: RegExp): Promise<string> {
  const c = new RawClient(port);
  try {
    await c.send(commands);
    const start = Date.now();
    let got = "";
    while (!until.test(got) && Date.now() - start < 5000) {
      await c.waitBytes(1, 50);
      got += c.take().toString("latin1");
    }
    return got;
  } finally {
    c.close();
  }
}

function stat(stats: string, name: string): number {
  const m = new RegExp(`^STAT ${name} (\\d+)\\r$`, "m").exec(stats);
  assert.ok(m, `no ${name} in stats`);
  return Number(m[1]);
}

test("memcstat reads our stats", async () => {
  const r = await tool(server.port, "memcstat");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Server: 127\.0\.0\.1 \(\d+\)/);
  assert.match(r.stdout, /version: 1\.6\.\d+/);
  assert.match(r.stdout, /curr_connections: \d+/);
});

/** The tools' protocol: the text protocol by default, the binary one with --binary. */
type Mode = "text" | "binary";
const MODES: readonly Mode[] = ["text", "binary"];
const modeArgs = (mode: Mode): string[] => (mode === "binary" ? ["--binary"] : []);

/** An mg reply's TTL, made stable: "t~100" for 99 or 100, "t~2106" for one that ends at 2^32 - 1 s. */
function stableTtl(reply: string): string {
  return reply.replace(/ t(\d+)\r/g, (_, t: string) => {
    const ttl = Number(t);
    if (ttl === 99 || ttl === 100) return " t~100\r";
    return Math.abs(ttl - (0xffffffff - Date.now() / 1000)) < 3 ? " t~2106\r" : ` t${t}\r`;
  });
}

for (const mode of MODES) {
  test(`memccp, memccat and memcrm in ${mode} mode: same results as against memcached`, async () => {
    const file = join(mkdtempSync(join(tmpdir(), "mcts-tools-")), `greeting-${mode}.txt`);
    writeFileSync(file, "hello from memccp\n");
    const key = basename(file);
    const { ours, control } = await againstBoth(async (port) => {
      const copied = await tool(port, "memccp", ...modeArgs(mode), file);
      const read = await tool(port, "memccat", ...modeArgs(mode), key);
      const removed = await tool(port, "memcrm", ...modeArgs(mode), key);
      const readRemoved = await tool(port, "memccat", ...modeArgs(mode), key);
      return { codes: [copied.code, read.code, removed.code], read: read.stdout, readRemovedFails: readRemoved.code !== 0 };
    });
    assert.deepEqual(ours, control);
    // memccat prints a newline after each value.
    assert.deepEqual(control, { codes: [0, 0, 0], read: "hello from memccp\n\n", readRemovedFails: true });
  });

  // memcdump is text only (it reads `stats cachedump`, which has no binary opcode): the binary
  // run leaves it out on purpose and checks memctouch and memcflush alone.
  const name = mode === "text" ? "memcdump, memctouch and memcflush" : "memctouch and memcflush (memcdump is text only)";
  test(`${name} in ${mode} mode: same results as against memcached`, async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `dump:${i}`);
    const { ours, control } = await againstBoth(async (port) => {
      // memcdump reads `stats cachedump`, which memcached 1.6 answers from the COLD LRU only, so
      // freshly set items (still HOT or WARM) are missing from its dump depending on its LRU
      // maintainer's timing (memcached-ts does the same). A flat LRU links every item into COLD:
      // the dump is then complete.
      const sets = keys.map((k, i) => `set ${k} ${i} 0 ${String(i).length}\r\n${i}\r\n`).join("");
      await raw(port, `lru mode flat\r\n${sets}`, new RegExp(`OK\r\n(STORED\r\n){${keys.length}}`));
      const dumped = mode === "text" ? await tool(port, "memcdump") : null;
      const touched = await tool(port, "memctouch", ...modeArgs(mode), "--expire=100", "dump:0");
      const touchedMissing = await tool(port, "memctouch", ...modeArgs(mode), "--expire=100", "no-such-key");
      const expired = await tool(port, "memctouch", ...modeArgs(mode), "--expire=-1", "dump:1");
      const afterTouch = await raw(port, "mg dump:0 t v\r\nmg dump:1 t v\r\nmn\r\n", /MN\r\n/);
      const flushed = await tool(port, "memcflush", ...modeArgs(mode));
      const afterFlush = await raw(port, "get dump:0 dump:5\r\n", /END\r\n/);
      // Not compared: a memcdump right after the flush. memcached's cachedump still lists flushed
      // (and expired) items until they are reaped; memcached-ts lists only live ones.
      return {
        dump: dumped && [dumped.code, dumped.stdout.split("\n").filter(Boolean).sort()],
        touch: [touched.code, touchedMissing.code, expired.code],
        // The TTL left depends on the clock's second: compare it made stable.
        afterTouch: stableTtl(afterTouch),
        flush: [flushed.code, afterFlush],
      };
    });
    assert.deepEqual(ours, control);
    assert.deepEqual(control.dump, mode === "text" ? [0, [...keys].sort()] : null);
    assert.equal(control.touch[0], 0);
    assert.notEqual(control.touch[1], 0, "memctouch on a missing key fails");
    // A negative exptime expires the item at once in text. In binary the expiration field is
    // unsigned: libmemcached sends -1 as 0xffffffff, which memcached reads as an absolute time in
    // 2106, so the item stays (binaryScriptExpected in script.ts says the same of the clients).
    const dump1 = mode === "text" ? "EN\r\n" : "VA 1 t~2106\r\n1\r\n";
    assert.equal(control.afterTouch, `VA 1 t~100\r\n0\r\n${dump1}MN\r\n`);
    assert.deepEqual(control.flush, [0, "END\r\n"]);
  });

  test(`memcslap in ${mode} mode: a bounded load of sets then gets completes without errors, as against memcached`, async () => {
    const { ours, control } = await againstBoth(async (port) => {
      const load = ["--execute-number=1000", "--concurrency=4", ...modeArgs(mode)];
      const set = await tool(port, "memcslap", "--test=set", ...load);
      const get = await tool(port, "memcslap", "--test=get", ...load);
      const stats = await raw(port, "stats\r\n", /END\r\n/);
      return {
        codes: [set.code, get.code],
        set: /Time to set\s+(\d+) keys by\s+(\d+) threads/.exec(set.stdout)?.slice(1),
        get: /Time to get\s+(\d+) keys by\s+(\d+) threads/.exec(get.stdout)?.slice(1),
        // The get test loads its own 1000 random keys first; then every get hits.
        sets: stat(stats, "cmd_set"),
        getHitsAtLeast: stat(stats, "get_hits") >= 4000,
        getMisses: stat(stats, "get_misses"),
      };
    });
    assert.deepEqual(ours, control);
    assert.deepEqual(control.codes, [0, 0]);
    assert.deepEqual([control.set, control.get], [["4000", "4"], ["4000", "4"]]);
    // 4000 sets, then the get test's own 1000-key load.
    assert.equal(control.sets, 5000);
  });

  test(`memcstat in ${mode} mode: the same stats, in the same order, as memcached's`, async () => {
    const { ours, control } = await againstBoth(async (port) => {
      const r = await tool(port, "memcstat", ...modeArgs(mode));
      return { code: r.code, names: [...r.stdout.matchAll(/^\t(\w+): /gm)].map((m) => m[1]) };
    });
    assert.deepEqual(ours, control);
    assert.equal(control.code, 0);
    assert.ok(control.names.includes("cmd_get") && control.names.length > 50, `memcstat printed: ${control.names.join(",")}`);
  });
}

describe("libmemcached tools in binary mode (--binary)", () => {
  test("memcstat reads our stats over the binary protocol", async () => {
    const r = await tool(server.port, "memcstat", "--binary");
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
      const file = join(dir, "secret.txt");
      writeFileSync(file, "authenticated\n");
      assert.equal((await tool(sasl.port, "memccp", "--binary", "--username=tool", "--password=pa55", file)).code, 0);
      assert.equal((await tool(sasl.port, "memccat", "--binary", "--username=tool", "--password=pa55", "secret.txt")).stdout, "authenticated\n\n");
      assert.notEqual((await tool(sasl.port, "memccat", "--binary", "--username=tool", "--password=wrong", "secret.txt")).code, 0);
    } finally {
      await sasl.stop();
    }
  });
});
