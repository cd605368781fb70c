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

/** Runs `script` against a fresh memcached-ts and a fresh memcached; returns both results. */
export async function againstBoth<T>(script: (port: number) => Promise<T>): Promise<{ ours: T; control: T }> {
  const servers: TestServer[] = [];
  try {
    const oursServer = await startOurs();
    servers.push(oursServer);
    const controlServer = await startMemcached();
    servers.push(controlServer);
    const ours = await script(oursServer.port);
    const control = await script(controlServer.port);
    return { ours, control };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
