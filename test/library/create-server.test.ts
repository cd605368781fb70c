import assert from "node:assert/strict";
import { test } from "node:test";
import { SettingsError, createServer } from "../../src/index.ts";
import { RawClient, talk } from "../oracle/client.ts";
import { UdpClient, frame, freeUdpPort, waitUdp } from "../oracle/udp.ts";

test("createServer starts on a free port with the CLI's options in camelCase, and close() ends it", async () => {
  const server = await createServer({ port: 0, listen: "127.0.0.1", memoryLimit: "16m", maxItemSize: "2m", disableFlush: true, verbose: 0 });
  assert.ok(server.port > 0);
  assert.equal(await talk(server.port, "set k 0 0 2\r\nhi\r\nget k\r\nflush_all\r\n"), "STORED\r\nVALUE k 0 2\r\nhi\r\nEND\r\nCLIENT_ERROR flush_all not allowed\r\n");
  assert.match(await talk(server.port, "stats settings\r\n"), /STAT maxbytes 16777216\r\n[\s\S]*STAT item_size_max 2097152\r\n/);
  const open = new RawClient(server.port);
  await open.send("version\r\n");
  await open.settle(40);
  await server.close();
  await server.stopped;
  await open.settle(40);
  assert.equal(open.closed, true);
});

test("two servers in one process share nothing", async () => {
  const a = await createServer({ port: 0, listen: "127.0.0.1" });
  const b = await createServer({ port: 0, listen: "127.0.0.1" });
  try {
    assert.notEqual(a.port, b.port);
    await talk(a.port, "set only-a 0 0 1\r\na\r\n");
    assert.equal(await talk(b.port, "get only-a\r\n"), "END\r\n");
    assert.equal(await talk(a.port, "get only-a\r\n"), "VALUE only-a 0 1\r\na\r\nEND\r\n");
    assert.match(await talk(b.port, "stats\r\n"), /STAT curr_items 0\r\n/);
  } finally {
    await a.close();
    await b.close();
  }
});

test("a bad option is refused with the CLI's message", async () => {
  await assert.rejects(createServer({ port: 0, memoryLimit: "lots" }), (err) => err instanceof SettingsError && /memory-limit/.test(err.message));
  // @ts-expect-error: not an option
  await assert.rejects(createServer({ colour: "blue" }), SettingsError);
});

test("udpPort serves memcached's UDP protocol too; close() closes its socket", async () => {
  const udpPort = await freeUdpPort();
  const server = await createServer({ port: 0, listen: "127.0.0.1", udpPort });
  const client = new UdpClient();
  try {
    await waitUdp(udpPort);
    await client.send(udpPort, frame(42, "set k 0 0 2\r\nhi\r\nget k\r\n"));
    await client.settle();
    assert.deepEqual(client.take().map((d) => `${d.id} ${d.seq}/${d.count} ${d.payload.toString("latin1")}`), ["42 0/1 STORED\r\n", "42 0/1 VALUE k 0 2\r\nhi\r\nEND\r\n"]);
  } finally {
    client.close();
    await server.close();
  }
  const again = await createServer({ port: 0, listen: "127.0.0.1", udpPort });
  await again.close();
});
