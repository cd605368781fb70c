import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeAuthFile } from "../oracle/auth-file.ts";
import { freePort } from "../oracle/servers.ts";

const NODE = "node_modules/.bin/node";

/** Sends one request to a port or socket path, retrying until the server listens; returns the reply. */
async function ask(target: { port: number } | { path: string }, req: string, until: string): Promise<string> {
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const s = "port" in target ? connect(target.port, "127.0.0.1") : connect(target.path);
        let got = "";
        s.on("error", reject);
        s.on("connect", () => s.write(req));
        s.on("data", (d) => {
          got += d.toString("latin1");
          if (got.endsWith(until)) {
            s.destroy();
            resolve(got);
          }
        });
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

test("started from the command line it serves on the port it was given", async () => {
  const port = await freePort();
  const child = spawn(NODE, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1"], { stdio: "ignore" });
  try {
    const r = await ask({ port }, "set k 5 0 2\r\nhi\r\nget k\r\n", "END\r\n");
    assert.equal(r, "STORED\r\nVALUE k 5 2\r\nhi\r\nEND\r\n");
  } finally {
    await stop(child);
  }
});

/** The environment of a running process, from /proc. */
function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").filter((e) => e !== "");
  return new Map(entries.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

test("the server runs with glibc's huge-page tunable, as the same process; one the operator set is kept", async () => {
  const inherited = { ...process.env };
  delete inherited.GLIBC_TUNABLES;
  for (const [env, expected] of [[inherited, "glibc.malloc.hugetlb=1"], [{ ...inherited, GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" }, "glibc.malloc.hugetlb=0"]] as const) {
    const port = await freePort();
    const child = spawn(NODE, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1", "-L"], { stdio: "ignore", env });
    try {
      assert.equal(await ask({ port }, "version\r\n", "\r\n"), "VERSION 1.6.18\r\n");
      // Serving, under the PID it was started with: it re-executed itself, it did not fork.
      assert.equal(environOf(child.pid as number).get("GLIBC_TUNABLES"), expected);
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, "latin1").split("\0");
      assert.ok(argv[1].endsWith("src/main.ts") && argv[2] === "-p", argv.join(" "));
    } finally {
      await stop(child);
    }
  }
});

test("unix socket with -s and -a mask; logs go to the --log-destination file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcts-start-"));
  const path = join(dir, "mc.sock");
  const logFile = join(dir, "mc.log");
  const child = spawn(NODE, ["src/main.ts", "-s", path, "-a", "750", "-vv", "--log-destination", logFile], { stdio: "ignore" });
  try {
    const r = await ask({ path }, "version\r\n", "\r\n");
    assert.match(r, /^VERSION 1\.6\.\d+\r\n$/);
    assert.equal(statSync(path).mode & 0o777, 0o750);
  } finally {
    await stop(child);
  }
  const log = readFileSync(logFile, "utf8");
  assert.match(log, /listening/);
});

test("-P writes the pid file once listening and removes it at exit", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcts-pid-"));
  const pidFile = join(dir, "mc.pid");
  const port = await freePort();
  const child = spawn(NODE, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1", "-P", pidFile], { stdio: "ignore" });
  try {
    await ask({ port }, "version\r\n", "\r\n");
    assert.equal(readFileSync(pidFile, "utf8"), `${child.pid}\n`);
  } finally {
    await stop(child);
  }
  assert.equal(existsSync(pidFile), false);
});

test("refused flags exit 64 with one line on stderr", () => {
  const r = spawnSync(NODE, ["src/main.ts", "-d"], { encoding: "utf8" });
  assert.equal(r.status, 64);
  assert.match(r.stderr, /^memcached-ts: -d \(daemon\) is not supported: [^\n]*\n$/);
});

/** Waits until `file` exists and matches `re` (pino writes to a file asynchronously). */
async function waitForLog(file: string, re: RegExp): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    if (re.test(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("SIGHUP reopens the log file (after logrotate moved it); verbosity changes the log level at run time", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcts-log-"));
  const logFile = join(dir, "mc.log");
  const port = await freePort();
  const child = spawn(NODE, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1", "--log-destination", logFile], { stdio: "ignore" });
  try {
    await ask({ port }, "version\r\n", "\r\n");
    // At the default level (warn) a new connection is not logged; after `verbosity 2` (debug) it is.
    await ask({ port }, "verbosity 2\r\n", "OK\r\n");
    await ask({ port }, "version\r\n", "\r\n");
    assert.match(await waitForLog(logFile, /new client connection/), /new client connection/);
    renameSync(logFile, `${logFile}.1`);
    child.kill("SIGHUP");
    assert.match(await waitForLog(logFile, /log file reopened/), /log file reopened/);
    await ask({ port }, "verbosity 0\r\n", "OK\r\n");
  } finally {
    await stop(child);
  }
});

test("several -l: IPv4 and IPv6 listeners on one port; a repeated -l is skipped as memcached skips it", async () => {
  const port = await freePort();
  const child = spawn(NODE, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1", "-l", "[::1]", "-l", "127.0.0.1"], { stdio: "ignore" });
  try {
    assert.equal(await ask({ port }, "version\r\n", "\r\n"), "VERSION 1.6.18\r\n");
    const v6 = await new Promise<string>((resolve, reject) => {
      const s = connect(port, "::1", () => s.write("stats settings\r\n"));
      let got = "";
      s.on("error", reject);
      s.on("data", (d) => {
        got += d.toString("latin1");
        if (got.endsWith("END\r\n")) {
          s.destroy();
          resolve(got);
        }
      });
    });
    assert.match(v6, /STAT inter 127\.0\.0\.1,\[::1\]\r\n/);
  } finally {
    await stop(child);
  }
});

test("-Y: an auth file that is missing or malformed stops start-up in one line, in memcached's words", () => {
  const missing = join(mkdtempSync(join(tmpdir(), "mcts-auth-")), "users");
  const malformed = writeAuthFile("alice:secret\n\nbob:pw\n");
  const user = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  for (const [path, status, line] of [[missing, 66, "Could not open authfile [%] for reading, error "], [malformed, 65, "Authfile [%] has a malformed entry. Should be 'user:password'"]] as const) {
    const memcached = spawnSync("memcached", [...user, "-U", "0", "-p", "0", "-Y", path], { encoding: "utf8" });
    assert.equal(memcached.status, 1);
    assert.ok(memcached.stderr.startsWith(line.replace("%", path)), memcached.stderr);
    const ours = spawnSync(NODE, ["src/main.ts", "-p", "0", "-Y", path], { encoding: "utf8" });
    assert.equal(ours.status, status);
    assert.match(ours.stderr, /^memcached-ts: [^\n]+\n$/);
    assert.ok(ours.stderr.startsWith(`memcached-ts: ${line.replace("%", path)}`), ours.stderr);
  }
});

test("SIGHUP reloads the -Y file, as memcached does; a file that does not load keeps the users and logs why", async () => {
  const path = writeAuthFile("alice:old\n");
  const logFile = join(mkdtempSync(join(tmpdir(), "mcts-log-")), "mc.log");
  const [port, oraclePort] = [await freePort(), await freePort()];
  const ours = spawn(NODE, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1", "-Y", path, "-v", "--log-destination", logFile], { stdio: "ignore" });
  const user = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  const oracle = spawn("memcached", [...user, "-U", "0", "-l", "127.0.0.1", "-p", String(oraclePort), "-Y", path], { stdio: "ignore" });
  const login = (p: number, password: string): Promise<string> => ask({ port: p }, `set k 0 0 ${6 + password.length}\r\nalice ${password}\r\n`, "\r\n");
  /** What each server answers to alice's old and new passwords. */
  const answers = async (): Promise<string[]> => Promise.all([port, oraclePort].flatMap((p) => [login(p, "old"), login(p, "new")]));
  const hup = async (): Promise<void> => {
    ours.kill("SIGHUP");
    oracle.kill("SIGHUP");
    // memcached reloads at its next clock tick, within a second.
    await new Promise((r) => setTimeout(r, 1300));
  };
  const OLD = ["STORED\r\n", "CLIENT_ERROR authentication failure\r\n"];
  const NEW = ["CLIENT_ERROR authentication failure\r\n", "STORED\r\n"];
  try {
    assert.deepEqual(await answers(), [...OLD, ...OLD]);
    writeFileSync(path, "alice:new\n");
    await hup();
    assert.deepEqual(await answers(), [...NEW, ...NEW]);
    assert.match(await waitForLog(logFile, /auth file reloaded/), /auth file reloaded/);
    writeFileSync(path, "alice:newer\nbroken\n");
    await hup();
    assert.deepEqual(await answers(), [...NEW, ...NEW]);
    const log = await waitForLog(logFile, /auth file not reloaded/);
    assert.match(log, /"err":"Authfile \[[^\]]+\] has a malformed entry[^"]*","msg":"auth file not reloaded; the previous users stay"/);
  } finally {
    oracle.kill("SIGKILL");
    await stop(ours);
  }
});
