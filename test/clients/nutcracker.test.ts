/**
 * Scale-out: three memcached-ts with persistence (`--sync always`) behind twemproxy (nutcracker,
 * ketama over fnv1a_64, no host ejection), the configuration docs/scaling.md describes. A client
 * works through the proxy; one node is SIGKILLed and restarted on its port with its directory:
 * the other two answer throughout, and the restarted one comes back with its keys (no cold shard).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { MemcacheClient, type MultiRetrievalResponse } from "memcache-client";
import { freePort, waitConnectable } from "../oracle/servers.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const nutcracker = ["/usr/sbin/nutcracker", "nutcracker"].find((c) => spawnSync(c, ["-V"], { stdio: "ignore" }).status === 0);
const work = mkdtempSync(join(tmpdir(), "mcts-fleet-"));
const running = new Set<ChildProcess>();

interface Node {
  name: string;
  port: number;
  dir: string;
  child: ChildProcess;
}
const nodes: Node[] = [];
let proxyPort = 0;
let proxy: MemcacheClient;

/** Spawns a process that after() kills by PID if it is still running. */
function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", () => r()));
}

/** Starts memcached-ts as its own process on `port`, persisting to `dir`; resolves once it listens. */
async function startNode(port: number, dir: string): Promise<ChildProcess> {
  const child = track(
    spawn(process.execPath, ["src/main.ts", "-p", String(port), "-l", "127.0.0.1", "--aof", dir, "--sync", "always"], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
    }),
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const died = exited(child).then(() => {
    throw new Error(`memcached-ts on ${port} exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
  });
  await Promise.race([waitConnectable(port, Date.now() + 20000), died]);
  return child;
}

before(async () => {
  if (!nutcracker) throw new Error('nutcracker (twemproxy) is not installed; run "bash .ci/run --deps" as root (Debian nutcracker)');
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const dir = join(work, `node${i}`);
    nodes.push({ name: `node${i}`, port, dir, child: await startNode(port, dir) });
  }
  proxyPort = await freePort();
  const statsPort = await freePort();
  // Named servers: ketama places a node by its name, so the ring survives an address change.
  const config = [
    "fleet:",
    `  listen: 127.0.0.1:${proxyPort}`,
    "  hash: fnv1a_64",
    "  distribution: ketama",
    "  timeout: 2000",
    "  auto_eject_hosts: false",
    "  servers:",
    ...nodes.map((n) => `    - 127.0.0.1:${n.port}:1 ${n.name}`),
    "",
  ].join("\n");
  writeFileSync(join(work, "nutcracker.yml"), config);
  const logFile = join(work, "nutcracker.log");
  const conf = join(work, "nutcracker.yml");
  const args = ["-c", conf, "-o", logFile, "-s", String(statsPort), "-a", "127.0.0.1"];
  const proc = track(spawn(nutcracker, args, { stdio: "ignore" }));
  await Promise.race([
    waitConnectable(proxyPort, Date.now() + 10000),
    exited(proc).then(() => {
      throw new Error(`nutcracker exited: ${readFileSync(logFile, "utf8")}`);
    }),
  ]);
  proxy = new MemcacheClient({ server: `127.0.0.1:${proxyPort}`, cmdTimeout: 5000 });
});

after(async () => {
  proxy?.shutdown();
  for (const child of running) child.kill("SIGKILL");
  await Promise.all([...running].map(exited));
  rmSync(work, { recursive: true, force: true });
});

const N = 300;
const keyOf = (i: number): string => `fleet:${i}`;
const valueOf = (i: number): string => `value-${i}-${"x".repeat(i % 50)}`;
const deleted = (i: number): boolean => i % 10 === 0;
const counterOf = (i: number): string => `hits:${i}`;

async function getMany(client: MemcacheClient, keys: readonly string[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const got = await client.get<MultiRetrievalResponse<string>>([...keys]);
  return new Map(Object.entries(got).map(([k, v]) => [k, String(v.value)]));
}

/** Which node holds each key, asked of every node directly. */
async function owners(keys: readonly string[]): Promise<Map<string, Node>> {
  const owner = new Map<string, Node>();
  for (const node of nodes) {
    const direct = new MemcacheClient({ server: `127.0.0.1:${node.port}`, cmdTimeout: 5000 });
    try {
      for (const k of (await getMany(direct, keys)).keys()) {
        assert.equal(owner.get(k), undefined, `${k} is on two nodes`);
        owner.set(k, node);
      }
    } finally {
      direct.shutdown();
    }
  }
  return owner;
}

/** What the proxy answers for `keys`: values, deletions and counters as the script left them. */
async function expectIntact(indexes: readonly number[], why: string): Promise<void> {
  const values = await getMany(proxy, indexes.map(keyOf));
  for (const i of indexes) assert.equal(values.get(keyOf(i)), deleted(i) ? undefined : valueOf(i), `${keyOf(i)} ${why}`);
  const counters = await getMany(proxy, indexes.map(counterOf));
  for (const i of indexes) assert.equal(counters.get(counterOf(i)), String(1000 + i), `${counterOf(i)} ${why}`);
}

test("through twemproxy: set, get, multi-get, delete and incr over three memcached-ts; a SIGKILLed node restarts with its keys", async () => {
  const all = Array.from({ length: N }, (_, i) => i);
  // Pipelined, as an application's concurrent requests would be (and group-committed by the nodes).
  const stored = await Promise.all(all.flatMap((i) => [proxy.set(keyOf(i), valueOf(i)), proxy.set(counterOf(i), "1000")]));
  assert.ok(stored.every((r) => r[0] === "STORED"));
  assert.deepEqual(await Promise.all(all.map((i) => proxy.incr(counterOf(i), i))), all.map((i) => String(1000 + i)));
  const dels = await Promise.all(all.filter(deleted).map((i) => proxy.delete(keyOf(i))));
  assert.ok(dels.every((r) => r[0] === "DELETED"));
  assert.equal((await proxy.get<string>(keyOf(7)))?.value, valueOf(7));
  await expectIntact(all, "through the proxy before any failure");

  // Ketama spread the keys over every node, each on exactly one.
  const owner = await owners([...all.filter((i) => !deleted(i)).map(keyOf), ...all.map(counterOf)]);
  assert.equal(owner.size, N - all.filter(deleted).length + N);
  const victim = nodes[0];
  for (const node of nodes) assert.ok([...owner.values()].some((n) => n === node), `${node.name} holds no key`);
  // A key's value and its counter may live on different nodes: an index survives when neither is
  // on the victim (a deleted key's node is unknown, so deleted indexes wait for the restart).
  const survives = (i: number): boolean => !deleted(i) && owner.get(counterOf(i)) !== victim && owner.get(keyOf(i)) !== victim;
  const victimKeys = all.filter((i) => owner.get(keyOf(i)) === victim);
  const survivors = all.filter(survives);
  assert.ok(victimKeys.length > 0 && survivors.length > 0);

  victim.child.kill("SIGKILL");
  await exited(victim.child);

  // The other two answer as before; the victim's keys fail (no ejection, so no silent rehash).
  await expectIntact(survivors, "while a node is down");
  await assert.rejects(proxy.get(keyOf(victimKeys[0])), /SERVER_ERROR|ERROR/);
  const writable = survivors[0];
  assert.deepEqual(await proxy.set(keyOf(writable), valueOf(writable)), ["STORED"], "a surviving node takes writes");

  const restarting = startNode(victim.port, victim.dir);
  await expectIntact(survivors, "while the node restarts");
  victim.child = await restarting;

  // The restarted node has its keys back, read through the proxy (which reconnects on demand).
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      await expectIntact(all, "after the node restarted with its persistence directory");
      break;
    } catch (err) {
      if (Date.now() > deadline || err instanceof assert.AssertionError) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
