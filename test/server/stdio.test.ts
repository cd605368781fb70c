import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { freePort } from "../oracle/servers.ts";

const NODE = "node_modules/.bin/node";

/**
 * A parent shell shares its stdout and stderr (one pipe) with the server it starts, waits until
 * the server is up (its pid file), then prints the pipe's file flags and writes 1 MiB into it.
 * memcached leaves the pipe blocking; Node, left alone, makes it O_NONBLOCK and the parent's
 * write of more than the pipe holds fails with EAGAIN.
 */
test("a parent sharing the server's stdout/stderr pipe can still write to it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcts-stdio-"));
  const pid = join(dir, "pid");
  const port = await freePort();
  const script = [
    "exec 2>&1",
    `${NODE} src/main.ts -p ${port} -l 127.0.0.1 -P ${pid} & S=$!`,
    `i=0; while [ ! -s ${pid} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`,
    // The pid file is written after start-up, when every module is loaded; give stray lazy work a moment.
    "sleep 0.5",
    'echo "FLAGS $(grep ^flags /proc/$$/fdinfo/1 | cut -f2)"',
    "head -c 1048576 /dev/zero | tr '\\0' x; echo; echo \"WRITE $?\"",
    "kill $S; wait $S",
  ].join("\n");
  const sh = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] });
  // Read slowly at first, so the pipe fills and a non-blocking write would hit EAGAIN.
  sh.stdout.pause();
  setTimeout(() => sh.stdout.resume(), 1500).unref();
  let out = "";
  sh.stdout.setEncoding("latin1");
  sh.stdout.on("data", (d: string) => (out += d));
  await new Promise((r) => sh.once("close", r));
  const flags = /FLAGS (\d+)/.exec(out);
  assert.ok(flags !== null, out.slice(0, 200));
  assert.equal(Number.parseInt(flags[1], 8) & 0o4000, 0, "O_NONBLOCK is off");
  assert.match(out, /WRITE 0/);
  assert.equal((out.match(/x/g) ?? []).length, 1048576);
});
