import assert from "node:assert/strict";
import { test } from "node:test";
import { MemcacheClient, type MultiRetrievalResponse, type RetrievalCommandResponse } from "memcache-client";
import { type CasOutcome, type ScriptClient, againstBoth, runClientScript, scriptExpected } from "./script.ts";

/**
 * npm `memcache-client` 1.0 behind the client matrix's script. Its quirks, as seen here:
 * - every reply but the expected one rejects, with the reply line as the message: NOT_STORED,
 *   EXISTS and NOT_FOUND are errors to it (a miss on incr, touch, delete, add, replace);
 * - a value stored with flags 0 is read back as a UTF-8 string (`data.toString()`): bytes that
 *   are not UTF-8 come back replaced, so binary data must be stored as a Buffer (its own flag);
 * - incr/decr resolve to the number as a string;
 * - a multi-key get resolves to an object keyed by key, a single get to one `{ value }`.
 */
function outcome(err: unknown): string {
  return err instanceof Error ? err.message.split(" ")[0] : "error";
}

function bytes(r: RetrievalCommandResponse<unknown> | undefined): Buffer | null {
  if (r === undefined) return null;
  return Buffer.isBuffer(r.value) ? r.value : Buffer.from(String(r.value), "latin1");
}

function adapter(port: number): ScriptClient {
  const m = new MemcacheClient({ server: `127.0.0.1:${port}`, cmdTimeout: 5000 });
  const store = (p: Promise<unknown>): Promise<boolean> => p.then(() => true, () => false);
  const arith = (p: Promise<string>): Promise<number | null | "error"> =>
    p.then(Number, (err: unknown) => (outcome(err) === "NOT_FOUND" ? null : "error"));
  return {
    set: (k, v) => m.set(k, v).then(() => true as const, () => "error" as const),
    add: (k, v) => store(m.add(k, v)),
    replace: (k, v) => store(m.replace(k, v)),
    append: (k, v) => store(m.append(k, v)),
    prepend: (k, v) => store(m.prepend(k, v)),
    get: async (k) => bytes(await m.get<unknown>(k)),
    getMulti: async (keys) => {
      const got = await m.get<MultiRetrievalResponse>([...keys]);
      return new Map(Object.entries(got).map(([k, v]) => [k, bytes(v) ?? Buffer.alloc(0)]));
    },
    gets: async (k) => {
      const g = await m.gets<unknown>(k);
      const value = bytes(g);
      return g && value ? { value, cas: String(g.casUniq) } : null;
    },
    cas: (k, v, cas): Promise<CasOutcome> =>
      m.cas(k, v, { casUniq: Number(cas) }).then(
        () => "stored",
        (err: unknown) => {
          const o = outcome(err);
          return o === "EXISTS" ? "exists" : o === "NOT_FOUND" ? "not_found" : "error";
        },
      ),
    incr: (k, by) => arith(m.incr(k, by)),
    decr: (k, by) => arith(m.decr(k, by)),
    touch: (k, exptime) => store(m.touch(k, exptime)),
    delete: (k) => store(m.delete(k)),
    close: () => m.shutdown(),
  };
}

test("memcache-client: the client script gives memcached's results", async () => {
  const { ours, control } = await againstBoth((port) => runClientScript(adapter, port));
  assert.deepEqual(ours, control);
  assert.deepEqual(control, scriptExpected);
});
