/** Global counters with memcached's meaning; `stats reset` zeroes the resettable ones. */
export class Counters {
  cmdGet = 0;
  cmdSet = 0;
  cmdFlush = 0;
  cmdTouch = 0;
  cmdMeta = 0;
  getHits = 0;
  getMisses = 0;
  getExpired = 0;
  getFlushed = 0;
  deleteMisses = 0;
  deleteHits = 0;
  incrMisses = 0;
  incrHits = 0;
  decrMisses = 0;
  decrHits = 0;
  casMisses = 0;
  casHits = 0;
  casBadval = 0;
  touchHits = 0;
  touchMisses = 0;
  storeTooLarge = 0;
  storeNoMemory = 0;
  authCmds = 0;
  authErrors = 0;
  bytesRead = 0;
  bytesWritten = 0;
  totalConnections = 0;
  rejectedConnections = 0;
  /** Times accepting stopped at the connection limit (-o no_maxconns_fast). */
  listenDisabledNum = 0;
  timeInListenDisabledUs = 0;
  /** TLS handshakes that failed (-Z). */
  sslHandshakeErrors = 0;
  /** Clients closed by -o idle_timeout. */
  idleKicks = 0;
  connYields = 0;
  currConnections = 0;

  reset(): void {
    const keep = this.currConnections;
    Object.assign(this, new Counters());
    this.currConnections = keep;
  }
}
