import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Client, type Response, Utils } from "memjs";
import { type TestServer, startOurs } from "../oracle/servers.ts";
import { type CasOutcome, type ScriptClient, againstBoth, binaryScriptExpected, runClientScript } from "./script.ts";

/** memjs, the most used Node.js client, speaks only the binary protocol (with SASL PLAIN when given credentials). */

const quiet = { log: (): void => {} };

function client(port: number, credentials = ""): Client {
  return Client.create<string | Buffer, Buffer | null>(`${credentials}127.0.0.1:${port}`, { logger: quiet, retries: 0, timeout: 2 });
}

const text = (v: Buffer | null): string | null => (v === null ? null : v.toString());

describe("memjs without SASL", () => {
  let server: TestServer;
  let mc: Client;
  before(async () => {
    server = await startOurs();
    mc = client(server.port);
  });
  after(async () => {
    mc.close();
    await server.stop();
  });

  test("set, get, add, replace, delete", async () => {
    assert.equal(await mc.set("a", "one", { expires: 100 }), true);
    assert.equal(text((await mc.get("a")).value), "one");
    assert.equal((await mc.get("missing")).value, null);
    assert.equal(await mc.add("a", "two"), false);
    assert.equal(await mc.add("b", "two"), true);
    assert.equal(await mc.replace("b", "three"), true);
    assert.equal(await mc.replace("zz", "three"), false);
    assert.equal(text((await mc.get("b")).value), "three");
    assert.equal(await mc.delete("b"), true);
    assert.equal(await mc.delete("b"), false);
  });

  test("flags come back as the four extras bytes", async () => {
    await mc.set("f", Buffer.from([0, 1, 2, 255]));
    const r = await mc.get("f");
    assert.deepEqual(r.value, Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(r.flags, Buffer.alloc(4));
  });

  test("increment and decrement, with an initial value for a missing key", async () => {
    assert.deepEqual(await mc.increment("n", 5, { initial: 10 }), { success: true, value: 10 });
    assert.deepEqual(await mc.increment("n", 5), { success: true, value: 15 });
    // memjs 1.3.2's decrement needs the options object (it reads options.initial unguarded).
    assert.deepEqual(await mc.decrement("n", 20, {}), { success: true, value: 0 });
    await mc.set("word", "abc");
    await assert.rejects(mc.increment("word", 1), /non-numeric/i);
  });

  test("append, prepend and touch", async () => {
    await mc.set("s", "mid");
    assert.equal(await mc.append("s", "-end"), true);
    assert.equal(await mc.prepend("s", "start-"), true);
    // memjs 1.3.2's prepend sends the APPEND opcode (0x0e), so memcached appends too.
    assert.equal(text((await mc.get("s")).value), "mid-endstart-");
    // memcached answers "Not stored." (status 5) to an append to a missing key; memjs raises it.
    await assert.rejects(mc.append("none", "x"), /not stored/i);
    assert.equal(await mc.touch("s", 100), true);
    assert.equal(await mc.touch("none", 100), false);
  });

  test("stats, statsWithKey, resetStats and flush", async () => {
    const all = await new Promise<Record<string, string> | null>((resolve, reject) => mc.stats((err, _server, stats) => (err ? reject(err) : resolve(stats))));
    assert.match(all?.version ?? "", /^1\.6\.\d+$/);
    assert.ok(Number(all?.cmd_get) > 0);
    const settings = await new Promise<Record<string, string> | null>((resolve, reject) =>
      mc.statsWithKey("settings", (err, _server, stats) => (err ? reject(err) : resolve(stats))),
    );
    assert.equal(settings?.binding_protocol, "auto-negotiate");
    await new Promise<void>((resolve, reject) => mc.resetStats((err) => (err ? reject(err) : resolve())));
    const reset = await new Promise<Record<string, string> | null>((resolve, reject) => mc.stats((err, _server, stats) => (err ? reject(err) : resolve(stats))));
    assert.equal(reset?.cmd_get, "0");
    await mc.set("x", "1");
    const flushed = await mc.flush();
    assert.deepEqual(Object.values(flushed), [true]);
    assert.equal((await mc.get("x")).value, null);
  });

  test("a large value round-trips", async () => {
    const big = Buffer.alloc(500_000, 0x61);
    assert.equal(await mc.set("big", big), true);
    assert.deepEqual((await mc.get("big")).value, big);
  });

  test("quit closes the connection and the next call reconnects", async () => {
    mc.quit();
    await new Promise((r) => setTimeout(r, 50));
    await mc.set("after", "quit");
    assert.equal(text((await mc.get("after")).value), "quit");
  });
});

describe("memjs with SASL (-S)", () => {
  let server: TestServer;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcts-memjs-"));
    const pwdb = join(dir, "pwdb");
    writeFileSync(pwdb, "app:s3cret\nother:pw\n");
    server = await startOurs(["-S"], undefined, { MEMCACHED_SASL_PWDB: pwdb });
  });
  after(() => server.stop());

  test("credentials in the server string authenticate every connection", async () => {
    const mc = client(server.port, "app:s3cret@");
    try {
      assert.equal(await mc.set("k", "v"), true);
      assert.equal(text((await mc.get("k")).value), "v");
      assert.deepEqual(await mc.increment("n", 1, { initial: 1 }), { success: true, value: 1 });
    } finally {
      mc.close();
    }
  });

  test("a wrong password is rejected", async () => {
    const mc = client(server.port, "app:wrong@");
    try {
      await assert.rejects(mc.get("k"));
    } finally {
      mc.close();
    }
  });

  test("no credentials: every command is refused", async () => {
    const mc = client(server.port);
    try {
      await assert.rejects(mc.set("k", "v"));
    } finally {
      mc.close();
    }
  });
});

