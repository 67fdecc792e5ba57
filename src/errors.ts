/**
 * Every error this package throws or reports is a {@link MesosExecutorError} with a stable
 * `code`. Branch on `code`, never on the message text. Codes are never reused; a retired
 * code stays listed in {@link ERROR_CODES} with its description.
 */
export const ERROR_CODES = {
  MPE_ENV_MISSING: 'A required environment variable set by the Mesos agent is missing.',
  MPE_ENV_INVALID: 'An environment variable set by the Mesos agent is malformed.',
  MPE_INVALID_OPTION: 'An option passed to a constructor or function is invalid.',
  MPE_TLS_CONFIG: 'The SSL key, certificate or CA files named by LIBPROCESS_SSL_* cannot be read or used.',
  MPE_RECORDIO_BAD_HEADER: 'A RecordIO record length prefix is not a decimal number followed by a newline.',
  MPE_RECORDIO_TOO_LARGE: 'A RecordIO record is larger than the configured maximum.',
  MPE_RECORDIO_TRUNCATED: 'A RecordIO stream ended in the middle of a record.',
  MPE_DECODE: 'A protobuf or JSON message could not be decoded.',
  MPE_ENCODE: 'A message could not be encoded (for example a required field is missing).',
  MPE_UNSUPPORTED_CONTENT_TYPE: 'A content type other than application/json or application/x-protobuf was requested.',
  MPE_INVALID_STATUS_UPDATE: 'A status update was rejected before sending (for example TASK_STAGING or no task_id).',
  MPE_HTTP_STATUS: 'The agent refused a call with a status a retry does not change (carried by the callRefused event).',
  MPE_CONNECTION: 'The connection to the agent failed or was closed.',
  MPE_OUTBOX_FULL: 'Too many status updates are waiting for acknowledgement.',
  MPE_EXECUTOR_PROCESS: 'The executor process launched by the local agent failed.',
  MPE_AGENT_STATE: 'A LocalAgent method was called in a state that does not allow it (before start(), start() twice, restart() during a restart).',
  MPE_INVALID_PAYLOAD: 'A task\'s data is not a UTF-8 JSON object {"job": name, "input": ...} or {"job": name, "batch": [...]} (sent as TASK_ERROR).',
  MPE_PAYLOAD_TOO_LARGE: 'A task\'s data is over the configured payload limit, or its batch has too many items or an item over the per-item limit (sent as TASK_ERROR).',
  MPE_UNKNOWN_JOB: 'A task names a job that no registered job module exports (sent as TASK_ERROR).',
  MPE_JOB_MODULE: 'A job module could not be loaded, exports no jobs, lacks a job named with #name, or exports a name already taken.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every error of this package. */
export class MesosExecutorError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The agent's environment is missing a variable or has a malformed one. */
export class EnvironmentError extends MesosExecutorError {
  /** The variable at fault, e.g. `MESOS_FRAMEWORK_ID`. */
  readonly variable: string;

  constructor(code: 'MPE_ENV_MISSING' | 'MPE_ENV_INVALID', variable: string, message: string) {
    super(code, message);
    this.variable = variable;
  }
}

/**
 * The files the libprocess SSL variables name cannot be read or used (a key that does not match
 * its certificate, a CA file with no certificate): libprocess refuses to start then, and so do we.
 */
export class TlsConfigError extends MesosExecutorError {
  /** The variable naming the file at fault, e.g. `LIBPROCESS_SSL_KEY_FILE`. */
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super('MPE_TLS_CONFIG', message, options);
    this.variable = variable;
  }
}

/** An option given to this package's API is invalid. */
export class InvalidOptionError extends MesosExecutorError {
  readonly option: string;

  constructor(option: string, message: string) {
    super('MPE_INVALID_OPTION', message);
    this.option = option;
  }
}

/**
 * A LocalAgent was used out of order (MPE_AGENT_STATE): a method that needs a started agent
 * before start(), start() on a started agent, restart() while one is in progress. Nothing
 * about its arguments is wrong, which is why it is not an InvalidOptionError.
 */
export class AgentStateError extends MesosExecutorError {
  /** The LocalAgent member called, e.g. `start()`, `endpoint`. */
  readonly method: string;

  constructor(method: string, message: string) {
    super('MPE_AGENT_STATE', `LocalAgent.${method}: ${message}`);
    this.method = method;
  }
}

/** A RecordIO stream is malformed: the connection carrying it cannot be trusted any more. */
export class RecordIOError extends MesosExecutorError {
  constructor(
    code: 'MPE_RECORDIO_BAD_HEADER' | 'MPE_RECORDIO_TOO_LARGE' | 'MPE_RECORDIO_TRUNCATED',
    message: string,
  ) {
    super(code, message);
  }
}

/** A message could not be decoded from or encoded to the wire. */
export class CodecError extends MesosExecutorError {
  constructor(code: 'MPE_DECODE' | 'MPE_ENCODE' | 'MPE_UNSUPPORTED_CONTENT_TYPE', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The connection to the agent failed or was closed (MPE_CONNECTION). `framing` is true when the
 * call connection's answers could no longer be matched to its calls (a malformed or unsolicited
 * answer): an answer already taken may then have belonged to another call.
 */
export class ConnectionError extends MesosExecutorError {
  readonly framing: boolean;

  constructor(message: string, options: { cause?: unknown; framing?: boolean } = {}) {
    super('MPE_CONNECTION', message, options.cause === undefined ? undefined : { cause: options.cause });
    this.framing = options.framing ?? false;
  }
}

/** The agent refused a call with a status a retry will not change. */
export class HttpStatusError extends MesosExecutorError {
  readonly status: number;
  readonly body: string;

  constructor(status: number, body: string, message: string) {
    super('MPE_HTTP_STATUS', message);
    this.status = status;
    this.body = body;
  }
}
