import { readFileSync } from "node:fs";

/**
 * The memcached release whose protocol we speak. Clients gate features on the `version`
 * reply, so it stays memcached-shaped; `stats` names memcached-ts separately.
 */
export const MEMCACHED_VERSION = "1.6.18";

/** memcached-ts' own version, from package.json. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
