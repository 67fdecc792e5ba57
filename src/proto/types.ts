/**
 * Plain TypeScript shapes of the Mesos v1 messages an executor touches, as our codec produces
 * and accepts them (both encodings give the same shape):
 * - field names are the proto field names (snake_case), as in Mesos JSON;
 * - enums are their value names (`'TASK_RUNNING'`); a number is also accepted on
 *   encode (JSON needs one that has a name).
 *   Decoding follows proto2 (closed enums), as the agent's C++ parser does: an enum number our
 *   schema does not know leaves the field unset (the protobuf codec keeps it with the unknown
 *   fields and writes it back on re-encode), and an unknown name in JSON is dropped;
 * - `bytes` fields are `Uint8Array` (a `Buffer` when decoded);
 * - 64-bit integers are `number` when exactly representable, otherwise a decimal `string`;
 * - a field is present only when it was on the wire (proto2 presence). Fields with a declared
 *   default in upstream's .proto (for example `CommandInfo.shell = true`) mean that default
 *   when absent; `withDeclaredDefaults()` fills them in.
 *
 * Field names, numbers and declaration order follow upstream `include/mesos/v1/mesos.proto`
 * and `include/mesos/v1/executor/executor.proto` (see src/proto/*.proto).
 */

/** A 64-bit integer: a number when exact, else its decimal string. */
export type Int64 = number | string;

export interface FrameworkID { value: string }
export interface AgentID { value: string }
export interface ExecutorID { value: string }
export interface TaskID { value: string }
export interface ContainerID { value: string; parent?: ContainerID }

export interface TimeInfo { nanoseconds: Int64 }
export interface DurationInfo { nanoseconds: Int64 }
export interface KillPolicy { grace_period?: DurationInfo }

export interface Label { key: string; value?: string }
export interface Labels { labels?: Label[] }

export type ValueType = 'SCALAR' | 'RANGES' | 'SET' | 'TEXT';
export interface ValueScalar { value: number }
export interface ValueRange { begin: Int64; end: Int64 }
export interface ValueRanges { range?: ValueRange[] }
export interface ValueSet { item?: string[] }
export interface ValueText { value: string }

export interface Resource {
  provider_id?: { value: string };
  name: string;
  type: ValueType | number;
  scalar?: ValueScalar;
  ranges?: ValueRanges;
  set?: ValueSet;
  role?: string;
  allocation_info?: { role?: string };
  reservation?: ResourceReservationInfo;
  reservations?: ResourceReservationInfo[];
  revocable?: Record<string, never>;
  shared?: Record<string, never>;
}

export interface ResourceReservationInfo {
  type?: 'UNKNOWN' | 'STATIC' | 'DYNAMIC' | number;
  role?: string;
  principal?: string;
  labels?: Labels;
}

export interface Attribute {
  name: string;
  type: ValueType | number;
  scalar?: ValueScalar;
  ranges?: ValueRanges;
  set?: ValueSet;
  text?: ValueText;
}

export type FrameworkCapabilityType =
  | 'UNKNOWN'
  | 'REVOCABLE_RESOURCES'
  | 'TASK_KILLING_STATE'
  | 'GPU_RESOURCES'
  | 'SHARED_RESOURCES'
  | 'PARTITION_AWARE'
  | 'MULTI_ROLE'
  | 'RESERVATION_REFINEMENT'
  | 'REGION_AWARE';

export interface FrameworkInfo {
  user: string;
  name: string;
  id?: FrameworkID;
  failover_timeout?: number;
  checkpoint?: boolean;
  role?: string;
  roles?: string[];
  hostname?: string;
  principal?: string;
  webui_url?: string;
  capabilities?: Array<{ type?: FrameworkCapabilityType | number }>;
  labels?: Labels;
}

export interface DomainInfo {
  fault_domain?: { region: { name: string }; zone: { name: string } };
}

export interface AgentInfo {
  hostname: string;
  port?: number;
  resources?: Resource[];
  attributes?: Attribute[];
  id?: AgentID;
  domain?: DomainInfo;
}

