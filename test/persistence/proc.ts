/**
 * Process-level helpers for the persistence fault tests: memcached-ts as a child process
 * (so it can be SIGKILLed like a crash), a small pipelining text-protocol client, and the
 * digest of a whole store.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { type Socket, connect } from "node:net";
import { freePort } from "../oracle/servers.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** Every child started here, so an after() hook can kill whatever is left. */
const children = new Set<ChildProcess>();

/** SIGKILLs every server child still running (for after() hooks). */
export async function killAllChildren(): Promise<void> {
  const kill = (c: ChildProcess): Promise<void> =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => {
          c.once("exit", () => resolve());
          c.kill("SIGKILL");
        });
  await Promise.all([...children].map(kill));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServerProcess {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stderr = "";

  constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.child = child;
    child.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString("utf8")));
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        children.delete(child);
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL, a crash: resolves once the process is gone. */
  async kill9(): Promise<void> {
    if (this.running) this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM, a graceful stop: resolves with how it exited. */
  async term(): Promise<Exit> {
    if (this.running) this.child.kill("SIGTERM");
    return this.exited;
  }
}

/** Spawns memcached-ts on a free port (the child of Node 24 that runs this test). */
export function spawnServer(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ port: number; proc: ServerProcess }> {
  return freePort().then((port) => {
    const child = spawn(process.execPath, [MAIN, "-p", String(port), "-l", "127.0.0.1", ...args], { stdio: ["ignore", "ignore", "pipe"], env: env ?? process.env });
    children.add(child);
    return { port, proc: new ServerProcess(port, child) };
  });
}

/**
 * Starts memcached-ts and waits until it listens; throws (with its stderr) if it exits
 * first. The port is free when chosen, but a server another test starts meanwhile (on port 0)
 * may take it before this one binds it: what answers there must report this child's pid, or
 * the child is stopped and started again on another port.
 */
export async function startServer(args: readonly string[], env?: NodeJS.ProcessEnv, timeoutMs = 15000, tries = 3): Promise<ServerProcess> {
  const { proc } = await spawnServer(args, env);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running) {
      const e = await proc.exited;
      throw new Error(`server exited (${e.code ?? e.signal}) before listening: ${proc.stderr}`);
    }
    if (await connectable(proc.port)) {
      const pid = await pidOn(proc.port);
      if (pid === proc.pid || pid < 0) return proc;
      await proc.kill9();
      if (tries <= 1) throw new Error(`another server answered on port ${proc.port} each time`);
      return startServer(args, env, timeoutMs, tries - 1);
    }
    if (Date.now() > deadline) {
      await proc.kill9();
      throw new Error(`server did not listen on ${proc.port} within ${timeoutMs} ms: ${proc.stderr}`);
    }
    await sleep(10);
  }
}

/** The pid the server on `port` reports in `stats`, or -1 if it does not say (then it is taken on trust). */
async function pidOn(port: number): Promise<number> {
  try {
    const c = await Client.open(port);
    try {
      const m = /\r\nSTAT pid (\d+)\r\n/.exec(`\r\n${await c.request("stats\r\n", "stats")}`);
      return m === null ? -1 : Number(m[1]);
    } finally {
      c.close();
    }
  } catch {
    return -1;
  }
}

