// Launching an executor process the way the Mesos containerizer does since 1.0 (MESOS-5657):
// with exactly the computed environment, not the agent's (PROTOCOL.md §1.1 "Inheritance").
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream';
import { MesosExecutorError } from '../errors.js';

export interface LaunchExecutorOptions {
  /** The program. With `shell`, a command line for `/bin/sh -c` (and `args` are ignored, as in Mesos). */
  command: string;
  args?: readonly string[];
  /** Variables added on top of the agent's environment (they win, like `CommandInfo.environment`). */
  env?: Readonly<Record<string, string>>;
  /** Run `command` through `/bin/sh -c` (Mesos `CommandInfo.shell`). Default false. */
  shell?: boolean;
  /** Working directory. Default: the sandbox, as upstream. */
  cwd?: string;
  /**
   * Also copy the executor's output to ours: `true` its stdout to our stdout and its stderr to our
   * stderr; `'stderr'` both to our stderr (our stdout stays for machine-readable output). Default false.
   */
  pipeOutput?: boolean | 'stderr';
  /**
   * Also write its stdout and stderr to the files `stdout` and `stderr` of the sandbox, as a Mesos
   * agent's default container logger does (there the files are the process' own fds). Default false.
   */
  sandboxLogs?: boolean;
  /** Output kept per stream (the last bytes). Default 1 MiB. */
  maxOutputBytes?: number;
}

export interface ExecutorExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A launched executor. */
export interface ExecutorHandle {
  readonly pid: number;
  /** Resolves when the process has exited and its output is complete (after the agent has reacted). */
  readonly exited: Promise<ExecutorExit>;
  readonly alive: boolean;
  /** The environment it was given. */
  readonly env: Readonly<Record<string, string>>;
  /** Signals the executor's whole process group (it runs in its own); false if already gone. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Output so far (the last `maxOutputBytes` of each). */
  readonly stdout: string;
  readonly stderr: string;
}

// Children still running, killed if the test process exits without stop() (a detached child
// would otherwise outlive it).
const live = new Set<ExecutorProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

class OutputTail {
  #chunks: Buffer[] = [];
  #bytes = 0;
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes > this.#max && this.#chunks.length > 1) this.#bytes -= this.#chunks.shift()!.length;
  }
  toString(): string {
    const all = Buffer.concat(this.#chunks);
    return all.subarray(Math.max(0, all.length - this.#max)).toString('utf8');
  }
}

/** A sandbox log file; a write error (a full disk) loses the file's rest, not the executor. */
function logFile(path: string): WriteStream {
  const stream = createWriteStream(path, { flags: 'a' });
  stream.on('error', () => {});
  return stream;
}

export class ExecutorProcess implements ExecutorHandle {
  readonly pid: number;
  readonly exited: Promise<ExecutorExit>;
  readonly env: Readonly<Record<string, string>>;
  readonly #child: ChildProcess;
  readonly #out: OutputTail;
  readonly #err: OutputTail;
  #alive = true;

  private constructor(
    child: ChildProcess,
    env: Record<string, string>,
    options: LaunchExecutorOptions,
    logFiles: { stdout: WriteStream; stderr: WriteStream } | undefined,
    onExit: (exit: ExecutorExit) => void,
  ) {
    this.#child = child;
    this.pid = child.pid!;
    this.env = Object.freeze({ ...env });
    const max = options.maxOutputBytes ?? 1024 * 1024;
    this.#out = new OutputTail(max);
    this.#err = new OutputTail(max);
    const copyOut = options.pipeOutput === true ? process.stdout : options.pipeOutput === 'stderr' ? process.stderr : undefined;
    const copyErr = options.pipeOutput === true || options.pipeOutput === 'stderr' ? process.stderr : undefined;
    const files = logFiles === undefined ? [] : [logFiles.stdout, logFiles.stderr];
    child.stdout?.on('data', (chunk: Buffer) => {
      this.#out.push(chunk);
      logFiles?.stdout.write(chunk);
      copyOut?.write(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#err.push(chunk);
      logFiles?.stderr.write(chunk);
      copyErr?.write(chunk);
    });
    // 'exit' marks it dead at once (a signal to a reaped group would be pointless); 'close' also
    // waits for the output to be complete before the agent and the caller react.
    child.once('exit', () => {
      this.#alive = false;
      live.delete(this);
    });
    this.exited = new Promise((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        this.#alive = false;
        live.delete(this);
        const exit = { code, signal };
        // The log files complete before anyone reacts to the exit (and may remove the sandbox).
        void Promise.all(files.map((file) => new Promise<void>((done) => finished(file.end(), () => done())))).then(() => {
          onExit(exit);
          resolve(exit);
        });
      });
    });
    live.add(this);
    installExitHook();
  }

  /**
   * Spawns the executor with exactly `env`. It gets its own process group (`detached`): the
   * reference library kills its whole process group on SHUTDOWN, which must not reach us.
   */
  static async spawn(
    options: LaunchExecutorOptions,
    env: Record<string, string>,
    cwd: string,
    onExit: (exit: ExecutorExit) => void,
  ): Promise<ExecutorProcess> {
    const file = options.shell === true ? '/bin/sh' : options.command;
    const args = options.shell === true ? ['-c', options.command] : [...(options.args ?? [])];
    const child = spawn(file, args, { env, cwd: options.cwd ?? cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        child.off('spawn', onSpawn);
        reject(new MesosExecutorError('MPE_EXECUTOR_PROCESS', `cannot launch the executor ${JSON.stringify(file)}: ${error.message}`, { cause: error }));
      };
      const onSpawn = (): void => {
        child.off('error', onError);
        resolve();
      };
      child.once('error', onError);
      child.once('spawn', onSpawn);
    });
    // Errors after a successful spawn (a failed kill) are reported by kill()'s return value.
    child.on('error', () => {});
    // In the sandbox, whatever the working directory.
    const logFiles = options.sandboxLogs === true ? { stdout: logFile(join(cwd, 'stdout')), stderr: logFile(join(cwd, 'stderr')) } : undefined;
    return new ExecutorProcess(child, env, options, logFiles, onExit);
  }

  get alive(): boolean {
    return this.#alive;
  }

  get stdout(): string {
    return this.#out.toString();
  }

  get stderr(): string {
    return this.#err.toString();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (!this.#alive) return false;
    try {
      // The negative pid addresses the process group, as the containerizer destroys the whole container.
      process.kill(-this.pid, signal);
      return true;
    } catch {
      return this.#child.kill(signal);
    }
  }
}