export interface CommandInfoURI {
  value: string;
  executable?: boolean;
  extract?: boolean;
  cache?: boolean;
  output_file?: string;
}

export interface EnvironmentVariable {
  name: string;
  type?: 'UNKNOWN' | 'VALUE' | 'SECRET' | number;
  value?: string;
  secret?: Secret;
}

export interface Secret {
  type?: 'UNKNOWN' | 'REFERENCE' | 'VALUE' | number;
  reference?: { name: string; key?: string };
  value?: { data: Uint8Array };
}

export interface CommandInfo {
  uris?: CommandInfoURI[];
  environment?: { variables?: EnvironmentVariable[] };
  shell?: boolean;
  value?: string;
  arguments?: string[];
  user?: string;
}

export interface ExecutorInfo {
  type?: 'UNKNOWN' | 'DEFAULT' | 'CUSTOM' | number;
  executor_id: ExecutorID;
  framework_id?: FrameworkID;
  command?: CommandInfo;
  resources?: Resource[];
  name?: string;
  source?: string;
  data?: Uint8Array;
  shutdown_grace_period?: DurationInfo;
  labels?: Labels;
}

export type NetworkProtocol = 'IPv4' | 'IPv6';

/** `HealthCheck` (`include/mesos/v1/mesos.proto`): a check interpreted as healthy or not. */
export interface HealthCheck {
  /** Seconds; upstream default 15. */
  delay_seconds?: number;
  /** Seconds; upstream default 10. */
  interval_seconds?: number;
  /** Seconds, 0 = no timeout; upstream default 20. */
  timeout_seconds?: number;
  /** Upstream default 3. */
  consecutive_failures?: number;
  /** Seconds; upstream default 10. */
  grace_period_seconds?: number;
  type?: CheckType | number;
  command?: CommandInfo;
  http?: { protocol?: NetworkProtocol | number; scheme?: string; port: number; path?: string; statuses?: number[] };
  tcp?: { protocol?: NetworkProtocol | number; port: number };
}

/** `CheckInfo`: a check whose result is reported, never interpreted. */
export interface CheckInfo {
  type?: CheckType | number;
  command?: { command: CommandInfo };
  http?: { port: number; path?: string };
  tcp?: { port: number };
  /** Seconds; upstream default 15. */
  delay_seconds?: number;
  /** Seconds; upstream default 10. */
  interval_seconds?: number;
  /** Seconds, 0 = no timeout; upstream default 20. */
  timeout_seconds?: number;
}

export interface TaskInfo {
  name: string;
  task_id: TaskID;
  agent_id: AgentID;
  resources?: Resource[];
  executor?: ExecutorInfo;
  command?: CommandInfo;
  health_check?: HealthCheck;
  check?: CheckInfo;
  kill_policy?: KillPolicy;
  data?: Uint8Array;
  labels?: Labels;
  max_completion_time?: DurationInfo;
  limits?: Record<string, ValueScalar>;
}

export interface TaskGroupInfo { tasks?: TaskInfo[] }

export type TaskState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_ERROR'
  | 'TASK_LOST'
  | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_GONE_BY_OPERATOR'
  | 'TASK_UNKNOWN';

export type TaskStatusSource = 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';

