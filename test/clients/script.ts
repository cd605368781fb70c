/**
 * The client matrix: each client library runs the same realistic script (a script file per
 * client under scripts/, or inline for the npm clients) against memcached-ts and, as a control,
 * against a real memcached started here; both runs must print the same results, and the
 * control must print `scriptExpected` (so a script that tests nothing cannot pass).
 *
 * The script: set/get/add/replace/append/prepend/delete; a multi-get with a miss; a CAS loop
 * (gets + cas, retried after another connection wrote in between), a stale token, a cas on a
 * missing key; incr/decr (decr floors at 0, incr wraps at 2^64, misses, non-numeric values);
 * touch (existing, missing, negative exptime expires); a value 1 KiB under the 1 MiB item limit
 * and one just over it (rejected; the connection stays usable); every byte value 0..255 in one
 * value; 3000 keys set, multi-got, half deleted. Results use neutral names ("stored", "exists",
 * "not_found", "error") whatever the client's own conventions.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { type TestServer, startMemcached, startOurs } from "../oracle/servers.ts";

export const scriptExpected = {
  basic: {
    get: "hello",
    missing: null,
    add_existing: false,
    replace_missing: false,
    append: "hello world",
    prepend: "oh, hello world",
    delete: true,
    delete_missing: false,
  },
  multi: { "m:a": "1", "m:b": "2", "m:c": "3" },
  cas: { retries: 1, final: "21", stale_token: "exists", missing: "not_found" },
  counters: { incr: 15, decr_floor: 0, incr_missing: null, wrap: 0, non_numeric: "error", decr_to: [7, 4] },
  touch: { existing: true, missing: false, expired_by_touch: [true, null] },
  large: {
    near_limit_stored: true,
    near_limit_intact: true,
    over_limit_stored: "error",
    over_limit_missing: true,
    connection_ok_after: true,
  },
  binary: { intact: true, length: 256 },
  many: { set_failed: 0, hits: 3000, intact: true, digest: "25666fe8538af6be", delete_many: true, after_delete: 1500 },
};

/**
 * What a binary-protocol client's run must give: the binary protocol's expiration is an unsigned
 * 32-bit field, so touch(key, -1) goes out as 0xffffffff, which memcached reads as an absolute
 * time in 2106: the item stays (in text, "touch t -1" expires it at once).
 */
export const binaryScriptExpected = { ...scriptExpected, touch: { ...scriptExpected.touch, expired_by_touch: [true, "v"] } };

/** Fails (never skips) when a client the matrix needs is not installed. */
export function requireCommand(command: readonly string[], what: string): void {
  const r = spawnSync(command[0], command.slice(1), { stdio: "ignore", timeout: 10000 });
  if (r.status !== 0) {
    throw new Error(`${what} is not installed (checked with: ${command.join(" ")}); run "bash .ci/run --deps" as root`);
  }
}

