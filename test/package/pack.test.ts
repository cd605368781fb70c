import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { RawClient } from "../oracle/client.ts";
import { freePort, waitConnectable } from "../oracle/servers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "mcts-pack-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** npm as this test's Node runs it (the pinned Node 24 first on PATH). */
function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, ...env },
  });
}

test("the packed tarball installs in an empty project and runs on the oldest Node that engines names", { timeout: 240_000 }, async () => {
  npm(["pack", "--pack-destination", work], ROOT);
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball !== undefined, "npm pack made a tarball");
  const project = join(work, "project");
  execFileSync("mkdir", ["-p", project]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", type: "module", private: true }));
  // Node 22 (engines: >=22) from the registry, used below instead of whatever node is on PATH.
  npm(["install", join(work, tarball), "node@22"], project);
  const bin = join(project, "node_modules", ".bin");
  const env = { ...process.env, PATH: `${bin}:/usr/bin:/bin` };
  assert.match(execFileSync(join(bin, "node"), ["--version"], { encoding: "utf8" }), /^v22\./);

  // npx memcached-ts: the bin resolves its own files through the .bin symlink.
  assert.match(execFileSync("npx", ["--no-install", "memcached-ts", "--version"], { cwd: project, env, encoding: "utf8" }), /^memcached-ts \d+\.\d+\.\d+ \(memcached 1\.6\.18 protocol\)\n$/);
  const port = await freePort();
  const child = spawn(join(bin, "memcached-ts"), ["-p", String(port), "-l", "127.0.0.1"], { cwd: project, env, stdio: "ignore" });
  try {
    await waitConnectable(port, Date.now() + 20_000);
    const c = new RawClient(port);
    await c.send("set k 0 0 2\r\nok\r\nget k\r\n");
    await c.settle(50);
    assert.equal(c.take().toString(), "STORED\r\nVALUE k 0 2\r\nok\r\nEND\r\n");
    c.close();
  } finally {
    child.kill("SIGKILL");
  }

  // As a library, with its types.
  writeFileSync(
    join(project, "use.mjs"),
    `import { createServer } from "memcached-ts";
     const s = await createServer({ port: 0, listen: "127.0.0.1" });
     console.log(typeof s.port === "number" && s.port > 0 ? "listening" : "no port");
     await s.close();`,
  );
  assert.equal(execFileSync(join(bin, "node"), ["use.mjs"], { cwd: project, env, encoding: "utf8" }), "listening\n");
  const types = readdirSync(join(project, "node_modules", "memcached-ts", "dist")).filter((f) => f === "index.d.ts");
  assert.deepEqual(types, ["index.d.ts"]);
});
