import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { EnvironmentError, MesosExecutorError } from '../../src/errors.js';
import { Secret, readExecutorEnvironment, type ExecutorEnvironment } from '../../src/driver/executor-environment.js';
import {
  AGENT_DEFAULTS,
  ENV,
  buildExecutorEnvironment,
  parseAgentPid,
  parseHostPort,
  type ExecutorEnvironmentSpec,
} from '../../src/protocol/environment-variables.js';

type Env = Record<string, string | undefined>;

const SANDBOX = '/var/lib/mesos/slaves/agent-1/frameworks/fw-1/executors/ex-1/runs/r1';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJmaWQiOiJmdy0xIn0.c2lnbmF0dXJlLXNlY3JldC14eXo';

/** What a real agent sets for a checkpointing executor (PROTOCOL.md §1.1). */
function agentEnv(overrides: Env = {}): Env {
  const env: Env = {
    PATH: '/usr/bin:/bin',
    LIBPROCESS_PORT: '0',
    MESOS_FRAMEWORK_ID: 'fw-1',
    MESOS_EXECUTOR_ID: 'ex-1',
    MESOS_DIRECTORY: SANDBOX,
    MESOS_SLAVE_ID: 'agent-1',
    MESOS_SLAVE_PID: 'slave(1)@10.0.0.5:5051',
    MESOS_AGENT_ENDPOINT: '10.0.0.5:5051',
    MESOS_CHECKPOINT: '1',
    MESOS_HTTP_COMMAND_EXECUTOR: '0',
    MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
    MESOS_RECOVERY_TIMEOUT: '15mins',
    MESOS_SUBSCRIPTION_BACKOFF_MAX: '2secs',
    MESOS_SANDBOX: SANDBOX,
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

function envError(fn: () => unknown, code: 'MPE_ENV_MISSING' | 'MPE_ENV_INVALID', variable: string): EnvironmentError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof EnvironmentError, `expected an EnvironmentError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.variable, variable, caught.message);
  assert.ok(caught.message.includes(variable), `message names ${variable}: ${caught.message}`);
  assert.match(caught.message, /expected/);
  return caught;
}

describe('readExecutorEnvironment', () => {
  it("reads a real agent's environment into a frozen, fully resolved object", () => {
    const env = readExecutorEnvironment(agentEnv());
    assert.deepEqual(
      { ...env },
      {
        frameworkId: 'fw-1',
        executorId: 'ex-1',
        agentId: 'agent-1',
        agentPid: { id: 'slave(1)', host: '10.0.0.5', port: 5051 },
        endpoint: {
          transport: 'tcp',
          scheme: 'http',
          host: '10.0.0.5',
          port: 5051,
          origin: 'http://10.0.0.5:5051',
          path: '/slave(1)/api/v1/executor',
          url: 'http://10.0.0.5:5051/slave(1)/api/v1/executor',
        },
        tls: null,
        shutdownGracePeriodMs: 5_000,
        sandboxDirectory: SANDBOX,
        authenticationToken: null,
        local: false,
        checkpoint: true,
        recoveryTimeoutMs: 900_000,
        subscriptionBackoffMaxMs: 2_000,
      },
    );
    assert.ok(Object.isFrozen(env));
    assert.ok(Object.isFrozen(env.endpoint));
    assert.ok(Object.isFrozen(env.agentPid));
    assert.throws(() => {
      (env as { frameworkId: string }).frameworkId = 'other';
    }, TypeError);
  });

  describe('required variables', () => {
    for (const name of [ENV.FRAMEWORK_ID, ENV.EXECUTOR_ID, ENV.SHUTDOWN_GRACE_PERIOD, ENV.RECOVERY_TIMEOUT, ENV.SUBSCRIPTION_BACKOFF_MAX]) {
      it(`${name} missing -> MPE_ENV_MISSING`, () => {
        envError(() => readExecutorEnvironment(agentEnv({ [name]: undefined })), 'MPE_ENV_MISSING', name);
      });
    }

    for (const name of [ENV.FRAMEWORK_ID, ENV.EXECUTOR_ID]) {
      it(`${name} empty -> MPE_ENV_INVALID`, () => {
        envError(() => readExecutorEnvironment(agentEnv({ [name]: '' })), 'MPE_ENV_INVALID', name);
      });
    }

    it('neither MESOS_SLAVE_PID nor MESOS_AGENT_ENDPOINT -> MPE_ENV_MISSING naming both', () => {
      const error = envError(
        () => readExecutorEnvironment(agentEnv({ MESOS_SLAVE_PID: undefined, MESOS_AGENT_ENDPOINT: undefined })),
        'MPE_ENV_MISSING',
        ENV.SLAVE_PID,
      );
      assert.match(error.message, /MESOS_AGENT_ENDPOINT/);
    });
  });

  describe('malformed variables -> MPE_ENV_INVALID, naming the variable and showing the value', () => {
    for (const [name, value] of [
      [ENV.SLAVE_PID, 'slave(1)'],
      [ENV.SLAVE_PID, '@10.0.0.5:5051'],
      [ENV.SLAVE_PID, 'slave(1)@10.0.0.5'],
      [ENV.SLAVE_PID, 'slave(1)@10.0.0.5:99999'],
      [ENV.SLAVE_PID, 'slave 1@10.0.0.5:5051'],
      [ENV.SLAVE_PID, 'slave/1@10.0.0.5:5051'],
      [ENV.AGENT_ENDPOINT, '10.0.0.5'],
      [ENV.AGENT_ENDPOINT, 'http://10.0.0.5:5051'],
      [ENV.AGENT_ENDPOINT, '10.0.0.5:0'],
      [ENV.AGENT_ENDPOINT, '10.0.0.5:5051/x'],
      [ENV.CHECKPOINT, 'true'],
      [ENV.CHECKPOINT, 'yes'],
      [ENV.SHUTDOWN_GRACE_PERIOD, '5'],
      [ENV.SHUTDOWN_GRACE_PERIOD, '5 secs'],
      [ENV.RECOVERY_TIMEOUT, '-1secs'],
      [ENV.SUBSCRIPTION_BACKOFF_MAX, '2s'],
      [ENV.SANDBOX, 'relative/sandbox'],
      [ENV.SLAVE_ID, ''],
      [ENV.DOMAIN_SOCKET, ''],
      [ENV.SSL_ENABLED, 'yes'],
      [ENV.SSL_VERIFY_CERT, 'on'],
    ] as const) {
      it(`${name}=${JSON.stringify(value)}`, () => {
        const error = envError(() => readExecutorEnvironment(agentEnv({ [name]: value })), 'MPE_ENV_INVALID', name);
        if (value !== '') assert.ok(error.message.includes(JSON.stringify(value)), error.message);
      });
    }

    it('MESOS_DIRECTORY must be absolute when it is the sandbox', () => {
      envError(
        () => readExecutorEnvironment(agentEnv({ MESOS_SANDBOX: undefined, MESOS_DIRECTORY: 'rel' })),
        'MPE_ENV_INVALID',
        ENV.DIRECTORY,
      );
    });

    it('the deprecated SSL_ENABLED is named when it is the one at fault', () => {
      envError(() => readExecutorEnvironment(agentEnv({ SSL_ENABLED: 'on' })), 'MPE_ENV_INVALID', 'SSL_ENABLED');
    });
  });

  describe('optional variables', () => {
    it('absent: null or false', () => {
      const env = readExecutorEnvironment(
        agentEnv({ MESOS_SLAVE_ID: undefined, MESOS_SANDBOX: undefined, MESOS_DIRECTORY: undefined }),
      );
      assert.equal(env.agentId, null);
      assert.equal(env.sandboxDirectory, null);
      assert.equal(env.authenticationToken, null);
      assert.equal(env.local, false);
      assert.equal(env.tls, null);
    });

    it('the sandbox is MESOS_SANDBOX, else MESOS_DIRECTORY', () => {
      assert.equal(readExecutorEnvironment(agentEnv({ MESOS_SANDBOX: '/mnt/mesos/sandbox' })).sandboxDirectory, '/mnt/mesos/sandbox');
      assert.equal(readExecutorEnvironment(agentEnv({ MESOS_SANDBOX: undefined })).sandboxDirectory, SANDBOX);
    });

    it('MESOS_LOCAL with any value, even empty, means local', () => {
      assert.equal(readExecutorEnvironment(agentEnv({ MESOS_LOCAL: '' })).local, true);
      assert.equal(readExecutorEnvironment(agentEnv({ MESOS_LOCAL: '1' })).local, true);
    });
  });

  describe('checkpointing', () => {
    it('MESOS_CHECKPOINT=0 or absent: no recovery durations, and they are not read at all', () => {
      for (const checkpoint of ['0', undefined]) {
        const env = readExecutorEnvironment(
          agentEnv({ MESOS_CHECKPOINT: checkpoint, MESOS_RECOVERY_TIMEOUT: 'garbage', MESOS_SUBSCRIPTION_BACKOFF_MAX: undefined }),
        );
        assert.equal(env.checkpoint, false);
        assert.equal(env.recoveryTimeoutMs, null);
        assert.equal(env.subscriptionBackoffMaxMs, null);
      }
    });

    it('MESOS_CHECKPOINT=1 narrows the type to known durations', () => {
      const env: ExecutorEnvironment = readExecutorEnvironment(agentEnv({ MESOS_RECOVERY_TIMEOUT: '1.5mins' }));
      assert.equal(env.checkpoint, true);
      if (env.checkpoint) {
        const ms: number = env.recoveryTimeoutMs;
        assert.equal(ms, 90_000);
      }
    });
  });

  describe('endpoint resolution (PROTOCOL.md §1.2)', () => {
    it('prefers MESOS_AGENT_ENDPOINT for the address, keeping the PID id in the path', () => {
      const env = readExecutorEnvironment(agentEnv({ MESOS_AGENT_ENDPOINT: 'agent.example.com:5052' }));
      assert.equal(env.endpoint.origin, 'http://agent.example.com:5052');
      assert.equal(env.endpoint.path, '/slave(1)/api/v1/executor');
    });

    it("uses the PID's address without MESOS_AGENT_ENDPOINT", () => {
      const env = readExecutorEnvironment(agentEnv({ MESOS_AGENT_ENDPOINT: undefined, MESOS_SLAVE_PID: 'slave(3)@10.1.2.3:5055' }));
      assert.equal(env.endpoint.url, 'http://10.1.2.3:5055/slave(3)/api/v1/executor');
    });

    it('uses the plain /api/v1/executor without a PID', () => {
      const env = readExecutorEnvironment(agentEnv({ MESOS_SLAVE_PID: undefined }));
      assert.equal(env.agentPid, null);
      assert.equal(env.endpoint.url, 'http://10.0.0.5:5051/api/v1/executor');
    });

    it('handles IPv6 addresses', () => {
      const env = readExecutorEnvironment(agentEnv({ MESOS_AGENT_ENDPOINT: undefined, MESOS_SLAVE_PID: 'slave(1)@[::1]:5051' }));
      assert.equal(env.endpoint.transport, 'tcp');
      if (env.endpoint.transport === 'tcp') assert.equal(env.endpoint.host, '::1');
      assert.equal(env.endpoint.origin, 'http://[::1]:5051');
    });

    // libprocess requires a key and a certificate whenever SSL is enabled (driver-tls-environment.test.ts).
    const KEYS = { LIBPROCESS_SSL_KEY_FILE: '/etc/ssl/client.key', LIBPROCESS_SSL_CERT_FILE: '/etc/ssl/client.pem' };

    for (const [vars, scheme] of [
      [{ LIBPROCESS_SSL_ENABLED: '1' }, 'https'],
      [{ LIBPROCESS_SSL_ENABLED: 'true' }, 'https'],
      [{ LIBPROCESS_SSL_ENABLED: '' }, 'https'], // stout: an empty boolean flag means true
      [{ LIBPROCESS_SSL_ENABLED: '0' }, 'http'],
      [{ LIBPROCESS_SSL_ENABLED: 'false' }, 'http'],
      [{ SSL_ENABLED: '1' }, 'https'],
      [{ SSL_ENABLED: 'true' }, 'https'],
      [{ SSL_ENABLED: '1', LIBPROCESS_SSL_ENABLED: '0' }, 'http'], // the LIBPROCESS_ name wins
      [{ SSL_ENABLED: '0', LIBPROCESS_SSL_ENABLED: 'true' }, 'https'],
    ] as const) {
      it(`${JSON.stringify(vars)} -> ${scheme}`, () => {
        const env = readExecutorEnvironment(agentEnv({ ...KEYS, ...vars }));
        assert.equal(env.endpoint.origin, `${scheme}://10.0.0.5:5051`);
        assert.equal(env.tls === null, scheme === 'http');
      });
    }

    it('passes the libprocess SSL settings on for https', () => {
      const env = readExecutorEnvironment(
        agentEnv({
          LIBPROCESS_SSL_ENABLED: '1',
          LIBPROCESS_SSL_VERIFY_SERVER_CERT: '1',
          LIBPROCESS_SSL_CA_FILE: '/etc/ssl/ca.pem',
          SSL_CA_DIR: '/etc/ssl/certs',
          ...KEYS,
        }),
      );
      assert.deepEqual(env.tls, {
        certFile: '/etc/ssl/client.pem',
        keyFile: '/etc/ssl/client.key',
        verification: { scheme: 'legacy', caFile: '/etc/ssl/ca.pem', caDir: '/etc/ssl/certs', depth: 4, verifyIpAddress: false, unknownName: 'accept' },
      });
      assert.ok(Object.isFrozen(env.tls));
      assert.ok(Object.isFrozen(env.tls?.verification));
    });

    it('uses the Unix socket when MESOS_DOMAIN_SOCKET is set, with the prefixed path and no TLS', () => {
      const env = readExecutorEnvironment(agentEnv({ MESOS_DOMAIN_SOCKET: '/run/mesos/agent.sock', LIBPROCESS_SSL_ENABLED: '1', ...KEYS }));
      assert.deepEqual(
        { ...env.endpoint },
        {
          transport: 'unix',
          socketPath: '/run/mesos/agent.sock',
          origin: 'http://localhost',
          path: '/slave(1)/api/v1/executor',
          url: 'http+unix://%2Frun%2Fmesos%2Fagent.sock/slave(1)/api/v1/executor',
        },
      );
      assert.equal(env.tls, null);
    });

    it('requires MESOS_SLAVE_PID with MESOS_DOMAIN_SOCKET (the socket only serves the prefixed path)', () => {
      envError(
        () => readExecutorEnvironment(agentEnv({ MESOS_DOMAIN_SOCKET: '/run/agent.sock', MESOS_SLAVE_PID: undefined })),
        'MPE_ENV_MISSING',
        ENV.SLAVE_PID,
      );
    });

    it('keeps a socket path of 107 bytes and shortens one of 108 bytes to ./relative', () => {
      const dir = `/${'d'.repeat(107 - '/agent.sock'.length - 1)}`;
      const path107 = `${dir}/agent.sock`;
      assert.equal(Buffer.byteLength(path107), 107);
      const kept = readExecutorEnvironment(agentEnv({ MESOS_DOMAIN_SOCKET: path107 }), { cwd: dir });
      assert.equal(kept.endpoint.transport === 'unix' && kept.endpoint.socketPath, path107);

      const path108 = `${dir}/agent.sock2`;
      assert.equal(Buffer.byteLength(path108), 108);
      const shortened = readExecutorEnvironment(agentEnv({ MESOS_DOMAIN_SOCKET: path108 }), { cwd: dir });
      assert.equal(shortened.endpoint.transport === 'unix' && shortened.endpoint.socketPath, './agent.sock2');
    });

    it('counts the socket path in bytes, not characters', () => {
      const dir = `/${'é'.repeat(50)}`; // 101 bytes, 51 characters
      const env = readExecutorEnvironment(agentEnv({ MESOS_DOMAIN_SOCKET: `${dir}/agent.sock` }), { cwd: dir });
      assert.equal(env.endpoint.transport === 'unix' && env.endpoint.socketPath, './agent.sock');
    });

    it('fails when even the relative socket path is too long', () => {
      const long = `/${'x'.repeat(120)}/agent.sock`;
      const error = envError(
        () => readExecutorEnvironment(agentEnv({ MESOS_DOMAIN_SOCKET: long }), { cwd: '/somewhere/else' }),
        'MPE_ENV_INVALID',
        ENV.DOMAIN_SOCKET,
      );
      assert.match(error.message, /108 bytes/);
    });
  });

  describe('the authentication token', () => {
    it('is read into a Secret and erased from the env object', () => {
      const vars = agentEnv({ MESOS_EXECUTOR_AUTHENTICATION_TOKEN: TOKEN });
      const env = readExecutorEnvironment(vars);
      assert.ok(env.authenticationToken instanceof Secret);
      assert.equal(env.authenticationToken.reveal(), TOKEN);
      assert.equal(Object.hasOwn(vars, ENV.AUTHENTICATION_TOKEN), false);
    });

    it('never appears in JSON.stringify, util.inspect, String() or template literals', () => {
      const env = readExecutorEnvironment(agentEnv({ MESOS_EXECUTOR_AUTHENTICATION_TOKEN: TOKEN }));
      const renderings = [
        JSON.stringify(env),
        inspect(env, { depth: Infinity, showHidden: true }),
        inspect(env.authenticationToken, { showHidden: true }),
        String(env.authenticationToken),
        `${String(env.authenticationToken)}`,
        `${env.authenticationToken as unknown as string}`,
        String(env),
        JSON.stringify({ ...env }),
        Object.values(env).map(String).join(' '),
      ];
      for (const text of renderings) {
        assert.ok(!text.includes(TOKEN), text);
        assert.ok(!text.includes('c2lnbmF0dXJl'), text);
      }
      assert.match(JSON.stringify(env), /"authenticationToken":"\[redacted\]"/);
      assert.match(inspect(env), /redacted/);
    });

    it('is erased even when reading fails, and never echoed in the error', () => {
      const vars = agentEnv({ MESOS_EXECUTOR_AUTHENTICATION_TOKEN: TOKEN, MESOS_FRAMEWORK_ID: undefined });
      const error = envError(() => readExecutorEnvironment(vars), 'MPE_ENV_MISSING', ENV.FRAMEWORK_ID);
      assert.equal(Object.hasOwn(vars, ENV.AUTHENTICATION_TOKEN), false);
      assert.ok(!error.message.includes(TOKEN));
      assert.ok(!inspect(error).includes(TOKEN));
    });

    for (const [label, bad] of [
      ['empty', ''],
      ['with a space', `${TOKEN} extra`],
      ['with a newline (header injection)', `${TOKEN}\r\nX-Evil: 1`],
      ['non-ASCII', `${TOKEN}é`],
    ] as const) {
      it(`malformed (${label}) -> MPE_ENV_INVALID without echoing it, and still erased`, () => {
        const vars = agentEnv({ MESOS_EXECUTOR_AUTHENTICATION_TOKEN: bad });
        const error = envError(() => readExecutorEnvironment(vars), 'MPE_ENV_INVALID', ENV.AUTHENTICATION_TOKEN);
        assert.ok(!error.message.includes(TOKEN));
        assert.equal(Object.hasOwn(vars, ENV.AUTHENTICATION_TOKEN), false);
      });
    }

    it('defaults to process.env and erases the token from the real environment', () => {
      const saved = { ...process.env };
      try {
        for (const [key, value] of Object.entries(agentEnv({ MESOS_EXECUTOR_AUTHENTICATION_TOKEN: TOKEN }))) {
          process.env[key] = value;
        }
        const env = readExecutorEnvironment();
        assert.equal(env.frameworkId, 'fw-1');
        assert.equal(env.authenticationToken?.reveal(), TOKEN);
        assert.equal(process.env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN, undefined);
      } finally {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
      }
    });
  });

  describe('Secret', () => {
    it('redacts itself everywhere but reveal()', () => {
      const secret = new Secret('s3cret');
      assert.equal(secret.reveal(), 's3cret');
      assert.equal(String(secret), '[redacted]');
      assert.equal(JSON.stringify({ secret }), '{"secret":"[redacted]"}');
      assert.equal(inspect(secret), 'Secret([redacted])');
      assert.equal(`${secret as unknown as string}`, '[redacted]');
      assert.ok(!inspect(secret, { showHidden: true, depth: Infinity }).includes('s3cret'));
      assert.ok(Object.isFrozen(secret));
    });
  });
});

