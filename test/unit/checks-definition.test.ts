// Check and health check definitions: upstream's defaults, and upstream's validation with its
// words (src/common/validation.cpp, prefixed as src/master/validation.cpp does), then ours.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { resolveCheck, resolveHealthCheck, taskChecksProblem } from '../../src/checks/index.js';
import type { CheckInfo, HealthCheck } from '../../src/proto/types.js';

function healthProblem(check: HealthCheck): string | undefined {
  return taskChecksProblem({ health_check: check });
}

function checkProblem(check: CheckInfo): string | undefined {
  return taskChecksProblem({ check });
}

describe('health check definitions', () => {
  it("applies upstream's defaults: delay 15 s, interval 10 s, timeout 20 s, 3 failures, grace 10 s", () => {
    const r = resolveHealthCheck({ type: 'TCP', tcp: { port: 80 } });
    assert.ok(r.ok);
    assert.deepStrictEqual(r.value.timing, { delayMs: 15_000, intervalMs: 10_000, timeoutMs: 20_000 });
    assert.equal(r.value.consecutiveFailures, 3);
    assert.equal(r.value.gracePeriodMs, 10_000);
    assert.deepStrictEqual(r.value.probe, { type: 'TCP', host: '127.0.0.1', port: 80 });
    assert.ok(Object.isFrozen(r.value) && Object.isFrozen(r.value.probe));
  });

  it('timeout 0 is no timeout; fractions of a second are kept', () => {
    const r = resolveHealthCheck({ type: 'TCP', tcp: { port: 80 }, timeout_seconds: 0, delay_seconds: 0.25, interval_seconds: 0 });
    assert.ok(r.ok);
    assert.deepStrictEqual(r.value.timing, { delayMs: 250, intervalMs: 0, timeoutMs: undefined });
  });

  it('HTTP: scheme, path (default /) and the IPv6 loopback', () => {
    const r = resolveHealthCheck({ type: 'HTTP', http: { port: 8443, scheme: 'https', protocol: 'IPv6' } });
    assert.ok(r.ok);
    assert.deepStrictEqual(r.value.probe, { type: 'HTTP', scheme: 'https', host: '::1', port: 8443, path: '/' });
  });

  it('COMMAND: shell by default, argv when shell is false, the variables of the command', () => {
    const shell = resolveHealthCheck({ type: 'COMMAND', command: { value: 'exit 0', environment: { variables: [{ name: 'A', value: '1' }] } } });
    assert.ok(shell.ok);
    assert.deepStrictEqual(shell.value.probe, { type: 'COMMAND', shell: true, value: 'exit 0', argv: [], environment: { A: '1' } });
    const argv = resolveHealthCheck({ type: 'COMMAND', command: { shell: false, value: '/bin/true', arguments: ['true', 'x'] } });
    assert.ok(argv.ok);
    assert.deepStrictEqual(argv.value.probe, { type: 'COMMAND', shell: false, value: '/bin/true', argv: ['true', 'x'], environment: {} });
  });

  it("refuses what upstream's validateHealthCheck refuses, with its words", () => {
    const cases: Array<[HealthCheck, string]> = [
      [{}, "HealthCheck must specify 'type'"],
      [{ type: 'UNKNOWN' }, "'UNKNOWN' is not a valid health check type"],
      [{ type: 'COMMAND' }, "Expecting 'command' to be set for COMMAND health check"],
      [{ type: 'COMMAND', command: {} }, "Command health check must contain 'shell command'"],
      [{ type: 'COMMAND', command: { shell: false } }, "Command health check must contain 'executable path'"],
      [
        { type: 'COMMAND', command: { value: 'x', environment: { variables: [{ name: 'V' }] } } },
        "Health check's `CommandInfo` is invalid: Environment variable 'V' of type 'VALUE' must have a value set",
      ],
      [
        { type: 'COMMAND', command: { value: 'x', environment: { variables: [{ name: 'S', type: 'SECRET' }] } } },
        "Health check's `CommandInfo` is invalid: Environment variable 'S' of type 'SECRET' must have a secret set",
      ],
      [
        { type: 'COMMAND', command: { value: 'x', environment: { variables: [{ name: 'U', type: 'UNKNOWN', value: 'u' }] } } },
        "Health check's `CommandInfo` is invalid: Environment variable of type 'UNKNOWN' is not allowed",
      ],
      [{ type: 'HTTP' }, "Expecting 'http' to be set for HTTP health check"],
      [{ type: 'HTTP', http: { port: 80, scheme: 'ftp' } }, "Unsupported HTTP health check scheme: 'ftp'"],
      [{ type: 'HTTP', http: { port: 80, path: 'health' } }, "The path 'health' of HTTP health check must start with '/'"],
      [{ type: 'TCP' }, "Expecting 'tcp' to be set for TCP health check"],
      [{ type: 'TCP', tcp: { port: 1 }, delay_seconds: -1 }, "Expecting 'delay_seconds' to be non-negative"],
      [{ type: 'TCP', tcp: { port: 1 }, grace_period_seconds: -1 }, "Expecting 'grace_period_seconds' to be non-negative"],
      [{ type: 'TCP', tcp: { port: 1 }, interval_seconds: -0.5 }, "Expecting 'interval_seconds' to be non-negative"],
      [{ type: 'TCP', tcp: { port: 1 }, timeout_seconds: -2 }, "Expecting 'timeout_seconds' to be non-negative"],
    ];
    for (const [check, problem] of cases) assert.equal(healthProblem(check), `Task uses invalid health check: ${problem}`, JSON.stringify(check));
  });

  it('refuses, beyond upstream: a port outside 1..65535, a non-finite duration, a secret reference it cannot resolve', () => {
    assert.equal(healthProblem({ type: 'TCP', tcp: { port: 70_000 } }), "Task uses invalid health check: Expecting 'port' to be within 1..65535, got 70000");
    assert.equal(healthProblem({ type: 'HTTP', http: { port: 0 } }), "Task uses invalid health check: Expecting 'port' to be within 1..65535, got 0");
    assert.match(healthProblem({ type: 'TCP', tcp: { port: 1 }, interval_seconds: Number.NaN }) ?? '', /'interval_seconds' to be a finite number/);
    assert.match(
      healthProblem({
        type: 'COMMAND',
        command: { value: 'x', environment: { variables: [{ name: 'S', type: 'SECRET', secret: { type: 'REFERENCE', reference: { name: 'db' } } }] } },
      }) ?? '',
      /'S' refers to secret 'db', which this executor cannot resolve/,
    );
  });

  it('a secret given by value becomes the variable', () => {
    const r = resolveHealthCheck({
      type: 'COMMAND',
      command: { value: 'x', environment: { variables: [{ name: 'S', type: 'SECRET', secret: { type: 'VALUE', value: { data: Buffer.from('s3') } } }] } },
    });
    assert.ok(r.ok);
    assert.deepStrictEqual(r.value.probe.type === 'COMMAND' && r.value.probe.environment, { S: 's3' });
  });
});

