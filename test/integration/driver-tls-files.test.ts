// The agent's certificate judged as a libprocess client judges it: the name schemes on their own
// (certificates made at test time), then over real loopback TLS connections, with a fake reverse
// lookup so that no test depends on DNS.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { CallConnection } from '../../src/driver/call-connection.js';
import type { ServerVerification, TlsSettings } from '../../src/driver/ssl-flags.js';
import { checkLegacyName, checkOpensslName, subjectAltNames } from '../../src/driver/tls-identity.js';
import { createTlsOptions, loadTlsOptions, reverseLookupWith, type ReverseLookup, type TlsOptions } from '../../src/driver/tls.js';
import { TestCertificates, type CertificateAuthority } from '../helpers/certificates.js';

const certs = new TestCertificates();
after(() => certs.remove());

let root: CertificateAuthority;
before(() => {
  root = certs.root();
});

function x509(options: { cn?: string; names?: readonly string[] }): X509Certificate {
  return new X509Certificate(root.issue(options).cert);
}

const LEGACY = { verifyIpAddress: false, unknownName: 'accept' } as const;

describe('legacy name check (openssl.cpp verify)', () => {
  it('accepts the looked-up name as a DNS SAN, compared exactly', () => {
    const cert = x509({ cn: 'unrelated', names: ['DNS:other.example', 'DNS:agent.example'] });
    assert.equal(checkLegacyName(cert, { hostname: 'agent.example', ip: '10.0.0.5' }, LEGACY), null);
    // No case folding and no wildcards: libprocess compares the strings.
    assert.match(String(checkLegacyName(cert, { hostname: 'Agent.example', ip: '10.0.0.5' }, LEGACY)), /does not match/);
    const wildcard = x509({ cn: 'x', names: ['DNS:*.example'] });
    assert.notEqual(checkLegacyName(wildcard, { hostname: 'agent.example', ip: '10.0.0.5' }, LEGACY), null);
  });

  it('refuses another name, naming the CN it found', () => {
    const cert = x509({ cn: 'mallory.example', names: ['DNS:mallory.example'] });
    assert.equal(
      checkLegacyName(cert, { hostname: 'agent.example', ip: '10.0.0.5' }, LEGACY),
      'Presented Certificate Name: mallory.example does not match peer hostname name: agent.example',
    );
  });

  it('falls back to the first CN even when DNS SANs are present', () => {
    const cert = x509({ cn: 'agent.example', names: ['DNS:other.example'] });
    assert.equal(checkLegacyName(cert, { hostname: 'agent.example', ip: '10.0.0.5' }, LEGACY), null);
  });

  it('without a CN or a matching SAN, refuses with the hostname and IP', () => {
    const cert = x509({ names: ['DNS:other.example'] });
    assert.equal(
      checkLegacyName(cert, { hostname: 'agent.example', ip: '10.0.0.5' }, LEGACY),
      'Could not verify presented certificate with hostname agent.example, IP 10.0.0.5',
    );
  });

  it('name unknown (the reverse lookup failed): accepted, unless client certificates are required', () => {
    const cert = x509({ cn: 'mallory.example', names: ['DNS:mallory.example'] });
    assert.equal(checkLegacyName(cert, { hostname: null, ip: '10.0.0.5' }, LEGACY), null);
    assert.equal(
      checkLegacyName(cert, { hostname: null, ip: '10.0.0.5' }, { ...LEGACY, unknownName: 'refuse' }),
      'Cannot verify peer certificate: peer hostname unknown',
    );
  });

  it('VERIFY_IPADD: an IPv4 SAN equal to the agent IP is accepted, with or without a name', () => {
    const cert = x509({ cn: 'x', names: ['IP:10.0.0.5', 'IP:::1'] });
    const ipadd = { ...LEGACY, verifyIpAddress: true };
    assert.equal(checkLegacyName(cert, { hostname: null, ip: '10.0.0.5' }, ipadd), null);
    assert.equal(checkLegacyName(cert, { hostname: 'agent.example', ip: '10.0.0.5' }, ipadd), null);
    assert.equal(checkLegacyName(cert, { hostname: null, ip: '10.0.0.6' }, ipadd), 'Could not verify presented certificate with IP 10.0.0.6');
    // Without it the IP SAN is not consulted.
    assert.notEqual(checkLegacyName(cert, { hostname: 'agent.example', ip: '10.0.0.5' }, LEGACY), null);
    // libprocess reads 4-byte IP SANs only.
    assert.notEqual(checkLegacyName(cert, { hostname: null, ip: '::1' }, ipadd), null);
  });

  it('a name equal to the IP in text (a reverse lookup without a name) matches a DNS SAN or CN spelled so', () => {
    const cert = x509({ cn: '10.0.0.5' });
    assert.equal(checkLegacyName(cert, { hostname: '10.0.0.5', ip: '10.0.0.5' }, LEGACY), null);
  });
});

