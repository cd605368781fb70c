import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import { silentLogger } from "../../src/log.ts";
import { type RunningServer, startServer } from "../../src/server/server.ts";
import { parseCli } from "../../src/settings/cli.ts";
import type { Clock } from "../../src/store/clock.ts";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function waitConnectable(port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const sock = connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve();
      });
      sock.once("error", () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 10);
      });
    };
    attempt();
  });
}

export interface TestServer {
  port: number;
  stop(): Promise<void>;
}

/** A real memcached on a free loopback port (the oracle); `env` adds to its environment. */
export async function startMemcached(args: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<TestServer> {
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const user = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
    const child: ChildProcess = spawn("memcached", [...user, "-U", "0", "-l", "127.0.0.1", "-p", String(port), ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...env },
    });
    let exited = false;
    child.once("exit", () => (exited = true));
    try {
      await waitConnectable(port, Date.now() + 5000);
    } catch (err) {
      child.kill("SIGKILL");
      if (tries < 3 && !exited) continue;
      throw err;
    }
    return {
      port,
      stop: () =>
        new Promise<void>((resolve) => {
          if (exited) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    };
  }
}

/** memcached-ts in this process on a free port, configured by memcached-style args and `env`. */
export async function startOurs(
  args: readonly string[] = [],
  clock?: Clock,
  env: Readonly<Record<string, string>> = {},
): Promise<TestServer & { server: RunningServer }> {
  const parsed = parseCli(["-p", "0", "-l", "127.0.0.1", ...args], env);
  if (parsed.kind !== "run") throw new Error("bad test args");
  const server = await startServer(parsed.settings, silentLogger(), { clock });
  return { port: server.port, server, stop: () => server.close() };
}
