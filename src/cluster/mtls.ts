/**
 * Mutual TLS for cluster channels, with the peer checks done here rather than
 * by the TLS library: Deno's TLS (rustls) refuses X.509 v1 certificates and
 * certificates without a subjectAltName, which is exactly what the usual
 * openssl commands (RSA 4096, CN = host, no extensions) produce. So TLS runs
 * with the library's verification off and this module verifies every peer
 * itself, before any RPC is served or sent:
 *
 * - the certificate is present, signed by the cluster CA, and within its
 *   validity dates (both directions);
 * - a server's certificate names the host the client dialled, in its
 *   subjectAltName (DNS or IP) or, when it has none, its CN.
 *
 * A refused peer is logged with its address and the connection is closed.
 * This hooks two grpc-js internals (`Server#createHttp2Server`, the channel
 * credentials' secure connector) of the pinned grpc-js version.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { type ClusterSecurity, grpc } from "./grpc.ts";

/** Cluster certificate material. */
export interface MtlsMaterial {
  readonly ca: Uint8Array;
  readonly cert: Uint8Array;
  readonly key: Uint8Array;
}

/** Why a peer certificate is refused, or null when it is acceptable. */
export function checkPeerCertificate(
  raw: Uint8Array | undefined,
  ca: X509Certificate,
  host: string | null,
  now = Date.now(),
): string | null {
  if (!raw || raw.length === 0) return "no client certificate was presented";
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(raw));
  } catch {
    return "the certificate could not be parsed";
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    return `the certificate (${
      cert.subject.replaceAll("\n", ", ")
    }) is not signed by the cluster CA`;
  }
  if (Date.parse(cert.validFrom) > now) {
    return `the certificate is not valid before ${cert.validFrom}`;
  }
  if (Date.parse(cert.validTo) < now) return `the certificate expired on ${cert.validTo}`;
  if (host !== null && !namesHost(cert, host)) {
    return `the certificate names ${certNames(cert).join(", ") || "no host"}, not ${host}`;
  }
  return null;
}

function commonName(cert: X509Certificate): string | null {
  const m = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject);
  return m ? m[1] : null;
}

function altNames(cert: X509Certificate): { dns: string[]; ip: string[] } {
  const dns: string[] = [], ip: string[] = [];
  for (const part of (cert.subjectAltName ?? "").split(/,\s*/)) {
    if (part.startsWith("DNS:")) dns.push(part.slice(4).toLowerCase());
    else if (part.startsWith("IP Address:")) ip.push(part.slice(11));
  }
  return { dns, ip };
}

function certNames(cert: X509Certificate): string[] {
  const { dns, ip } = altNames(cert);
  if (dns.length || ip.length) return [...dns, ...ip];
  const cn = commonName(cert);
  return cn ? [cn] : [];
}

/** SAN first (as RFC 6125 says); the CN only when the certificate has no SAN names. */
function namesHost(cert: X509Certificate, host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  const { dns, ip } = altNames(cert);
  if (dns.length || ip.length) {
    if (ip.includes(h)) return true;
    return dns.some((d) =>
      d === h ||
      (d.startsWith("*.") && h.endsWith(d.slice(1)) && !h.slice(0, -d.length + 1).includes("."))
    );
  }
  return commonName(cert)?.toLowerCase() === h;
}

/** Server credentials that request a client certificate (verified by `secureServer`). */
export function mtlsServerCredentials(m: MtlsMaterial): grpc.ServerCredentials {
  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(m.ca),
    [{ private_key: Buffer.from(m.key), cert_chain: Buffer.from(m.cert) }],
    true,
  );
  // Request a certificate, but let this module (not rustls) decide about it.
  (creds as unknown as { serverConstructorOptions: Record<string, unknown> })
    .serverConstructorOptions
    .rejectUnauthorized = false;
  return creds;
}

