import { MesosExecutorError } from '../errors.js';

/** A task's data is not a valid payload; the task gets TASK_ERROR with this message. */
export class PayloadError extends MesosExecutorError {
  constructor(code: 'MPE_INVALID_PAYLOAD' | 'MPE_PAYLOAD_TOO_LARGE' | 'MPE_UNKNOWN_JOB', message: string) {
    super(code, message);
  }
}

/** The configured job modules cannot be used (load failure, no jobs, a name exported twice). */
export class JobModuleError extends MesosExecutorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MPE_JOB_MODULE', message, options);
  }
}
