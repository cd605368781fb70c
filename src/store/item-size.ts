/**
 * Bytes memcached charges for an item (`ITEM_ntotal` on 64-bit with CAS enabled): a 48-byte
 * header, the 8-byte CAS, the key with its NUL, 4 bytes of client flags when they are not
 * zero, and the value with its trailing CRLF. Matching it makes `bytes`, `-I` and `-m` mean
 * what they mean in memcached. Under -C (`cas` false) items have no CAS field.
 */
export function itemTotalSize(keyLength: number, flags: number, valueLength: number, cas = true): number {
  return 48 + (cas ? 8 : 0) + keyLength + 1 + (flags === 0 ? 0 : 4) + valueLength + 2;
}
