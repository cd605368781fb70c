import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, waitConnectable } from "../../test/oracle/servers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A server process this script started, on a free loopback port. */
export interface BenchServer {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
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

async function start(name: string, cmd: string, args: (port: number) => string[]): Promise<BenchServer> {
  killAllOnExit();
  const port = await freePort();
  const child = spawn(cmd, args(port), { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  live.add(child);
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => live.delete(child));
  const stop = async (): Promise<void> => {
    if (live.has(child)) child.kill("SIGKILL");
    await exited;
  };
  try {
    await Promise.race([
      waitConnectable(port, Date.now() + 10_000),
      exited.then(() => Promise.reject(new Error(`exited during start-up`))),
    ]);
  } catch (err) {
    await stop();
    throw new Error(`${name} (${cmd} ${args(port).join(" ")}) did not start: ${(err as Error).message}\n${stderr}`);
  }
  if (child.pid === undefined) throw new Error(`${name}: no pid`);
  return { name, pid: child.pid, port, stop };
}

/** memcached-ts as `node src/main.ts` with memcached-style flags (-m, -c, ...). */
export function startOurs(args: readonly string[] = [], name = "memcached-ts"): Promise<BenchServer> {
  return start(name, `${ROOT}node_modules/.bin/node`, (p) => ["src/main.ts", "-p", String(p), "-l", "127.0.0.1", ...args]);
}

/** The reference memcached with the given flags (-t, -m, ...). */
export function startMemcached(args: readonly string[] = [], name = `memcached ${args.join(" ")}`.trim()): Promise<BenchServer> {
  const user = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  return start(name, "memcached", (p) => [...user, "-U", "0", "-l", "127.0.0.1", "-p", String(p), ...args]);
}