/**
 * memjs 1.3.2 behind the client matrix's script. What it lacks or gets wrong, and what the
 * adapter does about it:
 * - no multi-get: getMulti is one get per key, all in flight at once on the one connection;
 * - no gets or cas: they go through memjs's own `perform` as raw GET (the reply header carries
 *   the CAS) and SET requests with the CAS in the header;
 * - prepend sends the APPEND opcode (0x0e): the adapter sends PREPEND (0x0f) through `perform`;
 * - append (its prepend too) to a missing key rejects: memcached answers NOT_STORED (status 5)
 *   where memjs expects status 1; the adapter reads that rejection as "not stored";
 * - decrement without an options object throws (it reads options.initial unguarded);
 * - increment and decrement always send an initial value (0 unless given) and an expiration
 *   (default 0): in the binary protocol that creates a missing key instead of missing. The
 *   adapter passes expires 0xffffffff, the protocol's "do not create", so a miss is a miss;
 * - the 64-bit counter in the reply is decoded as (high << 8) + low: right only below 2^32,
 *   which every counter in the script is (the wrap lands on 0);
 * - touch with a negative exptime throws (Buffer.writeUInt32BE range): the adapter sends what
 *   libmemcached sends, the 32-bit two's complement (0xffffffff for -1): see binaryScriptExpected.
 */
const STATUS = { ok: 0, notFound: 1, exists: 2 } as const;
const OP = { get: 0x00, set: 0x01, prepend: 0x0f } as const;

function perform(mc: Client, opcode: number, key: string, extras: Buffer, value: string, cas = 0n): Promise<Response> {
  mc.incrSeq();
  const request = Utils.makeRequestBuffer(opcode, key, extras, value, mc.seq);
  request.writeBigUInt64BE(cas, 16);
  return new Promise((resolve, reject) => mc.perform(key, request, mc.seq, (err: Error | null, response: Response) => (err ? reject(err) : resolve(response))));
}

function memjsAdapter(port: number): ScriptClient {
  const mc = client(port);
  const noCreate = { expires: 0xffffffff };
  const notStoredIsFalse = (p: Promise<boolean>): Promise<boolean> =>
    p.catch((err: unknown) => {
      if (err instanceof Error && /not stored/i.test(err.message)) return false;
      throw err;
    });
  const arith = (p: Promise<{ value?: number | null }>): Promise<number | null | "error"> =>
    p.then(
      (r) => r.value ?? null,
      (err: unknown) => (err instanceof Error && /not found/i.test(err.message) ? null : "error"),
    );
  const get = async (k: string): Promise<Buffer | null> => (await mc.get(k)).value;
  return {
    set: (k, v) => mc.set(k, v).catch(() => "error" as const),
    add: (k, v) => mc.add(k, v),
    replace: (k, v) => mc.replace(k, v),
    append: (k, v) => notStoredIsFalse(mc.append(k, v)),
    prepend: async (k, v) => (await perform(mc, OP.prepend, k, Buffer.alloc(0), v)).header.status === STATUS.ok,
    get,
    getMulti: async (keys) => {
      const values = await Promise.all(keys.map(get));
      return new Map(keys.flatMap((k, i) => (values[i] === null ? [] : [[k, values[i]] as const])));
    },
    gets: async (k) => {
      const r = await perform(mc, OP.get, k, Buffer.alloc(0), "");
      return r.header.status === STATUS.ok ? { value: r.val, cas: r.header.cas.readBigUInt64BE().toString() } : null;
    },
    cas: async (k, v, cas): Promise<CasOutcome> => {
      const r = await perform(mc, OP.set, k, Buffer.alloc(8), v, BigInt(cas));
      const status = r.header.status;
      return status === STATUS.ok ? "stored" : status === STATUS.exists ? "exists" : status === STATUS.notFound ? "not_found" : "error";
    },
    incr: (k, by) => arith(mc.increment(k, by, noCreate)),
    decr: (k, by) => arith(mc.decrement(k, by, noCreate)),
    touch: (k, exptime) => mc.touch(k, exptime >>> 0),
    delete: (k) => mc.delete(k),
    close: () => mc.close(),
  };
}

test("memjs: the client script gives memcached's results (binary protocol)", async () => {
  // Both servers speak only the binary protocol (-B binary), as memjs does.
  const { ours, control } = await againstBoth((port) => runClientScript(memjsAdapter, port), ["-B", "binary"]);
  assert.deepEqual(ours, control);
  assert.deepEqual(control, binaryScriptExpected);
});
