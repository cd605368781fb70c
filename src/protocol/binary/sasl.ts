import { readFileSync } from "node:fs";
import { sameSecret } from "../../auth/secret.ts";

/** The one mechanism we offer: what memcached lists when its SASL config says `mech_list: plain`. */
export const MECHANISMS = Buffer.from("PLAIN");

/** memcached's MAX_SASL_MECH_LEN: a longer mechanism name is refused before its data is read. */
export const MAX_MECH_LENGTH = 32;

/**
 * memcached reads password lines with fgets into 256 bytes and refuses a user and password
 * longer together than this (MAX_ENTRY_LEN - 4 in sasl_defs.c).
 */
const MAX_USER_AND_PASSWORD = 252;

/** True when `mech` (a request key) names PLAIN; Cyrus SASL matches names ignoring case. */
export function isPlain(mech: Uint8Array, length: number): boolean {
  if (length !== 5) return false;
  for (let i = 0; i < 5; i++) if ((mech[i] | 0x20) !== "plain".charCodeAt(i)) return false;
  return true;
}

/**
 * Checks a SASL PLAIN message (RFC 4616: authzid NUL authcid NUL password) against the password
 * database, memcached's MEMCACHED_SASL_PWDB: lines of `user:password`, read afresh at each
 * attempt so edits apply without a restart. As in memcached's sasl_server_userdb_checkpass, the
 * first line for the user decides, and the stored password may be followed by `:` and more
 * fields. An authzid other than the user's own is refused, as Cyrus SASL refuses it without an
 * authorization rule. No database, or one that cannot be read, refuses everyone.
 */
export function checkPlain(pwdb: string | null, message: Uint8Array): boolean {
  const first = message.indexOf(0);
  const second = first < 0 ? -1 : message.indexOf(0, first + 1);
  if (second < 0 || message.indexOf(0, second + 1) >= 0) return false;
  const authzid = Buffer.from(message.subarray(0, first));
  const user = Buffer.from(message.subarray(first + 1, second));
  const password = Buffer.from(message.subarray(second + 1));
  if (user.length === 0 || (authzid.length > 0 && !authzid.equals(user))) return false;
  if (user.length + password.length > MAX_USER_AND_PASSWORD || pwdb === null) return false;
  let db: Buffer;
  try {
    db = readFileSync(pwdb);
  } catch {
    return false;
  }
  for (let start = 0; start < db.length; ) {
    let end = db.indexOf(0x0a, start);
    if (end < 0) end = db.length;
    const line = db.subarray(start, end);
    start = end + 1;
    if (line.length <= user.length || line[user.length] !== 0x3a || !line.subarray(0, user.length).equals(user)) continue;
    return passwordMatches(line.subarray(user.length + 1), password);
  }
  return false;
}

/**
 * memcached's rule: the stored field starts with the password and ends there (end of line,
 * `:`, `\r` or NUL). The bytes are compared through their hashes, in constant time.
 */
function passwordMatches(stored: Buffer, given: Buffer): boolean {
  const n = Math.min(stored.length, given.length);
  const same = sameSecret(stored.subarray(0, n), given);
  const next = stored[given.length];
  const ends = stored.length === given.length || next === 0x3a || next === 0x0d || next === 0;
  return same && ends;
}