describe('parseAgentPid and parseHostPort', () => {
  it('parse what libprocess prints', () => {
    assert.deepEqual(parseAgentPid('slave(1)@10.0.0.5:5051'), { id: 'slave(1)', host: '10.0.0.5', port: 5051 });
    assert.deepEqual(parseAgentPid('slave(1)@[fe80::1]:5051'), { id: 'slave(1)', host: 'fe80::1', port: 5051 });
    assert.deepEqual(parseHostPort('localhost:1'), { host: 'localhost', port: 1 });
  });

  it('return a reason for malformed input', () => {
    for (const bad of ['', 'slave(1)', 'slave(1)@', 'slave(1)@host', '@h:1', 'a b@h:1']) {
      assert.equal(typeof parseAgentPid(bad), 'string', bad);
    }
    for (const bad of ['', 'h', 'h:', ':1', 'h:65536', 'h:0', 'h:1:2', '::1:5051', 'h :1', 'h:1x']) {
      assert.equal(typeof parseHostPort(bad), 'string', bad);
    }
  });
});

describe('buildExecutorEnvironment', () => {
  const spec: ExecutorEnvironmentSpec = {
    frameworkId: 'fw-1',
    executorId: 'ex-1',
    agentId: 'agent-1',
    agentAddress: '127.0.0.1:5051',
    directory: SANDBOX,
    checkpoint: true,
  };

  it('writes exactly the variables upstream executorEnvironment() writes, in its order', () => {
    const env = buildExecutorEnvironment(spec);
    assert.deepEqual(Object.entries(env), [
      ['LIBPROCESS_PORT', '0'],
      ['MESOS_FRAMEWORK_ID', 'fw-1'],
      ['MESOS_EXECUTOR_ID', 'ex-1'],
      ['MESOS_DIRECTORY', SANDBOX],
      ['MESOS_SLAVE_ID', 'agent-1'],
      ['MESOS_SLAVE_PID', 'slave(1)@127.0.0.1:5051'],
      ['MESOS_AGENT_ENDPOINT', '127.0.0.1:5051'],
      ['MESOS_CHECKPOINT', '1'],
      ['MESOS_HTTP_COMMAND_EXECUTOR', '0'],
      ['MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD', '5secs'],
      ['MESOS_RECOVERY_TIMEOUT', '15mins'],
      ['MESOS_SUBSCRIPTION_BACKOFF_MAX', '2secs'],
      ['MESOS_SANDBOX', SANDBOX],
    ]);
  });

  it('omits the recovery variables without checkpointing', () => {
    const env = buildExecutorEnvironment({ ...spec, checkpoint: false, recoveryTimeoutMs: 1_000 });
    assert.equal(env.MESOS_CHECKPOINT, '0');
    assert.equal(ENV.RECOVERY_TIMEOUT in env, false);
    assert.equal(ENV.SUBSCRIPTION_BACKOFF_MAX in env, false);
  });

  it('writes the optional variables only when given', () => {
    const env = buildExecutorEnvironment({
      ...spec,
      pidId: 'slave(2)',
      sandbox: '/mnt/mesos/sandbox',
      shutdownGracePeriodMs: 90 * 60_000,
      recoveryTimeoutMs: 61_500,
      subscriptionBackoffMaxMs: 15_000,
      authenticationToken: TOKEN,
      domainSocket: '/run/mesos/agent.sock',
      httpCommandExecutor: true,
      libprocessIp: '127.0.0.1',
    });
    assert.equal(env.LIBPROCESS_IP, '127.0.0.1');
    assert.equal(env.MESOS_SLAVE_PID, 'slave(2)@127.0.0.1:5051');
    assert.equal(env.MESOS_SANDBOX, '/mnt/mesos/sandbox');
    assert.equal(env.MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD, '90mins');
    assert.equal(env.MESOS_RECOVERY_TIMEOUT, '1.025mins');
    assert.equal(env.MESOS_SUBSCRIPTION_BACKOFF_MAX, '15secs');
    assert.equal(env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN, TOKEN);
    assert.equal(env.MESOS_DOMAIN_SOCKET, '/run/mesos/agent.sock');
    assert.equal(env.MESOS_HTTP_COMMAND_EXECUTOR, '1');
    const plain = buildExecutorEnvironment(spec);
    for (const name of [ENV.LIBPROCESS_IP, ENV.AUTHENTICATION_TOKEN, ENV.DOMAIN_SOCKET, ENV.LOCAL]) {
      assert.equal(name in plain, false, name);
    }
  });

  it('writes operator variables first, overridden by the agent variables', () => {
    const env = buildExecutorEnvironment({
      ...spec,
      extraVariables: { LIBPROCESS_SSL_ENABLED: '1', MESOS_CHECKPOINT: 'overridden', LIBPROCESS_PORT: '9' },
    });
    assert.equal(Object.keys(env)[0], 'LIBPROCESS_SSL_ENABLED');
    assert.equal(env.LIBPROCESS_SSL_ENABLED, '1');
    assert.equal(env.MESOS_CHECKPOINT, '1');
    assert.equal(env.LIBPROCESS_PORT, '0');
  });

  it('prints IPv6 agent addresses in brackets', () => {
    const env = buildExecutorEnvironment({ ...spec, agentAddress: '[::1]:5051' });
    assert.equal(env.MESOS_SLAVE_PID, 'slave(1)@[::1]:5051');
    assert.equal(env.MESOS_AGENT_ENDPOINT, '[::1]:5051');
  });

  it('uses the agent defaults', () => {
    assert.deepEqual({ ...AGENT_DEFAULTS }, { shutdownGracePeriodMs: 5_000, recoveryTimeoutMs: 900_000, subscriptionBackoffMaxMs: 2_000 });
  });

  for (const [option, value] of [
    ['frameworkId', ''],
    ['executorId', ''],
    ['agentId', ''],
    ['directory', ''],
    ['agentAddress', '127.0.0.1'],
    ['pidId', 'slave/1'],
    ['pidId', ''],
    ['shutdownGracePeriodMs', -1],
    ['recoveryTimeoutMs', Number.NaN],
    ['subscriptionBackoffMaxMs', Number.POSITIVE_INFINITY],
    ['authenticationToken', ''],
    ['domainSocket', ''],
  ] as const) {
    it(`rejects ${option}=${JSON.stringify(value)} with MPE_INVALID_OPTION`, () => {
      assert.throws(
        () => buildExecutorEnvironment({ ...spec, [option]: value }),
        (e: unknown) =>
          e instanceof MesosExecutorError &&
          e.code === 'MPE_INVALID_OPTION' &&
          (e as unknown as { option: string }).option === option &&
          e.message.includes(option),
      );
    });
  }

  it('is read back by readExecutorEnvironment to the same values', () => {
    const cases: ExecutorEnvironmentSpec[] = [
      spec,
      { ...spec, checkpoint: false },
      { ...spec, pidId: 'slave(7)', agentAddress: '[::1]:5051', authenticationToken: TOKEN },
      { ...spec, shutdownGracePeriodMs: 1_500, recoveryTimeoutMs: 61_500, subscriptionBackoffMaxMs: 15_000 },
      { ...spec, shutdownGracePeriodMs: 0.25, recoveryTimeoutMs: 3 * 86_400_000, subscriptionBackoffMaxMs: 1 },
      { ...spec, domainSocket: '/run/mesos/agent.sock', sandbox: '/mnt/mesos/sandbox' },
    ];
    for (const c of cases) {
      const env = readExecutorEnvironment(buildExecutorEnvironment(c));
      const address = parseHostPort(c.agentAddress);
      assert.ok(typeof address !== 'string');
      assert.equal(env.frameworkId, c.frameworkId);
      assert.equal(env.executorId, c.executorId);
      assert.equal(env.agentId, c.agentId);
      assert.deepEqual(env.agentPid, { id: c.pidId ?? 'slave(1)', ...address });
      assert.equal(env.checkpoint, c.checkpoint);
      assert.equal(env.shutdownGracePeriodMs, c.shutdownGracePeriodMs ?? 5_000);
      assert.equal(env.recoveryTimeoutMs, c.checkpoint ? (c.recoveryTimeoutMs ?? 900_000) : null);
      assert.equal(env.subscriptionBackoffMaxMs, c.checkpoint ? (c.subscriptionBackoffMaxMs ?? 2_000) : null);
      assert.equal(env.authenticationToken?.reveal() ?? null, c.authenticationToken ?? null);
      assert.equal(env.sandboxDirectory, c.sandbox ?? c.directory);
      assert.equal(env.local, false);
      if (c.domainSocket !== undefined) {
        assert.equal(env.endpoint.transport === 'unix' && env.endpoint.socketPath, c.domainSocket);
      } else {
        assert.equal(env.endpoint.path, `/${c.pidId ?? 'slave(1)'}/api/v1/executor`);
      }
    }
  });
});
