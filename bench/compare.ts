import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { connect } from "node:net";
import { freePort } from "../test/oracle/servers.ts";

/**
 * Runs the same load (bench/load.ts, in its own process) against memcached-ts and memcached
 * -t 1 / -t 2, each started here on a free port and stopped after. Args after `--` go to load.ts.
 */
const NODE = "node_modules/.bin/node";
const seconds = process.env.BENCH_SECONDS ?? "10";
const loadArgs = process.argv.slice(2);

function connectable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function withServer(cmd: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: "ignore" });
  const deadline = Date.now() + 10000;
  while (!(await connectable(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${cmd} did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

const targets: { name: string; cmd: string; args: (p: number) => string[] }[] = [
  { name: "memcached-ts", cmd: NODE, args: (p) => ["src/main.ts", "-p", String(p), "-l", "127.0.0.1"] },
  { name: "memcached -t 1", cmd: "memcached", args: (p) => ["-u", "nobody", "-U", "0", "-l", "127.0.0.1", "-t", "1", "-p", String(p)] },
  { name: "memcached -t 2", cmd: "memcached", args: (p) => ["-u", "nobody", "-U", "0", "-l", "127.0.0.1", "-t", "2", "-p", String(p)] },
];
const results: { name: string; opsPerSec: number; p50: number; p99: number; p999: number }[] = [];
for (const t of targets) {
  const port = await freePort();
  const child = await withServer(t.cmd, t.args(port), port);
  try {
    const out = execFileSync(NODE, ["bench/load.ts", "--port", String(port), "--seconds", seconds, ...loadArgs], { encoding: "utf8", timeout: (Number(seconds) + 30) * 1000 });
    results.push({ name: t.name, ...(JSON.parse(out) as { opsPerSec: number; p50: number; p99: number; p999: number }) });
  } finally {
    child.kill("SIGKILL");
  }
}
const base = results[0];
console.log("target            ops/s   p50us   p99us  p99.9us  ts/this(ops)");
for (const r of results) {
  console.log(`${r.name.padEnd(15)} ${String(r.opsPerSec).padStart(8)} ${r.p50.toFixed(0).padStart(7)} ${r.p99.toFixed(0).padStart(7)} ${r.p999.toFixed(0).padStart(8)}  ${(base.opsPerSec / r.opsPerSec).toFixed(2)}`);
}
