// Whether the agent's certificate names the agent, by libprocess' two schemes
// (`3rdparty/libprocess/src/openssl.cpp`: `verify` for 'legacy', `configure_socket` for 'openssl').
// Pure functions of a certificate and names: the reverse lookup is done by the caller.
import { isIP, isIPv4 } from 'node:net';
import type { X509Certificate } from 'node:crypto';

/** Why a certificate was refused, or null when it was accepted. */
export type NameCheck = string | null;

export interface LegacyPeer {
  /**
   * The name to look for: the reverse lookup of the agent's IP, else the hostname the executor
   * connected to (null for an IP, which is what upstream's executors always connect to).
   */
  readonly hostname: string | null;
  /** The agent's IP (the address connected to). */
  readonly ip: string;
}

export interface LegacyOptions {
  readonly verifyIpAddress: boolean;
  readonly unknownName: 'accept' | 'refuse';
}

/**
 * libprocess' 'legacy' check: the name is compared *exactly* (case-sensitive, no wildcards) with
 * each DNS SAN in order, the IP with each IPv4 SAN when IP SANs are allowed, and then, if no SAN
 * matched, with the first common name (even when DNS SANs are present). With no name known and
 * IP SANs not allowed there is nothing to check, and libprocess accepts the certificate unless
 * client certificates are required.
 */
export function checkLegacyName(cert: X509Certificate, peer: LegacyPeer, options: LegacyOptions): NameCheck {
  const { hostname, ip } = peer;
  if (!options.verifyIpAddress && hostname === null) {
    return options.unknownName === 'refuse' ? 'Cannot verify peer certificate: peer hostname unknown' : null;
  }
  for (const entry of subjectAltNames(cert)) {
    if (entry.type === 'DNS' && hostname !== null) {
      if (entry.value.includes('\0')) return 'X509 certificate malformed: embedded NUL character in DNS name';
      if (entry.value === hostname) return null;
    } else if (entry.type === 'IP Address' && options.verifyIpAddress) {
      // libprocess reads 4-byte (IPv4) entries only.
      if (isIPv4(entry.value) && entry.value === ip) return null;
    }
  }
  if (hostname !== null) {
    const cn = firstCommonName(cert);
    if (cn !== null) {
      return cn === hostname ? null : `Presented Certificate Name: ${cn} does not match peer hostname name: ${hostname}`;
    }
  }
  const details = [...(hostname !== null ? [`hostname ${hostname}`] : []), `IP ${ip}`];
  return `Could not verify presented certificate with ${details.join(', ')}`;
}

/**
 * libprocess' 'openssl' check: OpenSSL's `X509_check_host` with no flags (wildcards allowed, the
 * CN consulted only without DNS SANs, case-insensitive) for a hostname; for an IP,
 * `X509_check_ip` when IP SANs are allowed, and a refusal otherwise (libprocess cannot even
 * start the connection then).
 */
export function checkOpensslName(cert: X509Certificate, host: string, verifyIpAddress: boolean): NameCheck {
  if (isIP(host) === 0) {
    return cert.checkHost(host) !== undefined ? null : `the certificate does not name ${host} (openssl hostname validation)`;
  }
  if (!verifyIpAddress) {
    return `connected to the IP ${host} without LIBPROCESS_SSL_VERIFY_IPADD: the 'openssl' hostname validation scheme cannot match an IP then`;
  }
  return cert.checkIP(host) !== undefined ? null : `the certificate has no IP SAN ${host} (openssl hostname validation)`;
}

interface AltName {
  readonly type: string;
  readonly value: string;
}

/**
 * The SAN entries in certificate order, from Node's text form: `TYPE:value` joined by ", ",
 * where a value that holds a comma, a quote or a control character is a JSON string.
 */
export function subjectAltNames(cert: X509Certificate): AltName[] {
  const text = cert.subjectAltName;
  if (text === undefined) return [];
  const out: AltName[] = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    if (colon === -1) break;
    const type = text.slice(at, colon);
    let end: number;
    let value: string;
    if (text[colon + 1] === '"') {
      let i = colon + 2;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      end = i + 1;
      value = JSON.parse(text.slice(colon + 1, end)) as string;
    } else {
      const comma = text.indexOf(', ', colon + 1);
      end = comma === -1 ? text.length : comma;
      value = text.slice(colon + 1, end);
    }
    out.push({ type, value });
    at = text.startsWith(', ', end) ? end + 2 : end;
  }
  return out;
}

function firstCommonName(cert: X509Certificate): string | null {
  const cn: unknown = cert.toLegacyObject().subject?.CN;
  if (typeof cn === 'string') return cn;
  if (Array.isArray(cn) && typeof cn[0] === 'string') return cn[0];
  return null;
}
