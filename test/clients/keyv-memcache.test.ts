import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import KeyvMemcache from "@keyv/memcache";
import Keyv from "keyv";
import { Client } from "memjs";
import { againstBoth, scriptExpected } from "./script.ts";

/**
 * Keyv 5 with @keyv/memcache 2 (memjs underneath, so the binary protocol) on the part of the
 * client matrix's script that Keyv offers: set/get/has/delete, TTLs, many keys, values of every
 * type Keyv serializes, a large value, and clear. A plain memjs connection reads what Keyv
 * stored, so the comparison covers the bytes on the server too. Its quirks, as seen here:
 * - every value is stored as JSON text {"value":…,"expires":…} (Buffers as ":base64:…" inside it;
 *   "expires" left out without a TTL), with flags 0, under "keyv:keyv:<key>": Keyv prefixes its
 *   default namespace and @keyv/memcache's formatKey prefixes it again;
 * - the TTL is given in milliseconds and sent to the server as whole seconds, rounded down:
 *   under 1000 ms it becomes 0, "never expires", and the item stays on the server until Keyv
 *   reads it, sees its own "expires" passed and deletes it;
 * - a failed set (a value over the item size limit) resolves false and emits "error";
 * - clear() flushes the whole server, not just its namespace.
 */

const quiet = { log: (): void => {} };
const LIMIT = 1024 * 1024;

async function keyvScript(port: number): Promise<Record<string, unknown>> {
  const store = new KeyvMemcache(`127.0.0.1:${port}`, { logger: quiet, retries: 0, timeout: 5 });
  const keyv = new Keyv<unknown>({ store });
  const errors: string[] = [];
  keyv.on("error", (err: unknown) => errors.push(err instanceof Error ? err.message : String(err)));
  const raw = Client.create<string | Buffer, Buffer | null>(`127.0.0.1:${port}`, { logger: quiet, retries: 0, timeout: 5 });
  // Keyv prefixes its namespace and @keyv/memcache prefixes it again.
  const stored = async (key: string): Promise<Buffer | null> => (await raw.get(`keyv:keyv:${key}`)).value;
  const storedText = async (key: string): Promise<string | null> => (await stored(key))?.toString("latin1") ?? null;
  try {
    await keyv.set("greeting", "hello");
    const basic = {
      get: await keyv.get("greeting"),
      missing: (await keyv.get("no-such-key")) ?? null,
      has: [await keyv.has("greeting"), await keyv.has("no-such-key")],
      stored_as: await storedText("greeting"),
      delete: await keyv.delete("greeting"),
      delete_missing: await keyv.delete("greeting"),
      after_delete: (await keyv.get("greeting")) ?? null,
    };

    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const object = { n: 1.5, list: [true, null, "x"], nested: { s: "é ✓ 𝄞" } };
    await keyv.set("binary", every);
    await keyv.set("object", object);
    await keyv.set("unicode", "é ✓ 𝄞\r\n\0");
    const gotBinary = await keyv.get("binary");
    const values = {
      binary_intact: Buffer.isBuffer(gotBinary) && gotBinary.equals(every),
      binary_stored_as: (await storedText("binary"))?.slice(0, 40),
      object: await keyv.get("object"),
      unicode: await keyv.get("unicode"),
      unicode_stored_as: (await stored("unicode"))?.toString("utf8"),
    };

    // One wait covers every TTL: 500 ms goes out as 0 (never expires), 1000 ms as 1 s.
    await keyv.set("ttl:sub-second", "v", 500);
    await keyv.set("ttl:one-second", "v", 1000);
    await keyv.set("ttl:long", "v", 100_000);
    await sleep(2200);
    const ttl = {
      sub_second_on_server: (await storedText("ttl:sub-second")) !== null,
      sub_second_by_keyv: (await keyv.get("ttl:sub-second")) ?? null,
      sub_second_deleted_by_keyv_read: (await storedText("ttl:sub-second")) === null,
      one_second_on_server: (await storedText("ttl:one-second")) !== null,
      long: await keyv.get("ttl:long"),
    };

    // The near-limit value leaves room for Keyv's JSON wrapping and the item header.
    const near = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(LIMIT / 36).slice(0, LIMIT - 1024);
    const large = {
      near_limit_stored: await keyv.set("large", near),
      near_limit_intact: (await keyv.get("large")) === near,
      over_limit_stored: await keyv.set("large-over", "o".repeat(LIMIT + 1)),
      errors: errors.splice(0),
      over_limit_missing: (await keyv.get("large-over")) === undefined,
      connection_ok_after: (await keyv.get("large")) === near,
    };

    const N = 3000;
    const entries = Array.from({ length: N }, (_, i) => ({ key: `many:${i}`, value: `value-${i}-`.repeat((i % 7) + 1) }));
    const keys = entries.map((e) => e.key);
    const setResults = await keyv.setMany(entries);
    const fetched = await keyv.getMany<string>(keys);
    const deleted = await keyv.deleteMany(keys.slice(0, N / 2));
    const many = {
      set_failed: setResults.filter((r) => r !== true).length,
      hits: fetched.filter((v) => v !== undefined).length,
      intact: entries.every((e, i) => fetched[i] === e.value),
      digest: createHash("sha256").update(fetched.map((v) => v ?? "-").join("")).digest("hex").slice(0, 16),
      delete_many: deleted,
      after_delete: (await keyv.getMany<string>(keys)).filter((v) => v !== undefined).length,
    };

    await raw.set("outside-the-namespace", "x");
    await keyv.clear();
    const clear = {
      keyv_key: (await keyv.get("ttl:long")) ?? null,
      other_key: (await raw.get("outside-the-namespace")).value,
    };
    return { basic, values, ttl, large, many, clear, other_errors: errors };
  } finally {
    raw.close();
    store.client.close();
  }
}

test("Keyv with @keyv/memcache: the Keyv part of the client script gives memcached's results (binary protocol)", async () => {
  // Both servers speak only the binary protocol (-B binary), as memjs does.
  const { ours, control } = await againstBoth(keyvScript, ["-B", "binary"]);
  assert.deepEqual(ours, control);
  assert.deepEqual(control, {
    basic: { get: "hello", missing: null, has: [true, false], stored_as: '{"value":"hello"}', delete: true, delete_missing: false, after_delete: null },
    values: {
      binary_intact: true,
      binary_stored_as: '{"value":":base64:AAECAwQFBgcICQoLDA0ODx',
      object: { n: 1.5, list: [true, null, "x"], nested: { s: "é ✓ 𝄞" } },
      unicode: "é ✓ 𝄞\r\n\0",
      unicode_stored_as: '{"value":"é ✓ 𝄞\\r\\n\\u0000"}',
    },
    ttl: { sub_second_on_server: true, sub_second_by_keyv: null, sub_second_deleted_by_keyv_read: true, one_second_on_server: false, long: "v" },
    large: {
      near_limit_stored: true,
      near_limit_intact: true,
      over_limit_stored: false,
      errors: ["MemJS SET: Value too large"],
      over_limit_missing: true,
      connection_ok_after: true,
    },
    many: { set_failed: 0, hits: 3000, intact: true, digest: scriptExpected.many.digest, delete_many: true, after_delete: 1500 },
    clear: { keyv_key: null, other_key: null },
    other_errors: [],
  });
});