describe('openssl name check (X509_check_host / X509_check_ip)', () => {
  it('a hostname: SANs with wildcards, case-insensitive; the CN only without DNS SANs', () => {
    const cert = x509({ cn: 'cn.example', names: ['DNS:agent.example', 'DNS:*.pool.example'] });
    assert.equal(checkOpensslName(cert, 'agent.example', false), null);
    assert.equal(checkOpensslName(cert, 'AGENT.example', false), null);
    assert.equal(checkOpensslName(cert, 'a1.pool.example', false), null);
    assert.notEqual(checkOpensslName(cert, 'cn.example', false), null);
    assert.equal(checkOpensslName(x509({ cn: 'cn.example' }), 'cn.example', false), null);
  });

  it('an IP: refused without VERIFY_IPADD; with it, matched against the IP SANs (v4 and v6)', () => {
    const cert = x509({ cn: '127.0.0.1', names: ['IP:127.0.0.1', 'IP:::1'] });
    assert.match(String(checkOpensslName(cert, '127.0.0.1', false)), /VERIFY_IPADD/);
    assert.equal(checkOpensslName(cert, '127.0.0.1', true), null);
    assert.equal(checkOpensslName(cert, '::1', true), null);
    assert.notEqual(checkOpensslName(cert, '127.0.0.2', true), null);
  });
});

describe('subjectAltNames', () => {
  it('reads the entries in order, and quoted values', () => {
    const cert = x509({ cn: 'x', names: ['DNS:a.example', 'IP:127.0.0.1', 'email:ops@example.com', 'DNS:b.example'] });
    assert.deepEqual(subjectAltNames(cert), [
      { type: 'DNS', value: 'a.example' },
      { type: 'IP Address', value: '127.0.0.1' },
      { type: 'email', value: 'ops@example.com' },
      { type: 'DNS', value: 'b.example' },
    ]);
    assert.deepEqual(subjectAltNames(x509({ cn: 'none' })), []);
  });
});

