// TLS to the agent as a libprocess client does it (`3rdparty/libprocess/src/openssl.cpp`,
// `ssl/openssl_socket.cpp`): the key and certificate always loaded and presented when asked, and,
// only when LIBPROCESS_SSL_VERIFY_SERVER_CERT is on, the chain checked against the CAs and the
// agent's name checked by the configured scheme once the handshake is done.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { lookupService } from 'node:dns/promises';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect, createSecureContext, type DetailedPeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import { MesosExecutorError, TlsConfigError } from '../errors.js';
import type { ServerVerification, TlsSettings } from './ssl-flags.js';
import { checkLegacyName, checkOpensslName } from './tls-identity.js';

/**
 * The agent's name for its IP, as libprocess gets it (`net::getHostname`: `getnameinfo` without
 * `NI_NAMEREQD`): the name, or the IP itself in text when it has none. Rejects when the lookup
 * itself fails (a temporary DNS failure, say): the name is then unknown.
 */
export type ReverseLookup = (ip: string) => Promise<string>;

/**
 * A {@link ReverseLookup} over a `getnameinfo` that, like Node's `dns.lookupService`, fails with
 * ENOTFOUND for an IP without a name (Node asks with NI_NAMEREQD): that case becomes the IP in
 * text, as libprocess gets it; any other failure stays a failure.
 */
export function reverseLookupWith(lookup: (ip: string, port: number) => Promise<{ hostname: string }>): ReverseLookup {
  return async (ip) => {
    try {
      return (await lookup(ip, 0)).hostname;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOTFOUND') return ip;
      throw error;
    }
  };
}

/** `getnameinfo` through libuv (the hosts file, then DNS), as libprocess' lookup. */
export const systemReverseLookup: ReverseLookup = reverseLookupWith(lookupService);

/** Everything a connection to the agent needs, prepared once at start. */
export interface TlsOptions {
  readonly secureContext: SecureContext;
  readonly verification: ServerVerification;
  readonly reverseLookup: ReverseLookup;
  /** Connection, handshake and verification must be done within this. */
  readonly handshakeTimeoutMs: number;
}

/** PEM contents, for {@link createTlsOptions}. */
export interface TlsMaterial {
  readonly key?: string;
  readonly cert?: string;
  /** Trusted CAs; null or absent means Node's default roots. */
  readonly ca?: readonly string[] | null;
}

export interface TlsOverrides {
  readonly reverseLookup?: ReverseLookup;
  readonly handshakeTimeoutMs?: number;
}

/** Undici's default connect timeout, for the same job. */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Reads the files libprocess reads (the key and certificate always, the CAs only when verifying)
 * and checks them as it does at start: an unreadable file, a key that does not match the
 * certificate, or a CA file without a certificate throws `TlsConfigError` (MPE_TLS_CONFIG).
 */
export function loadTlsOptions(settings: TlsSettings, overrides: TlsOverrides = {}): TlsOptions {
  const key = readPem(settings.keyFile, 'LIBPROCESS_SSL_KEY_FILE', 'key');
  const cert = readPem(settings.certFile, 'LIBPROCESS_SSL_CERT_FILE', 'certificate');
  // The same checks as libprocess' start, in its order, each naming the variable at fault.
  usable('LIBPROCESS_SSL_CERT_FILE', 'no PEM certificate', () => new X509Certificate(cert));
  usable('LIBPROCESS_SSL_KEY_FILE', 'not a usable PEM private key (an encrypted one is not: libprocess has no passphrase either)', () => createPrivateKey(key));
  usable('LIBPROCESS_SSL_KEY_FILE', 'the private key does not match the certificate', () => createSecureContext({ key, cert }));
  const { verification } = settings;
  let ca: string[] | null = null;
  if (verification.scheme !== 'off' && (verification.caFile !== null || verification.caDir !== null)) {
    ca = [];
    if (verification.caFile !== null) {
      const pem = readPem(verification.caFile, 'LIBPROCESS_SSL_CA_FILE', 'CA file');
      usable('LIBPROCESS_SSL_CA_FILE', 'no PEM certificate', () => new X509Certificate(pem));
      ca.push(pem);
    }
    if (verification.caDir !== null) ca.push(...readCaDirectory(verification.caDir));
  }
  return createTlsOptions({ key, cert, ca }, verification, overrides);
}

/** TLS options from PEM contents (what {@link loadTlsOptions} does once the files are read and checked). */
export function createTlsOptions(material: TlsMaterial, verification: ServerVerification, overrides: TlsOverrides = {}): TlsOptions {
  // Node replaces its default roots by `ca`, as libprocess' context trusts only the CA file
  // and directory when they are given, and the system's default paths otherwise.
  const secureContext = createSecureContext({
    ...(material.key !== undefined ? { key: material.key } : {}),
    ...(material.cert !== undefined ? { cert: material.cert } : {}),
    ...(material.ca !== null && material.ca !== undefined ? { ca: [...material.ca] } : {}),
  });
  return Object.freeze({
    secureContext,
    verification,
    reverseLookup: overrides.reverseLookup ?? systemReverseLookup,
    handshakeTimeoutMs: overrides.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  });
}

