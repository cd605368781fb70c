/** Seconds-resolution time source; injected so expiry tests never sleep. */
export interface Clock {
  /** Current unix time in whole seconds. */
  now(): number;
}

/**
 * The system clock read once per `refresh()` (the server's 2 ms maintenance tick) rather than
 * on every call: a store operation asks for the time several times, and Date.now() was ~3% of
 * the CPU of a set. memcached likewise keeps a current_time its timer updates once a second.
 */
export class CoarseClock implements Clock {
  private t = CoarseClock.read();
  now(): number {
    return this.t;
  }
  refresh(): void {
    this.t = CoarseClock.read();
  }
  private static read(): number {
    return Math.floor(Date.now() / 1000);
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start = 1_700_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(seconds: number): void {
    this.t += seconds;
  }
}