/** Runs a client script with the port as its last argument and parses the JSON it prints. */
export function runJsonScript(command: string, args: readonly string[], port: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args, String(port)], { timeout: 30000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${command} ${args.join(" ")} ${port} failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`${command} printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
  });
}

/**
 * Runs `script` against a fresh memcached-ts and a fresh memcached, both started with `args`
 * (e.g. `-B binary`, so a client that falls back to the text protocol fails); returns both results.
 */
export async function againstBoth<T>(script: (port: number) => Promise<T>, args: readonly string[] = []): Promise<{ ours: T; control: T }> {
  const servers: TestServer[] = [];
  try {
    const oursServer = await startOurs(args);
    servers.push(oursServer);
    const controlServer = await startMemcached(args);
    servers.push(controlServer);
    const ours = await script(oursServer.port);
    const control = await script(controlServer.port);
    return { ours, control };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** What a store or cas did, in the script's neutral words. */
export type CasOutcome = "stored" | "exists" | "not_found" | "error";

/**
 * One npm client library behind the script's operations. Adapters map the library's own
 * conventions (false, undefined, rejections) onto these and name its quirks where they do.
 */
export interface ScriptClient {
  set(key: string, value: string | Buffer): Promise<boolean | "error">;
  add(key: string, value: string): Promise<boolean>;
  replace(key: string, value: string): Promise<boolean>;
  append(key: string, value: string): Promise<boolean>;
  prepend(key: string, value: string): Promise<boolean>;
  /** The value's bytes, null on a miss. */
  get(key: string): Promise<Buffer | null>;
  getMulti(keys: readonly string[]): Promise<Map<string, Buffer>>;
  gets(key: string): Promise<{ value: Buffer; cas: string } | null>;
  cas(key: string, value: string, cas: string): Promise<CasOutcome>;
  /** The new value, null when the key is missing, "error" when the server refused. */
  incr(key: string, by: number): Promise<number | null | "error">;
  decr(key: string, by: number): Promise<number | null | "error">;
  touch(key: string, exptime: number): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  close(): void;
}

const text = (b: Buffer | null): string | null => (b === null ? null : b.toString("latin1"));

/** The script of scripts/pymemcache_script.py, for npm clients; prints the same shape. */
export async function runClientScript(connect: (port: number) => ScriptClient, port: number): Promise<Record<string, unknown>> {
  const c = connect(port);
  const other = connect(port);
  try {
    await c.set("greeting", "hello");
    const basic = {
      get: text(await c.get("greeting")),
      missing: text(await c.get("no-such-key")),
      add_existing: await c.add("greeting", "x"),
      replace_missing: await c.replace("no-such-key", "x"),
      append: (await c.append("greeting", " world")) && text(await c.get("greeting")),
      prepend: (await c.prepend("greeting", "oh, ")) && text(await c.get("greeting")),
      delete: await c.delete("greeting"),
      delete_missing: await c.delete("greeting"),
    };

    for (const [k, v] of [["m:a", "1"], ["m:b", "2"], ["m:c", "3"]]) await c.set(k, v);
    const multi = Object.fromEntries([...(await c.getMulti(["m:a", "m:b", "m:nope", "m:c"]))].sort().map(([k, v]) => [k, text(v)]));

    // CAS loop: another connection writes between the first read and its cas.
    await c.set("counter", "10");
    let retries = 0;
    while (retries <= 5) {
      const got = await c.gets("counter");
      if (!got) break;
      if (retries === 0) await other.set("counter", "20");
      if ((await c.cas("counter", String(Number(got.value.toString()) + 1), got.cas)) === "stored") break;
      retries++;
    }
    const stale = (await c.gets("counter"))?.cas ?? "0";
    const final = text(await c.get("counter"));
    await other.set("counter", "0");
    const cas = {
      retries,
      final,
      stale_token: await c.cas("counter", "x", stale),
      missing: await c.cas("cas-missing", "x", stale),
    };

    await c.set("n", "10");
    await c.set("max", "18446744073709551615");
    await c.set("word", "abc");
    const counters = {
      incr: await c.incr("n", 5),
      decr_floor: await c.decr("n", 20),
      incr_missing: await c.incr("no-such-key", 1),
      wrap: await c.incr("max", 1),
      non_numeric: await c.incr("word", 1),
      decr_to: [await c.incr("n", 7), await c.decr("n", 3)],
    };

    await c.set("t", "v");
    const touch = {
      existing: await c.touch("t", 100),
      missing: await c.touch("no-such-key", 100),
      expired_by_touch: [await c.touch("t", -1), text(await c.get("t"))],
    };

    // Printable ASCII: npm memcached sends a Buffer as a UTF-8 string, so bytes >= 0x80 would
    // count twice against its 1 MiB client-side limit (the binary test below covers them).
    const LIMIT = 1024 * 1024;
    const near = Buffer.alloc(LIMIT - 1024, "abcdefghijklmnopqrstuvwxyz0123456789");
    const nearStored = await c.set("large", near.toString("latin1"));
    const large = {
      near_limit_stored: nearStored,
      near_limit_intact: (await c.get("large"))?.equals(near) ?? false,
      over_limit_stored: await c.set("large-over", "o".repeat(LIMIT + 1)),
      over_limit_missing: (await c.get("large-over")) === null,
      connection_ok_after: (await c.get("large"))?.equals(near) ?? false,
    };

    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await c.set("binary", every);
    const gotBinary = await c.get("binary");
    const binary = { intact: gotBinary?.equals(every) ?? false, length: gotBinary?.length ?? 0 };

    const N = 3000;
    const values = new Map(Array.from({ length: N }, (_, i) => [`many:${i}`, `value-${i}-`.repeat((i % 7) + 1)]));
    const keys = [...values.keys()];
    const setResults = await Promise.all(keys.map((k) => c.set(k, values.get(k) ?? "")));
    const fetched = await c.getMulti(keys);
    const joined = Buffer.concat(keys.map((k) => fetched.get(k) ?? Buffer.from("-")));
    const deleted = await Promise.all(keys.slice(0, N / 2).map((k) => c.delete(k)));
    const many = {
      set_failed: setResults.filter((r) => r !== true).length,
      hits: fetched.size,
      intact: keys.every((k) => fetched.get(k)?.toString("latin1") === values.get(k)),
      digest: createHash("sha256").update(joined).digest("hex").slice(0, 16),
      delete_many: deleted.every((d) => d),
      after_delete: (await c.getMulti(keys)).size,
    };
    return { basic, multi, cas, counters, touch, large, binary, many };
  } finally {
    c.close();
    other.close();
  }
}
