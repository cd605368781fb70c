import type { OutBuffer } from "./out-buffer.ts";

/** What a connection needs of the protocol it speaks (text, with meta, or binary). */
export interface ProtocolSession {
  /** Set when the connection must close once the writable part of `out` is flushed. */
  readonly closing: boolean;
  /**
   * A reply too long to build at once (metadump): the connection calls it again after each
   * write until it returns true, and no further command is read meanwhile.
   */
  producer: ((out: OutBuffer) => boolean) | null;
  /** Unix seconds of the last read with commands, for `stats conns`. */
  readonly lastCommandAt: number;
  /** Consumes bytes of buf[start..end); returns how far it got (the rest is kept for the next read). */
  consume(buf: Uint8Array, start: number, end: number): number;
  /** How much of `out` may be written now (memcached holds replies while a value is half read). */
  writable(): number;
  /** memcached's name for the state the connection waits in. */
  connState(): string;
  /** The connection is closing: give back whatever item a half-read value holds. */
  release(): void;
}

/**
 * Replies gathered past this many bytes in one read stop the session from starting another
 * command until the client has read them: a client that sends gets and never reads would
 * otherwise make the server hold gigabytes (64 KiB of gets naming a 1 MB value).
 */
export const OUT_HIGH_WATER = 4 * 1024 * 1024;

/** The producer that makes the connection wait for the client to read, then go on reading requests. */
export const AFTER_DRAIN = (): boolean => true;
