import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { type SecureVersion, type Server, type TLSSocket, createServer } from "node:tls";
import type { TlsSettings } from "../settings/settings.ts";
import type { Counters } from "../stats/counters.ts";

/** A certificate or key that cannot be loaded: main reports it in one line and exits 64, as memcached does. */
export class TlsSetupError extends Error {}

const VERSIONS: readonly SecureVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

function read(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsSetupError(`Error loading the ${what}: ${path} : ${(err as Error).message}`);
  }
}

/**
 * A TLS listener with memcached's -Z settings, over Node's `tls`. ssl_verify_mode as OpenSSL's
 * flags mean it in memcached: 0 no client certificate asked; 1 asked, and one that does not
 * verify against ssl_ca_cert fails the handshake, but none at all is fine; 2 and 3 required.
 * Each failed handshake counts in `ssl_handshake_errors`.
 */
export function createTlsListener(tls: TlsSettings, counters: Counters, onSocket: (socket: Socket) => void): Server {
  const cert = read("certificate chain", tls.chainCert ?? "");
  const options = {
    cert,
    key: tls.key !== null ? read("private key", tls.key) : cert,
    ca: tls.caCert !== null ? read("CA certificate", tls.caCert) : undefined,
    requestCert: tls.verifyMode !== 0,
    rejectUnauthorized: tls.verifyMode >= 2,
    minVersion: VERSIONS[tls.minVersion],
    ciphers: tls.ciphers ?? undefined,
  };
  let server: Server;
  try {
    server = createServer(options, (socket: TLSSocket) => {
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
  return server;
}
