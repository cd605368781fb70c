import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, waitConnectable } from "../../test/oracle/servers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A server process this script started, on a free loopback port. */
export interface BenchServer {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Milliseconds from spawn until the port accepted a connection (polled every 10 ms). */
  readonly startMs: number;
  /** SIGKILL: the data it holds does not matter. */
  stop(): Promise<void>;
  /**
   * SIGTERM, for a graceful stop (a persistent server writes and fsyncs its log); SIGKILL if it
   * has not exited within `timeoutMs`. Resolves with the exit code (null if killed by a signal).
   */
  terminate(timeoutMs?: number): Promise<number | null>;
}

export interface StartOptions {
  /** How long start-up (a persistent server's recovery included) may take (10 s). */
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** Whatever happens to the script (error, Ctrl-C, normal end), no server it started outlives it. */
function killAllOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const c of live) c.kill("SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping servers\n`);
      process.exit(130);
    });
  }
}

async function start(name: string, cmd: string, args: (port: number) => string[], options: StartOptions = {}, cwd = ROOT): Promise<BenchServer> {
  killAllOnExit();
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(cmd, args(port), { cwd, stdio: ["ignore", "ignore", "pipe"] });
  live.add(child);
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.once("exit", () => live.delete(child));
  const stop = async (): Promise<void> => {
    if (live.has(child)) child.kill("SIGKILL");
    await exited;
  };
  const terminate = async (timeoutMs = 60_000): Promise<number | null> => {
    if (live.has(child)) child.kill("SIGTERM");
    const timer = setTimeout(() => void stop(), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await Promise.race([
      waitConnectable(port, Date.now() + (options.timeoutMs ?? 10_000)),
      exited.then(() => Promise.reject(new Error(`exited during start-up`))),
    ]);
  } catch (err) {
    await stop();
    throw new Error(`${name} (${cmd} ${args(port).join(" ")}) did not start: ${(err as Error).message}\n${stderr}`);
  }
  const startMs = performance.now() - t0;
  if (child.pid === undefined) throw new Error(`${name}: no pid`);
  return { name, pid: child.pid, port, startMs, stop, terminate };
}

/** memcached-ts as `node src/main.ts` with memcached-style flags (-m, -c, ...). */
export function startOurs(args: readonly string[] = [], name = "memcached-ts", options: StartOptions = {}): Promise<BenchServer> {
  return start(name, `${ROOT}node_modules/.bin/node`, (p) => ["src/main.ts", "-p", String(p), "-l", "127.0.0.1", ...args], options);
}

/**
 * memcached-ts from another checkout (`root`, say a git worktree of an older commit), run by
 * this repository's Node with `nodeFlags` before the script: the variants bench/ab.ts compares.
 */
export function startCheckout(root: string, nodeFlags: readonly string[], args: readonly string[], name: string): Promise<BenchServer> {
  return start(name, `${ROOT}node_modules/.bin/node`, (p) => [...nodeFlags, "src/main.ts", "-p", String(p), "-l", "127.0.0.1", ...args], {}, root);
}

/** A Node script of this repository taking `-p PORT` and `args` (bench/lib/floor-server.ts). */
export function startScript(script: string, name: string, args: readonly string[] = []): Promise<BenchServer> {
  return start(name, `${ROOT}node_modules/.bin/node`, (p) => [script, "-p", String(p), ...args]);
}

/** The reference memcached with the given flags (-t, -m, ...). */
export function startMemcached(args: readonly string[] = [], name = `memcached ${args.join(" ")}`.trim()): Promise<BenchServer> {
  const user = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  return start(name, "memcached", (p) => [...user, "-U", "0", "-l", "127.0.0.1", "-p", String(p), ...args]);
}
