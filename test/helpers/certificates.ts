// Certificates made at test time by the openssl CLI (present on every machine we run on): a CA,
// intermediates, and leaf certificates with chosen names. EC P-256 keys, so making one is quick.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  /** PEM private key and its file. */
  readonly key: string;
  readonly keyPath: string;
  /** PEM certificate (followed by its intermediates, if any) and its file. */
  readonly cert: string;
  readonly certPath: string;
}

export interface CertificateAuthority extends Issued {
  /** The CA's own certificate alone (what a client trusts). */
  readonly caCert: string;
  /** A leaf certificate. `names` are SAN entries such as `DNS:localhost`, `IP:127.0.0.1`. */
  issue(options: { readonly cn?: string; readonly names?: readonly string[] }): Issued;
  /** An intermediate CA signed by this one. */
  intermediate(cn: string): CertificateAuthority;
}

const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
`;

/** A scratch directory of certificates; `remove()` deletes it. */
export class TestCertificates {
  readonly dir = mkdtempSync(join(tmpdir(), 'mpe-certs-'));
  #serial = 1;
  #files = 0;

  constructor() {
    writeFileSync(join(this.dir, 'openssl.cnf'), CONFIG);
  }

  /** A self-signed root CA. */
  root(cn = 'Test Root CA'): CertificateAuthority {
    const base = this.#next();
    this.#openssl([
      'req', '-x509', ...this.#newKey(base), '-subj', `/CN=${cn}`, '-days', '2',
      '-config', this.#path('openssl.cnf'), '-extensions', 'ca', '-out', `${base}.pem`,
    ]);
    return this.#authority(base, null);
  }

  /** A self-signed leaf certificate (no CA). */
  selfSigned(options: { readonly cn?: string; readonly names?: readonly string[] }): Issued {
    const base = this.#next();
    const ext = this.#extensions(base, options.names ?? []);
    this.#openssl([
      'req', '-x509', ...this.#newKey(base), '-subj', subject(options.cn), '-days', '2',
      '-config', ext, '-extensions', 'leaf', '-out', `${base}.pem`,
    ]);
    return this.#read(base, []);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** `above`: the intermediates between this CA and the root (null for the root itself). */
  #authority(base: string, above: readonly string[] | null): CertificateAuthority {
    const own = this.#read(base, []);
    // What a certificate issued here is sent with: this CA and those above it, never the root.
    const chain = above === null ? [] : [own.cert, ...above];
    const issuedBy = (options: { cn?: string; names?: readonly string[] }, ca: boolean): string => {
      const leaf = this.#next();
      this.#openssl(['req', '-new', ...this.#newKey(leaf), '-subj', subject(options.cn), '-config', this.#path('openssl.cnf'), '-out', `${leaf}.csr`]);
      const ext = ca ? this.#path('openssl.cnf') : this.#extensions(leaf, options.names ?? []);
      this.#openssl([
        'x509', '-req', '-in', `${leaf}.csr`, '-CA', `${base}.pem`, '-CAkey', `${base}.key`,
        '-set_serial', String(this.#serial++), '-days', '2', '-extfile', ext, '-extensions', ca ? 'ca' : 'leaf', '-out', `${leaf}.pem`,
      ]);
      return leaf;
    };
    return {
      ...this.#read(base, above ?? []),
      caCert: own.cert,
      issue: (options) => this.#read(issuedBy(options, false), chain),
      intermediate: (cn) => this.#authority(issuedBy({ cn }, true), chain),
    };
  }

  #read(base: string, chain: readonly string[]): Issued {
    const key = readFileSync(`${base}.key`, 'utf8');
    const cert = readFileSync(`${base}.pem`, 'utf8') + chain.join('');
    const certPath = `${base}.chain.pem`;
    writeFileSync(certPath, cert);
    return { key, keyPath: `${base}.key`, cert, certPath };
  }

  #extensions(base: string, names: readonly string[]): string {
    const path = `${base}.cnf`;
    writeFileSync(
      path,
      `${CONFIG}[leaf]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth, clientAuth\n${
        names.length > 0 ? `subjectAltName = ${names.join(', ')}\n` : ''
      }`,
    );
    return path;
  }

  #newKey(base: string): string[] {
    return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${base}.key`];
  }

  #next(): string {
    return this.#path(`c${this.#files++}`);
  }

  #path(name: string): string {
    return join(this.dir, name);
  }

  #openssl(args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}

function subject(cn: string | undefined): string {
  return cn === undefined ? '/O=No Common Name' : `/CN=${cn}`;
}
