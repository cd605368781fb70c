import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import Memcached from "memcached";
import { type TestServer, startOurs } from "../oracle/servers.ts";

let server: TestServer;
let client: Memcached;

before(async () => {
  server = await startOurs();
  client = new Memcached(`127.0.0.1:${server.port}`, { retries: 0, timeout: 2000 });
});
after(async () => {
  client.end();
  await server.stop();
});

function call<T>(fn: (cb: (err: unknown, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err as Error) : resolve(v))));
}

test("npm memcached: set/get/gets/cas/incr/decr/touch/delete/multi-get", async () => {
  assert.equal(await call<boolean>((cb) => client.set("a", "alpha", 60, cb)), true);
  assert.equal(await call<unknown>((cb) => client.get("a", cb)), "alpha");
  const g = await call<Record<string, unknown> & { cas: string }>((cb) => client.gets("a", cb as never));
  assert.equal(g.a, "alpha");
  assert.match(g.cas, /^\d+$/);
  assert.equal(await call<boolean>((cb) => client.cas("a", "beta", g.cas, 60, cb)), true);
  assert.equal(await call<boolean>((cb) => client.cas("a", "gamma", g.cas, 60, cb)), false);
  assert.equal(await call<unknown>((cb) => client.get("a", cb)), "beta");
  await call<boolean>((cb) => client.set("n", 10, 60, cb));
  assert.equal(await call<unknown>((cb) => client.incr("n", 5, cb)), 15);
  assert.equal(await call<unknown>((cb) => client.decr("n", 20, cb)), 0);
  assert.equal(await call<boolean>((cb) => client.touch("a", 100, cb as never)), true);
  await call<boolean>((cb) => client.set("b", "bee", 60, cb));
  assert.deepEqual(await call<Record<string, unknown>>((cb) => client.getMulti(["a", "b", "missing"], cb)), { a: "beta", b: "bee" });
  assert.equal(await call<boolean>((cb) => client.del("a", cb)), true);
  assert.equal(await call<unknown>((cb) => client.get("a", cb)), undefined);
});