describe('reverse lookup', () => {
  it('returns the name; an IP without one becomes the IP in text (getnameinfo without NI_NAMEREQD); other failures fail', async () => {
    const named = reverseLookupWith(async (ip) => ({ hostname: `host-of-${ip}` }));
    assert.equal(await named('10.0.0.5'), 'host-of-10.0.0.5');
    const unnamed = reverseLookupWith(async () => {
      throw Object.assign(new Error('getnameinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    });
    assert.equal(await unnamed('10.0.0.5'), '10.0.0.5');
    const broken = reverseLookupWith(async () => {
      throw Object.assign(new Error('getnameinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
    });
    await assert.rejects(broken('10.0.0.5'), /EAI_AGAIN/);
  });
});

// --- over real connections ---

const servers: Server[] = [];
after(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

interface Agent {
  readonly port: number;
  /** The CN of the client certificate of each request, or null. */
  readonly clients: Array<string | null>;
}

async function agent(identity: { key: string; cert: string }, options: { requireClientCert?: readonly string[] } = {}): Promise<Agent> {
  const clients: Array<string | null> = [];
  const server = createHttpsServer(
    {
      key: identity.key,
      cert: identity.cert,
      ...(options.requireClientCert !== undefined ? { requestCert: true, rejectUnauthorized: true, ca: [...options.requireClientCert] } : {}),
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      clients.push(peer !== null && typeof peer.subject?.CN === 'string' ? peer.subject.CN : null);
      req.resume();
      req.on('end', () => {
        res.writeHead(202);
        res.end();
      });
    },
  );
  servers.push(server);
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { port, clients };
}

const HEADERS = 'Content-Type: application/json\r\nAccept: application/json\r\n';

/** One POST over a fresh call connection: the status, or the error's message. */
async function post(port: number, tls: TlsOptions): Promise<number | string> {
  const connection = new CallConnection({ host: '127.0.0.1', port, tls, path: '/api/v1/executor', responseTimeoutMs: 5000, pipelining: 1 });
  try {
    return (await connection.post(Buffer.from('{}'), HEADERS)).status;
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'MPE_CONNECTION');
    return (error as Error).message;
  } finally {
    connection.close();
  }
}

function legacy(overrides: Partial<Extract<ServerVerification, { scheme: 'legacy' }>> = {}): ServerVerification {
  return { scheme: 'legacy', caFile: null, caDir: null, depth: 4, verifyIpAddress: false, unknownName: 'accept', ...overrides };
}

function lookup(answer: string | Error, asked?: string[]): ReverseLookup {
  return async (ip) => {
    asked?.push(ip);
    if (answer instanceof Error) throw answer;
    return answer;
  };
}

describe('TLS connections to the agent', () => {
  it('verification off (the default): any certificate, any name, untrusted or not', async () => {
    const { port } = await agent(certs.selfSigned({ cn: 'mallory.example' }));
    assert.equal(await post(port, createTlsOptions({}, { scheme: 'off' }, { reverseLookup: lookup(new Error('never asked')) })), 202);
  });

  it('legacy: the reverse lookup of the IP connected to is the name checked', async () => {
    const { port } = await agent(root.issue({ cn: 'agent.example', names: ['DNS:agent.example'] }));
    const asked: string[] = [];
    assert.equal(await post(port, createTlsOptions({ ca: [root.caCert] }, legacy(), { reverseLookup: lookup('agent.example', asked) })), 202);
    assert.deepEqual(asked, ['127.0.0.1']);
    const refused = await post(port, createTlsOptions({ ca: [root.caCert] }, legacy(), { reverseLookup: lookup('other.example') }));
    assert.match(String(refused), /certificate was refused: Presented Certificate Name: agent\.example does not match peer hostname name: other\.example/);
  });

  it('legacy: a failed reverse lookup leaves the name unknown: accepted, or refused under REQUIRE_CLIENT_CERT', async () => {
    const { port } = await agent(root.issue({ cn: 'agent.example', names: ['DNS:agent.example'] }));
    const failing = lookup(Object.assign(new Error('EAI_AGAIN'), { code: 'EAI_AGAIN' }));
    assert.equal(await post(port, createTlsOptions({ ca: [root.caCert] }, legacy(), { reverseLookup: failing })), 202);
    const strict = createTlsOptions({ ca: [root.caCert] }, legacy({ unknownName: 'refuse' }), { reverseLookup: failing });
    assert.match(String(await post(port, strict)), /peer hostname unknown/);
  });

  it('legacy with VERIFY_IPADD: an IP SAN is enough whatever the reverse lookup says', async () => {
    const { port } = await agent(root.issue({ cn: 'agent.example', names: ['IP:127.0.0.1'] }));
    const ipadd = createTlsOptions({ ca: [root.caCert] }, legacy({ verifyIpAddress: true }), { reverseLookup: lookup('localhost') });
    assert.equal(await post(port, ipadd), 202);
    const without = createTlsOptions({ ca: [root.caCert] }, legacy(), { reverseLookup: lookup('localhost') });
    assert.match(String(await post(port, without)), /does not match peer hostname name: localhost/);
  });

  it('an untrusted chain is refused before any name is looked at', async () => {
    const { port } = await agent(certs.selfSigned({ cn: 'agent.example', names: ['DNS:agent.example'] }));
    const asked: string[] = [];
    const result = await post(port, createTlsOptions({ ca: [root.caCert] }, legacy(), { reverseLookup: lookup('agent.example', asked) }));
    assert.match(String(result), /Could not verify peer certificate/);
    assert.deepEqual(asked, []);
  });

  it('openssl: the IP connected to, against the IP SANs, only with VERIFY_IPADD', async () => {
    const { port } = await agent(root.issue({ cn: 'agent.example', names: ['IP:127.0.0.1'] }));
    const openssl = (verifyIpAddress: boolean): ServerVerification => ({ scheme: 'openssl', caFile: null, caDir: null, depth: 4, verifyIpAddress });
    assert.equal(await post(port, createTlsOptions({ ca: [root.caCert] }, openssl(true))), 202);
    assert.match(String(await post(port, createTlsOptions({ ca: [root.caCert] }, openssl(false)))), /VERIFY_IPADD/);
  });

  it('VERIFICATION_DEPTH bounds the intermediates', async () => {
    const two = root.intermediate('Intermediate 1').intermediate('Intermediate 2');
    const { port } = await agent(two.issue({ cn: 'agent.example', names: ['IP:127.0.0.1'] }));
    const depth = (n: number): TlsOptions => createTlsOptions({ ca: [root.caCert] }, legacy({ depth: n, verifyIpAddress: true }), { reverseLookup: lookup('x') });
    assert.equal(await post(port, depth(2)), 202);
    assert.match(String(await post(port, depth(1))), /2 intermediate certificates, more than LIBPROCESS_SSL_VERIFICATION_DEPTH \(1\)/);
  });

  it('presents the executor certificate to an agent that requires one', async () => {
    const clientCa = certs.root('Client CA');
    const { port, clients } = await agent(root.issue({ cn: 'agent.example', names: ['IP:127.0.0.1'] }), { requireClientCert: [clientCa.caCert] });
    const executor = clientCa.issue({ cn: 'executor' });
    assert.equal(await post(port, createTlsOptions({ key: executor.key, cert: executor.cert }, { scheme: 'off' })), 202);
    assert.deepEqual(clients, ['executor']);
    assert.equal(typeof (await post(port, createTlsOptions({}, { scheme: 'off' }))), 'string');
    assert.deepEqual(clients, ['executor']);
  });
});

describe('loadTlsOptions: the files, checked at start as libprocess does', () => {
  const tlsSettings = (overrides: Partial<TlsSettings>, verification: ServerVerification = { scheme: 'off' }): TlsSettings => {
    const executor = root.issue({ cn: 'executor' });
    return { keyFile: executor.keyPath, certFile: executor.certPath, verification, ...overrides };
  };
  const configError = (fn: () => unknown, variable: string, message: RegExp): void => {
    assert.throws(fn, (error: unknown) => {
      assert.equal((error as { code?: string }).code, 'MPE_TLS_CONFIG');
      assert.equal((error as { variable?: string }).variable, variable);
      assert.match((error as Error).message, message);
      return true;
    });
  };

  it('reads the key and certificate, and the CA files when verifying (the settings carry none otherwise)', () => {
    assert.equal(loadTlsOptions(tlsSettings({})).verification.scheme, 'off');
    configError(() => loadTlsOptions(tlsSettings({}, legacy({ caFile: '/nonexistent/ca.pem' }))), 'LIBPROCESS_SSL_CA_FILE', /cannot read/);
  });

  it('an unreadable key or certificate, a key of another certificate, an encrypted key, a CA file without a certificate', () => {
    configError(() => loadTlsOptions(tlsSettings({ keyFile: '/nonexistent/key.pem' })), 'LIBPROCESS_SSL_KEY_FILE', /cannot read/);
    configError(() => loadTlsOptions(tlsSettings({ certFile: '/nonexistent/cert.pem' })), 'LIBPROCESS_SSL_CERT_FILE', /cannot read/);
    const other = root.issue({ cn: 'other' });
    configError(() => loadTlsOptions(tlsSettings({ keyFile: other.keyPath })), 'LIBPROCESS_SSL_KEY_FILE', /does not match/);
    configError(() => loadTlsOptions(tlsSettings({ certFile: other.keyPath })), 'LIBPROCESS_SSL_CERT_FILE', /no PEM certificate/);
    const encrypted = join(certs.dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', other.keyPath, '-aes256', '-passout', 'pass:secret', '-out', encrypted], { stdio: 'ignore' });
    configError(() => loadTlsOptions(tlsSettings({ keyFile: encrypted })), 'LIBPROCESS_SSL_KEY_FILE', /not a usable PEM private key/);
    const garbage = join(certs.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    configError(() => loadTlsOptions(tlsSettings({}, legacy({ caFile: garbage }))), 'LIBPROCESS_SSL_CA_FILE', /no PEM certificate/);
  });

  it('a CA directory: its hashed entries (openssl rehash) are the CAs; other files are not read', async () => {
    const dir = join(certs.dir, 'ca.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'root.pem'), root.caCert);
    writeFileSync(join(dir, 'README'), 'not a certificate\n');
    execFileSync('openssl', ['rehash', dir], { stdio: 'ignore' });
    const { port } = await agent(root.issue({ cn: 'agent.example', names: ['IP:127.0.0.1'] }));
    const options = loadTlsOptions(tlsSettings({}, legacy({ caDir: dir, verifyIpAddress: true })), { reverseLookup: lookup('x') });
    assert.equal(await post(port, options), 202);
    // The same directory without its hash links trusts nothing.
    const bare = join(certs.dir, 'bare.d');
    mkdirSync(bare);
    writeFileSync(join(bare, 'root.pem'), root.caCert);
    const none = loadTlsOptions(tlsSettings({}, legacy({ caDir: bare, verifyIpAddress: true })), { reverseLookup: lookup('x') });
    assert.match(String(await post(port, none)), /Could not verify peer certificate/);
  });
});
