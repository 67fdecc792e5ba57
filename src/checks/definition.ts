/**
 * `TaskInfo.health_check` and `TaskInfo.check`, validated as upstream validates them
 * (`validateHealthCheck` / `validateCheckInfo` in src/common/validation.cpp, prefixed as the
 * master's task validation prefixes them in src/master/validation.cpp) and resolved into the
 * defaulted, frozen definitions the schedule and the probes trust. Upstream's checks come first
 * and keep their words; ours (a port outside 1..65535, a duration that is not a finite number, a
 * secret we cannot resolve) come after them.
 */
import type { CheckInfo, CheckType, CommandInfo, EnvironmentVariable, HealthCheck } from '../proto/types.js';

export type ProbeType = Exclude<CheckType, 'UNKNOWN'>;

export interface CommandProbe {
  readonly type: 'COMMAND';
  /** `sh -c value` when true; else `value` is the executable (PATH searched) and `argv` the full argv. */
  readonly shell: boolean;
  readonly value: string;
  readonly argv: readonly string[];
  /** The command's own variables, laid over the executor's environment. */
  readonly environment: Readonly<Record<string, string>>;
}

export interface HttpProbe {
  readonly type: 'HTTP';
  readonly scheme: 'http' | 'https';
  /** `127.0.0.1`, or `::1` for an IPv6 health check; never configurable (upstream). */
  readonly host: string;
  readonly port: number;
  /** Starts with '/'; '/' when the definition has none. */
  readonly path: string;
}

export interface TcpProbe {
  readonly type: 'TCP';
  readonly host: string;
  readonly port: number;
}

export type ProbeSpec = CommandProbe | HttpProbe | TcpProbe;

export interface Timing {
  readonly delayMs: number;
  readonly intervalMs: number;
  /** Undefined: no timeout (upstream's 0). */
  readonly timeoutMs: number | undefined;
}

export interface ResolvedCheck {
  readonly probe: ProbeSpec;
  readonly timing: Timing;
}

export interface ResolvedHealthCheck extends ResolvedCheck {
  readonly consecutiveFailures: number;
  readonly gracePeriodMs: number;
}

export type Resolution<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** Upstream's defaults (`[default = …]` in mesos.proto), in seconds. */
export const CHECK_DEFAULTS = Object.freeze({
  delaySeconds: 15,
  intervalSeconds: 10,
  timeoutSeconds: 20,
  consecutiveFailures: 3,
  gracePeriodSeconds: 10,
});

export const DEFAULT_IPV4_HOST = '127.0.0.1';
export const DEFAULT_IPV6_HOST = '::1';

// setTimeout fires at once past 2^31-1 ms: longer delays are that long (24.8 days), which is never in practice.
const MAX_MS = 2 ** 31 - 1;
const TYPES: ReadonlyMap<unknown, CheckType> = new Map<unknown, CheckType>([
  ['UNKNOWN', 'UNKNOWN'], ['COMMAND', 'COMMAND'], ['HTTP', 'HTTP'], ['TCP', 'TCP'],
  [0, 'UNKNOWN'], [1, 'COMMAND'], [2, 'HTTP'], [3, 'TCP'],
]);

class Invalid extends Error {}

function fail(message: string): never {
  throw new Invalid(message);
}

/** Why `task`'s check or health check is invalid (the master checks the check first), or undefined. */
export function taskChecksProblem(task: { check?: CheckInfo; health_check?: HealthCheck }): string | undefined {
  if (task.check !== undefined) {
    const check = resolveCheck(task.check);
    if (!check.ok) return `Task uses invalid check: ${check.problem}`;
  }
  if (task.health_check !== undefined) {
    const health = resolveHealthCheck(task.health_check);
    if (!health.ok) return `Task uses invalid health check: ${health.problem}`;
  }
  return undefined;
}

