import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MemcacheClient } from "memcache-client";
import { type TestServer, startOurs } from "../oracle/servers.ts";

let server: TestServer;
let client: MemcacheClient;

before(async () => {
  server = await startOurs();
  client = new MemcacheClient({ server: `127.0.0.1:${server.port}`, cmdTimeout: 2000 });
});
after(async () => {
  client.shutdown();
  await server.stop();
});

test("memcache-client: set/get/gets/cas/incr/decr/touch/delete/multi-get", async () => {
  assert.deepEqual(await client.set("a", "alpha"), ["STORED"]);
  assert.equal((await client.get<string>("a"))?.value, "alpha");
  const g = await client.gets<string>("a");
  assert.match(String(g?.casUniq), /^\d+$/);
  assert.deepEqual(await client.cas("a", "beta", { casUniq: g?.casUniq as number }), ["STORED"]);
  await assert.rejects(client.cas("a", "gamma", { casUniq: g?.casUniq as number }));
  assert.equal((await client.get<string>("a"))?.value, "beta");
  await client.set("n", "10");
  assert.equal(await client.incr("n", 5), "15");
  assert.equal(await client.decr("n", 20), "0");
  assert.deepEqual(await client.touch("a", "100"), ["TOUCHED"]);
  await client.set("b", "bee");
  const multi = (await client.get<string>(["a", "b", "missing"])) as unknown as Record<string, { value: string } | undefined>;
  assert.equal(multi.a?.value, "beta");
  assert.equal(multi.b?.value, "bee");
  assert.equal(multi.missing, undefined);
  assert.deepEqual(await client.delete("a"), ["DELETED"]);
  assert.equal(await client.get("a"), undefined);
});
