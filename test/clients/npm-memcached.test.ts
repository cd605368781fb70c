import assert from "node:assert/strict";
import { test } from "node:test";
import Memcached from "memcached";
import { type CasOutcome, type ScriptClient, againstBoth, runClientScript, scriptExpected } from "./script.ts";

/**
 * npm `memcached` 2.2 behind the client matrix's script. Its quirks, as seen here:
 * - it escapes \r and \n in values with a backslash before storing them and unescapes on read,
 *   and it sends a Buffer as a UTF-8 string of its latin1 characters: its own reads round-trip,
 *   but the server holds different bytes than were given (256 bytes 0..255 are stored as 386),
 *   so other clients reading those keys see the escaped UTF-8 form;
 * - values over `maxValue` (1 MiB, counted after that encoding) are refused client-side, so the
 *   over-limit set never reaches the server;
 * - get, add, replace, touch and del answer false or undefined for both "no" and "error";
 *   cas answers false for EXISTS and NOT_FOUND alike (so "missing" reads "exists" here).
 */
function call<T>(fn: (cb: (err: unknown, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err as Error) : resolve(v))));
}

const settle = <T>(p: Promise<T>): Promise<T | "error"> => p.catch(() => "error" as const);

function bytes(v: unknown): Buffer | null {
  if (v === undefined || v === false) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v), "latin1");
}

function adapter(port: number): ScriptClient {
  const m = new Memcached(`127.0.0.1:${port}`, { retries: 0, timeout: 5000, poolSize: 4 });
  const store = (fn: (cb: (err: unknown, ok: boolean) => void) => void): Promise<boolean> =>
    call<boolean>(fn).catch(() => false);
  const arith = async (fn: (cb: (err: unknown, v: number | boolean) => void) => void): Promise<number | null | "error"> => {
    const v = await settle(call<number | boolean>(fn));
    return typeof v === "boolean" ? null : v;
  };
  return {
    set: (k, v) => settle(call<boolean>((cb) => m.set(k, v, 0, cb))),
    add: (k, v) => store((cb) => m.add(k, v, 0, cb)),
    replace: (k, v) => store((cb) => m.replace(k, v, 0, cb)),
    append: (k, v) => store((cb) => m.append(k, v, cb)),
    prepend: (k, v) => store((cb) => m.prepend(k, v, cb)),
    get: async (k) => bytes(await call<unknown>((cb) => m.get(k, cb))),
    getMulti: async (keys) => {
      const got = await call<Record<string, unknown>>((cb) => m.getMulti([...keys], cb));
      return new Map(Object.entries(got).map(([k, v]) => [k, bytes(v) ?? Buffer.alloc(0)]));
    },
    gets: async (k) => {
      const g = await call<Record<string, unknown> | undefined>((cb) => m.gets(k, cb as never));
      const value = g ? bytes(g[k]) : null;
      return g && value ? { value, cas: String(g.cas) } : null;
    },
    cas: async (k, v, cas): Promise<CasOutcome> => {
      const r = await settle(call<boolean>((cb) => m.cas(k, v, cas, 0, cb)));
      return r === "error" ? r : r ? "stored" : "exists";
    },
    incr: (k, by) => arith((cb) => m.incr(k, by, cb)),
    decr: (k, by) => arith((cb) => m.decr(k, by, cb)),
    touch: (k, exptime) => store((cb) => m.touch(k, exptime, cb as never)),
    delete: (k) => store((cb) => m.del(k, cb)),
    close: () => m.end(),
  };
}

test("npm memcached: the client script gives memcached's results", async () => {
  const { ours, control } = await againstBoth((port) => runClientScript(adapter, port));
  assert.deepEqual(ours, control);
  assert.deepEqual(control, { ...scriptExpected, cas: { ...scriptExpected.cas, missing: "exists" } });
});