describe('check definitions', () => {
  it("applies upstream's defaults and has no scheme or IPv6", () => {
    const r = resolveCheck({ type: 'HTTP', http: { port: 8080, path: '/ready' } });
    assert.ok(r.ok);
    assert.deepStrictEqual(r.value.timing, { delayMs: 15_000, intervalMs: 10_000, timeoutMs: 20_000 });
    assert.deepStrictEqual(r.value.probe, { type: 'HTTP', scheme: 'http', host: '127.0.0.1', port: 8080, path: '/ready' });
  });

  it("refuses what upstream's validateCheckInfo refuses, with its words", () => {
    const cases: Array<[CheckInfo, string]> = [
      [{}, "CheckInfo must specify 'type'"],
      [{ type: 'UNKNOWN' }, "'UNKNOWN' is not a valid check type"],
      [{ type: 'COMMAND' }, "Expecting 'command' to be set for COMMAND check"],
      [{ type: 'COMMAND', command: { command: { shell: false } } }, "Command check must contain 'executable path'"],
      [
        { type: 'COMMAND', command: { command: { value: 'x', environment: { variables: [{ name: 'V' }] } } } },
        "Check's `CommandInfo` is invalid: Environment variable 'V' of type 'VALUE' must have a value set",
      ],
      [{ type: 'HTTP' }, "Expecting 'http' to be set for HTTP check"],
      [{ type: 'HTTP', http: { port: 1, path: 'x' } }, "The path 'x' of HTTP check must start with '/'"],
      [{ type: 'TCP' }, "Expecting 'tcp' to be set for TCP check"],
      [{ type: 'TCP', tcp: { port: 1 }, timeout_seconds: -1 }, "Expecting 'timeout_seconds' to be non-negative"],
    ];
    for (const [check, problem] of cases) assert.equal(checkProblem(check), `Task uses invalid check: ${problem}`, JSON.stringify(check));
  });

  it('the check is validated before the health check, as the master does', () => {
    assert.equal(taskChecksProblem({ check: {}, health_check: {} }), "Task uses invalid check: CheckInfo must specify 'type'");
    assert.equal(taskChecksProblem({}), undefined);
    assert.equal(taskChecksProblem({ check: { type: 'TCP', tcp: { port: 9 } }, health_check: { type: 'TCP', tcp: { port: 9 } } }), undefined);
  });
});
