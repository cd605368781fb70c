import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { type SecureContextOptions, type SecureVersion, type Server, type TLSSocket, createSecureContext, createServer } from "node:tls";
import type { TlsSettings } from "../settings/settings.ts";
import type { Counters } from "../stats/counters.ts";

/**
 * A certificate or key that cannot be loaded: at start-up main reports it in one line and exits
 * 64, as memcached does; `refresh_certs` answers it.
 */
export class TlsSetupError extends Error {}

const VERSIONS: readonly SecureVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

function read(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsSetupError(`Error loading the ${what}: ${path} : ${(err as Error).message}`);
  }
}

/** Builds a context from `options`, or throws `prefix` followed by OpenSSL's reason. */
function check(options: SecureContextOptions, prefix: string): void {
  try {
    createSecureContext(options);
  } catch (err) {
    throw new TlsSetupError(`${prefix}${(err as Error).message}`);
  }
}

/**
 * Reads the -Z files and checks them in memcached's order (load_server_certificates: chain,
 * then key, which must match it), so an error names the file at fault in memcached's words.
 */
function loadCertificates(tls: TlsSettings): SecureContextOptions {
  const chainPath = tls.chainCert ?? "";
  const cert = read("certificate chain", chainPath);
  const keyPath = tls.key ?? chainPath;
  const key = tls.key !== null ? read("key", keyPath) : cert;
  const ca = tls.caCert !== null ? read("CA certificate", tls.caCert) : undefined;
  check({ cert }, `Error loading the certificate chain: ${chainPath} : `);
  check({ cert, key }, `Error loading the key: ${keyPath} : `);
  return { cert, key, ca, minVersion: VERSIONS[tls.minVersion], ciphers: tls.ciphers ?? undefined };
}

/**
 * The TLS listeners, over Node's `tls`, with memcached's -Z settings; they share one set of
 * certificates, which `refresh` reloads (memcached's `refresh_certs`). ssl_verify_mode as
 * OpenSSL's flags mean it in memcached: 0 no client certificate asked; 1 asked, and one that
 * does not verify against ssl_ca_cert fails the handshake, but none at all is fine; 2 and 3
 * required. Each failed handshake counts in `ssl_handshake_errors`.
 */
export class TlsListeners {
  private readonly tls: TlsSettings;
  private readonly counters: Counters;
  private readonly now: () => number;
  private readonly servers: Server[] = [];
  private options: SecureContextOptions;
  /** Clock seconds of the last successful load, for `time_since_server_cert_refresh`. */
  loadedAt: number;

  /** Loads the certificates; throws TlsSetupError when they cannot be used. */
  constructor(tls: TlsSettings, counters: Counters, now: () => number) {
    this.tls = tls;
    this.counters = counters;
    this.now = now;
    this.options = loadCertificates(tls);
    this.loadedAt = now();
  }

  /** A new TLS listener handing each verified client socket to `onSocket`. */
  create(onSocket: (socket: Socket) => void): Server {
    const { tls, counters } = this;
    let server: Server;
    try {
      server = createServer({ ...this.options, requestCert: tls.verifyMode !== 0, rejectUnauthorized: tls.verifyMode >= 2 }, (socket: TLSSocket) => {
        if (tls.verifyMode === 1 && !socket.authorized && socket.getPeerCertificate().raw !== undefined) {
          counters.sslHandshakeErrors++;
          socket.destroy();
          return;
        }
        onSocket(socket);
      });
    } catch (err) {
      throw new TlsSetupError(`Error initializing TLS: ${(err as Error).message}`);
    }
    server.on("tlsClientError", (_err, socket) => {
      counters.sslHandshakeErrors++;
      socket.destroy();
    });
    this.servers.push(server);
    return server;
  }

  /**
   * memcached's refresh_certs: reads the certificate, key and CA files again and gives every
   * listener the new ones; connections already open keep theirs. Returns null when done, or
   * memcached's error line (without CRLF). A failed refresh leaves the old certificates in
   * use everywhere (memcached may be left with the new chain and no usable key).
   */
  refresh(): string | null {
    try {
      const options = loadCertificates(this.tls);
      for (const server of this.servers) server.setSecureContext(options);
      this.options = options;
    } catch (err) {
      return (err as Error).message.replace(/[\r\n]+/g, " ");
    }
    this.loadedAt = this.now();
    return null;
  }
}
