/** One `-l` entry as memcached reads it: `[notls:]host[:port]`, IPv6 hosts in brackets. */
export interface ListenSpec {
  readonly host: string;
  /** null: the -p port. */
  readonly port: number | null;
  /** False for a `notls:` entry (plain TCP while -Z puts TLS on the others). */
  readonly tls: boolean;
}

const NOTLS = "notls:";

/** Splits an entry; null when its port is not a number in 0..65535. */
export function parseListenSpec(entry: string): ListenSpec | null {
  const tls = !entry.startsWith(NOTLS);
  let rest = tls ? entry : entry.slice(NOTLS.length);
  let port: number | null = null;
  const m = rest.startsWith("[") ? /^\[([^\]]*)\](?::(.*))?$/.exec(rest) : /^([^:]*):([^:]*)$/.exec(rest);
  if (m !== null) {
    rest = m[1];
    if (m[2] !== undefined) {
      if (!/^\d{1,5}$/.test(m[2]) || Number(m[2]) > 65535) return null;
      port = Number(m[2]);
    }
  }
  return { host: rest, port, tls };
}