export function resolveHealthCheck(check: HealthCheck): Resolution<ResolvedHealthCheck> {
  try {
    const type = TYPES.get(check.type);
    if (type === undefined) fail("HealthCheck must specify 'type'");
    let probe: ProbeSpec;
    switch (type) {
      case 'COMMAND':
        if (check.command === undefined) fail("Expecting 'command' to be set for COMMAND health check");
        probe = commandProbe(check.command, 'Command health check', "Health check's `CommandInfo` is invalid: ");
        break;
      case 'HTTP': {
        const http = check.http;
        if (http === undefined) fail("Expecting 'http' to be set for HTTP health check");
        if (http.scheme !== undefined && http.scheme !== 'http' && http.scheme !== 'https') {
          fail(`Unsupported HTTP health check scheme: '${http.scheme}'`);
        }
        if (http.path !== undefined && !http.path.startsWith('/')) fail(`The path '${http.path}' of HTTP health check must start with '/'`);
        probe = {
          type: 'HTTP',
          scheme: http.scheme === 'https' ? 'https' : 'http',
          host: ipv6(http.protocol) ? DEFAULT_IPV6_HOST : DEFAULT_IPV4_HOST,
          port: 0,
          path: http.path ?? '/',
        };
        break;
      }
      case 'TCP':
        if (check.tcp === undefined) fail("Expecting 'tcp' to be set for TCP health check");
        probe = { type: 'TCP', host: ipv6(check.tcp.protocol) ? DEFAULT_IPV6_HOST : DEFAULT_IPV4_HOST, port: 0 };
        break;
      case 'UNKNOWN':
        fail("'UNKNOWN' is not a valid health check type");
    }
    const delay = seconds(check.delay_seconds, 'delay_seconds', CHECK_DEFAULTS.delaySeconds);
    const grace = seconds(check.grace_period_seconds, 'grace_period_seconds', CHECK_DEFAULTS.gracePeriodSeconds);
    const interval = seconds(check.interval_seconds, 'interval_seconds', CHECK_DEFAULTS.intervalSeconds);
    const timeout = seconds(check.timeout_seconds, 'timeout_seconds', CHECK_DEFAULTS.timeoutSeconds);
    for (const s of [delay, grace, interval, timeout]) s.check();
    if (probe.type !== 'COMMAND') probe = { ...probe, port: port(probe.type === 'HTTP' ? check.http?.port : check.tcp?.port) };
    const failures = check.consecutive_failures ?? CHECK_DEFAULTS.consecutiveFailures;
    if (!Number.isInteger(failures) || failures < 0) fail(`Expecting 'consecutive_failures' to be a non-negative integer, got ${failures}`);
    return {
      ok: true,
      value: Object.freeze({
        probe: Object.freeze(probe),
        timing: Object.freeze({ delayMs: delay.ms, intervalMs: interval.ms, timeoutMs: timeout.ms === 0 ? undefined : timeout.ms }),
        consecutiveFailures: failures,
        gracePeriodMs: grace.ms,
      }),
    };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, problem: error.message };
    throw error;
  }
}

export function resolveCheck(check: CheckInfo): Resolution<ResolvedCheck> {
  try {
    const type = TYPES.get(check.type);
    if (type === undefined) fail("CheckInfo must specify 'type'");
    let probe: ProbeSpec;
    switch (type) {
      case 'COMMAND': {
        const command = check.command?.command;
        if (check.command === undefined) fail("Expecting 'command' to be set for COMMAND check");
        probe = commandProbe(command ?? {}, 'Command check', "Check's `CommandInfo` is invalid: ");
        break;
      }
      case 'HTTP': {
        const http = check.http;
        if (http === undefined) fail("Expecting 'http' to be set for HTTP check");
        if (http.path !== undefined && !http.path.startsWith('/')) fail(`The path '${http.path}' of HTTP check must start with '/'`);
        // CheckInfo.Http has no scheme or protocol: plain HTTP over IPv4, always.
        probe = { type: 'HTTP', scheme: 'http', host: DEFAULT_IPV4_HOST, port: 0, path: http.path ?? '/' };
        break;
      }
      case 'TCP':
        if (check.tcp === undefined) fail("Expecting 'tcp' to be set for TCP check");
        probe = { type: 'TCP', host: DEFAULT_IPV4_HOST, port: 0 };
        break;
      case 'UNKNOWN':
        fail("'UNKNOWN' is not a valid check type");
    }
    const delay = seconds(check.delay_seconds, 'delay_seconds', CHECK_DEFAULTS.delaySeconds);
    const interval = seconds(check.interval_seconds, 'interval_seconds', CHECK_DEFAULTS.intervalSeconds);
    const timeout = seconds(check.timeout_seconds, 'timeout_seconds', CHECK_DEFAULTS.timeoutSeconds);
    for (const s of [delay, interval, timeout]) s.check();
    if (probe.type !== 'COMMAND') probe = { ...probe, port: port(probe.type === 'HTTP' ? check.http?.port : check.tcp?.port) };
    return {
      ok: true,
      value: Object.freeze({
        probe: Object.freeze(probe),
        timing: Object.freeze({ delayMs: delay.ms, intervalMs: interval.ms, timeoutMs: timeout.ms === 0 ? undefined : timeout.ms }),
      }),
    };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, problem: error.message };
    throw error;
  }
}

