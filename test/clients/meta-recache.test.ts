import assert from "node:assert/strict";
import { type Socket, connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { type TestServer, startMemcached, startOurs } from "../oracle/servers.ts";

/** A minimal meta-protocol client, as a recaching client library would drive it. */
class MetaClient {
  private readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | null = null;

  constructor(port: number) {
    this.socket = connect({ port, host: "127.0.0.1", noDelay: true });
    this.socket.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiting?.();
    });
  }

  private async line(): Promise<string> {
    for (;;) {
      const nl = this.buf.indexOf("\r\n");
      if (nl >= 0) {
        const s = this.buf.subarray(0, nl).toString("latin1");
        this.buf = this.buf.subarray(nl + 2);
        return s;
      }
      await new Promise<void>((r) => (this.waiting = r));
    }
  }

  /** Sends one command and returns its status line tokens and, for VA, the value. */
  async call(cmd: string, data?: string): Promise<{ code: string; flags: Set<string>; tokens: string[]; value?: string }> {
    this.socket.write(data === undefined ? `${cmd}\r\n` : `${cmd}\r\n${data}\r\n`);
    const tokens = (await this.line()).split(" ");
    const code = tokens[0];
    let value: string | undefined;
    if (code === "VA") value = await this.line();
    const rest = code === "VA" ? tokens.slice(2) : tokens.slice(1);
    return { code, flags: new Set(rest.map((t) => t[0])), tokens: rest, value };
  }

  cas(r: { tokens: string[] }): string {
    const c = r.tokens.find((t) => t.startsWith("c"));
    assert.ok(c !== undefined, "reply has a cas");
    return c.slice(1);
  }

  close(): void {
    this.socket.destroy();
  }
}

// Against memcached too, so the expectations are known to be memcached's behaviour.
for (const [name, start] of [
  ["memcached-ts", startOurs],
  ["memcached", startMemcached],
] as const) {
  describe(`meta recache flow on ${name}`, () => {
    let server: TestServer;
    let a: MetaClient;
    let b: MetaClient;

    before(async () => {
      server = await start();
      a = new MetaClient(server.port);
      b = new MetaClient(server.port);
    });
    after(async () => {
      a.close();
      b.close();
      await server.stop();
    });

    test("stale-while-revalidate: one winner recaches, the others get the stale value", async () => {
      assert.equal((await a.call("ms page 2 T100", "v1")).code, "HD");
      // The backing data changed: invalidate instead of deleting.
      assert.equal((await a.call("md page I T30")).code, "HD");

      const winner = await a.call("mg page v c t");
      assert.equal(winner.value, "v1");
      assert.ok(winner.flags.has("X") && winner.flags.has("W") && !winner.flags.has("Z"), winner.tokens.join(" "));

      const loser = await b.call("mg page v c t");
      assert.equal(loser.value, "v1", "the loser is served the stale value");
      assert.ok(loser.flags.has("X") && loser.flags.has("Z") && !loser.flags.has("W"), loser.tokens.join(" "));

      // The winner recaches with the CAS it saw; the item is fresh again for everyone.
      assert.equal((await a.call(`ms page 2 I C${a.cas(winner)} T100`, "v2")).code, "HD");
      for (const c of [a, b]) {
        const fresh = await c.call("mg page v");
        assert.equal(fresh.value, "v2");
        assert.deepEqual(fresh.tokens, []);
      }
    });

    test("a late write with an older CAS stays stale and keeps the win token", async () => {
      await a.call("ms doc 2", "v1");
      const old = a.cas(await a.call("mg doc c"));
      await a.call("md doc I");
      const winner = await a.call("mg doc v c");
      assert.ok(winner.flags.has("W"));
      // Another writer with the pre-invalidation CAS: accepted, but still stale.
      assert.equal((await b.call(`ms doc 2 I C${old}`, "v0")).code, "HD");
      const after = await b.call("mg doc v");
      assert.equal(after.value, "v0");
      assert.ok(after.flags.has("X") && after.flags.has("Z") && !after.flags.has("W"), after.tokens.join(" "));
      // Without I the stale CAS is refused.
      assert.equal((await b.call(`ms doc 2 C${old}`, "v9")).code, "EX");
    });

    test("vivify on miss: the first client wins, the others wait", async () => {
      const first = await a.call("mg fresh N30 v c");
      assert.equal(first.code, "VA");
      assert.equal(first.value, "");
      assert.ok(first.flags.has("W") && !first.flags.has("Z"));
      const second = await b.call("mg fresh N30 v c");
      assert.ok(second.flags.has("Z") && !second.flags.has("W"));
      assert.equal((await a.call(`ms fresh 5 C${a.cas(first)} T60`, "value")).code, "HD");
      const done = await b.call("mg fresh N30 v");
      assert.equal(done.value, "value");
      assert.deepEqual(done.tokens, []);
    });

    test("early recache with R: one client refreshes before expiry", async () => {
      await a.call("ms hot 1 T10", "x");
      const first = await a.call("mg hot v R30");
      assert.ok(first.flags.has("W"));
      const second = await b.call("mg hot v R30");
      assert.ok(second.flags.has("Z") && !second.flags.has("W"));
      await a.call("ms hot 1 T300", "y");
      const later = await b.call("mg hot v R30");
      assert.deepEqual(later.tokens, []);
      assert.equal(later.value, "y");
    });
  });
}
