// How the libprocess SSL variables resolve, variable by variable, against what
// `3rdparty/libprocess/src/openssl.cpp` (`Flags`, `reinitialize`) does with them.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { EnvironmentError } from '../../src/errors.js';
import { readExecutorEnvironment } from '../../src/driver/executor-environment.js';
import { readSslFlags, type ServerVerification, type TlsSettings } from '../../src/driver/ssl-flags.js';

type Env = Record<string, string | undefined>;

const KEYS = { LIBPROCESS_SSL_KEY_FILE: '/ssl/key.pem', LIBPROCESS_SSL_CERT_FILE: '/ssl/cert.pem' };

function settings(env: Env): TlsSettings {
  const flags = readSslFlags({ LIBPROCESS_SSL_ENABLED: '1', ...KEYS, ...env });
  assert.equal(flags.enabled, true);
  if (!flags.enabled) throw new Error('unreachable');
  return flags.settings;
}

function verification(env: Env): ServerVerification {
  return settings(env).verification;
}

function envError(fn: () => unknown, code: 'MPE_ENV_MISSING' | 'MPE_ENV_INVALID', variable: string): EnvironmentError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EnvironmentError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.variable, variable);
    return error;
  }
  assert.fail('expected an EnvironmentError');
}

const LEGACY_DEFAULTS = { scheme: 'legacy', caFile: null, caDir: null, depth: 4, verifyIpAddress: false, unknownName: 'accept' } as const;

