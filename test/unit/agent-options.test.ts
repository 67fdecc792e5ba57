// LocalAgent option validation: one check per option, defaults, and a frozen config.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LocalAgent } from '../../src/agent/index.js';
import { resolveAgentOptions, type LocalAgentOptions } from '../../src/agent/options.js';
import { assertInvalidOption } from '../helpers/invalid-option.js';

function rejects(options: unknown, option: string, pattern: RegExp): void {
  assertInvalidOption(() => resolveAgentOptions(options as LocalAgentOptions), option, pattern);
}

describe('LocalAgent options', () => {
  it('has upstream-like defaults', () => {
    const c = resolveAgentOptions();
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 0);
    assert.equal(c.pidId, 'slave(1)');
    assert.match(c.agentId, /-S0$/);
    assert.match(c.frameworkId, /-0000$/);
    assert.equal(c.frameworkInfo.id.value, c.frameworkId);
    assert.equal(c.frameworkInfo.checkpoint, false);
    assert.equal(c.checkpoint, false);
    assert.ok(c.frameworkInfo.user.length > 0);
    assert.equal(c.executorInfo.executor_id.value, c.executorId);
    assert.equal(c.executorInfo.framework_id?.value, c.frameworkId);
    assert.equal(c.heartbeatIntervalMs, 30 * 60_000);
    assert.equal(c.shutdownGracePeriodMs, 5000);
    assert.equal(c.recoveryTimeoutMs, 15 * 60_000);
    assert.equal(c.subscriptionBackoffMaxMs, 2000);
    assert.deepEqual(c.contentTypes, ['application/json', 'application/x-protobuf']);
    assert.equal(c.recordCalls, true);
    assert.equal(c.recordStatuses, true);
    assert.equal(c.unlistedStagingTasks, 'always');
    assert.equal(c.authToken, undefined);
  });

  it('gives fresh ids per agent and freezes the config deeply without freezing the caller\u2019s objects', () => {
    const capabilities = [{ type: 'TASK_KILLING_STATE' as const }];
    const a = resolveAgentOptions({ frameworkInfo: { capabilities } });
    const b = resolveAgentOptions();
    assert.notEqual(a.agentId, b.agentId);
    assert.notEqual(a.frameworkId, b.frameworkId);
    assert.ok(Object.isFrozen(a));
    assert.ok(Object.isFrozen(a.frameworkInfo));
    assert.ok(Object.isFrozen(a.frameworkInfo.capabilities));
    assert.ok(!Object.isFrozen(capabilities));
    assert.ok(!Object.isFrozen(capabilities[0]));
  });

  it('adds capabilities from the shorthands', () => {
    const c = resolveAgentOptions({ partitionAware: true, taskKillingState: true });
    assert.deepEqual(c.frameworkInfo.capabilities, [{ type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }]);
    assert.equal(c.partitionAware, true);
    assert.equal(resolveAgentOptions({ frameworkInfo: { capabilities: [{ type: 'PARTITION_AWARE' }] } }).partitionAware, true);
  });

  it('takes the grace period from ExecutorInfo over the option', () => {
    const c = resolveAgentOptions({ shutdownGracePeriodMs: 100, executorInfo: { shutdown_grace_period: { nanoseconds: 250_000_000 } } });
    assert.equal(c.shutdownGracePeriodMs, 250);
  });

  it('recordStatuses follows recordCalls unless given', () => {
    assert.equal(resolveAgentOptions({ recordCalls: false }).recordStatuses, false);
    assert.equal(resolveAgentOptions({ recordCalls: false, recordStatuses: true }).recordStatuses, true);
  });

  it('rejects each invalid option, naming it', () => {
    rejects(null, 'options', /expected an object/);
    rejects({ host: '' }, 'host', /non-empty string/);
    rejects({ port: 70000 }, 'port', /integer from 0 to 65535, got 70000/);
    rejects({ port: 1.5 }, 'port', /integer/);
    rejects({ pidId: 'bad@id' }, 'pidId', /libprocess process id/);
    rejects({ agentId: 3 }, 'agentId', /non-empty string, got 3/);
    rejects({ hostname: '' }, 'hostname', /non-empty string/);
    rejects({ frameworkInfo: 'x' }, 'frameworkInfo', /expected an object/);
    rejects({ frameworkInfo: { user: '' } }, 'frameworkInfo.user', /non-empty/);
    rejects({ frameworkInfo: { checkpoint: 'yes' } }, 'frameworkInfo.checkpoint', /boolean/);
    rejects({ partitionAware: 1 }, 'partitionAware', /boolean/);
    rejects({ taskKillingState: 'no' }, 'taskKillingState', /boolean/);
    rejects({ executorInfo: [] }, 'executorInfo', /expected an object/);
    rejects({ executorId: '' }, 'executorId', /non-empty/);
    rejects({ containerId: '' }, 'containerId', /non-empty/);
    rejects({ contentTypes: [] }, 'contentTypes', /non-empty list/);
    rejects({ contentTypes: ['text/plain'] }, 'contentTypes', /non-empty list/);
    rejects({ heartbeatIntervalMs: 0 }, 'heartbeatIntervalMs', /integer from 1/);
    rejects({ authToken: 'a b' }, 'authToken', /without whitespace/);
    rejects({ extraAuthTokens: { '': {} } }, 'extraAuthTokens', /non-empty/);
    rejects({ recoveryTimeoutMs: -1 }, 'recoveryTimeoutMs', />= 0/);
    rejects({ subscriptionBackoffMaxMs: Number.NaN }, 'subscriptionBackoffMaxMs', />= 0/);
    rejects({ shutdownGracePeriodMs: Infinity }, 'shutdownGracePeriodMs', />= 0/);
    rejects({ executorInfo: { shutdown_grace_period: { nanoseconds: -5 } } }, 'executorInfo.shutdown_grace_period', /non-negative/);
    rejects({ sandboxDir: '' }, 'sandboxDir', /non-empty/);
    rejects({ extraEnvironment: { A: 1 } }, 'extraEnvironment', /expected a string/);
    rejects({ recordCalls: 0 }, 'recordCalls', /boolean/);
    rejects({ recordStatuses: 'x' }, 'recordStatuses', /boolean/);
    rejects({ unlistedStagingTasks: 'never' }, 'unlistedStagingTasks', /'always' or 'after-restart'/);
    rejects({ maxBodyBytes: 0 }, 'maxBodyBytes', /integer from 1/);
    rejects({ executorRegistrationTimeoutMs: -1 }, 'executorRegistrationTimeoutMs', /from 0 to/);
    // Upstream's flag check: not more than MAX_EXECUTOR_REREGISTRATION_TIMEOUT (15 s).
    rejects({ executorReregistrationTimeoutMs: 15_001 }, 'executorReregistrationTimeoutMs', /from 0 to 15000, got 15001/);
    rejects({ ackDelayMs: Number.NaN }, 'ackDelayMs', /from 0 to/);
    rejects({ reorderAcks: 1 }, 'reorderAcks', /boolean/);
  });

  it('defaults the timeouts as upstream and ACKs to no delay, in order', () => {
    const c = resolveAgentOptions();
    assert.deepEqual(
      [c.executorRegistrationTimeoutMs, c.executorReregistrationTimeoutMs, c.ackDelayMs, c.reorderAcks],
      [60_000, 2000, 0, false],
    );
    const set = resolveAgentOptions({ executorRegistrationTimeoutMs: 5, executorReregistrationTimeoutMs: 15_000, ackDelayMs: 7, reorderAcks: true });
    assert.deepEqual([set.executorRegistrationTimeoutMs, set.executorReregistrationTimeoutMs, set.ackDelayMs, set.reorderAcks], [5, 15_000, 7, true]);
    // MESOS_SUBSCRIPTION_BACKOFF_MAX is the re-registration timeout unless set.
    assert.equal(set.subscriptionBackoffMaxMs, 15_000);
    assert.equal(resolveAgentOptions({ executorReregistrationTimeoutMs: 500, subscriptionBackoffMaxMs: 50 }).subscriptionBackoffMaxMs, 50);
  });

  it('refuses use before start() with MPE_AGENT_STATE, naming the member', () => {
    const agent = new LocalAgent();
    assert.throws(() => agent.endpoint, { name: 'AgentStateError', code: 'MPE_AGENT_STATE', method: 'endpoint', message: 'LocalAgent.endpoint: call start() first' });
    assert.throws(() => agent.sandboxDir, { code: 'MPE_AGENT_STATE', method: 'sandboxDir' });
    assert.throws(() => agent.executorEnvironment(), { code: 'MPE_AGENT_STATE', method: 'executorEnvironment()' });
  });
});