function connectable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/** Runs a server that should refuse to start; resolves with its exit and stderr. */
export async function runRefused(args: readonly string[], timeoutMs = 15000): Promise<{ exit: Exit; stderr: string }> {
  const { proc } = await spawnServer(args);
  const timer = setTimeout(() => void proc.kill9(), timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  return { exit, stderr: proc.stderr };
}

/** `memcached-ts check PATH`: exit status and output. */
export function runCheck(path: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [MAIN, "check", path], { encoding: "utf8", timeout: 20000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

type ReplyKind = "line" | "values" | "stats" | "meta";

interface Pending {
  kind: ReplyKind;
  resolve: (reply: string) => void;
  reject: (err: Error) => void;
}

/**
 * A text-protocol client that pipelines: each request names the shape of its reply, and
 * replies resolve in order. A closed connection rejects whatever is still pending.
 */
export class Client {
  private readonly socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];
  private readonly ready: Promise<void>;
  closed = false;
  private closeError: Error = new Error("connection closed");

  constructor(port: number) {
    this.socket = connect({ port, host: "127.0.0.1", noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
    this.ready.catch(() => {});
    this.socket.on("data", (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.parse();
    });
    this.socket.on("error", (err) => (this.closeError = err));
    this.socket.on("close", () => {
      this.closed = true;
      for (const p of this.pending.splice(0)) p.reject(this.closeError);
    });
  }

  static async open(port: number): Promise<Client> {
    const c = new Client(port);
    await c.ready;
    return c;
  }

  /**
   * Sends `text` and resolves with the reply (of the given shape) it gets. A reply that takes
   * over `timeoutMs` fails the request and closes the connection (later replies could no
   * longer be matched to requests), so that a hung server shows as an error, not a timeout.
   */
  request(text: string | Buffer, kind: ReplyKind = "line", timeoutMs = 15000): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(this.closeError);
      const timer = setTimeout(() => {
        this.closeError = new Error(`no reply within ${timeoutMs} ms to ${JSON.stringify(String(text).slice(0, 60))}`);
        this.socket.destroy();
      }, timeoutMs);
      const done = (): void => clearTimeout(timer);
      this.pending.push({
        kind,
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.socket.write(text);
    });
  }

  set(key: string, value: string, flags = 0, exptime = 0): Promise<string> {
    return this.request(`set ${key} ${flags} ${exptime} ${Buffer.byteLength(value)}\r\n${value}\r\n`);
  }

  /** `get`/`gets` of some keys: key -> the VALUE line's fields after the key, and the value. */
  async gets(keys: readonly string[]): Promise<Map<string, { flags: number; cas: string; value: string }>> {
    const out = new Map<string, { flags: number; cas: string; value: string }>();
    if (keys.length === 0) return out;
    const reply = await this.request(`gets ${keys.join(" ")}\r\n`, "values");
    for (const v of parseValues(reply)) out.set(v.key, { flags: v.flags, cas: v.cas, value: v.value });
    return out;
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): void {
    for (;;) {
      const p = this.pending[0];
      if (p === undefined) return;
      const end = replyEnd(this.buf, p.kind);
      if (end < 0) return;
      const reply = this.buf.toString("latin1", 0, end);
      this.buf = this.buf.subarray(end);
      this.pending.shift();
      p.resolve(reply);
    }
  }
}

/** Where the first complete reply of this shape ends in `b`, or -1. */
function replyEnd(b: Buffer, kind: ReplyKind): number {
  let pos = 0;
  for (;;) {
    const nl = b.indexOf("\r\n", pos, "latin1");
    if (nl < 0) return -1;
    // metadump lines end in a bare \n: only what follows the last one counts.
    const line = b.toString("latin1", Math.max(pos, b.lastIndexOf(10, nl) + 1), nl);
    const next = nl + 2;
    if (kind === "line") return next;
    if (line.startsWith("SERVER_ERROR") || line.startsWith("CLIENT_ERROR") || line === "ERROR" || line.startsWith("BUSY ")) return next;
    if (kind === "meta") {
      if (!line.startsWith("VA ")) return next;
      const len = Number(line.split(" ")[1]);
      return b.length >= next + len + 2 ? next + len + 2 : -1;
    }
    if (line === "END") return next;
    if (kind === "values" && line.startsWith("VALUE ")) {
      const len = Number(line.split(" ")[3]);
      if (b.length < next + len + 2) return -1;
      pos = next + len + 2;
      continue;
    }
    pos = next;
  }
}

export interface Value {
  key: string;
  flags: number;
  cas: string;
  value: string;
}

/** The VALUE blocks of a get/gets reply. */
export function parseValues(reply: string): Value[] {
  const out: Value[] = [];
  let pos = 0;
  for (;;) {
    const nl = reply.indexOf("\r\n", pos);
    if (nl < 0) break;
    const line = reply.slice(pos, nl);
    if (!line.startsWith("VALUE ")) break;
    const [, key, flags, len, cas] = line.split(" ");
    const value = reply.slice(nl + 2, nl + 2 + Number(len));
    out.push({ key, flags: Number(flags), cas: cas ?? "", value });
    pos = nl + 2 + Number(len) + 2;
  }
  return out;
}

/** `stats persistence` as a map. */
export async function persistenceStats(c: Client): Promise<Map<string, string>> {
  const reply = await c.request("stats persistence\r\n", "stats");
  const m = new Map<string, string>();
  for (const line of reply.split("\r\n")) {
    const f = line.split(" ");
    if (f[0] === "STAT") m.set(f[1], f.slice(2).join(" "));
  }
  return m;
}

/**
 * The whole store, in a comparable form: one line per live item, sorted, with what the
 * crawler's metadump says of it (exptime, CAS, size) and what `gets` returns (flags, CAS,
 * value). Access times and fetch bits are left out: reading changes them and they are not
 * persisted. `exp=` is absolute, so two digests taken seconds apart agree.
 */
export async function digest(port: number): Promise<string[]> {
  const c = await Client.open(port);
  try {
    // The crawler may be busy (an autocrawl after start-up): metadump answers BUSY then.
    let dump = await c.request("lru_crawler metadump all\r\n", "stats");
    for (let tries = 0; dump.startsWith("BUSY ") && tries < 200; tries++) {
      await sleep(25);
      dump = await c.request("lru_crawler metadump all\r\n", "stats");
    }
    if (!dump.endsWith("END\r\n")) throw new Error(`metadump: ${dump.slice(0, 200)}`);
    const meta = new Map<string, string>();
    for (const line of dump.split("\n")) {
      const m = /^key=(\S+) exp=(\S+) la=\S+ cas=(\S+) fetch=\S+ cls=\S+ size=(\S+)/.exec(line);
      if (m !== null) meta.set(decodeURIComponent(m[1]), `exp=${m[2]} cas=${m[3]} size=${m[4]}`);
    }
    const keys = [...meta.keys()].sort();
    const out: string[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      const got = await c.gets(keys.slice(i, i + 100));
      for (const k of keys.slice(i, i + 100)) {
        const v = got.get(k);
        out.push(v === undefined ? `${k} ${meta.get(k)} (gone at get)` : `${k} ${meta.get(k)} flags=${v.flags} gets-cas=${v.cas} value=${v.value}`);
      }
    }
    return out;
  } finally {
    c.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