export type TaskStatusReason =
  | 'REASON_COMMAND_EXECUTOR_FAILED'
  | 'REASON_EXECUTOR_TERMINATED'
  | 'REASON_EXECUTOR_UNREGISTERED'
  | 'REASON_FRAMEWORK_REMOVED'
  | 'REASON_GC_ERROR'
  | 'REASON_INVALID_FRAMEWORKID'
  | 'REASON_INVALID_OFFERS'
  | 'REASON_MASTER_DISCONNECTED'
  | 'REASON_CONTAINER_LIMITATION_MEMORY'
  | 'REASON_RECONCILIATION'
  | 'REASON_AGENT_DISCONNECTED'
  | 'REASON_AGENT_REMOVED'
  | 'REASON_AGENT_RESTARTED'
  | 'REASON_AGENT_UNKNOWN'
  | 'REASON_TASK_INVALID'
  | 'REASON_TASK_UNAUTHORIZED'
  | 'REASON_TASK_UNKNOWN'
  | 'REASON_CONTAINER_PREEMPTED'
  | 'REASON_RESOURCES_UNKNOWN'
  | 'REASON_CONTAINER_LIMITATION'
  | 'REASON_CONTAINER_LIMITATION_DISK'
  | 'REASON_CONTAINER_LAUNCH_FAILED'
  | 'REASON_CONTAINER_UPDATE_FAILED'
  | 'REASON_EXECUTOR_REGISTRATION_TIMEOUT'
  | 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT'
  | 'REASON_TASK_GROUP_INVALID'
  | 'REASON_TASK_GROUP_UNAUTHORIZED'
  | 'REASON_IO_SWITCHBOARD_EXITED'
  | 'REASON_TASK_CHECK_STATUS_UPDATED'
  | 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED'
  | 'REASON_TASK_KILLED_DURING_LAUNCH'
  | 'REASON_AGENT_REMOVED_BY_OPERATOR'
  | 'REASON_AGENT_REREGISTERED'
  | 'REASON_MAX_COMPLETION_TIME_REACHED'
  | 'REASON_AGENT_DRAINING';

export type CheckType = 'UNKNOWN' | 'COMMAND' | 'HTTP' | 'TCP';

export interface CheckStatusInfo {
  type?: CheckType | number;
  command?: { exit_code?: number };
  http?: { status_code?: number };
  tcp?: { succeeded?: boolean };
}

export interface ContainerStatus {
  container_id?: ContainerID;
  executor_pid?: number;
}

export interface TaskStatus {
  task_id: TaskID;
  state: TaskState | number;
  message?: string;
  source?: TaskStatusSource | number;
  reason?: TaskStatusReason | number;
  data?: Uint8Array;
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  /** Seconds since the epoch. */
  timestamp?: number;
  /** 16 raw bytes (RFC 4122), never the text form. */
  uuid?: Uint8Array;
  healthy?: boolean;
  check_status?: CheckStatusInfo;
  labels?: Labels;
  container_status?: ContainerStatus;
  unreachable_time?: TimeInfo;
  limitation?: { resources?: Resource[] };
}

// ---- mesos.v1.executor.Event ----

export type EventType =
  | 'UNKNOWN'
  | 'SUBSCRIBED'
  | 'LAUNCH'
  | 'LAUNCH_GROUP'
  | 'KILL'
  | 'ACKNOWLEDGED'
  | 'MESSAGE'
  | 'ERROR'
  | 'SHUTDOWN'
  | 'HEARTBEAT';

export interface EventSubscribed {
  executor_info: ExecutorInfo;
  framework_info: FrameworkInfo;
  agent_info: AgentInfo;
  container_id?: ContainerID;
}

export interface Event {
  type?: EventType | number;
  subscribed?: EventSubscribed;
  acknowledged?: { task_id: TaskID; uuid: Uint8Array };
  launch?: { task: TaskInfo };
  launch_group?: { task_group: TaskGroupInfo };
  kill?: { task_id: TaskID; kill_policy?: KillPolicy };
  message?: { data: Uint8Array };
  error?: { message: string };
}

// ---- mesos.v1.executor.Call ----

export type CallType = 'UNKNOWN' | 'SUBSCRIBE' | 'UPDATE' | 'MESSAGE' | 'HEARTBEAT';

export interface CallUpdate { status: TaskStatus }

export interface CallSubscribe {
  unacknowledged_tasks?: TaskInfo[];
  unacknowledged_updates?: CallUpdate[];
}

export interface Call {
  executor_id: ExecutorID;
  framework_id: FrameworkID;
  type?: CallType | number;
  subscribe?: CallSubscribe;
  update?: CallUpdate;
  message?: { data: Uint8Array };
}

/** Every TaskState name (the enum of `mesos.proto`). */
export const TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
]);

/** Terminal task states, as upstream's `isTerminalState` (src/common/protobuf_utils.cpp) counts them. */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

export function isTerminalState(state: TaskState | number): boolean {
  return typeof state === 'string' && TERMINAL_TASK_STATES.has(state);
}
