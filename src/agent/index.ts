// The local agent: the agent side of the Mesos v1 executor HTTP API, for tests, benchmarks and
// the `local` command. Named exports only (STYLE.md practice 13).
export { LocalAgent } from './local-agent.js';
export type { GarbageKind, RestartOptions, TaskInput } from './local-agent.js';
export type { AgentConfig, AgentTlsConfig, AgentTlsOptions, ExecutorClaims, LocalAgentOptions, UnlistedTaskRule } from './options.js';
export type {
  AcknowledgedInfo,
  AgentCounters,
  AgentPhase,
  CallRecord,
  EventSentInfo,
  ExecutorState,
  LocalAgentEvents,
  StatusUpdateInfo,
  SubscribedInfo,
  TaskTerminalInfo,
  UpdateSource,
} from './events.js';
export type { ExecutorExit, ExecutorHandle, LaunchExecutorOptions } from './executor-process.js';
export type { FaultTarget, RespondStatusOptions } from './faults.js';
export type { StreamCloseReason } from './agent-event-stream.js';
export type { AgentTaskPhase, AgentTaskRecord, UpdateOutcome } from './agent-task-table.js';
export { validateExecutorCall, isValidUuid } from './validation.js';
export { acceptsMediaType } from './accept.js';