describe('libprocess SSL variables', () => {
  describe('enabling', () => {
    it('is off by default, and then nothing else is required or read', () => {
      assert.deepEqual(readSslFlags({}), { enabled: false });
      assert.deepEqual(readSslFlags({ LIBPROCESS_SSL_ENABLED: '0', LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: 'bogus', LIBPROCESS_SSL_CA_FILE: '' }), {
        enabled: false,
      });
    });

    it('on: the key and certificate files are the ones named', () => {
      const tls = settings({});
      assert.equal(tls.keyFile, '/ssl/key.pem');
      assert.equal(tls.certFile, '/ssl/cert.pem');
      assert.ok(Object.isFrozen(tls));
    });

    it('on without a key is a startup error naming LIBPROCESS_SSL_KEY_FILE (checked before the certificate, as libprocess)', () => {
      const error = envError(() => readSslFlags({ LIBPROCESS_SSL_ENABLED: 'true' }), 'MPE_ENV_MISSING', 'LIBPROCESS_SSL_KEY_FILE');
      assert.match(error.message, /requires a key/);
    });

    it('on without a certificate is a startup error naming LIBPROCESS_SSL_CERT_FILE', () => {
      envError(() => readSslFlags({ LIBPROCESS_SSL_ENABLED: '1', LIBPROCESS_SSL_KEY_FILE: '/k' }), 'MPE_ENV_MISSING', 'LIBPROCESS_SSL_CERT_FILE');
    });

    it('an empty key or certificate path is invalid', () => {
      envError(() => settings({ LIBPROCESS_SSL_KEY_FILE: '' }), 'MPE_ENV_INVALID', 'LIBPROCESS_SSL_KEY_FILE');
      envError(() => settings({ LIBPROCESS_SSL_CERT_FILE: '' }), 'MPE_ENV_INVALID', 'LIBPROCESS_SSL_CERT_FILE');
    });

    it('the deprecated SSL_ names fill in what LIBPROCESS_SSL_ does not set', () => {
      const flags = readSslFlags({ SSL_ENABLED: '1', SSL_KEY_FILE: '/old/key', LIBPROCESS_SSL_CERT_FILE: '/new/cert', SSL_CERT_FILE: '/old/cert' });
      assert.ok(flags.enabled);
      if (flags.enabled) assert.deepEqual([flags.settings.keyFile, flags.settings.certFile], ['/old/key', '/new/cert']);
    });

    it('the flag name after the prefix is case-insensitive (stout lower-cases it)', () => {
      const flags = readSslFlags({ LIBPROCESS_SSL_enabled: '1', LIBPROCESS_SSL_Key_File: '/k', libprocess_ssl_cert_file: '/ignored', LIBPROCESS_SSL_CERT_FILE: '/c' });
      assert.ok(flags.enabled);
      if (flags.enabled) assert.deepEqual([flags.settings.keyFile, flags.settings.certFile], ['/k', '/c']);
    });

    it('a missing key is an error over the Unix socket too, where no TLS is spoken (libprocess starts SSL anyway)', () => {
      const env: Env = {
        MESOS_FRAMEWORK_ID: 'fw',
        MESOS_EXECUTOR_ID: 'ex',
        MESOS_SLAVE_PID: 'slave(1)@10.0.0.5:5051',
        MESOS_DOMAIN_SOCKET: '/run/agent.sock',
        MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
        LIBPROCESS_SSL_ENABLED: '1',
      };
      envError(() => readExecutorEnvironment(env), 'MPE_ENV_MISSING', 'LIBPROCESS_SSL_KEY_FILE');
      assert.equal(readExecutorEnvironment({ ...env, ...KEYS }).tls, null);
    });
  });

  describe('server certificate verification', () => {
    it('is off by default: no check at all (libprocess sets SSL_VERIFY_NONE)', () => {
      assert.deepEqual(verification({}), { scheme: 'off' });
    });

    for (const [name, value] of [
      ['LIBPROCESS_SSL_VERIFY_SERVER_CERT', '1'],
      ['LIBPROCESS_SSL_VERIFY_SERVER_CERT', 'true'],
      ['LIBPROCESS_SSL_VERIFY_SERVER_CERT', ''],
      ['LIBPROCESS_SSL_VERIFY_CERT', '1'],
      ['SSL_VERIFY_SERVER_CERT', 'true'],
      ['SSL_VERIFY_CERT', '1'],
    ] as const) {
      it(`${name}=${JSON.stringify(value)} turns it on, with the legacy scheme's defaults`, () => {
        assert.deepEqual(verification({ [name]: value }), LEGACY_DEFAULTS);
      });
    }

    it('the modern and the legacy name are both read, and either one on means on', () => {
      const on = (env: Env): boolean => verification(env).scheme !== 'off';
      assert.equal(on({ LIBPROCESS_SSL_VERIFY_SERVER_CERT: '1', LIBPROCESS_SSL_VERIFY_CERT: '0' }), true);
      assert.equal(on({ LIBPROCESS_SSL_VERIFY_SERVER_CERT: '0', LIBPROCESS_SSL_VERIFY_CERT: '1' }), true);
      assert.equal(on({ LIBPROCESS_SSL_VERIFY_SERVER_CERT: 'false', LIBPROCESS_SSL_VERIFY_CERT: 'false' }), false);
      // Per flag, the LIBPROCESS_SSL_ spelling wins over SSL_; the two names are two flags.
      assert.equal(on({ LIBPROCESS_SSL_VERIFY_SERVER_CERT: '0', SSL_VERIFY_SERVER_CERT: '1' }), false);
      assert.equal(on({ LIBPROCESS_SSL_VERIFY_SERVER_CERT: '0', SSL_VERIFY_CERT: '1' }), true);
    });

    for (const name of ['LIBPROCESS_SSL_REQUIRE_CLIENT_CERT', 'LIBPROCESS_SSL_REQUIRE_CERT', 'SSL_REQUIRE_CLIENT_CERT'] as const) {
      it(`${name} implies it, and makes an unknown agent name a refusal (legacy)`, () => {
        assert.deepEqual(verification({ [name]: '1' }), { ...LEGACY_DEFAULTS, unknownName: 'refuse' });
        assert.deepEqual(verification({ [name]: '1', LIBPROCESS_SSL_VERIFY_SERVER_CERT: '0' }), { ...LEGACY_DEFAULTS, unknownName: 'refuse' });
      });
    }

    it('LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: legacy (default) or openssl, exactly', () => {
      const on = { LIBPROCESS_SSL_VERIFY_SERVER_CERT: '1' };
      assert.equal(verification({ ...on, LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: 'legacy' }).scheme, 'legacy');
      assert.deepEqual(verification({ ...on, LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: 'openssl' }), {
        scheme: 'openssl',
        caFile: null,
        caDir: null,
        depth: 4,
        verifyIpAddress: false,
      });
      for (const bad of ['OpenSSL', '', 'libprocess']) {
        envError(() => verification({ ...on, LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: bad }), 'MPE_ENV_INVALID', 'LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME');
      }
      // libprocess checks the scheme whenever SSL is on, verifying or not.
      envError(() => verification({ LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: 'x' }), 'MPE_ENV_INVALID', 'LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME');
    });

    it('LIBPROCESS_SSL_VERIFY_IPADD allows IP SANs, in both schemes', () => {
      const on = { LIBPROCESS_SSL_VERIFY_SERVER_CERT: '1', LIBPROCESS_SSL_VERIFY_IPADD: '1' };
      assert.deepEqual(verification(on), { ...LEGACY_DEFAULTS, verifyIpAddress: true });
      const openssl = verification({ ...on, LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: 'openssl' });
      assert.equal(openssl.scheme === 'openssl' && openssl.verifyIpAddress, true);
    });

    it('LIBPROCESS_SSL_CA_FILE and LIBPROCESS_SSL_CA_DIR (or SSL_CA_*): null means the default roots', () => {
      const v = verification({ LIBPROCESS_SSL_VERIFY_SERVER_CERT: '1', LIBPROCESS_SSL_CA_FILE: '/ca.pem', SSL_CA_DIR: '/ca.d' });
      assert.deepEqual(v, { ...LEGACY_DEFAULTS, caFile: '/ca.pem', caDir: '/ca.d' });
      envError(() => verification({ LIBPROCESS_SSL_VERIFY_SERVER_CERT: '1', LIBPROCESS_SSL_CA_DIR: '' }), 'MPE_ENV_INVALID', 'LIBPROCESS_SSL_CA_DIR');
      // Not verifying, libprocess never loads them: an empty one is not an error then.
      assert.deepEqual(verification({ LIBPROCESS_SSL_CA_FILE: '' }), { scheme: 'off' });
    });

    it('LIBPROCESS_SSL_VERIFICATION_DEPTH: a count of intermediates, default 4', () => {
      const depth = (value: string): number => {
        const v = verification({ LIBPROCESS_SSL_VERIFY_SERVER_CERT: '1', LIBPROCESS_SSL_VERIFICATION_DEPTH: value });
        return v.scheme === 'off' ? -1 : v.depth;
      };
      assert.equal(depth('0'), 0);
      assert.equal(depth('9'), 9);
      for (const bad of ['-1', 'four', '', '4.5']) {
        envError(() => depth(bad), 'MPE_ENV_INVALID', 'LIBPROCESS_SSL_VERIFICATION_DEPTH');
      }
    });
  });

  describe('malformed values libprocess exits on', () => {
    for (const name of [
      'LIBPROCESS_SSL_VERIFY_SERVER_CERT',
      'LIBPROCESS_SSL_VERIFY_CERT',
      'LIBPROCESS_SSL_REQUIRE_CLIENT_CERT',
      'LIBPROCESS_SSL_REQUIRE_CERT',
      'LIBPROCESS_SSL_VERIFY_IPADD',
      'LIBPROCESS_SSL_SUPPORT_DOWNGRADE',
      'LIBPROCESS_SSL_ENABLE_TLS_V1_3',
      'SSL_VERIFY_SERVER_CERT',
    ]) {
      it(`${name}=yes, even with SSL off (every flag is loaded first)`, () => {
        const error = envError(() => readSslFlags({ [name]: 'yes' }), 'MPE_ENV_INVALID', name);
        assert.match(error.message, /"yes"/);
      });
    }

    it('a malformed depth, even with SSL off', () => {
      envError(() => readSslFlags({ LIBPROCESS_SSL_VERIFICATION_DEPTH: 'deep' }), 'MPE_ENV_INVALID', 'LIBPROCESS_SSL_VERIFICATION_DEPTH');
    });

    it('variables that name no libprocess flag are not read', () => {
      assert.deepEqual(readSslFlags({ LIBPROCESS_SSL_VERIFY: 'yes', SSL_CERT_DIR: '/etc/ssl/certs' }), { enabled: false });
    });
  });
});