function ipv6(protocol: unknown): boolean {
  return protocol === 'IPv6' || protocol === 2;
}

/**
 * A duration field: upstream refuses a negative one first (in its own order, which the caller
 * keeps by calling check() in turn); a NaN or infinite one is our addition.
 */
function seconds(value: number | undefined, field: string, fallback: number): { ms: number; check(): void } {
  const s = value ?? fallback;
  return {
    ms: Math.min(MAX_MS, Math.max(0, s * 1000)),
    check() {
      if (s < 0) fail(`Expecting '${field}' to be non-negative`);
      if (!Number.isFinite(s)) fail(`Expecting '${field}' to be a finite number of seconds, got ${s}`);
    },
  };
}

/** Upstream takes any uint32 (a TCP port is then cut to 16 bits); nothing listens outside 1..65535. */
function port(value: number | undefined): number {
  if (value === undefined) fail("Expecting 'port' to be set");
  if (!Number.isInteger(value) || value < 1 || value > 65535) fail(`Expecting 'port' to be within 1..65535, got ${value}`);
  return value;
}

function commandProbe(command: CommandInfo, what: string, invalid: string): CommandProbe {
  const shell = command.shell ?? true;
  if (command.value === undefined) fail(`${what} must contain ${shell ? "'shell command'" : "'executable path'"}`);
  const environment: Record<string, string> = {};
  for (const variable of command.environment?.variables ?? []) {
    const problem = variableProblem(variable);
    if (problem !== undefined) fail(invalid + problem);
    environment[variable.name] = variableValue(variable);
  }
  return { type: 'COMMAND', shell, value: command.value, argv: [...(command.arguments ?? [])], environment: Object.freeze(environment) };
}

/** upstream `validateEnvironment` (with `validateSecret`), then what we cannot do with a secret. */
function variableProblem(variable: EnvironmentVariable): string | undefined {
  const type = variable.type ?? 'VALUE';
  if (type === 'SECRET' || type === 2) {
    const secret = variable.secret;
    if (secret === undefined) return `Environment variable '${variable.name}' of type 'SECRET' must have a secret set`;
    if (variable.value !== undefined) return `Environment variable '${variable.name}' of type 'SECRET' must not have a value set`;
    const secretType = secret.type ?? 'UNKNOWN';
    if (secretType === 'REFERENCE' || secretType === 1) {
      if (secret.reference === undefined) return `Environment variable '${variable.name}' specifies an invalid secret: Secret of type REFERENCE must have the 'reference' field set`;
      if (secret.value !== undefined) {
        return `Environment variable '${variable.name}' specifies an invalid secret: Secret '${secret.reference.name}' of type REFERENCE must not have the 'value' field set`;
      }
      // The agent's secret resolver is not ours to call.
      return `Environment variable '${variable.name}' refers to secret '${secret.reference.name}', which this executor cannot resolve`;
    }
    if (secretType === 'VALUE' || secretType === 2) {
      if (secret.value === undefined) return `Environment variable '${variable.name}' specifies an invalid secret: Secret of type VALUE must have the 'value' field set`;
      if (secret.reference !== undefined) return `Environment variable '${variable.name}' specifies an invalid secret: Secret of type VALUE must not have the 'reference' field set`;
    }
    if (secret.value !== undefined && Buffer.from(secret.value.data).includes(0)) {
      return `Environment variable '${variable.name}' specifies a secret containing null bytes, which is not allowed in the environment`;
    }
    if (secret.value === undefined) return `Environment variable '${variable.name}' has a secret with no value`;
    return undefined;
  }
  if (type === 'VALUE' || type === 1) {
    if (variable.value === undefined) return `Environment variable '${variable.name}' of type 'VALUE' must have a value set`;
    if (variable.secret !== undefined) return `Environment variable '${variable.name}' of type 'VALUE' must not have a secret set`;
    return undefined;
  }
  return "Environment variable of type 'UNKNOWN' is not allowed";
}

function variableValue(variable: EnvironmentVariable): string {
  if (variable.value !== undefined) return variable.value;
  const data = variable.secret?.value?.data;
  return data === undefined ? '' : Buffer.from(data).toString('utf8');
}
