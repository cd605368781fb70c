import assert from "node:assert/strict";
import { test } from "node:test";
import { RawClient } from "../oracle/client.ts";
import { startOurs } from "../oracle/servers.ts";

const statLine = (stats: string, name: string): string | undefined => new RegExp(`STAT ${name} (\\S+)\\r\\n`).exec(stats)?.[1];

/**
 * Seen on memcached 1.6.18 with the same flags: three clients are served (one more than with
 * maxconns_fast), the fourth waits unanswered until one leaves. (memcached then calls listen()
 * with a backlog of 0, so the waiting client's connect itself stalls; the differential harness
 * cannot play that, hence a test against ours only.)
 */
test("-o no_maxconns_fast: a client over -c waits until another leaves; listen_disabled_num counts", async () => {
  const ours = await startOurs(["-c", "26", "-o", "no_maxconns_fast"]);
  const clients = [0, 1, 2, 3, 4].map(() => new RawClient(ours.port));
  try {
    for (const c of clients) await c.send("version\r\n");
    for (const c of clients) await c.settle(100);
    assert.deepEqual(clients.map((c) => c.take().toString("latin1")), ["VERSION 1.6.18\r\n", "VERSION 1.6.18\r\n", "VERSION 1.6.18\r\n", "", ""]);
    await clients[0].send("stats\r\n");
    await clients[0].settle(100);
    const stats = clients[0].take().toString("latin1");
    assert.equal(statLine(stats, "accepting_conns"), "0");
    assert.equal(statLine(stats, "listen_disabled_num"), "1");
    assert.equal(statLine(stats, "rejected_connections"), undefined, "memcached prints it only with maxconns_fast");
    await clients[1].send("quit\r\n");
    await clients[3].settle(300);
    assert.equal(clients[3].take().toString("latin1"), "VERSION 1.6.18\r\n", "the first waiting client gets the freed slot");
    assert.equal(clients[4].take().toString("latin1"), "");
    await clients[0].send("stats\r\n");
    await clients[0].settle(100);
    const after = clients[0].take().toString("latin1");
    // Accepting resumed for the freed slot and stopped again at once: one more client still waits.
    assert.equal(statLine(after, "listen_disabled_num"), "2");
    assert.ok(Number(statLine(after, "time_in_listen_disabled_us")) > 0);
  } finally {
    for (const c of clients) c.close();
    await ours.stop();
  }
});

test("-c with maxconns_fast (the default): the client over the limit is refused and counted", async () => {
  const ours = await startOurs(["-c", "26"]);
  const clients = [0, 1, 2].map(() => new RawClient(ours.port));
  try {
    for (const c of clients) await c.send("version\r\n");
    for (const c of clients) await c.settle(100);
    assert.equal(clients[2].take().toString("latin1"), "ERROR Too many open connections\r\n");
    await clients[0].send("stats\r\n");
    await clients[0].settle(100);
    const stats = clients[0].take().toString("latin1");
    assert.equal(statLine(stats, "rejected_connections"), "1");
    assert.equal(statLine(stats, "listen_disabled_num"), "0");
    assert.equal(statLine(stats, "accepting_conns"), "1");
  } finally {
    for (const c of clients) c.close();
    await ours.stop();
  }
});
