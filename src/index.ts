// The public API of mesos-pool-executor. Named exports only: nothing reaches users by accident.

// The classic Executor API.
export { Status } from './executor.js';
export type { CallbackResult, Executor, ExecutorDriver, StatusUpdateInput } from './executor.js';

// The driver: Mesos v1 executor HTTP API.
export { MesosExecutorDriver } from './driver/driver.js';
export type { MesosExecutorDriverOptions } from './driver/driver.js';
export type { DisconnectReason, DriverEvents } from './driver/events.js';
export { readExecutorEnvironment, Secret } from './driver/executor-environment.js';
export type { AgentEndpoint, ExecutorEnvironment, ServerVerification, TlsSettings } from './driver/executor-environment.js';
export type { AgentTransport, CallResult, EventStream, StreamHandlers, SubscribeResult } from './driver/transport.js';
export type { Clock } from './clock.js';

// The wire: RecordIO framing and the Call/Event codec.
export { RecordIODecoder, encodeRecord } from './protocol/recordio.js';
export type { RecordIODecoderOptions } from './protocol/recordio.js';
export { codecFor, jsonCodec, protobufCodec } from './protocol/codec.js';
export type { Codec, ContentType } from './protocol/codec.js';
export { formatDuration, parseDuration } from './protocol/duration.js';
export { buildExecutorEnvironment, ENV } from './protocol/environment-variables.js';
export type { ExecutorEnvironmentSpec } from './protocol/environment-variables.js';
export { withDeclaredDefaults } from './proto/schema.js';
export { TASK_STATES, TERMINAL_TASK_STATES, isTerminalState } from './proto/types.js';
export type {
  Int64, FrameworkID, AgentID, ExecutorID, TaskID, ContainerID, TimeInfo, DurationInfo,
  KillPolicy, Label, Labels, ValueType, ValueScalar, ValueRange, ValueRanges, ValueSet,
  ValueText, Resource, ResourceReservationInfo, Attribute, FrameworkCapabilityType,
  FrameworkInfo, DomainInfo, AgentInfo, CommandInfoURI, EnvironmentVariable, Secret as MesosSecret,
  CommandInfo, ExecutorInfo, TaskInfo, TaskGroupInfo, TaskState, TaskStatusSource,
  TaskStatusReason, CheckType, CheckStatusInfo, CheckInfo, HealthCheck, NetworkProtocol,
  ContainerStatus, TaskStatus, EventType,
  EventSubscribed, Event, CallType, CallUpdate, CallSubscribe, Call,
} from './proto/types.js';

// The pool executor: launchTask hands each task to a worker-thread pool.
export { DEFAULT_KILL_GRACE_MS, JobModuleError, PayloadError, PoolExecutor } from './pool/index.js';
export type { Job, JobContext, JobModule, PoolExecutorEvents, PoolExecutorOptions, TerminalState, WorkerLoss } from './pool/index.js';

// The local agent.
export { LocalAgent } from './agent/index.js';
export type {
  AgentCounters,
  AgentTaskRecord,
  CallRecord,
  ExecutorExit,
  ExecutorHandle,
  LaunchExecutorOptions,
  LocalAgentEvents,
  LocalAgentOptions,
  RestartOptions,
  TaskInput,
} from './agent/index.js';

// Errors and logging.
export {
  AgentStateError,
  CodecError,
  ERROR_CODES,
  EnvironmentError,
  ConnectionError,
  HttpStatusError,
  InvalidOptionError,
  MesosExecutorError,
  RecordIOError,
  TlsConfigError,
} from './errors.js';
export type { ErrorCode } from './errors.js';
export { createLogger, silentLogger } from './log.js';
export type { LogLevel, Logger } from './log.js';

// Metrics: prom-client families fed by the driver's and the pool's typed events, and /metrics.
export {
  ACK_LATENCY_SECONDS_BUCKETS,
  BUILD_INFO,
  CALLBACK_DURATION_SECONDS,
  CALLBACK_SECONDS_BUCKETS,
  CHECKS_TOTAL,
  CONNECTED,
  DISCONNECTIONS_TOTAL,
  DRIVER_METRIC_NAMES,
  EVENTS_RECEIVED_TOTAL,
  EXECUTOR_METRIC_NAMES,
  HEALTH_CHECK_KILLS_TOTAL,
  HEALTH_CHECKS_TOTAL,
  JOB_LABEL,
  KILL_ESCALATIONS_TOTAL,
  METRIC_PREFIX,
  POOL_METRIC_NAMES,
  POOL_THREADS,
  POOL_UTILIZATION_RATIO,
  STATUS_UPDATES_TOTAL,
  SUBSCRIPTIONS_TOTAL,
  TASK_DURATION_SECONDS,
  TASK_QUEUE_WAIT_SECONDS,
  TASK_SECONDS_BUCKETS,
  TASKS_ENDED_TOTAL,
  TASKS_LAUNCHED_TOTAL,
  TASKS_QUEUED,
  TASKS_RUNNING,
  UNACKNOWLEDGED_UPDATES,
  UPDATE_ACK_LATENCY_SECONDS,
  WORKER_REPLACEMENTS_TOTAL,
  createExecutorMetrics,
  packageVersion,
  readMetricsAddress,
  registerBuildInfo,
  registerDriverMetrics,
  registerPoolMetrics,
  registerProcessMetrics,
  startMetricsServer,
  writeMetricsAddress,
} from './metrics/index.js';
export type {
  DriverMetricsSource,
  ExecutorMetrics,
  ExecutorMetricsOptions,
  MetricsAddress,
  MetricsBinding,
  MetricsServer,
  MetricsServerOptions,
  PoolMetricsSource,
  ProcessMetricsOptions,
} from './metrics/index.js';