/**
 * Makes `server` verify every TLS client before any RPC: connections without
 * a valid certificate are logged and closed.
 */
export function enforceClientCertificates(
  server: grpc.Server,
  m: MtlsMaterial,
  log: (msg: string) => void,
): void {
  const ca = new X509Certificate(Buffer.from(m.ca));
  const s = server as unknown as { createHttp2Server: (c: unknown) => NodeHttp2Server };
  const original = s.createHttp2Server.bind(server);
  s.createHttp2Server = (creds: unknown) => {
    const h = original(creds);
    h.prependListener("secureConnection", (socket: TLSSocket) => {
      const peer = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
      const why = checkPeerCertificate(socket.getPeerCertificate(true)?.raw, ca, null);
      if (why) {
        log(`refused cluster connection from ${peer}: ${why}`);
        socket.destroy();
      }
    });
    h.on("tlsClientError", (err: Error, socket: TLSSocket) => {
      const peer = `${socket?.remoteAddress ?? "?"}:${socket?.remotePort ?? "?"}`;
      log(
        `refused cluster connection from ${peer}: TLS handshake failed (${err.message}; a plaintext client?)`,
      );
    });
    return h;
  };
}

interface NodeHttp2Server {
  prependListener(event: "secureConnection", f: (s: TLSSocket) => void): void;
  on(event: "tlsClientError", f: (e: Error, s: TLSSocket) => void): void;
}

interface SecureConnector {
  connect(socket: unknown): Promise<{ socket: TLSSocket; secure: boolean }>;
}

/**
 * Channel credentials presenting this node's certificate and verifying the
 * server's (CA signature, dates, and the dialled host in SAN or CN).
 */
export function mtlsChannelCredentials(
  m: MtlsMaterial,
  log?: (msg: string) => void,
): grpc.ChannelCredentials {
  const ca = new X509Certificate(Buffer.from(m.ca));
  const creds = grpc.credentials.createSsl(
    Buffer.from(m.ca),
    Buffer.from(m.key),
    Buffer.from(m.cert),
    {
      rejectUnauthorized: false,
      checkServerIdentity: (host: string, cert: { raw?: Uint8Array }) => {
        const why = checkPeerCertificate(cert.raw, ca, host);
        return why ? new Error(`server ${host}: ${why}`) : undefined;
      },
    } as grpc.VerifyOptions,
  );
  const c = creds as unknown as {
    _createSecureConnector: (
      target: unknown,
      options: unknown,
      callCreds: unknown,
    ) => SecureConnector;
  };
  const original = c._createSecureConnector.bind(creds);
  c._createSecureConnector = (target, options, callCreds) => {
    const connector = original(target, options, callCreds);
    const connect = connector.connect.bind(connector);
    connector.connect = async (socket) => {
      const r = await connect(socket);
      // checkServerIdentity's verdict lands in `authorized`: enforce it here.
      if (!r.socket.authorized) {
        const why = String(r.socket.authorizationError ?? "server certificate refused");
        log?.(`refused cluster server: ${why}`);
        r.socket.destroy();
        throw new Error(why);
      }
      return r;
    };
    return connector;
  };
  return creds;
}

/** Credentials for a cluster server (plaintext, or mTLS enforced on `server`). */
export function clusterServerCredentials(
  server: grpc.Server,
  sec: ClusterSecurity,
  log: (msg: string) => void,
): grpc.ServerCredentials {
  if (sec.mode === "insecure") return grpc.ServerCredentials.createInsecure();
  enforceClientCertificates(server, sec, log);
  return mtlsServerCredentials(sec);
}

/** Credentials for a cluster client channel (plaintext, or mTLS). */
export function clusterChannelCredentials(
  sec: ClusterSecurity,
  log?: (msg: string) => void,
): grpc.ChannelCredentials {
  if (sec.mode === "insecure") return grpc.credentials.createInsecure();
  return mtlsChannelCredentials(sec, log);
}