function usable(variable: string, problem: string, check: () => unknown): void {
  try {
    check();
  } catch (error) {
    throw new TlsConfigError(variable, `${variable}: ${problem} (libprocess refuses to start then): ${(error as Error).message}`, { cause: error });
  }
}

/** A TLS connection being opened: `ready` settles once the agent's certificate is judged. */
export interface TlsConnection {
  readonly socket: TLSSocket;
  /** Resolves when the socket may carry requests; rejects (MPE_CONNECTION) and destroys it otherwise. */
  readonly ready: Promise<void>;
}

/** Opens a TLS connection to the agent and verifies it as libprocess would. */
export function connectTls(options: TlsOptions, host: string, port: number): TlsConnection {
  const socket = connect({
    host,
    port,
    secureContext: options.secureContext,
    // No SNI for an IP (RFC 6066 forbids it); libprocess sends none at all.
    ...(isIP(host) === 0 ? { servername: host } : {}),
    // Judged after the handshake, below, as libprocess does; `authorized` then reflects the chain only.
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  const ready = new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === undefined) {
        resolve();
        return;
      }
      reject(error);
      socket.destroy();
    };
    const timer = setTimeout(
      () => settle(new MesosExecutorError('MPE_CONNECTION', `TLS: no verified connection within ${options.handshakeTimeoutMs} ms`)),
      options.handshakeTimeoutMs,
    );
    timer.unref();
    // Stays on after `ready`: whoever owns the socket then listens too, and an error after
    // `ready` settled must not be an unhandled 'error' event.
    socket.on('error', (error) => settle(error));
    socket.once('close', () => settle(new MesosExecutorError('MPE_CONNECTION', 'TLS: the connection closed before it was verified')));
    socket.once('secureConnect', () => {
      verifyAgent(socket, host, options).then(
        (problem) => settle(problem === null ? undefined : new MesosExecutorError('MPE_CONNECTION', `TLS: the agent's certificate was refused: ${problem}`)),
        (error: unknown) => settle(error instanceof Error ? error : new Error(String(error))),
      );
    });
  });
  return { socket, ready };
}

/** Why the agent's certificate is refused, or null when it is accepted (`openssl.cpp` `verify`). */
async function verifyAgent(socket: TLSSocket, host: string, options: TlsOptions): Promise<string | null> {
  const { verification } = options;
  if (verification.scheme === 'off') return null;
  // Not `getPeerX509Certificate()`: in Node 20 a `getPeerCertificate()` after it finds nothing.
  const detailed = socket.getPeerCertificate(true);
  if (detailed.raw === undefined) return 'Peer did not provide certificate';
  if (!socket.authorized) return `Could not verify peer certificate: ${String(socket.authorizationError)}`;
  const cert = new X509Certificate(detailed.raw);
  const intermediates = countIntermediates(detailed);
  if (intermediates > verification.depth) {
    return `the chain has ${intermediates} intermediate certificates, more than LIBPROCESS_SSL_VERIFICATION_DEPTH (${verification.depth})`;
  }
  if (verification.scheme === 'openssl') return checkOpensslName(cert, host, verification.verifyIpAddress);
  const ip = socket.remoteAddress ?? host;
  // libprocess starts from the hostname the URL named (none for an IP), and replaces it by the
  // reverse lookup of the IP when that succeeds.
  let hostname: string | null = isIP(host) === 0 ? host : null;
  try {
    hostname = await options.reverseLookup(ip);
  } catch {
    // libprocess logs a warning and goes on with what it had.
  }
  if (socket.destroyed) return 'the connection closed during the reverse lookup';
  return checkLegacyName(cert, { hostname, ip }, verification);
}

/**
 * Intermediate CAs in the verified chain (OpenSSL's verify depth counts them: the leaf and the
 * trust anchor are not counted). The chain ends at a self-signed certificate.
 */
export function countIntermediates(leaf: DetailedPeerCertificate): number {
  let certificates = 1;
  let current = leaf;
  while (current.issuerCertificate !== undefined && current.issuerCertificate !== current && current.issuerCertificate.fingerprint256 !== current.fingerprint256) {
    current = current.issuerCertificate;
    certificates++;
    if (certificates > 64) break;
  }
  return Math.max(0, certificates - 2);
}

function readPem(path: string, variable: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new TlsConfigError(variable, `${variable}: cannot read the ${what} ${JSON.stringify(path)}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * OpenSSL looks a CA up in a hashed directory by file name, `<subject hash>.<n>` (made by
 * `openssl rehash`): those files are the ones read; anything else there is not a CA to OpenSSL.
 */
function readCaDirectory(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (error) {
    throw new TlsConfigError('LIBPROCESS_SSL_CA_DIR', `LIBPROCESS_SSL_CA_DIR: cannot read ${JSON.stringify(dir)}: ${(error as Error).message}`, { cause: error });
  }
  const out: string[] = [];
  for (const name of names) {
    if (!/^[0-9a-f]{8}\.\d+$/.test(name)) continue;
    const path = join(dir, name);
    // A dangling link is skipped, as OpenSSL's lookup would find nothing there.
    let file = false;
    try {
      file = statSync(path).isFile();
    } catch {
      file = false;
    }
    if (file) out.push(readPem(path, 'LIBPROCESS_SSL_CA_DIR', 'CA'));
  }
  return out;
}
