/**
 * What a transport that frames each reply separately (UDP) needs to know of a protocol session:
 * where memcached starts a response object and when it writes the queued ones. Over TCP the
 * replies are one byte stream and nobody listens; over UDP memcached sends every response
 * object as its own series of datagrams, so these points are observable.
 */
export interface ReplyFramer {
  /**
   * memcached starts a response object (resp_start): what the session appends from now on is
   * its reply. `sentIfEmpty`: memcached sends it even when it stays empty (a get's key that
   * missed, a quiet binary request, quit); otherwise an empty one was suppressed (noreply, a
   * meta q flag), which memcached skips.
   */
  start(sentIfEmpty: boolean): void;
  /** memcached writes every response object queued so far. */
  written(): void;
  /** memcached drops every response object it has not written (the session cut `out` back to its last write). */
  culled(): void;
}
