import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether two secrets (passwords, user names) are equal, in time that does not depend on where
 * they differ or how long the common prefix is: timingSafeEqual needs equal lengths, so it
 * compares their SHA-256 digests, which also keeps the length of the stored secret hidden.
 */
export function sameSecret(a: Uint8Array, b: Uint8Array): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function sha256(b: Uint8Array): Buffer {
  return createHash("sha256").update(b).digest();
}
